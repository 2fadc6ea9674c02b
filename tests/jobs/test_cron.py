from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.jobs.cron import CronError, CronSchedule


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_every_fifteen_minutes() -> None:
    schedule = CronSchedule.parse("*/15 * * * *")
    assert schedule.next_after(utc(2026, 3, 1, 10, 7)) == utc(2026, 3, 1, 10, 15)
    assert schedule.next_after(utc(2026, 3, 1, 10, 15)) == utc(2026, 3, 1, 10, 30)
    assert schedule.next_after(utc(2026, 3, 1, 23, 50)) == utc(2026, 3, 2, 0, 0)


def test_names_ranges_lists_and_shortcuts() -> None:
    weekdays = CronSchedule.parse("0 5 * * MON-FRI")
    # 2026-11-21 is a Saturday: next run is Monday 05:00.
    assert weekdays.next_after(utc(2026, 11, 21, 6)) == utc(2026, 11, 23, 5)
    assert CronSchedule.parse("@daily").next_after(utc(2026, 1, 1, 0, 0)) == utc(2026, 1, 2)
    assert CronSchedule.parse("0 9,17 1 JAN,JUL *").fire_times(
        utc(2026, 1, 1), utc(2026, 12, 31)
    ) == [utc(2026, 1, 1, 9), utc(2026, 1, 1, 17), utc(2026, 7, 1, 9), utc(2026, 7, 1, 17)]
    assert CronSchedule.parse("0 0 * * 7").weekdays == frozenset({0})


def test_day_of_month_or_day_of_week_like_vixie_cron() -> None:
    schedule = CronSchedule.parse("0 0 13 * FRI")
    fires = schedule.fire_times(utc(2026, 2, 1), utc(2026, 2, 28))
    days = [moment.day for moment in fires]
    assert 13 in days  # the 13th (a Friday in 2026)
    assert {6, 20} <= set(days)  # and every other Friday


def test_wall_clock_in_a_time_zone_across_dst() -> None:
    schedule = CronSchedule.parse("30 2 * * *", "Europe/Berlin")
    winter = schedule.next_after(utc(2026, 1, 10))
    summer = schedule.next_after(utc(2026, 7, 10))
    assert winter == utc(2026, 1, 10, 1, 30)  # CET = UTC+1
    assert summer == utc(2026, 7, 10, 0, 30)  # CEST = UTC+2
    # 2026-03-29 02:30 does not exist in Berlin: that day is skipped.
    spring = schedule.fire_times(utc(2026, 3, 28), utc(2026, 3, 31))
    assert [m.astimezone(ZoneInfo("Europe/Berlin")).day for m in spring] == [28, 30]
    # 2026-10-25 02:30 happens twice: it runs once.
    autumn = schedule.fire_times(utc(2026, 10, 24, 12), utc(2026, 10, 26))
    assert len(autumn) == 1


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields"),
        ("61 * * * *", "minute: '61' is outside 0-59"),
        ("*/0 * * * *", "step '0' must be a positive number"),
        ("0 0 * FOO *", "month: 'FOO' is not a number or a name"),
        ("0 17-9 * * *", "runs backwards"),
        ("0 0 31 2 *", "never fires"),
    ],
)
def test_bad_expressions_say_why(expression: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        CronSchedule.parse(expression).next_after(utc(2026, 1, 1))


def test_unknown_time_zone() -> None:
    with pytest.raises(CronError, match="unknown time zone 'Mars/Olympus'"):
        CronSchedule.parse("* * * * *", "Mars/Olympus")


def _matches(schedule: CronSchedule, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(schedule.timezone))
    # The repeated hour of an autumn DST change runs once, at its first occurrence (fold 0).
    return (
        local.fold == 0
        and local.minute in schedule.minutes
        and local.hour in schedule.hours
        and schedule._day_matches(local.date())
    )


field_minute = st.sampled_from(["*", "*/5", "0", "7,37", "10-20"])
field_hour = st.sampled_from(["*", "*/6", "9", "0-3"])
field_dow = st.sampled_from(["*", "MON-FRI", "0"])


@settings(max_examples=40, deadline=None)
@given(
    field_minute,
    field_hour,
    field_dow,
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
)
def test_next_after_is_the_first_matching_minute(
    minute: str, hour: str, dow: str, start: datetime, zone: str
) -> None:
    schedule = CronSchedule.parse(f"{minute} {hour} * * {dow}", zone)
    moment = start.replace(tzinfo=UTC, second=0, microsecond=0)
    found = schedule.next_after(moment)
    assert found > moment
    assert _matches(schedule, found)
    probe = moment + timedelta(minutes=1)
    while probe < found:  # nothing earlier matches (bounded: at most ~8 days of minutes)
        assert not _matches(schedule, probe)
        probe += timedelta(minutes=1)
