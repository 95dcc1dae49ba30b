"""Kafka Connect's logical types: a schema name that gives a primitive a richer Python value.

Each class mirrors ``org.apache.kafka.connect.data.{Decimal, Date, Time, Timestamp}``:
``schema()`` / ``builder()`` make the schema, ``from_logical(schema, value)`` turns the Python
value into the primitive a converter writes, and ``to_logical(schema, raw)`` turns it back.

========== =============== =============================================================
type       primitive       Python value
========== =============== =============================================================
Decimal    bytes           ``decimal.Decimal``; bytes = big-endian two's-complement unscaled
Date       int32           ``datetime.date``; int = days since 1970-01-01
Time       int32           ``datetime.time``; int = milliseconds since midnight
Timestamp  int64           ``datetime.datetime``; int = milliseconds since the Unix epoch (UTC)
========== =============== =============================================================

The schema-free static methods (``Decimal.unscaled``, ``Date.to_days``, ``Time.from_millis``...)
are the conversions themselves, for converters that already know the schema and run per record.

These classes are namespaces, not value types: ``logical.Decimal`` is not ``decimal.Decimal``.
"""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

from connectors.sdk.data import (
    DATE,
    DATE_SCHEMA,
    DECIMAL,
    TIME,
    TIME_SCHEMA,
    TIMESTAMP,
    TIMESTAMP_SCHEMA,
    Schema,
    SchemaType,
    decimal_schema,
)
from connectors.sdk.errors import DataError

if TYPE_CHECKING:
    from connectors.sdk.schema_builder import SchemaBuilder

__all__ = ["Date", "Decimal", "Time", "Timestamp", "logical_name"]

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_EPOCH: Final = datetime(1970, 1, 1)
_EPOCH_UTC: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)
MS_PER_DAY: Final = 86_400_000

_PRIMITIVE: Final = {
    DECIMAL: SchemaType.BYTES,
    DATE: SchemaType.INT32,
    TIME: SchemaType.INT32,
    TIMESTAMP: SchemaType.INT64,
}


def logical_name(schema: Schema) -> str | None:
    """The logical type of ``schema`` if it is one of the four, on the right primitive; else None.

    A schema named like a logical type but on another primitive is an ordinary schema, as in
    Kafka's converters.
    """
    name = schema.name
    if name is not None and _PRIMITIVE.get(name) is schema.type:
        return name
    return None


def _builder(schema: Schema) -> SchemaBuilder:
    from connectors.sdk.schema_builder import SchemaBuilder  # the builder builds on this module

    return SchemaBuilder.from_schema(schema)


def _check(schema: Schema, name: str, what: str) -> None:
    if schema.name != name:
        raise DataError(f"Requested conversion of {what} object but the schema does not match.")


class _Namespace:
    def __init__(self) -> None:
        raise TypeError(
            f"logical.{type(self).__name__} only groups schema helpers; use the datetime/decimal value types"
        )


class Decimal(_Namespace):
    """An arbitrary-precision decimal with a fixed ``scale`` (digits after the point)."""

    LOGICAL_NAME: Final = DECIMAL
    SCALE_FIELD: Final = "scale"

    @staticmethod
    def schema(scale: int, *, optional: bool = False) -> Schema:
        """The Decimal schema for ``scale``."""
        return decimal_schema(scale, optional=optional)

    @staticmethod
    def builder(scale: int) -> SchemaBuilder:
        """A builder preset to the Decimal schema, to add ``optional()``, a doc or a default."""
        return _builder(decimal_schema(scale))

    @staticmethod
    def scale(schema: Schema) -> int:
        """The ``scale`` parameter of a Decimal schema."""
        raw = (schema.parameters or {}).get(Decimal.SCALE_FIELD)
        if raw is None:
            raise DataError("Invalid Decimal schema: scale parameter not found.")
        try:
            return int(raw)
        except ValueError:
            raise DataError(f"Invalid Decimal schema: scale parameter {raw!r} is not an integer.") from None

    @staticmethod
    def unscaled(value: Any, scale: int) -> int:
        """The unscaled integer of ``value`` at ``scale``, exactly.

        A value with fewer decimals is rescaled (``10.5`` at scale 2 is 1050), which Kafka
        refuses; one that would lose digits is refused, never rounded. Integers are accepted.
        """
        if isinstance(value, decimal.Decimal):
            if not value.is_finite():
                raise DataError(f"Decimal value {value} cannot be represented in Kafka Connect")
            numerator, denominator = value.as_integer_ratio()
        elif isinstance(value, int) and not isinstance(value, bool):
            numerator, denominator = value, 1
        else:
            raise DataError(f"Invalid type for Decimal, expected Decimal but was {type(value)}")
        power: int = 10 ** abs(scale)
        if scale >= 0:
            unscaled, remainder = divmod(numerator * power, denominator)
        else:
            unscaled, remainder = divmod(numerator, denominator * power)
        if remainder:
            raise DataError(f"Decimal value {value} does not fit the schema's scale {scale}")
        return unscaled

    @staticmethod
    def encode(unscaled: int) -> bytes:
        """Java's ``BigInteger.toByteArray``: big-endian, minimal length, with a sign bit."""
        bits = unscaled.bit_length() if unscaled >= 0 else (~unscaled).bit_length()
        return unscaled.to_bytes(bits // 8 + 1, "big", signed=True)

    @staticmethod
    def decode(raw: bytes | bytearray | memoryview) -> int:
        """The unscaled integer held in Decimal bytes."""
        return int.from_bytes(raw, "big", signed=True)

    @staticmethod
    def from_unscaled(unscaled: int, scale: int) -> decimal.Decimal:
        """``unscaled * 10**-scale`` as an exact ``decimal.Decimal`` (no context rounding)."""
        return decimal.Decimal(f"{unscaled}E{-scale}")

    @staticmethod
    def from_logical(schema: Schema, value: decimal.Decimal | int) -> bytes:
        """The bytes a converter writes for ``value`` under the Decimal ``schema``."""
        _check(schema, DECIMAL, "Decimal")
        return Decimal.encode(Decimal.unscaled(value, Decimal.scale(schema)))

    @staticmethod
    def to_logical(schema: Schema, raw: bytes | bytearray | memoryview) -> decimal.Decimal:
        """The ``decimal.Decimal`` held in Decimal bytes."""
        _check(schema, DECIMAL, "Decimal")
        return Decimal.from_unscaled(Decimal.decode(raw), Decimal.scale(schema))


class Date(_Namespace):
    """A calendar date without time of day or zone."""

    LOGICAL_NAME: Final = DATE

    @staticmethod
    def schema(*, optional: bool = False) -> Schema:
        """The Date schema."""
        return DATE_SCHEMA.as_optional() if optional else DATE_SCHEMA

    @staticmethod
    def builder() -> SchemaBuilder:
        """A builder preset to the Date schema."""
        return _builder(DATE_SCHEMA)

    @staticmethod
    def to_days(value: Any) -> int:
        """Days since 1970-01-01. A ``datetime`` must be midnight (in UTC when it has a zone)."""
        if type(value) is date:
            return value.toordinal() - _EPOCH_ORDINAL
        if isinstance(value, datetime):
            moment = value.astimezone(UTC) if value.tzinfo is not None else value
            if moment.time() != time(0):
                raise DataError(
                    "Kafka Connect Date type should not have any time fields set to non-zero values."
                )
            return moment.toordinal() - _EPOCH_ORDINAL
        if isinstance(value, date):
            return value.toordinal() - _EPOCH_ORDINAL
        raise DataError(f"Invalid type for Date, expected date but was {type(value)}")

    @staticmethod
    def from_days(days: int) -> date:
        """The date ``days`` after 1970-01-01 (negative: before)."""
        try:
            return date.fromordinal(days + _EPOCH_ORDINAL)
        except (ValueError, OverflowError):
            raise DataError(f"Date value {days} (days since epoch) is out of range") from None

    @staticmethod
    def from_logical(schema: Schema, value: date) -> int:
        """The int32 a converter writes for ``value``."""
        _check(schema, DATE, "Date")
        return Date.to_days(value)

    @staticmethod
    def to_logical(schema: Schema, raw: int) -> date:
        """The date for the int32 ``raw``."""
        _check(schema, DATE, "Date")
        return Date.from_days(raw)


class Time(_Namespace):
    """A time of day with millisecond precision; any zone on the value is ignored."""

    LOGICAL_NAME: Final = TIME

    @staticmethod
    def schema(*, optional: bool = False) -> Schema:
        """The Time schema."""
        return TIME_SCHEMA.as_optional() if optional else TIME_SCHEMA

    @staticmethod
    def builder() -> SchemaBuilder:
        """A builder preset to the Time schema."""
        return _builder(TIME_SCHEMA)

    @staticmethod
    def to_millis(value: Any) -> int:
        """Milliseconds since midnight; microseconds are truncated."""
        if isinstance(value, time):
            return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
        raise DataError(f"Invalid type for Time, expected time but was {type(value)}")

    @staticmethod
    def from_millis(millis: int) -> time:
        """The time of day ``millis`` after midnight; it must lie within one day."""
        if not 0 <= millis < MS_PER_DAY:
            raise DataError(f"Time values must be within one day (0 to {MS_PER_DAY - 1} ms), got {millis}")
        return time(millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60, millis % 1000 * 1000)

    @staticmethod
    def from_logical(schema: Schema, value: time) -> int:
        """The int32 a converter writes for ``value``."""
        _check(schema, TIME, "Time")
        return Time.to_millis(value)

    @staticmethod
    def to_logical(schema: Schema, raw: int) -> time:
        """The time for the int32 ``raw``."""
        _check(schema, TIME, "Time")
        return Time.from_millis(raw)


class Timestamp(_Namespace):
    """An instant with millisecond precision; read back as a UTC-aware ``datetime``."""

    LOGICAL_NAME: Final = TIMESTAMP

    @staticmethod
    def schema(*, optional: bool = False) -> Schema:
        """The Timestamp schema."""
        return TIMESTAMP_SCHEMA.as_optional() if optional else TIMESTAMP_SCHEMA

    @staticmethod
    def builder() -> SchemaBuilder:
        """A builder preset to the Timestamp schema."""
        return _builder(TIMESTAMP_SCHEMA)

    @staticmethod
    def to_millis(value: Any) -> int:
        """Milliseconds since the epoch, rounded down; a naive ``datetime`` is taken as UTC."""
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return (value - _EPOCH) // _MILLISECOND
            return (value - _EPOCH_UTC) // _MILLISECOND
        raise DataError(f"Invalid type for Timestamp, expected datetime but was {type(value)}")

    @staticmethod
    def from_millis(millis: int) -> datetime:
        """The UTC instant ``millis`` after the epoch."""
        try:
            return _EPOCH_UTC + timedelta(milliseconds=millis)
        except OverflowError:
            raise DataError(f"Timestamp value {millis} is out of range") from None

    @staticmethod
    def from_logical(schema: Schema, value: datetime) -> int:
        """The int64 a converter writes for ``value``."""
        _check(schema, TIMESTAMP, "Timestamp")
        return Timestamp.to_millis(value)

    @staticmethod
    def to_logical(schema: Schema, raw: int) -> datetime:
        """The datetime for the int64 ``raw``."""
        _check(schema, TIMESTAMP, "Timestamp")
        return Timestamp.from_millis(raw)
