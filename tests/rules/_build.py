"""Builders for rules tests: people, activities and rules files with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from connector.errors import System
from connector.funnel import (
    Activity,
    ActivityKind,
    Company,
    Criterion,
    Direction,
    FunnelStage,
    Outcome,
    Person,
    Qualification,
    Seniority,
    SourceRef,
)
from connector.rules import Rules, load_rules

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES = ROOT / "config" / "rules.yaml"
FILES = Path(__file__).resolve().parent / "files"
REF = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="101")

_counter = iter(range(1, 10**9))


@cache
def default_rules() -> Rules:
    return load_rules(DEFAULT_RULES)


def person(
    *,
    seniority: Seniority = Seniority.VP,
    industry: str | None = "Technology",
    employees: int | None = 5000,
    email: str = "ada@acme-robotics.com",
    title: str | None = "VP Engineering",
    stage: FunnelStage = FunnelStage.LEAD,
    disqualified_reason: str | None = None,
    bant: tuple[bool, bool, bool, bool] | None = None,
    **extra: Any,
) -> Person:
    """A well-fitting person by default (VP at a large technology company)."""
    qualification = Qualification()
    if bant is not None:
        budget, authority, need, timeline = (Criterion(met=value) for value in bant)
        qualification = Qualification(
            budget=budget, authority=authority, need=need, timeline=timeline
        )
    return Person(
        id="p1",
        email=email,
        title=title,
        seniority=seniority,
        country="Germany",
        company=Company(industry=industry, employee_count=employees, domain="acme-robotics.com"),
        qualification=qualification,
        stage=stage,
        disqualified_reason=disqualified_reason,
        **extra,
    )


def poor_fit(**extra: Any) -> Person:
    """An individual contributor at a tiny agriculture firm: fit score 0."""
    defaults: dict[str, Any] = {
        "seniority": Seniority.INDIVIDUAL,
        "industry": "Agriculture",
        "employees": 5,
        "title": "Analyst",
    }
    return person(**(defaults | extra))


def activity(
    kind: ActivityKind,
    outcome: Outcome,
    *,
    direction: Direction = Direction.OUTBOUND,
    days_ago: float = 1.0,
    as_of: datetime = AS_OF,
) -> Activity:
    return Activity(
        system=System.HUBSPOT,
        id=f"a{next(_counter)}",
        person=REF,
        kind=kind,
        direction=direction,
        outcome=outcome,
        occurred_at=as_of - timedelta(days=days_ago),
    )


def reply(days_ago: float = 1.0) -> Activity:
    return activity(
        ActivityKind.EMAIL, Outcome.REPLIED, direction=Direction.INBOUND, days_ago=days_ago
    )


def one_way_touches() -> list[Activity]:
    """Plenty of interest, no conversation: opens, clicks, page views, forms, unanswered calls."""
    return [
        activity(ActivityKind.EMAIL, Outcome.OPENED, days_ago=2),
        activity(ActivityKind.EMAIL, Outcome.CLICKED, days_ago=3),
        activity(ActivityKind.PAGE_VIEW, Outcome.VIEWED, direction=Direction.NONE, days_ago=1),
        activity(ActivityKind.FORM_SUBMISSION, Outcome.SUBMITTED, direction=Direction.INBOUND),
        activity(ActivityKind.CALL, Outcome.NO_ANSWER, days_ago=4),
        activity(ActivityKind.CALL, Outcome.LEFT_VOICEMAIL, days_ago=5),
        activity(ActivityKind.CAMPAIGN_RESPONSE, Outcome.RESPONDED, direction=Direction.NONE),
    ] * 5


def write_rules(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def default_text_with(old: str, new: str) -> str:
    """The shipped rules file with one exact snippet replaced (asserts the snippet exists)."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new)
