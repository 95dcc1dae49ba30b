"""KIP-158: how a source connector's topics are created, from its ``topic.creation.*`` keys.

Kept free of any client library so every storage backend (embedded or Kafka) creates topics the
same way. The rules follow Kafka Connect's ``TopicCreationGroup``/``TopicCreation``:

* creation is on for a connector when the worker's ``topic.creation.enable`` is true (the
  default) and the connector sets ``topic.creation.default.replication.factor`` and
  ``topic.creation.default.partitions``;
* a topic takes the settings of the first group in ``topic.creation.groups`` whose ``include``
  regexes match the whole name and whose ``exclude`` regexes do not, else the ``default`` group's;
* a group without ``partitions``/``replication.factor`` takes the default group's; any other
  ``topic.creation.<group>.<key>`` is a topic config of that group only (as in Kafka, a group
  does not inherit the default group's topic configs);
* ``-1`` means the broker's default; the default group always includes every topic (its
  ``include``/``exclude`` are ignored, as Kafka ignores them), and a group without ``include``
  matches no topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.config.parsing import split_list
from connectors.sdk.config import java_trim
from connectors.sdk.errors import ConfigError

PREFIX = "topic.creation."
GROUPS_KEY = "topic.creation.groups"
DEFAULT_GROUP = "default"
WORKER_ENABLE_KEY = "topic.creation.enable"
BROKER_DEFAULT = -1
"""``partitions`` or ``replication.factor`` of -1: let the broker choose (Kafka's NO_PARTITIONS)."""

_INCLUDE, _EXCLUDE, _PARTITIONS, _REPLICATION = "include", "exclude", "partitions", "replication.factor"
_RULE_KEYS = frozenset({_INCLUDE, _EXCLUDE, _PARTITIONS, _REPLICATION})
_JAVA_INT = re.compile(r"[+-]?\d+")
_PARTITIONS_RULE = "Number of partitions must be positive, or -1 to use the broker's default"
_REPLICATION_RULE = (
    "Replication factor must be positive and not larger than the number of brokers in the Kafka "
    "cluster, or -1 to use the broker's default"
)


@dataclass(frozen=True)
class NewTopicSettings:
    """What a new topic is created with; -1 partitions or replication means the broker's default."""

    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    replication_setting: str = field(default=f"{PREFIX}{DEFAULT_GROUP}.{_REPLICATION}", compare=False)
    """The key that gave ``replication_factor``: the one to change when the cluster cannot meet it."""


@dataclass(frozen=True)
class TopicCreationGroup:
    name: str
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    settings: NewTopicSettings

    def matches(self, topic: str) -> bool:
        """Kafka's ``Pattern.matches``: a regex must match the whole topic name; exclusion wins."""
        return any(p.fullmatch(topic) for p in self.include) and not any(
            p.fullmatch(topic) for p in self.exclude
        )


@dataclass(frozen=True)
class TopicCreationRules:
    default: NewTopicSettings
    groups: tuple[TopicCreationGroup, ...] = ()

    def group_for(self, topic: str) -> str:
        """The name of the group whose settings ``topic`` gets (for logs)."""
        return next((g.name for g in self.groups if g.matches(topic)), DEFAULT_GROUP)

    def settings_for(self, topic: str) -> NewTopicSettings:
        return next((g.settings for g in self.groups if g.matches(topic)), self.default)


def _groups(connector_config: Mapping[str, str]) -> list[str]:
    """Named groups in order, without ``default`` (Kafka drops it: the default group always exists)."""
    return [g for g in dict.fromkeys(split_list(connector_config.get(GROUPS_KEY))) if g != DEFAULT_GROUP]


def _check_count(key: str, raw: str, kind: str, rule: str, errors: dict[str, list[str]]) -> None:
    text = java_trim(raw)
    limit = 2**15 if kind == "SHORT" else 2**31
    if not _JAVA_INT.fullmatch(text) or not -limit <= int(text) < limit:
        errors.setdefault(key, []).append(
            f"Invalid value {raw} for configuration {key}: Not a number of type {kind}"
        )
    elif int(text) != BROKER_DEFAULT and int(text) < 1:
        errors.setdefault(key, []).append(f"Invalid value {int(text)} for configuration {key}: {rule}")


def _check_regexes(key: str, raw: str | None, errors: dict[str, list[str]]) -> None:
    for pattern in split_list(raw):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.setdefault(key, []).append(
                f"Invalid value {raw} for configuration {key}: Syntax error in regular expression: {exc}"
            )


def uses_topic_creation(connector_config: Mapping[str, str]) -> bool:
    """Kafka's test for whether a connector's topic creation settings are validated at all."""
    return any(key.startswith(PREFIX) for key in connector_config)


def validate_topic_creation(connector_config: Mapping[str, str]) -> dict[str, list[str]]:
    """Key -> error messages, in Kafka Connect's words; empty when the settings are usable.

    As in Kafka, the default group's ``partitions`` and ``replication.factor`` are required once
    any ``topic.creation.*`` key is set.
    """
    errors: dict[str, list[str]] = {}
    if not uses_topic_creation(connector_config):
        return errors
    aliases = split_list(connector_config.get(GROUPS_KEY))
    if len(aliases) != len(set(aliases)):
        errors[GROUPS_KEY] = [
            f"Invalid value {connector_config[GROUPS_KEY]} for configuration {GROUPS_KEY}: Duplicate alias provided."
        ]
    for group in [DEFAULT_GROUP, *_groups(connector_config)]:
        prefix = f"{PREFIX}{group}."
        for suffix, kind, rule in (
            (_REPLICATION, "SHORT", _REPLICATION_RULE),
            (_PARTITIONS, "INT", _PARTITIONS_RULE),
        ):
            key = prefix + suffix
            raw = connector_config.get(key)
            if raw is not None:
                _check_count(key, raw, kind, rule, errors)
            elif group == DEFAULT_GROUP:
                errors[key] = [f'Missing required configuration "{key}" which has no default value.']
        if group != DEFAULT_GROUP:  # the default group's regexes are ignored, so never checked
            for suffix in (_INCLUDE, _EXCLUDE):
                _check_regexes(prefix + suffix, connector_config.get(prefix + suffix), errors)
    return errors


def _topic_configs(connector_config: Mapping[str, str], group: str) -> dict[str, str]:
    prefix = f"{PREFIX}{group}."
    return {
        key[len(prefix) :]: value
        for key, value in connector_config.items()
        if key.startswith(prefix) and key[len(prefix) :] not in _RULE_KEYS
    }


def topic_creation_rules(connector_config: Mapping[str, str]) -> TopicCreationRules | None:
    """The connector's rules, or None when it does not ask for topic creation.

    Raises ConfigError with every problem when the settings are there but cannot work.
    """
    default_prefix = f"{PREFIX}{DEFAULT_GROUP}."
    if (
        default_prefix + _PARTITIONS not in connector_config
        and default_prefix + _REPLICATION not in connector_config
    ):
        return None
    errors = validate_topic_creation(connector_config)
    if errors:
        raise ConfigError("; ".join(message for messages in errors.values() for message in messages))
    partitions = int(java_trim(connector_config[default_prefix + _PARTITIONS]))
    replication = int(java_trim(connector_config[default_prefix + _REPLICATION]))
    default = NewTopicSettings(
        partitions,
        replication,
        _topic_configs(connector_config, DEFAULT_GROUP),
        default_prefix + _REPLICATION,
    )
    groups = []
    for group in _groups(connector_config):
        prefix = f"{PREFIX}{group}."
        groups.append(
            TopicCreationGroup(
                name=group,
                include=tuple(map(re.compile, split_list(connector_config.get(prefix + _INCLUDE)))),
                exclude=tuple(map(re.compile, split_list(connector_config.get(prefix + _EXCLUDE)))),
                settings=NewTopicSettings(
                    int(java_trim(connector_config.get(prefix + _PARTITIONS, str(partitions)))),
                    int(java_trim(connector_config.get(prefix + _REPLICATION, str(replication)))),
                    _topic_configs(connector_config, group),
                    (prefix if prefix + _REPLICATION in connector_config else default_prefix) + _REPLICATION,
                ),
            )
        )
    return TopicCreationRules(default, tuple(groups))
