"""Activities: what a person did, or what was done with them, in either CRM."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from itertools import product
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, computed_field

from connector.funnel._values import UtcDatetime
from connector.funnel.refs import SourceRef, System

__all__ = [
    "ACTIVITY_TYPES",
    "TWO_WAY",
    "Activity",
    "ActivityKind",
    "Direction",
    "Outcome",
    "Timeline",
    "is_two_way",
]


class ActivityKind(StrEnum):
    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"
    TASK = "task"
    FORM_SUBMISSION = "form_submission"
    PAGE_VIEW = "page_view"
    CAMPAIGN_RESPONSE = "campaign_response"


class Direction(StrEnum):
    INBOUND = "inbound"  # the person reached us
    OUTBOUND = "outbound"  # we reached the person
    NONE = "none"  # no direction (a page view, a note)


class Outcome(StrEnum):
    SENT = "sent"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    BOUNCED = "bounced"
    CONNECTED = "connected"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    LEFT_VOICEMAIL = "left_voicemail"
    SCHEDULED = "scheduled"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELED = "canceled"
    SUBMITTED = "submitted"
    DEMO_REQUESTED = "demo_requested"
    VIEWED = "viewed"
    RESPONDED = "responded"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


# Two-way communication per the funnel definition: the person replied, a call connected, a
# meeting was held, or they asked for a demo. Everything else is one-way. A table, so the
# definition is read in one place.
TWO_WAY: Final[frozenset[tuple[ActivityKind, Direction | None, Outcome]]] = frozenset(
    {
        (ActivityKind.EMAIL, Direction.INBOUND, Outcome.REPLIED),
        (ActivityKind.EMAIL, Direction.INBOUND, Outcome.UNKNOWN),
        (ActivityKind.CALL, None, Outcome.CONNECTED),
        (ActivityKind.MEETING, None, Outcome.HELD),
        (ActivityKind.FORM_SUBMISSION, None, Outcome.DEMO_REQUESTED),
    }
)


def is_two_way(kind: ActivityKind, direction: Direction, outcome: Outcome) -> bool:
    """Did this activity involve communication in both directions?"""
    return (kind, direction, outcome) in TWO_WAY or (kind, None, outcome) in TWO_WAY


class Activity(BaseModel):
    """One activity from either CRM, attached to the person record it was logged against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: System
    id: str = Field(min_length=1, max_length=64)
    person: SourceRef
    kind: ActivityKind
    direction: Direction = Direction.NONE
    occurred_at: UtcDatetime
    outcome: Outcome = Outcome.UNKNOWN

    @computed_field  # type: ignore[prop-decorator]
    @property
    def two_way(self) -> bool:
        return is_two_way(self.kind, self.direction, self.outcome)


#: Every (kind, direction, outcome): a :class:`Timeline` names an activity's by its position.
ACTIVITY_TYPES: Final[tuple[tuple[ActivityKind, Direction, Outcome], ...]] = tuple(
    product(ActivityKind, Direction, Outcome)
)
_MODEL_CODE: Final[dict[tuple[ActivityKind, Direction, Outcome], int]] = {
    key: code for code, key in enumerate(ACTIVITY_TYPES)
}
_TYPE_CODE: Final[dict[tuple[str, str, str], int]] = {
    (kind.value, direction.value, outcome.value): code
    for code, (kind, direction, outcome) in enumerate(ACTIVITY_TYPES)
}


class Timeline:
    """A person's activities as scoring reads them: ``(type code, epoch seconds)`` pairs.

    Rules are evaluated for every dirty person on every run and for everyone in a backtest;
    this is their input in the form the evaluator's hot loop wants (a code indexes the
    compiled rules' table, a float needs no date arithmetic), built straight from stored
    values without a validated :class:`Activity` per row.
    """

    __slots__ = ("items",)

    def __init__(self, items: Iterable[tuple[int, float]] = ()) -> None:
        self.items: tuple[tuple[int, float], ...] = tuple(items)

    @classmethod
    def of(cls, activities: Iterable[Activity]) -> Timeline:
        code_of = _MODEL_CODE  # validated models: every type is known, every time aware
        return cls([(code_of[a.kind, a.direction, a.outcome], a.occurred_at.timestamp())
                    for a in activities])  # fmt: skip

    @classmethod
    def from_values(cls, values: Iterable[tuple[str, str, str, datetime]]) -> Timeline:
        """From ``(kind, direction, outcome, occurred_at)``: canonical vocabulary values (or
        the enums), timezone-aware times. Raises ``ValueError`` naming what is wrong."""
        items: list[tuple[int, float]] = []
        code_of = _TYPE_CODE
        for kind, direction, outcome, occurred_at in values:
            code = code_of.get((kind, direction, outcome))
            if code is None:
                raise ValueError(
                    f"not an activity type: kind={kind!r} direction={direction!r} "
                    f"outcome={outcome!r}"
                )
            if occurred_at.tzinfo is None:
                raise ValueError("an activity's occurred_at must be timezone-aware (UTC)")
            items.append((code, occurred_at.timestamp()))
        return cls(items)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeline) and other.items == self.items

    def __hash__(self) -> int:
        return hash(self.items)

    def __repr__(self) -> str:
        return f"Timeline({len(self.items)} activities)"
