"""Activities: what a person did, or what was done with them, in either CRM."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, computed_field

from connector.funnel._values import UtcDatetime
from connector.funnel.refs import SourceRef, System

__all__ = ["TWO_WAY", "Activity", "ActivityKind", "Direction", "Outcome", "is_two_way"]


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
