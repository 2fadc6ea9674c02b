"""Salesforce value formats: 18-character Ids, ``2026-01-05T10:11:12.000+0000`` datetimes."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any, Final

__all__ = [
    "IdFactory",
    "ModstampClock",
    "format_datetime",
    "json_value",
    "parse_datetime",
    "to_18",
]

_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(id15: str) -> str:
    """Append Salesforce's case-safety checksum to a 15-character Id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX[bits]
    return id15 + suffix


class IdFactory:
    """Sequential Ids per key prefix: ``00Q`` + pod ``Dn0`` + nine base-62 digits + checksum."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}

    def new(self, prefix: str) -> str:
        with self._lock:
            number = self._next.get(prefix, 1)
            self._next[prefix] = number + 1
        digits = ""
        for _ in range(9):
            number, remainder = divmod(number, 62)
            digits = _BASE62[remainder] + digits
        return to_18(f"{prefix}Dn0{digits}")


def format_datetime(value: datetime) -> str:
    """Salesforce's record format: milliseconds and a ``+0000`` offset."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 datetime with ``Z``, ``+hh:mm`` or ``+hhmm``; naive is refused."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("datetime without an offset")
    return parsed.astimezone(UTC)


def json_value(value: Any) -> Any:
    """A stored value as Salesforce puts it in JSON."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class ModstampClock:
    """Wall-clock UTC for writes, truncated to milliseconds and never decreasing.

    As in Salesforce, many records may share one ``SystemModstamp`` (a 200-record collection
    call is one transaction), so incremental readers need an ``(SystemModstamp, Id)`` keyset.
    Stamps never run ahead of the real clock: a bulk write of thousands of records must not
    push later edits past a reader's ``run_start`` cap (an earlier version added a millisecond
    per write and drifted seconds into the future).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime(1970, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        with self._lock:
            current = datetime.now(UTC)
            current = current.replace(microsecond=current.microsecond // 1000 * 1000)
            if current < self._last:
                current = self._last  # the wall clock stepped back: hold, never decrease
            self._last = current
            return current
