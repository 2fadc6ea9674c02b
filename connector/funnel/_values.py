"""Validated scalar types shared by the canonical model: UTC datetimes and e-mail addresses."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Email", "UtcDatetime", "email_or_none", "normalise_email", "require_utc"]

# Deliberately pragmatic: one @, a dot-separated domain with a TLD of letters, no spaces. CRMs
# accept addresses RFC 5322 would not (and vice versa); what matters for identity is that two
# spellings of one address normalise alike and that obvious garbage is refused.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def normalise_email(value: str) -> str:
    """Trim and lowercase an address; raise ``ValueError`` if it is not one."""
    candidate = value.strip().lower()
    if not _EMAIL.fullmatch(candidate) or ".." in candidate or candidate.startswith("."):
        # The offending value is personal data: name the problem, not the address.
        raise ValueError("not a valid e-mail address (expected local@domain.tld without spaces)")
    return candidate


def email_or_none(value: str | None) -> str | None:
    """:func:`normalise_email`, or ``None`` for a missing or invalid address."""
    if value is None:
        return None
    try:
        return normalise_email(value)
    except ValueError:
        return None


def require_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime (no time zone); give an offset such as +00:00 or Z")
    return value.astimezone(UTC)


Email = Annotated[str, AfterValidator(normalise_email)]
UtcDatetime = Annotated[datetime, AfterValidator(require_utc)]
