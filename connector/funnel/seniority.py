"""Seniority from a job title, for fit scoring when the CRMs only hold the title."""

from __future__ import annotations

import re
from typing import Final

from connector.funnel.person import Seniority

__all__ = ["seniority_from_title"]

# Checked in order: "VP of Sales Operations Manager" is a VP; "Student Success Manager" is a
# manager. Word boundaries keep "cto" out of "director" and "vp" out of "mvp".
_RULES: Final[tuple[tuple[re.Pattern[str], Seniority], ...]] = (
    (
        re.compile(
            r"\b(chief|ceo|cto|cfo|coo|cmo|cro|cio|ciso|founder|co-founder|owner|president|"
            r"managing director|general manager|partner)\b"
        ),
        Seniority.EXECUTIVE,
    ),
    (re.compile(r"\b(vp|svp|evp|avp|vice president)\b"), Seniority.VP),
    (re.compile(r"\b(director|head of|head)\b"), Seniority.DIRECTOR),
    (re.compile(r"\b(manager|lead|supervisor|principal)\b"), Seniority.MANAGER),
    (re.compile(r"\b(student|intern|trainee|apprentice)\b"), Seniority.STUDENT),
)


def seniority_from_title(title: str | None) -> Seniority:
    """The seniority a title implies; ``UNKNOWN`` for a blank title."""
    if not title or not title.strip():
        return Seniority.UNKNOWN
    text = title.lower()
    for pattern, seniority in _RULES:
        if pattern.search(text):
            return seniority
    return Seniority.INDIVIDUAL
