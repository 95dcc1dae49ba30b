"""``TimestampConverter$Key`` / ``TimestampConverter$Value``: convert a timestamp between epoch
numbers, formatted strings and Connect's Date/Time/Timestamp (reference §7.9).

Every conversion goes through epoch milliseconds, as Kafka's goes through ``java.util.Date``:
the input kind comes from the schema (Timestamp/Date/Time logical, STRING formatted, INT64
unix) or, schemaless, from the Python type (datetime/date/time -> Timestamp, int -> unix,
str -> string). Strings are formatted and parsed with a SimpleDateFormat pattern in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, ClassVar, Final, Self

from pydantic import field_validator, model_validator

from connectors.sdk.config import PluginConfig, SettingError, setting
from connectors.sdk.data import (
    DATE,
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIME,
    TIMESTAMP,
    Schema,
    SchemaType,
    Struct,
)
from connectors.sdk.date_format import DateFormatError, SimpleDateFormat
from connectors.sdk.errors import DataError
from connectors.sdk.logical import MS_PER_DAY, Date, Time, Timestamp
from connectors.sdk.records import ConnectRecord
from connectors.transforms.checks import one_of
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    OperandTransformation,
    SchemaCache,
    Side,
    field_value,
    java_class_name,
    require_map,
    struct_builder_like,
)

PURPOSE = "converting timestamp formats"
STRING = "string"
UNIX = "unix"
DATE_TYPE = "Date"
TIME_TYPE = "Time"
TIMESTAMP_TYPE = "Timestamp"
_PRECISIONS: Final = {"seconds": 1000, "milliseconds": 1, "microseconds": 1000, "nanoseconds": 1_000_000}


class TimestampConverterConfig(PluginConfig):
    field: str = setting(
        "", doc="The field containing the timestamp, or empty if the entire value is a timestamp"
    )
    target_type: str = setting(
        doc="The desired timestamp representation: string, unix, Date, Time, or Timestamp"
    )
    format: str = setting(
        "",
        doc="A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.",
    )
    unix_precision: str = setting(
        "milliseconds",
        doc="The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.",
    )
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    _target_type = field_validator("target_type")(one_of(STRING, UNIX, DATE_TYPE, TIME_TYPE, TIMESTAMP_TYPE))
    _unix_precision = field_validator("unix_precision")(
        one_of("nanoseconds", "microseconds", "milliseconds", "seconds")
    )

    @model_validator(mode="after")
    def _format_usable(self) -> Self:
        if self.target_type == STRING and not self.format.strip():
            raise SettingError(
                "format",
                "TimestampConverter requires format option to be specified when using string timestamps",
            )
        if self.format.strip():
            try:
                SimpleDateFormat(self.format)
            except DateFormatError:
                raise SettingError(
                    "format",
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: "
                    + self.format,
                ) from None
        return self


def _truncating_div(number: int, divisor: int) -> int:
    """Java's integer division (towards zero), which ``TimeUnit`` conversions use."""
    quotient = abs(number) // divisor
    return quotient if number >= 0 else -quotient


class TimestampConverter(OperandTransformation[ConnectRecord]):
    config_model = TimestampConverterConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, TimestampConverterConfig)
        self._field = config.field
        self._target = config.target_type
        self._format = SimpleDateFormat(config.format) if config.format.strip() else None
        self._precision = config.unix_precision
        self._replace_null = config.replace_null_with_default
        self._schemas = SchemaCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord | None:
        if schema is None:
            if value is None or not self._field:
                return self.updated(record, None, self._convert(value, None))
            updated = dict(require_map(value, PURPOSE))
            updated[self._field] = self._convert(updated.get(self._field), None)
            return self.updated(record, None, updated)
        if not self._field:
            kind = self._kind_of_schema(schema)
            return self.updated(record, self._target_schema(schema.optional), self._convert(value, kind))
        if value is not None and not isinstance(value, Struct):
            raise DataError(f"Only Struct objects supported for [{PURPOSE}], found: {java_class_name(value)}")
        new_schema = self._schemas.get(schema, self._converted_schema)
        return self.updated(record, new_schema, self._convert_struct(value, new_schema))

    def _converted_schema(self, schema: Schema) -> Schema:
        builder = struct_builder_like(schema)
        for member in schema.fields:
            if member.name == self._field:
                builder.field(member.name, self._target_schema(member.schema.optional))
            else:
                builder.field(member.name, member.schema)
        if schema.optional:
            builder.optional()
        if isinstance(schema.default, Struct):
            builder.default_value(self._convert_struct(schema.default, builder.build()))
        return builder.build()

    def _convert_struct(self, value: Struct | None, new_schema: Schema) -> Struct | None:
        if value is None:
            return None
        values = {}
        for member in value.schema.fields:
            item = field_value(value, member.name, self._replace_null)
            if member.name == self._field:
                item = self._convert(item, self._kind_of_schema(member.schema))
            values[member.name] = item
        return Struct(new_schema, values)

    def _target_schema(self, optional: bool) -> Schema:
        schema = {
            STRING: STRING_SCHEMA,
            UNIX: INT64_SCHEMA,
            DATE_TYPE: Date.schema(),
            TIME_TYPE: Time.schema(),
            TIMESTAMP_TYPE: Timestamp.schema(),
        }[self._target]
        if optional:
            return {STRING: OPTIONAL_STRING_SCHEMA, UNIX: OPTIONAL_INT64_SCHEMA}.get(
                self._target
            ) or schema.as_optional()
        return schema

    @staticmethod
    def _kind_of_schema(schema: Schema) -> str:
        if schema.name == TIMESTAMP:
            return TIMESTAMP_TYPE
        if schema.name == DATE:
            return DATE_TYPE
        if schema.name == TIME:
            return TIME_TYPE
        if schema.type is SchemaType.STRING:
            return STRING
        if schema.type is SchemaType.INT64:
            return UNIX
        shown = f"{schema.name}:{schema.type.name}" if schema.name else schema.type.name
        raise DataError(f"Schema Schema{{{shown}}} does not correspond to a known timestamp type format")

    @staticmethod
    def _kind_of_value(value: Any) -> str:
        if isinstance(value, datetime | date | time):
            return TIMESTAMP_TYPE
        if isinstance(value, int) and not isinstance(value, bool):
            return UNIX
        if isinstance(value, str):
            return STRING
        raise DataError(
            f"TimestampConverter does not support class {java_class_name(value)} objects as timestamps"
        )

    def _convert(self, value: Any, kind: str | None) -> Any:
        if value is None:
            return None
        return self._to_type(self._to_millis(value, kind or self._kind_of_value(value)))

    def _to_millis(self, value: Any, kind: str) -> int:
        if kind == STRING:
            if not isinstance(value, str):
                raise DataError(
                    f"Expected string timestamp to be a String, but found class {java_class_name(value)}"
                )
            if self._format is None:
                raise DataError(f"Could not parse timestamp: value ({value}) does not match pattern ()")
            try:
                return self._format.parse(value)
            except ValueError:
                raise DataError(
                    f"Could not parse timestamp: value ({value}) does not match pattern ({self._format.pattern})"
                ) from None
        if kind == UNIX:
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(
                    f"Expected Unix timestamp to be a Long, but found class {java_class_name(value)}"
                )
            if self._precision == "seconds":
                return value * 1000
            return _truncating_div(value, _PRECISIONS[self._precision])
        return _date_millis(value, kind)

    def _to_type(self, millis: int) -> Any:
        target = self._target
        if target == STRING:
            assert self._format is not None  # the config requires a format for string targets
            return self._format.format(millis)
        if target == UNIX:
            if self._precision == "seconds":
                return _truncating_div(millis, 1000)
            return millis * _PRECISIONS[self._precision]
        if target == DATE_TYPE:
            return Date.from_days(millis // MS_PER_DAY)
        if target == TIME_TYPE:
            return Time.from_millis(millis % MS_PER_DAY)
        return Timestamp.from_millis(millis)


def _date_millis(value: Any, kind: str) -> int:
    """Epoch milliseconds of a Date/Time/Timestamp value (Kafka accepts any ``java.util.Date``)."""
    if isinstance(value, datetime):
        return Timestamp.to_millis(value)
    if isinstance(value, date):
        return Date.to_days(value) * MS_PER_DAY
    if isinstance(value, time):
        return Time.to_millis(value)
    raise DataError(f"Expected {kind} to be a java.util.Date, but found class {java_class_name(value)}")


class TimestampConverterKey(TimestampConverter):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "TimestampConverter$Key",)


class TimestampConverterValue(TimestampConverter):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "TimestampConverter$Value",)
