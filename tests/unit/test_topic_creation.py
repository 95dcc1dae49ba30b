"""KIP-158 topic creation rules for source connectors, as Kafka Connect applies them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config.topic_creation import (
    NewTopicSettings,
    topic_creation_rules,
    validate_topic_creation,
)
from app.settings import WorkerSettings
from connectors.sdk.errors import ConfigError

DEFAULTS = {"topic.creation.default.replication.factor": "3", "topic.creation.default.partitions": "5"}


def test_no_default_settings_means_no_topic_creation() -> None:
    assert topic_creation_rules({}) is None
    assert topic_creation_rules({"name": "c", "topic.creation.groups": "a"}) is None
    assert validate_topic_creation({"name": "c"}) == {}


def test_default_group_only() -> None:
    rules = topic_creation_rules(
        {
            **DEFAULTS,
            "topic.creation.default.cleanup.policy": "compact",
            "topic.creation.default.compression.type": "lz4",
        }
    )
    assert rules is not None
    expected = NewTopicSettings(5, 3, {"cleanup.policy": "compact", "compression.type": "lz4"})
    assert rules.settings_for("anything") == expected
    assert rules.group_for("anything") == "default"


def test_broker_defaults_with_minus_one() -> None:
    rules = topic_creation_rules(
        {"topic.creation.default.replication.factor": "-1", "topic.creation.default.partitions": " -1 "}
    )
    assert rules is not None
    assert rules.settings_for("t") == NewTopicSettings(-1, -1, {})


CONFIG = {
    **DEFAULTS,
    "topic.creation.default.cleanup.policy": "delete",
    "topic.creation.default.retention.ms": "1000",
    "topic.creation.groups": "compacted, hot",
    "topic.creation.compacted.include": "db\\..*, audit",
    "topic.creation.compacted.exclude": "db\\.tmp.*",
    "topic.creation.compacted.cleanup.policy": "compact",
    "topic.creation.compacted.replication.factor": "2",
    "topic.creation.hot.include": "db\\..*,events.*",
    "topic.creation.hot.partitions": "50",
}


def test_first_matching_group_in_listed_order_wins() -> None:
    rules = topic_creation_rules(CONFIG)
    assert rules is not None
    # matches both groups' include: the first listed group wins
    assert rules.group_for("db.users") == "compacted"
    assert rules.settings_for("db.users") == NewTopicSettings(5, 2, {"cleanup.policy": "compact"})
    # excluded from the first group, so the second one applies
    assert rules.group_for("db.tmp1") == "hot"
    assert rules.settings_for("db.tmp1") == NewTopicSettings(50, 3, {})
    assert rules.settings_for("events-1") == NewTopicSettings(50, 3, {})
    assert rules.group_for("audit") == "compacted"
    # no group: the default group's settings
    assert rules.group_for("other") == "default"
    assert rules.settings_for("other") == NewTopicSettings(
        5, 3, {"cleanup.policy": "delete", "retention.ms": "1000"}
    )


def test_the_order_of_groups_decides() -> None:
    rules = topic_creation_rules({**CONFIG, "topic.creation.groups": "hot,compacted"})
    assert rules is not None
    assert rules.group_for("db.users") == "hot"


def test_regexes_must_match_the_whole_topic_name() -> None:
    rules = topic_creation_rules(CONFIG)
    assert rules is not None
    assert rules.group_for("audit") == "compacted"
    assert rules.group_for("audit-log") == "default"  # "audit" is not a prefix match
    assert rules.group_for("xdb.users") == "default"


def test_group_falls_back_to_default_counts_but_not_its_topic_configs() -> None:
    """Kafka's TopicCreationGroup: partitions and replication.factor come from the default
    group when unset; other topic configs are the group's own only."""
    rules = topic_creation_rules(CONFIG)
    assert rules is not None
    hot = rules.settings_for("events")
    assert (hot.partitions, hot.replication_factor) == (50, 3)
    assert hot.configs == {}


def test_each_topic_knows_the_key_that_gave_its_replication_factor() -> None:
    """Named in the error when the cluster has fewer brokers than the factor asks for."""
    rules = topic_creation_rules(CONFIG)
    assert rules is not None
    assert rules.settings_for("db.users").replication_setting == "topic.creation.compacted.replication.factor"
    # the hot group has no replication.factor of its own: the default group's applies
    assert rules.settings_for("events").replication_setting == "topic.creation.default.replication.factor"
    assert rules.settings_for("other").replication_setting == "topic.creation.default.replication.factor"


def test_group_without_include_matches_nothing() -> None:
    rules = topic_creation_rules(
        {**DEFAULTS, "topic.creation.groups": "orphan", "topic.creation.orphan.partitions": "9"}
    )
    assert rules is not None
    assert validate_topic_creation({**DEFAULTS, "topic.creation.groups": "orphan"}) == {}
    assert rules.group_for("anything") == "default"
    assert rules.settings_for("anything").partitions == 5


def test_default_group_include_and_exclude_are_ignored() -> None:
    props = {
        **DEFAULTS,
        "topic.creation.default.include": "only-this",
        "topic.creation.default.exclude": ".*",
    }
    assert validate_topic_creation(props) == {}
    rules = topic_creation_rules(props)
    assert rules is not None
    assert rules.settings_for("anything") == NewTopicSettings(5, 3, {})


def test_default_listed_as_a_group_is_dropped() -> None:
    rules = topic_creation_rules(
        {**DEFAULTS, "topic.creation.groups": "default, a", "topic.creation.a.include": "x"}
    )
    assert rules is not None
    assert [g.name for g in rules.groups] == ["a"]


def test_missing_default_counts_once_any_topic_creation_key_is_set() -> None:
    assert validate_topic_creation({"topic.creation.default.partitions": "1"}) == {
        "topic.creation.default.replication.factor": [
            'Missing required configuration "topic.creation.default.replication.factor" which has no default value.'
        ]
    }
    assert validate_topic_creation({"topic.creation.groups": "a"}) == {
        "topic.creation.default.replication.factor": [
            'Missing required configuration "topic.creation.default.replication.factor" which has no default value.'
        ],
        "topic.creation.default.partitions": [
            'Missing required configuration "topic.creation.default.partitions" which has no default value.'
        ],
    }
    with pytest.raises(ConfigError, match="Missing required configuration"):
        topic_creation_rules({"topic.creation.default.partitions": "1"})


def test_count_validation_messages() -> None:
    errors = validate_topic_creation(
        {
            "topic.creation.default.replication.factor": "0",
            "topic.creation.default.partitions": "abc",
            "topic.creation.groups": "a,b",
            "topic.creation.a.include": "x",
            "topic.creation.a.partitions": "-2",
            "topic.creation.a.replication.factor": "40000",
            "topic.creation.b.include": "y",
            "topic.creation.b.partitions": "1.5",
        }
    )
    assert errors == {
        "topic.creation.default.replication.factor": [
            "Invalid value 0 for configuration topic.creation.default.replication.factor: Replication factor "
            "must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use "
            "the broker's default"
        ],
        "topic.creation.default.partitions": [
            "Invalid value abc for configuration topic.creation.default.partitions: Not a number of type INT"
        ],
        "topic.creation.a.replication.factor": [
            "Invalid value 40000 for configuration topic.creation.a.replication.factor: Not a number of type SHORT"
        ],
        "topic.creation.a.partitions": [
            "Invalid value -2 for configuration topic.creation.a.partitions: Number of partitions must be "
            "positive, or -1 to use the broker's default"
        ],
        "topic.creation.b.partitions": [
            "Invalid value 1.5 for configuration topic.creation.b.partitions: Not a number of type INT"
        ],
    }
    with pytest.raises(ConfigError) as info:
        topic_creation_rules({**DEFAULTS, "topic.creation.default.partitions": "0"})
    assert "Number of partitions must be positive" in str(info.value)


def test_regex_and_duplicate_group_validation() -> None:
    errors = validate_topic_creation(
        {
            **DEFAULTS,
            "topic.creation.groups": "a, a, b",
            "topic.creation.a.include": "ok.*, (broken",
            "topic.creation.b.include": "x",
            "topic.creation.b.exclude": "[z",
        }
    )
    assert errors["topic.creation.groups"] == [
        "Invalid value a, a, b for configuration topic.creation.groups: Duplicate alias provided."
    ]
    assert len(errors["topic.creation.a.include"]) == 1
    assert errors["topic.creation.a.include"][0].startswith(
        "Invalid value ok.*, (broken for configuration topic.creation.a.include: Syntax error in regular expression: "
    )
    assert errors["topic.creation.b.exclude"][0].startswith(
        "Invalid value [z for configuration topic.creation.b.exclude: Syntax error in regular expression: "
    )
    assert set(errors) == {"topic.creation.groups", "topic.creation.a.include", "topic.creation.b.exclude"}


def test_keys_of_unlisted_groups_are_not_read() -> None:
    props = {**DEFAULTS, "topic.creation.stray.partitions": "x", "topic.creation.stray.include": "("}
    assert validate_topic_creation(props) == {}
    rules = topic_creation_rules(props)
    assert rules is not None
    assert rules.groups == ()


def test_worker_topic_creation_enable_is_a_typed_worker_setting() -> None:
    assert WorkerSettings().topic_creation_enable is True
    assert WorkerSettings.model_validate({"topic.creation.enable": "false"}).topic_creation_enable is False
    with pytest.raises(ValidationError, match=r"topic\.creation\.enable"):
        WorkerSettings.model_validate({"topic.creation.enable": "maybe"})


def test_worker_client_override_policy_accepts_class_names() -> None:
    policy = "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy"
    settings = WorkerSettings.model_validate({"connector.client.config.override.policy": policy})
    assert settings.connector_client_config_override_policy == "Principal"
    with pytest.raises(ValidationError, match="must be one of None, Principal or All"):
        WorkerSettings.model_validate({"connector.client.config.override.policy": "Some"})
