"""Opening hours (directory ``hours`` column) and safe-contact windows."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from routing.hours import HoursSyntaxError, parse_hours, parse_window

OFFICE = "Mo-Fr 07:30-11:30,13:30-17:00; Sa 08:00-11:00"


def test_24_7_is_always_open_and_prints_back(when):
    hours = parse_hours("24/7")
    assert hours.is_always_open
    assert str(hours) == "24/7"
    assert hours.is_open(when(8, 3, 17))
    assert hours.closes_at(when(8, 3)) is None


def test_rules_covering_the_whole_week_are_24_7():
    assert str(parse_hours("Mo-Su 00:00-24:00")) == "24/7"


@pytest.mark.parametrize(
    ("day", "hour", "minute", "is_open"),
    [
        (2, 7, 29, False),  # Monday, before opening
        (2, 7, 30, True),  # opening minute
        (2, 11, 29, True),
        (2, 11, 30, False),  # closing minute: closed
        (2, 12, 15, False),  # lunch break
        (2, 13, 30, True),
        (2, 16, 59, True),
        (2, 17, 0, False),
        (6, 16, 59, True),  # Friday
        (7, 10, 59, True),  # Saturday morning
        (7, 11, 0, False),
        (7, 14, 0, False),  # Saturday afternoon
        (8, 10, 0, False),  # Sunday
    ],
)
def test_office_hours_edges(when, day, hour, minute, is_open):
    assert parse_hours(OFFICE).is_open(when(day, hour, minute)) is is_open


def test_last_second_before_closing_is_open(when):
    hours = parse_hours(OFFICE)
    assert hours.is_open(when(2, 16, 59).replace(second=59))


def test_interval_may_end_at_midnight(when):
    hours = parse_hours("Mo-Su 18:00-24:00")
    assert hours.is_open(when(2, 23, 59))
    assert not hours.is_open(when(3, 0, 0))


def test_utc_moment_is_read_in_the_given_timezone():
    hours = parse_hours(OFFICE)
    utc_2am = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
    assert not hours.is_open(utc_2am)
    assert hours.is_open(utc_2am, tz=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_hours(OFFICE).is_open(datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (OFFICE, OFFICE),
        ("mo-fr 7:30-11:30 , 13:30-17:00;sa 08:00-11:00", OFFICE),
        ("Mo,We 08:00-12:00", "Mo,We 08:00-12:00"),
        ("Mo 08:00-12:00; Tu-Th 08:00-12:00", "Mo-Th 08:00-12:00"),
        ("Mo-Fr 08:00-12:00,12:00-17:00", "Mo-Fr 08:00-17:00"),
        ("Sa,Su 00:00-24:00", "Sa,Su 00:00-24:00"),
        ("Mo-Fr 07:00-11:00; Mo 13:00-17:00", "Mo 07:00-11:00,13:00-17:00; Tu-Fr 07:00-11:00"),
    ],
)
def test_canonical_text_round_trips(text, canonical):
    hours = parse_hours(text)
    assert str(hours) == canonical
    assert parse_hours(str(hours)) == hours


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Mo-Fr",
        "08:00-17:00",
        "Mo-Fr 17:00-08:00",  # backwards
        "Mo 08:00-08:00",  # empty
        "Xy 08:00-10:00",  # unknown day
        "Fr-Mo 08:00-10:00",  # backwards day range
        "Mo 08:00-12:00,11:00-13:00",  # overlap in a rule
        "Mo-Fr 08:00-12:00; Mo 11:00-13:00",  # overlap across rules
        "Mo 25:00-26:00",
        "Mo 08:60-09:00",
        "Mo 24:00-24:00",
        "Mo 24:30-24:40",
        "Mo 08:00-12:00;; Tu 08:00-12:00",
        "Mo,Mo 08:00-09:00",
        "24/7; Mo 08:00-09:00",
        "always",
        "Mo 8h-12h",
        "Mo 08:00-10:00-12:00",
    ],
)
def test_bad_hours_are_rejected(text):
    with pytest.raises(HoursSyntaxError):
        parse_hours(text)


def test_syntax_error_is_a_value_error_with_a_translatable_message():
    with pytest.raises(ValueError) as info:
        parse_hours("Xy 08:00-10:00")
    err = info.value
    assert isinstance(err, HoursSyntaxError)
    assert err.msgid == "Unknown day “%(day)s”; use Mo, Tu, We, Th, Fr, Sa, Su"
    assert err.params == {"day": "Xy"}
    assert str(err) == "Unknown day “Xy”; use Mo, Tu, We, Th, Fr, Sa, Su"


def test_next_open_is_now_when_open(when):
    assert parse_hours(OFFICE).next_open(when(2, 9)) == when(2, 9)


def test_next_open_after_lunch_and_over_the_weekend(when):
    hours = parse_hours(OFFICE)
    assert hours.next_open(when(2, 12)) == when(2, 13, 30)
    assert hours.next_open(when(7, 11)) == when(9, 7, 30)  # Saturday 11:00 → Monday
    assert hours.next_open(when(8, 10)) == when(9, 7, 30)


def test_closes_at_gives_the_end_of_the_current_opening(when):
    hours = parse_hours(OFFICE)
    assert hours.closes_at(when(2, 9)) == when(2, 11, 30)
    assert hours.closes_at(when(2, 12)) is None


def test_closes_at_follows_an_opening_across_midnight(when):
    hours = parse_hours("Mo 20:00-24:00; Tu 00:00-06:00")
    assert hours.closes_at(when(2, 23)) == when(3, 6)


def test_window_wrapping_past_midnight():
    window = parse_window("20:00-07:00")
    assert window.wraps
    assert window.contains(time(20, 0))
    assert window.contains(time(23, 30))
    assert window.contains(time(6, 59))
    assert not window.contains(time(7, 0))
    assert not window.contains(time(19, 59))
    assert str(window) == "20:00-07:00"


def test_window_within_a_day(when):
    window = parse_window("09:00-11:00")
    assert not window.wraps
    assert window.contains(when(2, 10))
    assert not window.contains(when(2, 11))


def test_window_next_start_and_next_inside(when):
    window = parse_window("20:00-07:00")
    assert window.next_start(when(2, 9)) == when(2, 20)
    assert window.next_start(when(2, 21)) == when(3, 20)
    assert window.next_inside(when(2, 21)) == when(2, 21)
    assert window.next_inside(when(2, 9)) == when(2, 20)
    assert window.next_inside(when(3, 6, 59)) == when(3, 6, 59)


@pytest.mark.parametrize("text", ["08:00-08:00", "8-9", "", "20:00", "25:00-07:00", "a-b"])
def test_bad_windows_are_rejected(text):
    with pytest.raises(HoursSyntaxError):
        parse_window(text)
