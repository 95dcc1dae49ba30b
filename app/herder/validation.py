"""Connector config validation, with the output shape of ``PUT /connector-plugins/{p}/config/validate``.

Framework keys, sink/source rules, the plugin's own model, transforms, predicates and
converters are validated together, and every problem is reported at once, per key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from app.config.connector_config import SinkConnectorConfig, SourceConnectorConfig
from app.config.parsing import split_list, with_prefix
from app.config.providers import keys_with_placeholders
from app.config.secrets import (
    HIDDEN,
    is_secret_key,
    listed_secret_keys,
    mask_config,
    mask_text,
    secret_values,
)
from app.config.topic_creation import validate_topic_creation
from app.plugins.registry import PluginDesc, PluginRegistry
from connectors.sdk.config import ConfigKeyInfo, ConfigType, ConfigValueInfo, Importance, PluginConfig, Width
from connectors.sdk.errors import ConnectError, NotFoundError


class BadRequestError(ConnectError):
    """Bad input from the caller: HTTP 400."""


@dataclass(slots=True)
class ConfigInfos:
    name: str
    error_count: int = 0
    groups: list[str] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [e for c in self.configs if c["value"] for e in c["value"]["errors"]]

    def add(self, definition: ConfigKeyInfo | None, value: ConfigValueInfo | None) -> None:
        if definition is not None and definition.group and definition.group not in self.groups:
            self.groups.append(definition.group)
        self.error_count += len(value.errors) if value else 0
        self.configs.append(
            {
                "definition": _definition_json(definition) if definition else None,
                "value": asdict(value) if value else None,
            }
        )

    def add_errors(self, key: str, value: str | None, errors: list[str]) -> None:
        """Errors about ``key``, joined to its entry when the key is a known setting."""
        for entry in self.configs:
            if entry["value"] is not None and entry["value"]["name"] == key:
                entry["value"]["errors"].extend(errors)
                self.error_count += len(errors)
                return
        self.add(None, ConfigValueInfo(key, value, errors=list(errors)))


def _definition_json(info: ConfigKeyInfo) -> dict[str, Any]:
    data = asdict(info)
    return {k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}


def java_map(config: Mapping[str, Any]) -> str:
    """A config the way Kafka's messages print it, with secret values hidden."""
    return "{" + ", ".join(f"{k}={v}" for k, v in mask_config(config).items()) + "}"


def hide_secrets(infos: ConfigInfos, raw: Mapping[str, str], resolved: set[str]) -> ConfigInfos:
    """Validate output safe to return: keys holding placeholders show them unresolved, secret keys
    show ``[hidden]``, and neither secret nor provider-resolved values appear inside any message."""
    with_placeholders = keys_with_placeholders(raw)
    declared = listed_secret_keys(raw) | {
        c["definition"]["name"]
        for c in infos.configs
        if c["definition"] and c["definition"]["type"] == ConfigType.PASSWORD.value
    }
    hidden = resolved | secret_values(raw, declared)
    for entry in infos.configs:
        value = entry["value"]
        if value is None:
            continue
        if value["name"] in with_placeholders:
            value["value"] = raw[value["name"]]
        elif value["value"] is not None and is_secret_key(value["name"], declared):
            value["value"] = HIDDEN
        elif isinstance(value["value"], str):
            value["value"] = mask_text(value["value"], hidden)
        value["errors"] = [mask_text(e, hidden) for e in value["errors"]]
    return infos


_UNADDRESSABLE_NAMES = {".", ".."}


def check_new_connector_name(name: str) -> None:
    """Refuse a name that cannot be used in a URL path (a deliberate difference: Kafka Connect
    refuses only control characters, and then a connector named ``a/b`` or ``..`` runs but
    cannot be reached through most clients and proxies). Existing connectors keep their names
    and are reached with the name percent-encoded (``a%2Fb``)."""
    if "/" in name or "\\" in name or name in _UNADDRESSABLE_NAMES:
        suggestion = re.sub(r"[/\\]+", "-", name).strip(".-") or "my-connector"
        raise BadRequestError(
            f"Connector name '{name}' cannot be used in a URL path: a name may not contain '/' or '\\' "
            f"and may not be '.' or '..'. Choose another name, for example '{suggestion}'"
        )


def connector_type(desc: PluginDesc) -> str:
    return desc.type if desc.type in ("source", "sink") else "unknown"


def case_hint(config: Mapping[str, Any], key: str) -> str:
    """``; did you mean 'connector.class' instead of 'Connector.class'?`` when ``config`` has ``key``
    only in another case, else an empty string."""
    for given in config:
        if given != key and given.lower() == key.lower():
            return f"; did you mean '{key}' instead of '{given}'? Configuration names are case-sensitive"
    return ""


def resolve_connector(registry: PluginRegistry, config: Mapping[str, str]) -> PluginDesc:
    name = (config.get("connector.class") or "").strip()
    if not name:
        raise BadRequestError(
            f"Connector config {java_map(config)} contains no connector type"
            + case_hint(config, "connector.class")
        )
    try:
        return registry.resolve(name, ("source", "sink"))
    except NotFoundError as exc:
        raise BadRequestError(str(exc)) from None


def validate_connector_config(registry: PluginRegistry, config: Mapping[str, str]) -> ConfigInfos:
    desc = resolve_connector(registry, config)
    assert desc.cls is not None
    framework: type[PluginConfig] = SinkConnectorConfig if desc.type == "sink" else SourceConnectorConfig
    result = ConfigInfos(name=config["connector.class"])
    for key, value in config.items():
        if value is None:
            result.add(
                None,
                ConfigValueInfo(
                    key, None, errors=["Null value can not be supplied as the configuration value."]
                ),
            )
    props = {k: v for k, v in config.items() if v is not None}

    framework_values = {v.name: v for v in framework.validate_props(props)}
    if desc.type == "sink":
        _check_sink_topics(props, framework_values)
    else:
        for key, errors in validate_topic_creation(props).items():  # KIP-158 topic.creation.*
            result.add(None, ConfigValueInfo(key, props.get(key), errors=errors))
    _check_classes(registry, props, framework_values)
    plugin_model: type[PluginConfig] = desc.cls.config_model
    plugin_keys = set(plugin_model.keys())
    for definition in framework.describe():
        if definition.name not in plugin_keys:
            result.add(definition, framework_values[definition.name])

    for prefix, group_type, alias in _aliases(props):
        _validate_chain_entry(registry, props, result, prefix, group_type, alias)

    instance = desc.cls()
    plugin_values = {v.name: v for v in instance.validate(props)}
    for definition in plugin_model.describe():
        result.add(
            definition,
            plugin_values.get(definition.name, ConfigValueInfo(definition.name, props.get(definition.name))),
        )
    _check_case(props, result)
    return result


CONNECTION_CHECK_LIMIT_S = 150.0
"""A plugin's ``validate_connection`` bounds its own time; past this the runtime stops waiting."""


async def validate_connection(
    registry: PluginRegistry, config: Mapping[str, str | None], infos: ConfigInfos
) -> None:
    """Run the connector's I/O checks (``Connector.validate_connection``: log in to its database...)
    and add their errors to ``infos``, when the connector's own settings have no error (a config
    that does not parse cannot be tried against the server)."""
    desc = resolve_connector(registry, {k: v for k, v in config.items() if v is not None})
    if desc.cls is None:
        return
    own = set(desc.cls.config_model.keys())
    if any(c["value"]["errors"] for c in infos.configs if c["value"] and c["value"]["name"] in own):
        return
    props = {k: v for k, v in config.items() if v is not None}
    try:
        async with asyncio.timeout(CONNECTION_CHECK_LIMIT_S):
            errors = await desc.cls().validate_connection(props)
    except TimeoutError:
        errors = {
            "connector.class": [
                f"The connector's checks did not finish within {CONNECTION_CHECK_LIMIT_S:.0f} s"
            ]
        }
    except Exception as exc:  # a plugin bug must not turn validation into a 500
        errors = {"connector.class": [f"The connector's checks failed: {type(exc).__name__}: {exc}"]}
    for key, messages in errors.items():
        if messages:
            infos.add_errors(key, props.get(key), list(messages))


def _check_case(props: Mapping[str, str], result: ConfigInfos) -> None:
    """A key that differs from a known setting only by case (``Tasks.max``) is a typo Kafka Connect
    ignores silently, leaving the setting at its default: here it is an error that names the key."""
    known = {c["definition"]["name"] for c in result.configs if c["definition"] is not None}
    by_lower = {k.lower(): k for k in known}
    for key, value in props.items():
        meant = by_lower.get(key.lower())
        if key not in known and meant is not None:
            result.add(
                None,
                ConfigValueInfo(
                    key,
                    value,
                    errors=[
                        f"Unknown configuration '{key}'; did you mean '{meant}'? Configuration names are case-sensitive"
                    ],
                ),
            )


def _check_sink_topics(props: Mapping[str, str], values: dict[str, ConfigValueInfo]) -> None:
    has_topics = bool(split_list(props.get("topics")))
    has_regex = bool((props.get("topics.regex") or "").strip())
    if has_topics and has_regex:
        message = "topics and topics.regex are mutually exclusive options, but both are set."
        values["topics"].errors.append(message)
        values["topics.regex"].errors.append(message)
    elif not has_topics and not has_regex:
        values["topics"].errors.append("Must configure one of topics or topics.regex")
    if has_regex:
        try:
            re.compile(props["topics.regex"])
        except re.error as exc:
            values["topics.regex"].errors.append(
                f"Invalid value {props['topics.regex']} for configuration topics.regex: {exc}"
            )
    dlq = (props.get("errors.deadletterqueue.topic.name") or "").strip()
    if dlq and dlq in split_list(props.get("topics")):
        values["errors.deadletterqueue.topic.name"].errors.append(
            f"The DLQ topic '{dlq}' may not be included in the list of topics ('topics=...') consumed by the connector"
        )


def _check_classes(
    registry: PluginRegistry, props: Mapping[str, str], values: dict[str, ConfigValueInfo]
) -> None:
    for kind, group in (("key", "converter"), ("value", "converter"), ("header", "header_converter")):
        name = (props.get(f"{kind}.converter") or "").strip()
        if name and registry.find(name, (group,)) is None:
            values[f"{kind}.converter"].errors.append(
                f"Invalid value {name} for configuration {kind}.converter: Class {name} could not be found."
            )


def _aliases(props: Mapping[str, str]) -> list[tuple[str, str, str]]:
    entries = []
    for key, group_type in (("transforms", "transformation"), ("predicates", "predicate")):
        for alias in split_list(props.get(key)):
            entries.append((f"{key}.{alias}.", group_type, alias))
    return entries


def _validate_chain_entry(
    registry: PluginRegistry,
    props: Mapping[str, str],
    result: ConfigInfos,
    prefix: str,
    plugin_type: str,
    alias: str,
) -> None:
    group = ("Transforms: " if plugin_type == "transformation" else "Predicates: ") + alias
    type_key = prefix + "type"
    type_name = (props.get(type_key) or "").strip()
    errors = []
    desc = None
    if not type_name:
        errors.append(f'Missing required configuration "{type_key}" which has no default value.')
    else:
        desc = registry.find(type_name, (plugin_type,))
        if desc is None:
            errors.append(
                f"Invalid value {type_name} for configuration {type_key}: Class {type_name} could not be found."
            )
    kind = "Transformation" if plugin_type == "transformation" else "Predicate"
    result.add(
        ConfigKeyInfo(
            type_key,
            ConfigType.CLASS,
            True,
            None,
            Importance.HIGH,
            f"Class for the '{alias}' {kind.lower()}.",
            group,
            Width.LONG,
            f"{kind} type for {alias}",
        ),
        ConfigValueInfo(type_key, type_name or None, errors=errors),
    )
    if plugin_type == "transformation":
        predicate = (props.get(prefix + "predicate") or "").strip()
        negate = props.get(prefix + "negate")
        pred_errors = []
        if predicate and predicate not in split_list(props.get("predicates")):
            pred_errors.append(
                f"Invalid value {predicate} for configuration {prefix}predicate: undefined predicate alias"
            )
        if negate and not predicate:
            pred_errors.append(
                f"Invalid value {negate} for configuration {prefix}negate: negate is set but no predicate is"
            )
        if pred_errors:
            result.add(None, ConfigValueInfo(prefix + "predicate", predicate or None, errors=pred_errors))
    if desc is None or desc.cls is None:
        return
    model: type[PluginConfig] = desc.cls.config_model
    sub = with_prefix(props, prefix)
    values = {v.name: v for v in model.validate_props(sub)}
    for definition in model.describe():
        value = values[definition.name]
        definition.name = prefix + definition.name
        definition.group = group
        value.name = definition.name
        result.add(definition, value)


def invalid_config_message(infos: ConfigInfos) -> str:
    errors = infos.errors()
    return (
        f"Connector configuration is invalid and contains the following {len(errors)} error(s):\n"
        + "\n".join(errors)
        + "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
    )
