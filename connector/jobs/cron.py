"""Five-field cron schedules evaluated in a named time zone.

Supported: ``minute hour day-of-month month day-of-week`` with ``*``, lists (``1,15``), ranges
(``9-17``), steps (``*/15``, ``8-18/2``), month and weekday names (``JAN``, ``MON``), ``7`` as
Sunday, and the shortcuts ``@hourly @daily @midnight @weekly @monthly @yearly @annually``.
As in Vixie cron, when both day-of-month and day-of-week are restricted a day matching either
one qualifies.

Time zones follow the wall clock (``Europe/Berlin``, ``America/New_York``): a job at 02:30 runs
at 02:30 local time all year. Around daylight-saving changes, a wall time that does not exist
(the hour skipped in spring) is skipped, and a wall time that occurs twice (the hour repeated in
autumn) runs once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CronError", "CronSchedule"]

_SHORTCUTS: Final = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_DAYS: Final = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))
}
_NO_NAMES: Final[dict[str, int]] = {}
_FIELDS: Final[tuple[tuple[str, int, int, dict[str, int]], ...]] = (
    ("minute", 0, 59, _NO_NAMES),
    ("hour", 0, 23, _NO_NAMES),
    ("day of month", 1, 31, _NO_NAMES),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
# Far enough to find any valid schedule (29 February on a Monday recurs within 28 years).
_SEARCH_DAYS: Final = 366 * 29


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; the message says why."""


def _number(text: str, names: dict[str, int], field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number" + (" or a name" if names else ""))
    return int(text)


def _parse_field(
    text: str, field: str, low: int, high: int, names: dict[str, int]
) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{field}: empty list item")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, names, field), _number(last, names, field)
        else:
            start = _number(base, names, field)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high):
            raise CronError(f"{field}: {part!r} is outside {low}-{high}")
        if start > end:
            raise CronError(f"{field}: range {part!r} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule; :meth:`next_after` gives the next fire time in UTC."""

    expression: str
    timezone: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> CronSchedule:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CronError(
                f"unknown time zone {timezone!r} (use an IANA name such as 'Europe/Berlin')"
            ) from None
        text = _SHORTCUTS.get(expression.strip().lower(), expression.strip())
        parts = text.split()
        if len(parts) != 5:
            raise CronError(
                f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
            )
        parsed = [
            _parse_field(part, name, low, high, names)
            for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(day % 7 for day in parsed[4])
        return cls(
            expression=expression.strip(),
            timezone=timezone,
            minutes=parsed[0],
            hours=parsed[1],
            days=parsed[2],
            months=parsed[3],
            weekdays=weekdays,
            day_restricted=parts[2] != "*",
            weekday_restricted=parts[4] != "*",
        )

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return in_month or in_week
        return in_month and in_week

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (aware), in UTC."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                        candidate = wall.astimezone(UTC)
                        # A wall time inside the spring-forward gap does not exist: it does
                        # not survive a round trip through UTC.
                        if candidate.astimezone(zone).replace(tzinfo=None) != wall.replace(
                            tzinfo=None
                        ):
                            continue
                        if candidate > moment:
                            return candidate
            day += timedelta(days=1)
        raise CronError(f"{self.expression!r} never fires")

    def fire_times(self, start: datetime, end: datetime) -> list[datetime]:
        """Every fire time in ``(start, end]``."""
        times: list[datetime] = []
        moment = start
        while (moment := self.next_after(moment)) <= end:
            times.append(moment)
        return times
