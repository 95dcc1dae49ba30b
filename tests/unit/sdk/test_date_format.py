"""SimpleDateFormat patterns in UTC; expected strings follow the java.text.SimpleDateFormat
documentation (US locale), for 2023-11-14T22:13:20.123Z (a Tuesday) unless stated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.sdk.date_format import DateFormatError, SimpleDateFormat, iso_format_for

INSTANT = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z


def millis(*parts: int) -> int:
    year, month, day, *rest = parts
    moment = datetime(year, month, day, *rest[:3], tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + (rest[3] if len(rest) > 3 else 0)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyyMMdd", "20231114"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2023-11-14T22:13:20.123+0000"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2023-11-14T22:13:20.123Z"),
        ("yyyy-MM-dd HH:mm:ss z", "2023-11-14 22:13:20 UTC"),
        ("EEE, d MMM yyyy", "Tue, 14 Nov 2023"),
        ("EEEE MMMM yy", "Tuesday November 23"),
        ("h:mm a", "10:13 PM"),
        ("K k H", "10 22 22"),
        ("D F u w W G", "318 2 2 46 3 AD"),
        ("S SSSS", "123 0123"),  # S counts milliseconds, padded to the letter count
        ("y yyy yyyyy", "2023 2023 02023"),
        ("hh 'o''clock' a", "10 o'clock PM"),
        ("''yyyy''", "'2023'"),
    ],
)
def test_format(pattern: str, expected: str) -> None:
    assert SimpleDateFormat(pattern).format(INSTANT) == expected


def test_hours_around_midnight_and_noon() -> None:
    midnight = millis(2024, 1, 1, 0, 5)
    noon = millis(2024, 1, 1, 12, 5)
    assert SimpleDateFormat("h a k K").format(midnight) == "12 AM 24 0"
    assert SimpleDateFormat("h a k K").format(noon) == "12 PM 12 0"


def test_week_of_year_belongs_to_next_year_in_the_week_of_january_first() -> None:
    # 2023-12-31 is a Sunday; that week holds 2024-01-01, so it is week 1 of 2024 (US weeks)
    assert SimpleDateFormat("YYYY-ww").format(millis(2023, 12, 31)) == "2024-01"
    assert SimpleDateFormat("YYYY-ww").format(millis(2023, 12, 30)) == "2023-52"


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("yyyyMMdd", "20231114", millis(2023, 11, 14)),
        ("yyyyMMddHHmmss", "20231114221320", millis(2023, 11, 14, 22, 13, 20)),  # abutting fields
        ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2023-11-14T22:13:20.123+0000", INSTANT),
        ("yyyy-MM-dd HH:mm:ssZ", "2023-11-14 23:13:20+0100", millis(2023, 11, 14, 22, 13, 20)),
        ("yyyy-MM-dd'T'HH:mm:ssXXX", "2023-11-14T17:13:20-05:00", millis(2023, 11, 14, 22, 13, 20)),
        ("yyyy-MM-dd'T'HH:mm:ssX", "2023-11-14T22:13:20Z", millis(2023, 11, 14, 22, 13, 20)),
        ("yyyy-MM-dd HH:mm z", "2023-11-14 22:13 UTC", millis(2023, 11, 14, 22, 13)),
        ("d MMM yyyy", "14 nov 2023", millis(2023, 11, 14)),  # names ignore case
        ("d MMMM yyyy", "14 November 2023", millis(2023, 11, 14)),
        ("EEE, d MMM yyyy", "Wed, 14 Nov 2023", millis(2023, 11, 14)),  # day name read, ignored
        ("h:mm a", "10:13 PM", millis(1970, 1, 1, 22, 13)),  # unset fields are the epoch's
        ("yyyy-M-d", "2023-1-5", millis(2023, 1, 5)),  # numbers take the digits they find
        ("yyyy-MM-dd", "2023-13-01", millis(2024, 1, 1)),  # lenient: month 13 rolls over
        ("yyyy-MM-dd", "2023-02-30", millis(2023, 3, 2)),
        ("yyyy-MM-dd", "2023-11-14 and more", millis(2023, 11, 14)),  # trailing text ignored
        ("yyyy-MM-dd HH:mm:ss.SSS", "2023-11-14 22:13:20.5", millis(2023, 11, 14, 22, 13, 20, 5)),
    ],
)
def test_parse(pattern: str, text: str, expected: int) -> None:
    assert SimpleDateFormat(pattern).parse(text) == expected


def test_two_digit_years_land_within_80_years_before_and_20_after_now() -> None:
    this_year = datetime.now(UTC).year
    parsed = SimpleDateFormat("yy-MM-dd").parse(f"{this_year % 100:02d}-01-01")
    assert datetime.fromtimestamp(parsed / 1000, UTC).year == this_year
    past = (this_year + 30) % 100  # 30 years ahead is out of the window: read as 70 years ago
    parsed = SimpleDateFormat("yy-MM-dd").parse(f"{past:02d}-01-01")
    assert datetime.fromtimestamp(parsed / 1000, UTC).year == this_year - 70


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("yyyy-MM-dd", "2023/11/14"),
        ("yyyyMMdd", "abc"),
        ("d MMM yyyy", "14 Foo 2023"),
        ("HH:mm Z", "10:00 ?"),
    ],
)
def test_text_that_does_not_fit_is_refused(pattern: str, text: str) -> None:
    with pytest.raises(ValueError, match="Unparseable date"):
        SimpleDateFormat(pattern).parse(text)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("yyyy-MM-dd q", "Illegal pattern character 'q'"),
        ("yyyy-MM-dd 'T", "Unterminated quote"),
        ("XXXX", "invalid ISO 8601 format: length=4"),
        ("${timestamp}", "Illegal pattern character 't'"),
    ],
)
def test_invalid_patterns_use_javas_words(pattern: str, message: str) -> None:
    with pytest.raises(DateFormatError) as caught:
        SimpleDateFormat(pattern)
    assert str(caught.value) == message


def test_iso_format_for_picks_time_date_or_timestamp_like_values_date_format_for() -> None:
    assert iso_format_for(3_723_004).format(3_723_004) == "01:02:03.004Z"
    day = millis(2023, 11, 14)
    assert iso_format_for(day).format(day) == "2023-11-14"
    assert iso_format_for(INSTANT).format(INSTANT) == "2023-11-14T22:13:20.123Z"
