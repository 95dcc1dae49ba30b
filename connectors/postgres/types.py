"""PostgreSQL column types -> Connect schemas, and PostgreSQL *text* values -> Connect values.

Debezium's mapping (reference §2.9), with ``decimal.handling.mode``, ``time.precision.mode``,
``binary.handling.mode``, ``interval.handling.mode`` and ``hstore.handling.mode``: integers,
floats, bool, numeric/money, character types, date/time types, interval, json/jsonb, uuid, xml,
bytea, bit/varbit, inet/cidr/macaddr and ranges (strings), point, enums (with ``allowed``),
domains (as their base type), citext/hstore, and one-dimensional arrays of all of these. Any
other type is sent as its text (string) with one warning per type.

One converter, from text, for both paths
-----------------------------------------
Streaming gets every value as the text of the type's output function (pgoutput's 't' columns).
The snapshot reads the same text: ``COPY (SELECT ...) TO STDOUT`` in text format runs the same
output functions (``SELECT col::text`` would not: ``bool::text`` is ``true`` not ``t``,
``inet::text`` adds ``/32``, ``char(n)::text`` drops the padding), and :class:`CopyTextParser`
splits its lines. So a snapshot row and a streamed row of the same data convert identically, by
one code path, and the snapshot gets COPY's throughput (no per-value asyncpg decoding).

Text forms depend on session settings; both the snapshot connection and the replication
session must use :data:`SESSION_SETTINGS` (ISO dates, ``postgres`` interval style, UTC, hex
bytea, C money format). With other settings values can fail to parse or parse differently.

Usage::

    registry = TypeRegistry()
    await registry.load(conn, [column.type_oid for column in relation.columns])
    converters = ValueConverters(ValueOptions.from_config(config), registry)
    conv = converters.for_column(type_oid, type_modifier, optional=True, column="public.t.price")
    conv.schema   # Connect schema of the field
    conv.convert("10.50")   # -> Decimal("10.50"); None -> None; UNCHANGED -> placeholder

Values are what the SDK's converters expect: ints for Debezium's ``io.debezium.time.*`` types,
``decimal.Decimal`` for Connect Decimal, ``datetime.date``/``time``/``datetime`` for Connect's
Date/Time/Timestamp (``time.precision.mode=connect``), a :class:`~connectors.sdk.Struct` for
``VariableScaleDecimal``.
"""

from __future__ import annotations

import base64
import decimal
import json
import logging
import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final, cast

from connectors.postgres.config import (
    BinaryHandlingMode,
    DecimalHandlingMode,
    HStoreHandlingMode,
    IntervalHandlingMode,
    TimePrecisionMode,
)
from connectors.postgres.pgoutput import UNCHANGED
from connectors.sdk.data import Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Date as ConnectDate
from connectors.sdk.logical import Decimal as ConnectDecimal
from connectors.sdk.logical import Time as ConnectTime
from connectors.sdk.logical import Timestamp as ConnectTimestamp
from connectors.sdk.schema_builder import SchemaBuilder

__all__ = [
    "BUILTIN_TYPES",
    "SESSION_SETTINGS",
    "BinaryHandlingMode",
    "ColumnConverter",
    "CopyTextParser",
    "DecimalHandlingMode",
    "HStoreHandlingMode",
    "IntervalHandlingMode",
    "PgType",
    "TimePrecisionMode",
    "TypeRegistry",
    "ValueConverters",
    "ValueOptions",
    "copy_select",
    "parse_array",
    "parse_hstore",
]

log = logging.getLogger(__name__)

#: Session settings that fix the text form of values; set them on every connection whose text
#: is converted here (asyncpg ``server_settings=``, or ``options=-c ...`` of a replication
#: connection). ``lc_monetary=C`` gives ``$1,234.50`` for money.
SESSION_SETTINGS: Final[Mapping[str, str]] = {
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "lc_monetary": "C",
}


@dataclass(frozen=True, slots=True)
class ValueOptions:
    """The value-shaping settings of the connector config (reference §2.6)."""

    decimal_handling_mode: DecimalHandlingMode = DecimalHandlingMode.PRECISE
    time_precision_mode: TimePrecisionMode = TimePrecisionMode.ADAPTIVE
    binary_handling_mode: BinaryHandlingMode = BinaryHandlingMode.BYTES
    interval_handling_mode: IntervalHandlingMode = IntervalHandlingMode.NUMERIC
    hstore_handling_mode: HStoreHandlingMode = HStoreHandlingMode.JSON
    money_fraction_digits: int = 2
    #: ``unavailable.value.placeholder``: stands for an unchanged TOASTed value.
    unavailable_value_placeholder: str = "__debezium_unavailable_value"
    #: Newer Debezium pads a ZonedTimestamp's fraction to the column precision
    #: (``...30.123400Z`` for timestamptz(6)); older releases print only needed digits.
    pad_zoned_timestamp_fraction: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ValueOptions:
        """From connector config keys (string values as Connect passes them); defaults as Debezium."""

        def pick(key: str, enum: type[StrEnum], default: StrEnum) -> Any:
            raw = config.get(key)
            if raw is None or str(raw).strip() == "":
                return default
            text = str(raw).strip().lower()
            try:
                return enum(text)
            except ValueError:
                allowed = ", ".join(member.value for member in enum)
                raise DataError(f"Invalid value {raw!r} for {key}; expected one of: {allowed}") from None

        raw_digits = config.get("money.fraction.digits", 2)
        try:
            digits = int(str(raw_digits).strip())
        except ValueError:
            raise DataError(
                f"Invalid value {raw_digits!r} for money.fraction.digits; expected an integer"
            ) from None
        return cls(
            decimal_handling_mode=pick(
                "decimal.handling.mode", DecimalHandlingMode, DecimalHandlingMode.PRECISE
            ),
            time_precision_mode=pick("time.precision.mode", TimePrecisionMode, TimePrecisionMode.ADAPTIVE),
            binary_handling_mode=pick("binary.handling.mode", BinaryHandlingMode, BinaryHandlingMode.BYTES),
            interval_handling_mode=pick(
                "interval.handling.mode", IntervalHandlingMode, IntervalHandlingMode.NUMERIC
            ),
            hstore_handling_mode=pick("hstore.handling.mode", HStoreHandlingMode, HStoreHandlingMode.JSON),
            money_fraction_digits=digits,
            unavailable_value_placeholder=str(
                config.get("unavailable.value.placeholder", "__debezium_unavailable_value")
            ),
        )


# -- type catalogue ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PgType:
    """What the mapping needs to know about a ``pg_type`` row."""

    oid: int
    name: str
    namespace: str = "pg_catalog"
    #: ``typtype``: b base, e enum, d domain, r range, m multirange, c composite, p pseudo.
    kind: str = "b"
    #: Element type of an array type (``typelem`` when ``typcategory = 'A'``), else 0.
    element_oid: int = 0
    #: Underlying type of a domain, else 0; ``base_type_modifier`` is the domain's typmod.
    base_oid: int = 0
    base_type_modifier: int = -1
    #: Labels of an enum in sort order.
    enum_labels: tuple[str, ...] | None = None


def _builtins() -> dict[int, PgType]:
    scalars = {
        16: ("bool", 1000), 17: ("bytea", 1001), 18: ("char", 1002), 19: ("name", 1003),
        20: ("int8", 1016), 21: ("int2", 1005), 23: ("int4", 1007), 25: ("text", 1009),
        26: ("oid", 1028), 114: ("json", 199), 142: ("xml", 143), 600: ("point", 1017), 650: ("cidr", 651),
        700: ("float4", 1021), 701: ("float8", 1022), 774: ("macaddr8", 775), 790: ("money", 791),
        829: ("macaddr", 1040), 869: ("inet", 1041), 1042: ("bpchar", 1014), 1043: ("varchar", 1015),
        1082: ("date", 1182), 1083: ("time", 1183), 1114: ("timestamp", 1115),
        1184: ("timestamptz", 1185), 1186: ("interval", 1187), 1266: ("timetz", 1270),
        1560: ("bit", 1561), 1562: ("varbit", 1563), 1700: ("numeric", 1231), 2950: ("uuid", 2951),
        3802: ("jsonb", 3807), 3904: ("int4range", 3905), 3906: ("numrange", 3907),
        3908: ("tsrange", 3909), 3910: ("tstzrange", 3911), 3912: ("daterange", 3913),
        3926: ("int8range", 3927), 4451: ("int4multirange", 6150), 4532: ("nummultirange", 6151),
        4533: ("tsmultirange", 6152), 4534: ("tstzmultirange", 6153),
        4535: ("datemultirange", 6155), 4536: ("int8multirange", 6157),
    }  # fmt: skip
    found: dict[int, PgType] = {}
    for oid, (name, array_oid) in scalars.items():
        kind = "m" if name.endswith("multirange") else "r" if name.endswith("range") else "b"
        found[oid] = PgType(oid, name, kind=kind)
        found[array_oid] = PgType(array_oid, "_" + name, element_oid=oid)
    return found


#: The built-in types by OID (OIDs below 10000 are fixed across PostgreSQL versions).
BUILTIN_TYPES: Final[Mapping[int, PgType]] = _builtins()

_TYPES_QUERY: Final = """
SELECT t.oid, n.nspname, t.typname, t.typtype::text,
       CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END AS element_oid,
       t.typbasetype, t.typtypmod,
       CASE WHEN t.typtype = 'e' THEN ARRAY(
           SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder
       ) END AS labels
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY($1::oid[])
"""


class TypeRegistry:
    """Built-in types plus the user/extension types (enums, domains, citext...) loaded from the catalog.

    Load the OIDs of a Relation message's columns (or of a table's ``pg_attribute`` rows) before
    asking for their converters; an enum whose labels changed (``ALTER TYPE ... ADD VALUE``) is
    refreshed by loading it again (``refresh=True``).
    """

    def __init__(self, types: Iterable[PgType] = ()) -> None:
        self._types: dict[int, PgType] = dict(BUILTIN_TYPES)
        for pg_type in types:
            self._types[pg_type.oid] = pg_type

    def get(self, oid: int) -> PgType | None:
        """The type with ``oid``, if known."""
        return self._types.get(oid)

    def add(self, pg_type: PgType) -> None:
        """Add or replace one type."""
        self._types[pg_type.oid] = pg_type

    async def load(self, conn: Any, oids: Iterable[int], *, refresh: bool = False) -> None:
        """Fetch the unknown ``oids`` (and the element/base types they refer to) from ``pg_type``.

        ``conn`` is an asyncpg connection (or anything with its ``fetch``); one query per level
        of indirection (array of domain of enum: three), usually one.
        """
        wanted = {oid for oid in oids if oid and ((refresh and oid >= 10000) or oid not in self._types)}
        while wanted:
            rows = await conn.fetch(_TYPES_QUERY, sorted(wanted))
            wanted = set()
            for row in rows:
                labels = row["labels"]
                pg_type = PgType(
                    oid=row["oid"],
                    name=row["typname"],
                    namespace=row["nspname"],
                    kind=row["typtype"],
                    element_oid=row["element_oid"],
                    base_oid=row["typbasetype"],
                    base_type_modifier=row["typtypmod"],
                    enum_labels=tuple(labels) if labels is not None else None,
                )
                self._types[pg_type.oid] = pg_type
                for ref in (pg_type.element_oid, pg_type.base_oid):
                    if ref and ref not in self._types:
                        wanted.add(ref)


# -- schemas ----------------------------------------------------------------------------------------

JSON: Final = "io.debezium.data.Json"
UUID: Final = "io.debezium.data.Uuid"
XML: Final = "io.debezium.data.Xml"
ENUM: Final = "io.debezium.data.Enum"
BITS: Final = "io.debezium.data.Bits"
POINT: Final = "io.debezium.data.geometry.Point"
VARIABLE_SCALE_DECIMAL: Final = "io.debezium.data.VariableScaleDecimal"
DEBEZIUM_DATE: Final = "io.debezium.time.Date"
DEBEZIUM_TIME: Final = "io.debezium.time.Time"
MICRO_TIME: Final = "io.debezium.time.MicroTime"
DEBEZIUM_TIMESTAMP: Final = "io.debezium.time.Timestamp"
MICRO_TIMESTAMP: Final = "io.debezium.time.MicroTimestamp"
ZONED_TIMESTAMP: Final = "io.debezium.time.ZonedTimestamp"
ZONED_TIME: Final = "io.debezium.time.ZonedTime"
MICRO_DURATION: Final = "io.debezium.time.MicroDuration"
INTERVAL: Final = "io.debezium.time.Interval"


def _named(schema_type: SchemaType, name: str, **parameters: str) -> SchemaBuilder:
    builder = SchemaBuilder.of(schema_type).name(name).version(1)
    if parameters:
        builder.parameters(parameters)
    return builder


def variable_scale_decimal_schema(*, optional: bool = False) -> Schema:
    """Debezium's ``VariableScaleDecimal``: ``{scale: int32, value: bytes}``."""
    builder = (
        SchemaBuilder.struct()
        .name(VARIABLE_SCALE_DECIMAL)
        .version(1)
        .doc("Variable scaled decimal")
        .field("scale", SchemaBuilder.int32())
        .field("value", SchemaBuilder.bytes_())
    )
    return (builder.optional() if optional else builder).build()


# -- text parsing -----------------------------------------------------------------------------------

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_US_PER_DAY: Final = 86_400_000_000
_DAYS_PER_MONTH_AVG: Final = 365.25 / 12.0
# What Debezium emits for +/-infinity timestamps (PGStatement.DATE_(POSITIVE|NEGATIVE)_INFINITY
# read as microseconds); milliseconds for the ms-precision types.
_TS_POS_INFINITY_US: Final = 9_223_372_036_825_200_000
_TS_NEG_INFINITY_US: Final = -9_223_372_036_832_400_000
_INT32_MAX: Final = 2**31 - 1
_INT32_MIN: Final = -(2**31)
_WKB_POINT: Final = struct.Struct("<BIdd").pack


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of ``days`` since 1970-01-01 (astronomical year)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _date_days(text: str) -> int:
    """``YYYY-MM-DD`` (``Y`` may have more digits, `` BC`` may follow) -> days since epoch."""
    if len(text) == 10:
        return date.fromisoformat(text).toordinal() - _EPOCH_ORDINAL
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    year_text, month_text, day_text = text.rsplit("-", 2)
    year = int(year_text)
    return days_from_civil(1 - year if bc else year, int(month_text), int(day_text))


def _time_us(text: str) -> int:
    """``HH:MM:SS[.ffffff]`` -> microseconds (hours may exceed 23: ``24:00:00``)."""
    hours, minutes, rest = text.split(":", 2)
    seconds, _, fraction = rest.partition(".")
    us = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000
    if fraction:
        us += int(fraction[:6].ljust(6, "0"))
    return us


def _split_offset(text: str) -> tuple[str, int]:
    """Split ``...+05:30`` / ``...-03`` / ``...+00:00:15`` -> (rest, offset seconds)."""
    for index in range(len(text) - 1, 0, -1):
        char = text[index]
        if char == "+" or char == "-":
            parts = text[index + 1 :].split(":")
            seconds = int(parts[0]) * 3600
            if len(parts) > 1:
                seconds += int(parts[1]) * 60
            if len(parts) > 2:
                seconds += int(parts[2])
            return text[:index], -seconds if char == "-" else seconds
    raise ValueError(f"no UTC offset in {text!r}")


def timestamp_us(text: str) -> int:
    """``timestamp`` text -> microseconds since the epoch, the wall clock read as UTC."""
    if text == "infinity":
        return _TS_POS_INFINITY_US
    if text == "-infinity":
        return _TS_NEG_INFINITY_US
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    day_part, _, time_part = text.partition(" ")
    days = _date_days(day_part + " BC" if bc else day_part)
    return days * _US_PER_DAY + _time_us(time_part)


def timestamptz_us(text: str) -> int:
    """``timestamptz`` text -> microseconds since the epoch (UTC)."""
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    day_part, _, rest = text.partition(" ")
    clock, offset = _split_offset(rest)
    days = _date_days(day_part + " BC" if bc else day_part)
    return days * _US_PER_DAY + _time_us(clock) - offset * 1_000_000


def _iso_year(year: int) -> str:
    # java.time ISO_LOCAL_DATE: 4 digits, '+' beyond 9999, '-' and 4 digits before year 0.
    if year > 9999:
        return f"+{year}"
    if year < 0:
        return f"-{-year:04d}"
    return f"{year:04d}"


def _fraction(us: int, width: int) -> str:
    """The ``.ffffff`` part: exactly ``width`` digits, or minimal (no trailing zeros) when 0."""
    if width > 0:
        return "." + f"{us:06d}"[:width] if width <= 6 else "." + f"{us:06d}".ljust(width, "0")
    if not us:
        return ""
    return "." + f"{us:06d}".rstrip("0")


def zoned_timestamp(text: str, width: int) -> str:
    """``timestamptz`` text -> Debezium ZonedTimestamp: ISO-8601 in UTC with ``Z``."""
    size = len(text)
    if (
        size >= 22
        and text[-3:] == "+00"
        and text[4] == "-"
        and text[10] == " "
        and text[13] == ":"
        and (size == 22 or text[19] == ".")
        and text[:4] != "0000"
    ):
        # The common case, already in UTC (the session's TimeZone): only the separators and the
        # fraction's width change (PostgreSQL prints the minimal fraction); the slow path agrees
        # (tested on random values).
        fraction = text[20:-3]
        if width:
            fraction = (fraction + "000000")[:width] if width <= 6 else fraction.ljust(width, "0")
        return f"{text[:10]}T{text[11:19]}{'.' + fraction if fraction else ''}Z"
    if text == "infinity" or text == "-infinity":
        return text
    total = timestamptz_us(text)
    days, us_of_day = divmod(total, _US_PER_DAY)
    year, month, day = civil_from_days(days)
    seconds, us = divmod(us_of_day, 1_000_000)
    return (
        f"{_iso_year(year)}-{month:02d}-{day:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
        f"{seconds % 60:02d}{_fraction(us, width)}Z"
    )


def zoned_time(text: str) -> str:
    """``timetz`` text -> Debezium ZonedTime: the time in UTC, ``HH:MM:SS[.f]Z``."""
    clock, offset = _split_offset(text)
    local = _time_us(clock)
    if local == _US_PER_DAY and offset == 0:
        return "24:00:00Z"  # the end-of-day boundary, which no OffsetTime can hold
    seconds, us = divmod((local - offset * 1_000_000) % _US_PER_DAY, 1_000_000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{_fraction(us, 0)}Z"


_INTERVAL_UNITS: Final = {"year": 0, "years": 0, "mon": 1, "mons": 1, "day": 2, "days": 2}


def _interval_parts(text: str) -> tuple[int, int, int, int, int, float]:
    """``postgres``-style interval -> (years, months, days, hours, minutes, seconds) as pgjdbc's PGInterval."""
    years = months = days = hours = minutes = 0
    seconds = 0.0
    tokens = text.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if ":" in token:
            negative = token.startswith("-")
            hours_text, minutes_text, seconds_text = token.lstrip("+-").split(":")
            whole_text, _, fraction = seconds_text.partition(".")
            micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
            sign = -1 if negative else 1
            hours, minutes = sign * int(hours_text), sign * int(minutes_text)
            seconds = sign * int(whole_text) + (sign * micros) / 1e6
            index += 1
            continue
        unit = _INTERVAL_UNITS.get(tokens[index + 1]) if index + 1 < len(tokens) else None
        if unit is None:
            raise ValueError(
                f"unexpected interval token {token!r} in {text!r} (IntervalStyle must be postgres)"
            )
        value = int(token)
        if unit == 0:
            years = value
        elif unit == 1:
            months = value
        else:
            days = value
        index += 2
    return years, months, days, hours, minutes, seconds


def interval_micros(text: str) -> int:
    """Debezium's MicroDuration: approximate µs with 365.25/12 days per month (double arithmetic)."""
    years, months, days, hours, minutes, seconds = _interval_parts(text)
    number_of_days = (years * 12 + months) * _DAYS_PER_MONTH_AVG + days
    number_of_seconds = ((number_of_days * 24 + hours) * 60 + minutes) * 60 + seconds
    return int(number_of_seconds * 1e6)


def interval_iso(text: str) -> str:
    """Debezium's Interval string ``PnYnMnDTnHnMnS`` (seconds stripped of trailing zeros)."""
    years, months, days, hours, minutes, seconds = _interval_parts(text)
    exact = decimal.Decimal(repr(seconds))
    if exact.as_tuple().exponent < -6:  # type: ignore[operator]
        exact = exact.quantize(decimal.Decimal("0.000001"), rounding=decimal.ROUND_DOWN)
    plain = format(exact.normalize(), "f")
    return f"P{years}Y{months}M{days}DT{hours}H{minutes}M{plain}S"


def parse_bool(text: str) -> bool:
    """``t``/``f`` (the output function) or ``true``/``false``."""
    return text[0] in "tT"


def parse_bytea(text: str) -> bytes:
    """``\\x0102`` (bytea_output=hex) or the escape format."""
    if text.startswith("\\x"):
        return bytes.fromhex(text[2:])
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if text[index + 1] == "\\":
                out.append(0x5C)
                index += 2
            else:
                out.append(int(text[index + 1 : index + 4], 8))
                index += 4
        else:
            out.extend(char.encode())
            index += 1
    return bytes(out)


def parse_money(text: str) -> decimal.Decimal:
    """``$1,234.50`` / ``-$1,234.50`` / ``($1.00)`` (lc_monetary=C) -> Decimal."""
    negative = text.startswith("-") or text.startswith("(")
    digits = "".join(char for char in text if char.isdigit() or char == ".")
    value = decimal.Decimal(digits)
    return -value if negative else value


_ARRAY_ITEM: Final = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,]*)')
_UNESCAPE: Final = re.compile(r"\\(.)", re.DOTALL)


def parse_array(text: str) -> list[str | None]:
    """A one-dimensional array literal (``array_out``) -> element texts, None for NULL."""
    if text.startswith("["):  # explicit bounds: [0:2]={...}
        text = text[text.index("=") + 1 :]
    if not (text.startswith("{") and text.endswith("}")):
        raise DataError(f"Not an array value: {text[:80]!r}")
    inner = text[1:-1]
    if not inner:
        return []
    if inner.startswith("{"):
        raise DataError(
            "Multi-dimensional arrays are not supported (a Connect array schema has one level); "
            f"value {text[:80]!r}"
        )
    if '"' not in inner:
        return [None if item.upper() == "NULL" else item for item in inner.split(",")]
    items: list[str | None] = []
    position = 0
    end = len(inner)
    while position <= end:
        match = _ARRAY_ITEM.match(inner, position)
        if match is None:  # pragma: no cover - the pattern matches the empty string
            raise DataError(f"Malformed array value {text[:80]!r}")
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            items.append(_UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted)
        else:
            items.append(None if bare.upper() == "NULL" else bare)
        position = match.end() + 1  # skip the comma
    return items


_HSTORE_PAIR: Final = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*=>\s*(?:(NULL)|"((?:[^"\\]|\\.)*)")\s*(?:,|$)')


def parse_hstore(text: str) -> dict[str, str | None]:
    """``"a"=>"1", "b"=>NULL`` (hstore's output) -> ``{"a": "1", "b": None}``, in the server's order."""
    pairs: dict[str, str | None] = {}
    position = 0
    while position < len(text):
        match = _HSTORE_PAIR.match(text, position)
        if match is None:
            raise DataError(f"Malformed hstore value near {text[position : position + 40]!r}")
        key, null, raw = match.groups()
        pairs[_UNESCAPE.sub(r"\1", key)] = None if null else _UNESCAPE.sub(r"\1", raw)
        position = match.end()
    return pairs


def _bits(text: str) -> bytes:
    """Debezium's Bits: java.util.BitSet.toByteArray() of the bit string (bit 0 = last char)."""
    value = int(text, 2) if text else 0
    return value.to_bytes((value.bit_length() + 7) // 8, "little")


# -- converters -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnConverter:
    """A column's Connect schema and its text -> value function."""

    schema: Schema
    #: Text (never None) -> Connect value.
    parse: Callable[[str], Any]
    #: The value for an unchanged TOASTed column (placeholder for string/bytes types), else None.
    unavailable: Any = None
    #: The PostgreSQL type, for messages.
    type_name: str = ""

    def convert(self, text: Any) -> Any:
        """``text`` (str, None or UNCHANGED) -> the Connect value."""
        if text is None:
            return None
        if text is UNCHANGED:
            return self.unavailable
        try:
            return self.parse(text)
        except (ValueError, IndexError, ArithmeticError) as exc:
            shown = text[:80] if isinstance(text, str | bytes) else text
            raise DataError(
                f"Cannot convert the {self.type_name or 'column'} value {shown!r}: {exc}. The text form "
                "depends on session settings: use SESSION_SETTINGS on the connection that produced it"
            ) from exc


@dataclass(slots=True)
class ValueConverters:
    """Builds the converter of each column from its type OID and modifier, per the options."""

    options: ValueOptions = field(default_factory=ValueOptions)
    registry: TypeRegistry = field(default_factory=TypeRegistry)
    _warned: set[int] = field(default_factory=set, init=False, repr=False)

    def for_column(
        self, type_oid: int, type_modifier: int = -1, *, optional: bool = True, column: str = ""
    ) -> ColumnConverter:
        """The converter of a column; ``column`` (``schema.table.column``) only names it in messages."""
        converter = self._converter(type_oid, type_modifier, column)
        return _as_optional(converter) if optional else converter

    # The schema is built required; for_column and array elements make it optional.
    def _converter(self, oid: int, typmod: int, column: str, depth: int = 0) -> ColumnConverter:
        pg_type = self.registry.get(oid)
        if pg_type is None:
            return self._unknown(oid, f"OID {oid}", column)
        if pg_type.base_oid:  # domain: its base type, with the domain's modifier if the column has none
            if depth > 8:
                return self._unknown(oid, pg_type.name, column)
            return self._converter(
                pg_type.base_oid, typmod if typmod != -1 else pg_type.base_type_modifier, column, depth + 1
            )
        if pg_type.element_oid:
            return self._array(pg_type, typmod, column, depth)
        if pg_type.kind == "e":
            labels = ",".join(pg_type.enum_labels or ())
            return self._string(_named(SchemaType.STRING, ENUM, allowed=labels).build(), pg_type.name)
        if pg_type.kind in ("r", "m"):
            return self._string(Schema(SchemaType.STRING), pg_type.name)
        maker = _SCALARS.get(pg_type.name) if pg_type.namespace == "pg_catalog" else None
        if maker is None and pg_type.name == "hstore":
            return self._hstore(pg_type.name)
        if maker is None and pg_type.name in ("citext", "ltree", "isbn", "isbn13", "issn", "ean13"):
            return self._string(Schema(SchemaType.STRING), pg_type.name)
        if maker is None:
            return self._unknown(oid, f"{pg_type.namespace}.{pg_type.name}", column)
        return maker(self, typmod, pg_type.name)

    def _string(self, schema: Schema, type_name: str) -> ColumnConverter:
        return ColumnConverter(schema, str, self.options.unavailable_value_placeholder, type_name)

    def _unknown(self, oid: int, type_name: str, column: str) -> ColumnConverter:
        if oid not in self._warned:
            self._warned.add(oid)
            where = f" (column {column})" if column else ""
            log.warning(
                "PostgreSQL type %s%s has no Debezium mapping; its values are sent as their text form (string)",
                type_name,
                where,
            )
        return self._string(Schema(SchemaType.STRING), type_name)

    def _array(self, pg_type: PgType, typmod: int, column: str, depth: int) -> ColumnConverter:
        element = _as_optional(self._converter(pg_type.element_oid, typmod, column, depth + 1))
        element_schema = element.schema
        parse_element = element.parse

        def parse(text: str) -> list[Any]:
            return [None if item is None else parse_element(item) for item in parse_array(text)]

        unavailable = None
        if element_schema.type is SchemaType.STRING:
            unavailable = [self.options.unavailable_value_placeholder]
        return ColumnConverter(SchemaBuilder.array(element_schema).build(), parse, unavailable, pg_type.name)

    # -- scalar makers (typmod, type name) -> converter --------------------------------------------
    def _plain(self, schema_type: SchemaType, parse: Callable[[str], Any], name: str) -> ColumnConverter:
        return ColumnConverter(Schema(schema_type), parse, None, name)

    def _numeric(self, typmod: int, name: str) -> ColumnConverter:
        mode = self.options.decimal_handling_mode
        if mode is DecimalHandlingMode.DOUBLE:
            return self._plain(SchemaType.FLOAT64, float, name)
        if mode is DecimalHandlingMode.STRING:
            return self._plain(SchemaType.STRING, _numeric_string, name)
        if typmod < 4:  # numeric without precision: VariableScaleDecimal
            schema = variable_scale_decimal_schema()

            def parse_variable(text: str) -> Struct:
                value = _finite_decimal(text, name)
                normalized = value.normalize()
                exponent = int(normalized.as_tuple().exponent)
                scale = -exponent if exponent < 0 else 0
                unscaled = ConnectDecimal.unscaled(value, scale)
                return Struct(schema, {"scale": scale, "value": ConnectDecimal.encode(unscaled)})

            return ColumnConverter(schema, parse_variable, None, name)
        precision = ((typmod - 4) >> 16) & 0xFFFF
        scale = (((typmod - 4) & 0x7FF) ^ 1024) - 1024  # PostgreSQL 15 allows a negative scale
        fixed = (
            SchemaBuilder.from_schema(ConnectDecimal.schema(scale))
            .parameter("connect.decimal.precision", str(precision))
            .build()
        )
        quantum = decimal.Decimal(1).scaleb(-scale)

        def parse_fixed(text: str) -> decimal.Decimal:
            return _finite_decimal(text, name).quantize(quantum)

        return ColumnConverter(fixed, parse_fixed, None, name)

    def _money(self, _typmod: int, name: str) -> ColumnConverter:
        mode = self.options.decimal_handling_mode
        digits = self.options.money_fraction_digits
        quantum = decimal.Decimal(1).scaleb(-digits)
        if mode is DecimalHandlingMode.DOUBLE:
            return self._plain(SchemaType.FLOAT64, lambda text: float(parse_money(text)), name)
        if mode is DecimalHandlingMode.STRING:
            return self._plain(
                SchemaType.STRING,
                lambda text: format(parse_money(text).quantize(quantum, rounding=decimal.ROUND_HALF_UP), "f"),
                name,
            )
        return ColumnConverter(
            ConnectDecimal.schema(digits),
            lambda text: parse_money(text).quantize(quantum, rounding=decimal.ROUND_HALF_UP),
            None,
            name,
        )

    def _binary(self, _typmod: int, name: str) -> ColumnConverter:
        mode = self.options.binary_handling_mode
        placeholder = self.options.unavailable_value_placeholder
        if mode is BinaryHandlingMode.BYTES:
            return ColumnConverter(Schema(SchemaType.BYTES), parse_bytea, placeholder.encode(), name)
        encode: Callable[[bytes], str]
        if mode is BinaryHandlingMode.BASE64:
            encode = _b64
        elif mode is BinaryHandlingMode.BASE64_URL_SAFE:
            encode = _b64_url
        else:
            encode = bytes.hex
        return ColumnConverter(
            Schema(SchemaType.STRING), lambda text: encode(parse_bytea(text)), placeholder, name
        )

    def _date(self, _typmod: int, name: str) -> ColumnConverter:
        if self.options.time_precision_mode is TimePrecisionMode.CONNECT:
            return ColumnConverter(ConnectDate.schema(), _connect_date, None, name)
        return ColumnConverter(_named(SchemaType.INT32, DEBEZIUM_DATE).build(), _epoch_days, None, name)

    def _time(self, typmod: int, name: str) -> ColumnConverter:
        mode = self.options.time_precision_mode
        if mode is TimePrecisionMode.CONNECT:
            return ColumnConverter(ConnectTime.schema(), _connect_time, None, name)
        if mode is TimePrecisionMode.ADAPTIVE and 0 <= typmod <= 3:
            return ColumnConverter(
                _named(SchemaType.INT32, DEBEZIUM_TIME).build(),
                lambda text: _time_us(text) // 1000,
                None,
                name,
            )
        return ColumnConverter(_named(SchemaType.INT64, MICRO_TIME).build(), _time_us, None, name)

    def _timestamp(self, typmod: int, name: str) -> ColumnConverter:
        if self.options.time_precision_mode is TimePrecisionMode.CONNECT:
            return ColumnConverter(ConnectTimestamp.schema(), _connect_timestamp, None, name)
        if 0 <= typmod <= 3:
            return ColumnConverter(
                _named(SchemaType.INT64, DEBEZIUM_TIMESTAMP).build(),
                lambda text: timestamp_us(text) // 1000,
                None,
                name,
            )
        return ColumnConverter(_named(SchemaType.INT64, MICRO_TIMESTAMP).build(), timestamp_us, None, name)

    def _timestamptz(self, typmod: int, name: str) -> ColumnConverter:
        width = (typmod if typmod >= 0 else 6) if self.options.pad_zoned_timestamp_fraction else 0
        return ColumnConverter(
            _named(SchemaType.STRING, ZONED_TIMESTAMP).build(),
            lambda text: zoned_timestamp(text, width),
            self.options.unavailable_value_placeholder,
            name,
        )

    def _timetz(self, _typmod: int, name: str) -> ColumnConverter:
        return ColumnConverter(_named(SchemaType.STRING, ZONED_TIME).build(), zoned_time, None, name)

    def _interval(self, _typmod: int, name: str) -> ColumnConverter:
        if self.options.interval_handling_mode is IntervalHandlingMode.STRING:
            return ColumnConverter(_named(SchemaType.STRING, INTERVAL).build(), interval_iso, None, name)
        return ColumnConverter(_named(SchemaType.INT64, MICRO_DURATION).build(), interval_micros, None, name)

    def _hstore(self, name: str) -> ColumnConverter:
        if self.options.hstore_handling_mode is HStoreHandlingMode.MAP:
            schema = SchemaBuilder.map_(SchemaBuilder.string(), SchemaBuilder.string().optional()).build()
            return ColumnConverter(schema, parse_hstore, None, name)
        return ColumnConverter(
            _named(SchemaType.STRING, JSON).build(),
            lambda text: json.dumps(parse_hstore(text), ensure_ascii=False, separators=(",", ":")),
            self.options.unavailable_value_placeholder,
            name,
        )

    def _point(self, _typmod: int, name: str) -> ColumnConverter:
        schema = (
            SchemaBuilder.struct()
            .name(POINT)
            .version(1)
            .doc("Geometry (POINT)")
            .field("x", SchemaBuilder.float64())
            .field("y", SchemaBuilder.float64())
            .field("wkb", SchemaBuilder.bytes_().optional())
            .field("srid", SchemaBuilder.int32().optional())
            .build()
        )

        def parse(text: str) -> Struct:
            x_text, _, y_text = text.strip("()").partition(",")
            x, y = float(x_text), float(y_text)
            # OGC WKB of a 2D point: little-endian marker, type 1, x, y (Debezium's Point.createValue).
            return Struct(schema, {"x": x, "y": y, "wkb": _WKB_POINT(1, 1, x, y), "srid": None})

        return ColumnConverter(schema, parse, None, name)

    def _bit(self, typmod: int, name: str) -> ColumnConverter:
        length = typmod if typmod >= 0 else _INT32_MAX  # varbit without a length
        if length == 1:
            return self._plain(SchemaType.BOOLEAN, lambda text: text == "1", name)
        return ColumnConverter(_named(SchemaType.BYTES, BITS, length=str(length)).build(), _bits, None, name)


def _as_optional(converter: ColumnConverter) -> ColumnConverter:
    """The converter with an optional schema; a struct value must carry that very schema."""
    schema = converter.schema.as_optional()
    parse = converter.parse
    if schema.type is SchemaType.STRUCT:
        inner = parse

        def parse(text: str) -> Any:
            return Struct(schema, inner(text).values)

    return ColumnConverter(schema, parse, converter.unavailable, converter.type_name)


def _finite_decimal(text: str, type_name: str) -> decimal.Decimal:
    value = decimal.Decimal(text)
    if not value.is_finite():
        raise DataError(
            f"Got a special value ({text}) for {type_name} but decimal.handling.mode=precise cannot "
            "represent it; set decimal.handling.mode to 'string' (or 'double') to capture it"
        )
    return value


def _numeric_string(text: str) -> str:
    # PostgreSQL prints numerics plainly (no exponent); special values as Debezium names them.
    return _SPECIAL_NUMERIC.get(text, text)


_SPECIAL_NUMERIC: Final = {"NaN": "NAN", "Infinity": "POSITIVE_INFINITY", "-Infinity": "NEGATIVE_INFINITY"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64_url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _epoch_days(text: str) -> int:
    if text == "infinity":
        return _INT32_MAX
    if text == "-infinity":
        return _INT32_MIN
    return _date_days(text)


def _connect_date(text: str) -> date:
    if text in ("infinity", "-infinity"):
        return date.max if text == "infinity" else date.min
    try:
        return date.fromordinal(_date_days(text) + _EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        raise DataError(
            f"Date {text!r} is outside the years 1-9999 that time.precision.mode=connect can carry; "
            "use time.precision.mode=adaptive"
        ) from None


def _connect_time(text: str) -> time:
    us = min(_time_us(text), _US_PER_DAY - 1)  # 24:00:00 -> the last microsecond of the day
    seconds, micro = divmod(us, 1_000_000)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


_EPOCH_UTC: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _connect_timestamp(text: str) -> datetime:
    if text in ("infinity", "-infinity"):
        return datetime.max.replace(tzinfo=UTC) if text == "infinity" else datetime.min.replace(tzinfo=UTC)
    try:
        return _EPOCH_UTC + timedelta(microseconds=timestamp_us(text))
    except OverflowError:
        raise DataError(
            f"Timestamp {text!r} is outside the years 1-9999 that time.precision.mode=connect can "
            "carry; use time.precision.mode=adaptive"
        ) from None


_Maker = Callable[[ValueConverters, int, str], ColumnConverter]


def _plain_maker(schema_type: SchemaType, parse: Callable[[str], Any]) -> _Maker:
    def make(self: ValueConverters, _typmod: int, name: str) -> ColumnConverter:
        return self._plain(schema_type, parse, name)

    return make


def _string_maker(logical: str | None = None) -> _Maker:
    def make(self: ValueConverters, _typmod: int, name: str) -> ColumnConverter:
        schema = _named(SchemaType.STRING, logical).build() if logical else Schema(SchemaType.STRING)
        return self._string(schema, name)

    return make


_SCALARS: Final[dict[str, _Maker]] = {
    "bool": _plain_maker(SchemaType.BOOLEAN, parse_bool),
    "int2": _plain_maker(SchemaType.INT16, int),
    "int4": _plain_maker(SchemaType.INT32, int),
    "int8": _plain_maker(SchemaType.INT64, int),
    "oid": _plain_maker(SchemaType.INT64, int),
    "float4": _plain_maker(SchemaType.FLOAT32, float),
    "float8": _plain_maker(SchemaType.FLOAT64, float),
    "numeric": ValueConverters._numeric,
    "money": ValueConverters._money,
    "text": _string_maker(),
    "varchar": _string_maker(),
    "bpchar": _string_maker(),
    "char": _string_maker(),
    "name": _string_maker(),
    "inet": _string_maker(),
    "cidr": _string_maker(),
    "macaddr": _string_maker(),
    "macaddr8": _string_maker(),
    "json": _string_maker(JSON),
    "jsonb": _string_maker(JSON),
    "uuid": _string_maker(UUID),
    "xml": _string_maker(XML),
    "bytea": ValueConverters._binary,
    "date": ValueConverters._date,
    "time": ValueConverters._time,
    "timetz": ValueConverters._timetz,
    "timestamp": ValueConverters._timestamp,
    "timestamptz": ValueConverters._timestamptz,
    "interval": ValueConverters._interval,
    "bit": ValueConverters._bit,
    "varbit": ValueConverters._bit,
    "point": ValueConverters._point,
}


# -- snapshot: COPY text format ---------------------------------------------------------------------

_COPY_ESCAPES: Final = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE: Final = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)


def _copy_unescape(match: re.Match[str]) -> str:
    octal, hexa, other = match.groups()
    if octal is not None:
        return chr(int(octal, 8))
    if hexa is not None:
        return chr(int(hexa, 16))
    return _COPY_ESCAPES.get(other, other)


def copy_select(qualified_table: str, columns: Iterable[str]) -> str:
    """``SELECT "a", "b" FROM schema.table`` for ``Connection.copy_from_query(query, output=...)``.

    asyncpg wraps it in ``COPY (...) TO STDOUT`` (text format by default), which writes each
    value with its type's output function: exactly the text pgoutput sends. Column names are
    quoted here; ``qualified_table`` must already be quoted (``"public"."orders"``).
    """
    names = ", ".join('"' + name.replace('"', '""') + '"' for name in columns)
    return f"SELECT {names} FROM {qualified_table}"


class CopyTextParser:
    """Splits ``COPY ... TO STDOUT`` text-format output into rows of text / None.

    Feed it the chunks asyncpg's ``copy_from_query(..., output=callback)`` delivers (they break
    anywhere, even inside a UTF-8 character); each call returns the rows completed so far.
    The connection's ``client_encoding`` must be UTF8 (asyncpg's default).
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[list[str | None]]:
        """Rows completed by ``chunk``."""
        data = self._pending + chunk if self._pending else chunk
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        if not cut:
            return []
        lines = data[:cut].decode().split("\n")
        lines.pop()  # after the last newline
        return [self._row(line) for line in lines]

    def close(self) -> None:
        """Check that the stream ended on a row boundary."""
        if self._pending:
            raise DataError(f"COPY output ended inside a row: {self._pending[:80]!r}")

    @staticmethod
    def _row(line: str) -> list[str | None]:
        fields = cast(list[str | None], line.split("\t"))
        if "\\" in line:
            for index, value in enumerate(fields):
                if value == "\\N":
                    fields[index] = None
                elif value is not None and "\\" in value:
                    fields[index] = _COPY_ESCAPE.sub(_copy_unescape, value)
        return fields
