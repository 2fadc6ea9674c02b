"""Property values on the wire: everything is a string, in HubSpot's canonical formats.

Datetimes are stored and answered as ISO 8601 UTC with milliseconds (``2026-11-01T09:30:00.000Z``),
a fixed-width form whose string order is time order, so searches compare them as strings.
Writes and filters accept epoch milliseconds or ISO strings (reference §1.5, §2.2, §5).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from connector.sandbox.hubspot._errors import PropertyError

if TYPE_CHECKING:
    from connector.sandbox.hubspot._schema import PropertyDef

__all__ = ["email_problem", "epoch_ms", "iso", "normalise", "parse_instant", "parse_number"]

_MAX_STRING = 65_536
# The characters RFC 5322 allows unquoted in a local part ("dot-atom"); HubSpot refuses quoted
# local parts and anything with whitespace.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")


def iso(moment: datetime) -> str:
    """Canonical ISO form with milliseconds and ``Z``."""
    m = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}Z"
    )


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_instant(raw: str) -> datetime | None:
    """Epoch milliseconds or an ISO date/datetime string, as an aware UTC datetime."""
    text = raw.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_number(raw: str) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _number_text(number: float) -> str:
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _as_text(raw: Any) -> str | None:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return _number_text(float(raw))
    if isinstance(raw, str):
        return raw
    return None


def normalise(prop: PropertyDef, raw: Any) -> str | PropertyError:
    """The stored string for ``raw``, or why it is refused. ``""`` clears the value."""
    text = _as_text(raw)
    if text is None:
        return PropertyError(prop.name, "INVALID_VALUE", f"{prop.name} must be a string value")
    if text == "":
        return ""
    kind = prop.type
    if kind == "enumeration":
        values = [part for part in text.split(";") if part] if prop.multi else [text]
        unknown = [value for value in values if value not in prop.option_values]
        if unknown or not values:
            allowed = ", ".join(sorted(prop.option_values))
            return PropertyError(
                prop.name,
                "INVALID_OPTION",
                f"{unknown[0] if unknown else text!r} was not one of the allowed options: "
                f"[{allowed}]",
            )
        return ";".join(values)
    if kind == "number":
        number = parse_number(text)
        if number is None:
            return PropertyError(prop.name, "INVALID_INTEGER", f"{text!r} is not a valid number")
        return _number_text(number)
    if kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            return PropertyError(prop.name, "INVALID_BOOLEAN", f"{text!r} is not true or false")
        return lowered
    if kind in ("datetime", "date"):
        moment = parse_instant(text)
        if moment is None:
            return PropertyError(prop.name, "INVALID_DATE", f"{text!r} is not a valid date")
        if kind == "date":
            if moment.time() != time(0, 0):
                return PropertyError(
                    prop.name,
                    "INVALID_DATE",
                    f"{text!r} is not midnight UTC, as date values must be",
                )
            return date.isoformat(moment.date())
        return iso(moment)
    if len(text) > _MAX_STRING:
        return PropertyError(prop.name, "INVALID_VALUE", f"{prop.name} is longer than 65536")
    return text


def email_problem(value: str) -> PropertyError | None:
    """Why HubSpot refuses ``value`` as a contact's ``email``, or ``None`` if it is accepted.

    The answer names the address as HubSpot's does: ``INVALID_EMAIL`` with "Email address <v> is
    invalid" (public report: Atlas-Authority/marketing-automation#174). Checked here: one ``@``,
    a dot-atom local part, a domain of at least two labels whose last is alphabetic, and no
    whitespace anywhere. HubSpot also refuses unknown top-level domains (``.con``); the emulator
    checks the syntax only.
    """
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    accepted = (
        at == "@"
        and "@" not in local
        and _LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )
    if accepted:
        return None
    return PropertyError("email", "INVALID_EMAIL", f"Email address {value} is invalid")
