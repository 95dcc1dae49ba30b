"""Plugin configuration: pydantic models that describe themselves the way Kafka's ConfigDef does.

A plugin declares its settings as fields of a :class:`PluginConfig` subclass, using
:func:`setting` for the documentation that ``GET /connector-plugins/{p}/config`` shows. Field
names are snake_case in Python and dotted on the wire (``batch_size`` <-> ``batch.size``), and
every value arrives as a string and is coerced, as Connect configs are ``Map<String,String>``.
``validate_props`` reports every problem at once, per key, in Kafka Connect's wording.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Self, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo

from connectors.sdk.errors import ConfigError


class SettingError(ValueError):
    """Raised by a config model's cross-field check (a pydantic ``model_validator``) to report a
    problem against one key, so ``/config/validate`` shows it on that key, in Kafka's wording."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class ConfigType(StrEnum):
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    LIST = "LIST"
    CLASS = "CLASS"
    PASSWORD = "PASSWORD"


class Importance(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Width(StrEnum):
    NONE = "NONE"
    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    LONG = "LONG"


_JAVA_WHITESPACE = "".join(map(chr, range(0x21)))
_JAVA_INT = re.compile(r"[+-]?\d{1,10}")


def java_trim(text: str) -> str:
    """Java's ``String.trim``: strips code points up to U+0020 only (not U+0085 or U+00A0)."""
    return text.strip(_JAVA_WHITESPACE)


def dotted(name: str) -> str:
    return name.replace("_", ".")


def _split_list(value: Any) -> Any:
    """Connect's LIST parsing: comma-separated text, whitespace around commas removed."""
    if isinstance(value, str):
        text = value.strip()
        return [part.strip() for part in text.split(",")] if text else []
    return value


CommaList = Annotated[list[str], BeforeValidator(_split_list)]
"""A LIST setting: ``"a, b,c"`` becomes ``["a", "b", "c"]``."""


def parse_choice(
    value: Any,
    allowed: Iterable[str],
    *,
    message: str,
    upper: bool = False,
    aliases: Mapping[str, str] | None = None,
) -> Any:
    """One of ``allowed``, matched case-insensitively after trimming (as Kafka's and Debezium's
    enum validators do); returns the canonical text (lower case, or upper with ``upper``).
    Non-text values pass through for pydantic to judge. A value not allowed raises ``ValueError``
    with ``message`` followed by the choices, so each plugin keeps its own system's wording
    (Debezium ``"Value must be one of "``, Kafka's ValidString ``"String must be one of: "``)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    text = text.upper() if upper else text.lower()
    text = (aliases or {}).get(text, text)
    choices = list(allowed)
    if text not in choices:
        raise ValueError(message + ", ".join(choices))
    return text


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """ConfigDef metadata kept on a pydantic field."""

    doc: str = ""
    importance: Importance = Importance.MEDIUM
    group: str | None = None
    order_in_group: int = -1
    width: Width = Width.NONE
    display_name: str | None = None
    dependents: tuple[str, ...] = ()
    type: ConfigType | None = None
    recommended_values: tuple[str, ...] = ()


def setting(
    default: Any = ...,
    *,
    doc: str,
    importance: Importance = Importance.MEDIUM,
    group: str | None = None,
    order_in_group: int = -1,
    width: Width = Width.NONE,
    display_name: str | None = None,
    dependents: tuple[str, ...] = (),
    type: ConfigType | None = None,
    recommended_values: tuple[str, ...] = (),
    alias: str | None = None,
    **constraints: Any,
) -> Any:
    """A pydantic ``Field`` that also carries the ConfigDef description of the setting."""
    info = SettingInfo(
        doc, importance, group, order_in_group, width, display_name, dependents, type, recommended_values
    )
    extra: dict[str, Any] = {"penstock": info}
    return PydanticField(default, alias=alias, json_schema_extra=extra, **constraints)


@dataclass(slots=True)
class ConfigKeyInfo:
    """One key of ``GET /connector-plugins/{p}/config`` (Kafka's ConfigKeyInfo)."""

    name: str
    type: ConfigType
    required: bool
    default_value: str | None
    importance: Importance
    documentation: str
    group: str | None
    width: Width
    display_name: str
    dependents: list[str] = field(default_factory=list)
    order: int = -1


@dataclass(slots=True)
class ConfigValueInfo:
    """The validation result for one key (Kafka's ConfigValueInfo)."""

    name: str
    value: str | None
    recommended_values: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible: bool = True


def render(value: Any, config_type: ConfigType) -> str | None:
    """A config value as Connect shows it: lists comma-joined, passwords hidden."""
    if value is None:
        return None
    if config_type is ConfigType.PASSWORD:
        return "[hidden]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, SecretStr):
        return "[hidden]"
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def _unwrap_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap_optional(args[0])
    if origin is Annotated:
        return _unwrap_optional(get_args(annotation)[0])
    return annotation


def config_type_of(info: FieldInfo) -> ConfigType:
    meta = _setting_info(info)
    if meta.type is not None:
        return meta.type
    annotation = _unwrap_optional(info.annotation)
    if annotation is bool:
        return ConfigType.BOOLEAN
    if annotation is int:
        return ConfigType.INT
    if annotation is float:
        return ConfigType.DOUBLE
    if annotation is SecretStr:
        return ConfigType.PASSWORD
    if get_origin(annotation) is list or annotation is list:
        return ConfigType.LIST
    return ConfigType.STRING


def _setting_info(info: FieldInfo) -> SettingInfo:
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        meta = extra.get("penstock")
        if isinstance(meta, SettingInfo):
            return meta
    return SettingInfo(doc=info.description or "")


_TYPE_WORDS = {
    "int_parsing": "Not a number of type {type}",
    "int_from_float": "Not a number of type {type}",
    "float_parsing": "Not a number of type {type}",
    "bool_parsing": "Expected value to be either true or false",
    "bool_type": "Expected value to be either true or false",
}


class PluginConfig(BaseModel):
    """Base for every plugin's settings. Unknown keys are ignored, as in Kafka Connect."""

    model_config = ConfigDict(
        alias_generator=dotted,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        coerce_numbers_to_str=True,
        # a worker loads every installed plugin's config model at start and uses a few of them:
        # each model's validator is built on its first use instead (~20 ms less at start)
        defer_build=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _parse_like_configdef(cls, value: Any, info: ValidationInfo) -> Any:
        """Strings are trimmed the Java way; BOOLEAN accepts only true/false and INT only 32-bit
        integers, as Kafka's ConfigDef parses them (pydantic alone would take "yes" or "1.0")."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or not isinstance(value, str):
            return value
        text = java_trim(value)
        kind = config_type_of(field)
        if kind is ConfigType.BOOLEAN:
            if text.lower() not in ("true", "false"):
                raise ValueError("Expected value to be either true or false")
            return text.lower() == "true"
        if kind is ConfigType.INT:
            if not _JAVA_INT.fullmatch(text) or not -(2**31) <= int(text) < 2**31:
                raise ValueError("Not a number of type INT")
            return int(text)
        return text

    group_name: ClassVar[str | None] = None
    """Default group for settings that do not name one (shown in validate output)."""

    @classmethod
    def keys(cls) -> list[str]:
        return [info.alias or name for name, info in cls.model_fields.items()]

    @classmethod
    def describe(cls) -> list[ConfigKeyInfo]:
        """The settings as ``GET /connector-plugins/{p}/config`` lists them, in declaration order."""
        result = []
        for name, info in cls.model_fields.items():
            meta = _setting_info(info)
            key = info.alias or name
            config_type = config_type_of(info)
            required = info.is_required()
            default = None if required else info.get_default(call_default_factory=True)
            result.append(
                ConfigKeyInfo(
                    name=key,
                    type=config_type,
                    required=required,
                    default_value=render(default, config_type),
                    importance=meta.importance,
                    documentation=meta.doc or info.description or "",
                    group=meta.group or cls.group_name,
                    width=meta.width,
                    display_name=meta.display_name or key,
                    dependents=list(meta.dependents),
                    order=meta.order_in_group,
                )
            )
        return result

    @classmethod
    def validate_props(cls, props: Mapping[str, str | None]) -> list[ConfigValueInfo]:
        """Every setting with its value and errors; never raises for bad values."""
        errors = cls.errors_by_key(props)
        values = []
        for name, info in cls.model_fields.items():
            key = info.alias or name
            meta = _setting_info(info)
            raw = props.get(key)
            if raw is None and not info.is_required():
                raw = render(info.get_default(call_default_factory=True), config_type_of(info))
            elif raw is not None and config_type_of(info) is ConfigType.PASSWORD:
                raw = "[hidden]"
            values.append(
                ConfigValueInfo(
                    name=key,
                    value=raw,
                    recommended_values=list(meta.recommended_values),
                    errors=errors.get(key, []),
                )
            )
        return values

    @classmethod
    def errors_by_key(cls, props: Mapping[str, str | None]) -> dict[str, list[str]]:
        try:
            cls.model_validate(dict(props))
        except ValidationError as exc:
            return cls._kafka_messages(exc, props)
        return {}

    @classmethod
    def _kafka_messages(cls, exc: ValidationError, props: Mapping[str, str | None]) -> dict[str, list[str]]:
        by_alias = {info.alias or name: info for name, info in cls.model_fields.items()}
        messages: dict[str, list[str]] = {}
        for error in exc.errors():
            loc = error.get("loc") or ("",)
            key = str(loc[0])
            info = by_alias.get(key)
            kind = error.get("type", "")
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, SettingError):
                key = cause.key
                info = by_alias.get(key)
                shown = _java_shown(props.get(key))
                if info is not None and config_type_of(info) is ConfigType.PASSWORD:
                    shown = "[hidden]"
                text = f"Invalid value {shown} for configuration {key}: {cause.message}"
            elif kind == "missing":
                text = f'Missing required configuration "{key}" which has no default value.'
            else:
                config_type = config_type_of(info) if info else ConfigType.STRING
                template = _TYPE_WORDS.get(kind)
                reason = template.format(type=config_type.value) if template else kafka_reason(error)
                shown = _java_shown(props.get(key))
                if config_type is ConfigType.PASSWORD:
                    shown = "[hidden]"
                text = f"Invalid value {shown} for configuration {key}: {reason}"
            messages.setdefault(key, []).append(text)
        return messages

    @classmethod
    def parse(cls, props: Mapping[str, str | None]) -> Self:
        """The typed config, or a ``ConfigError`` listing every problem."""
        try:
            return cls.model_validate(dict(props))
        except ValidationError as exc:
            problems = [m for msgs in cls._kafka_messages(exc, props).values() for m in msgs]
            raise ConfigError("; ".join(problems)) from None


_CREDENTIALS: Final = (
    # ?password=...&  ;password=...  (URL and JDBC parameters)
    (re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key)=([^&;\s]+)"), r"\1=[hidden]"),
    # scheme://user:password@host
    (re.compile(r"(://[^/:@\s]+):([^@\s]+)@"), r"\1:[hidden]@"),
    # jdbc:oracle:thin:user/password@host
    (re.compile(r"(?i)(:thin:[^/@\s]+)/([^@\s]+)@"), r"\1/[hidden]@"),
)


def _java_shown(value: str | None) -> str:
    """A value as Kafka's ``ConfigException`` prints it: an unset key is ``null`` (a cross-field
    check reports on a key that may not be set, e.g. InsertField's ``static.value``). Credentials
    a value may carry (a connection URL's ``password=`` or ``user:password@``) are hidden: the
    message goes back to whoever sent the config and into logs."""
    if value is None:
        return "null"
    for pattern, replacement in _CREDENTIALS:
        value = pattern.sub(replacement, value)
    return value


def kafka_reason(error: Any) -> str:
    """Why a pydantic error happened, worded as Kafka's ConfigDef validators word it."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"Value must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"Value must be no more than {ctx.get('le')}"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "String may not be empty"
    if kind in ("enum", "literal_error"):
        return f"String must be one of: {ctx.get('expected', '')}".replace("'", "")
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


class EmptyConfig(PluginConfig):
    """For plugins without settings."""
