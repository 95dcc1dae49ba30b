"""``java.text.SimpleDateFormat`` patterns, formatting and parsing instants in UTC.

TimestampConverter's ``format`` and TimestampRouter's ``timestamp.format`` are SimpleDateFormat
patterns (``yyyy-MM-dd'T'HH:mm:ss.SSSZ``); Python's ``strftime`` codes differ and cannot express
several of them (``SSS`` milliseconds, ``yy`` parsing, ``X`` zones), so a pattern is compiled
once into a list of fields and formatted or parsed with the rules SimpleDateFormat follows in the
US English locale, always in UTC (Kafka sets the formats' zone to UTC):

* letters are fields; their count picks the width (numbers are zero-padded to it) or, for
  text, the short (``EEE``, ``MMM``) or full (``EEEE``, ``MMMM``) name; ``yy`` is a two-digit
  year; ``S`` is a count of milliseconds, not a fraction;
* ``'text'`` is literal, ``''`` a quote; other ASCII letters are an error
  ("Illegal pattern character 'q'"), as is an unclosed quote ("Unterminated quote");
* parsing is lenient, like SimpleDateFormat's default: numbers take as many digits as they find
  unless the next field is also a number (then they take exactly their width), out-of-range
  values roll over (month 13 is January next year), text after the pattern is ignored, unset
  fields are those of 1970-01-01T00:00:00.000Z, and a parsed zone offset is applied. Day-of-week,
  week and day-in-week-of-month fields are read and ignored.

Instants are epoch milliseconds (ints), which is what Kafka's translators pass around.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from connectors.sdk.errors import DataError

__all__ = ["DateFormatError", "SimpleDateFormat"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_FIELD_LETTERS: Final = frozenset("GyYMLwWDdFEuaHkKhmsSzZX")
_TEXT_LETTERS: Final = frozenset("GEaz")
_NUMBER: Final = re.compile(r"\d+")


class DateFormatError(ValueError):
    """A pattern SimpleDateFormat's constructor refuses (Java's ``IllegalArgumentException``)."""


class _Parsed:
    """Calendar fields read so far; unset ones stay at the epoch's."""

    __slots__ = (
        "ampm",
        "day",
        "day_of_year",
        "hour",
        "hour12",
        "millis",
        "minute",
        "month",
        "offset",
        "second",
        "year",
    )

    def __init__(self) -> None:
        self.year = 1970
        self.month = 1
        self.day: int | None = None
        self.day_of_year: int | None = None
        self.hour = 0
        self.hour12: int | None = None
        self.ampm: int | None = None
        self.minute = 0
        self.second = 0
        self.millis = 0
        self.offset: int | None = None  # minutes east of UTC

    def instant(self) -> int:
        months = self.year * 12 + (self.month - 1)
        year, month = divmod(months, 12)
        if self.day is None and self.day_of_year is not None:
            start = date(year, 1, 1) + timedelta(days=self.day_of_year - 1)
        else:
            start = date(year, month + 1, 1) + timedelta(days=(self.day or 1) - 1)
        hour = self.hour
        if self.hour12 is not None:
            hour = self.hour12 % 12 + 12 * (self.ampm or 0)
        elif self.ampm is not None and hour < 12:
            hour += 12 * self.ampm
        moment = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
            hours=hour,
            minutes=self.minute - (self.offset or 0),
            seconds=self.second,
            milliseconds=self.millis,
        )
        return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class _Field:
    letter: str
    count: int
    literal: str = ""


class SimpleDateFormat:
    """A compiled SimpleDateFormat pattern (UTC); ``DateFormatError`` if the pattern is invalid."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._fields = _compile(pattern)
        self._formatters: list[Callable[[datetime], str]] = [_formatter(f) for f in self._fields]

    def format(self, millis: int) -> str:
        """The instant ``millis`` (epoch milliseconds) written with the pattern, in UTC."""
        try:
            moment = _EPOCH + timedelta(milliseconds=millis)
        except OverflowError:
            raise DataError(f"Timestamp {millis} is out of the range a date can be written in") from None
        return "".join(write(moment) for write in self._formatters)

    def parse(self, text: str) -> int:
        """Epoch milliseconds read from ``text``; ``ValueError`` where it does not fit the pattern."""
        parsed = _Parsed()
        position = 0
        fields = self._fields
        for index, spec in enumerate(fields):
            if not spec.letter:
                if not text.startswith(spec.literal, position):
                    raise ValueError(f"Unparseable date: {text!r}")
                position += len(spec.literal)
                continue
            following = fields[index + 1] if index + 1 < len(fields) else None
            abutting = following is not None and following.letter != "" and _is_numeric(following)
            position = _read(spec, text, position, parsed, fixed_width=abutting)
        try:
            return parsed.instant()
        except (ValueError, OverflowError):
            raise ValueError(f"Unparseable date: {text!r}") from None


def _compile(pattern: str) -> list[_Field]:
    fields: list[_Field] = []
    literal: list[str] = []
    i = 0

    def flush() -> None:
        if literal:
            fields.append(_Field("", 0, "".join(literal)))
            literal.clear()

    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):
                literal.append("'")
                i += 2
                continue
            end = i + 1
            while True:
                end = pattern.find("'", end)
                if end == -1:
                    raise DateFormatError("Unterminated quote")
                if pattern.startswith("''", end):
                    end += 2
                    continue
                break
            literal.append(pattern[i + 1 : end].replace("''", "'"))
            i = end + 1
            continue
        if char.isascii() and char.isalpha():
            if char not in _FIELD_LETTERS:
                raise DateFormatError(f"Illegal pattern character '{char}'")
            count = 1
            while i + count < len(pattern) and pattern[i + count] == char:
                count += 1
            if char == "X" and count > 3:
                raise DateFormatError(f"invalid ISO 8601 format: length={count}")
            flush()
            fields.append(_Field(char, count))
            i += count
            continue
        literal.append(char)
        i += 1
    flush()
    return fields


def _is_numeric(spec: _Field) -> bool:
    if spec.letter in _TEXT_LETTERS or spec.letter in "ZX":
        return False
    return not (spec.letter in "ML" and spec.count >= 3)


def _number(value: int, width: int) -> str:
    return f"{value:0{width}d}" if value >= 0 else "-" + f"{-value:0{width}d}"


def _offset(spec: _Field) -> str:
    """UTC's offset, the only zone these formats use."""
    if spec.letter == "z":
        return "Coordinated Universal Time" if spec.count >= 4 else "UTC"
    if spec.letter == "Z":
        return "+0000"
    return "Z"


def _formatter(spec: _Field) -> Callable[[datetime], str]:
    letter, count = spec.letter, spec.count
    if not letter:
        text = spec.literal
        return lambda _: text
    if letter == "G":
        return lambda _: "AD"
    if letter == "y":
        if count == 2:
            return lambda m: _number(m.year % 100, 2)
        return lambda m: _number(m.year, count)
    if letter == "Y":
        if count == 2:
            return lambda m: _number(_week_year(m) % 100, 2)
        return lambda m: _number(_week_year(m), count)
    if letter in "ML":
        if count >= 4:
            return lambda m: _MONTHS[m.month - 1]
        if count == 3:
            return lambda m: _MONTHS[m.month - 1][:3]
        return lambda m: _number(m.month, count)
    if letter == "E":
        if count >= 4:
            return lambda m: _DAYS[m.weekday()]
        return lambda m: _DAYS[m.weekday()][:3]
    if letter == "a":
        return lambda m: "PM" if m.hour >= 12 else "AM"
    if letter in "zZX":
        zone = _offset(spec)
        return lambda _: zone
    numbers: dict[str, Callable[[datetime], int]] = {
        "w": _week_of_year,
        "W": lambda m: (m.day + _sunday_based(m.replace(day=1)) - 1) // 7 + 1,
        "D": lambda m: m.timetuple().tm_yday,
        "d": lambda m: m.day,
        "F": lambda m: (m.day - 1) // 7 + 1,
        "u": lambda m: m.isoweekday(),
        "H": lambda m: m.hour,
        "k": lambda m: m.hour or 24,
        "K": lambda m: m.hour % 12,
        "h": lambda m: m.hour % 12 or 12,
        "m": lambda m: m.minute,
        "s": lambda m: m.second,
        "S": lambda m: m.microsecond // 1000,
    }
    value = numbers[letter]
    return lambda m: _number(value(m), count)


def _sunday_based(moment: datetime) -> int:
    """Day of the week with Sunday 0, as the US locale's calendar counts weeks."""
    return moment.isoweekday() % 7


def _week_of_year(moment: datetime) -> int:
    """Week of the year, weeks starting on Sunday, week 1 holding January 1st (US locale)."""
    jan1 = moment.replace(month=1, day=1)
    week = (moment.timetuple().tm_yday - 1 + _sunday_based(jan1)) // 7 + 1
    dec31 = moment.replace(month=12, day=31)
    last = _sunday_based(dec31)
    if week > 1 and moment.month == 12 and last != 6 and moment.day >= 31 - last:
        return 1  # the week that holds next January 1st
    return week


def _week_year(moment: datetime) -> int:
    if moment.month == 12 and _week_of_year(moment) == 1:
        return moment.year + 1
    return moment.year


def _read(spec: _Field, text: str, position: int, parsed: _Parsed, *, fixed_width: bool) -> int:
    """Reads one field at ``position``; returns the position after it."""
    letter, count = spec.letter, spec.count
    if letter in "ML" and count >= 3:
        index, position = _read_name(text, position, _MONTHS)
        parsed.month = index + 1
        return position
    if letter == "E":
        return _read_name(text, position, _DAYS)[1]
    if letter == "G":
        _, position = _read_name(text, position, ("AD", "BC"))
        return position
    if letter == "a":
        index, position = _read_name(text, position, ("AM", "PM"))
        parsed.ampm = index
        return position
    if letter in "zZX":
        return _read_zone(text, position, parsed)
    negative = text.startswith("-", position) and letter in "yY"
    start = position + 1 if negative else position
    found = _NUMBER.match(text, start, start + count if fixed_width else len(text))
    if found is None:
        raise ValueError(f"Unparseable date: {text!r}")
    digits = found.group(0)
    value = -int(digits) if negative else int(digits)
    if letter in "yY":
        if count <= 2 and len(digits) == 2 and not negative:
            value = _two_digit_year(value)
        parsed.year = value
    elif letter in "ML":
        parsed.month = value
    elif letter == "d":
        parsed.day = value
    elif letter == "D":
        parsed.day_of_year = value
    elif letter == "H":
        parsed.hour = value
    elif letter == "k":
        parsed.hour = 0 if value == 24 else value
    elif letter in "Kh":
        parsed.hour12 = value
    elif letter == "m":
        parsed.minute = value
    elif letter == "s":
        parsed.second = value
    elif letter == "S":
        parsed.millis = value
    return found.end()


def _read_name(text: str, position: int, names: tuple[str, ...]) -> tuple[int, int]:
    """Matches a full name, then a three-letter one, ignoring case."""
    folded = text[position:].lower()
    for length in (None, 3):
        for index, name in enumerate(names):
            candidate = (name if length is None else name[:length]).lower()
            if folded.startswith(candidate):
                return index, position + len(candidate)
    raise ValueError(f"Unparseable date: {text!r}")


_ZONE: Final = re.compile(r"(?:(?:GMT|UTC)(?=[+-]))?([+-])(\d{1,2})(?::?(\d{2}))?")


def _read_zone(text: str, position: int, parsed: _Parsed) -> int:
    for name in ("Coordinated Universal Time", "UTC", "GMT", "Z"):
        if text.startswith(name, position) and not _ZONE.match(text, position):
            parsed.offset = 0
            return position + len(name)
    found = _ZONE.match(text, position)
    if found is None:
        raise ValueError(f"Unparseable date: {text!r}")
    minutes = int(found.group(2)) * 60 + int(found.group(3) or 0)
    parsed.offset = -minutes if found.group(1) == "-" else minutes
    return found.end()


def _two_digit_year(value: int) -> int:
    """SimpleDateFormat's rule for ``yy``: the year within 80 years before and 20 after now."""
    start = datetime.now(UTC).year - 80
    year = start // 100 * 100 + value
    return year + 100 if year < start else year


_DAY_MS: Final = 86_400_000
ISO_DATE: Final = SimpleDateFormat("yyyy-MM-dd")
ISO_TIME: Final = SimpleDateFormat("HH:mm:ss.SSS'Z'")
ISO_TIMESTAMP: Final = SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")


def iso_format_for(millis: int) -> SimpleDateFormat:
    """Connect's ``Values.dateFormatFor``: how a Date/Time/Timestamp is written as text, chosen
    from the instant alone (before the epoch's second day: a time; whole days: a date)."""
    if millis < _DAY_MS:
        return ISO_TIME
    if millis % _DAY_MS == 0:
        return ISO_DATE
    return ISO_TIMESTAMP
