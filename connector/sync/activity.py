"""Vendor activity records → canonical activity (kind, direction, outcome) and deals.

The CRMs record the same human events differently; this table-driven translation is the one
place that knows how:

Salesforce
    Task ``TaskSubtype``/``Type`` Call → call (``CallType`` gives the direction,
    ``CallDisposition`` or a call of a minute or more says connected); Email → email, inbound
    when the subject is a reply (``Re:``); a Task whose subject asks for a demo → a demo
    request; other Tasks → task. Event → meeting (held once it started, unless its subject says
    no-show or cancelled). CampaignMember → campaign response (responded or only sent).
    OpportunityContactRole → a deal on the Contact: open, won or lost.
HubSpot
    emails (``hs_email_direction`` ``INCOMING_EMAIL`` is a reply), calls (``hs_call_status``
    and direction), meetings (``hs_meeting_outcome``), notes, tasks; deals (closed-won /
    closed / open); the contact's conversion properties become form submissions at their
    first and latest dates (a demo request when the form's name says so) and its page-view
    count becomes that many page views (capped), dated at the latest conversion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final

from connector.crm.types import ActivityRecord, FieldValue
from connector.errors import System
from connector.funnel import ActivityKind, Direction, Outcome, SourceRef
from connector.state import StoredActivity

__all__ = ["PAGE_VIEW_CAP", "stored_activities"]

PAGE_VIEW_CAP: Final = 20
_REPLY = re.compile(r"^\s*(email:\s*)?(re|aw|sv)\s*:", re.IGNORECASE)
_DEMO = re.compile(r"\bdemo\b", re.IGNORECASE)

_CALL_DISPOSITIONS: Final = (
    ("voicemail", Outcome.LEFT_VOICEMAIL),
    ("no answer", Outcome.NO_ANSWER),
    ("busy", Outcome.BUSY),
    ("connect", Outcome.CONNECTED),
)
_HS_CALL_STATUS: Final = {
    "COMPLETED": Outcome.CONNECTED,
    "NO_ANSWER": Outcome.NO_ANSWER,
    "BUSY": Outcome.BUSY,
    "MISSED": Outcome.NO_ANSWER,
    "FAILED": Outcome.NO_ANSWER,
    "CANCELED": Outcome.CANCELED,
}
_HS_MEETING: Final = {
    "COMPLETED": Outcome.HELD,
    "SCHEDULED": Outcome.SCHEDULED,
    "RESCHEDULED": Outcome.SCHEDULED,
    "NO_SHOW": Outcome.NO_SHOW,
    "CANCELLED": Outcome.CANCELED,
    "CANCELED": Outcome.CANCELED,
}

Kind = tuple[str, ActivityKind | str, Direction, Outcome | str]


def _text(fields: Mapping[str, FieldValue], name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def _number(fields: Mapping[str, FieldValue], name: str) -> float:
    try:
        return float(fields.get(name) or 0)
    except (TypeError, ValueError):
        return 0.0


def _truthy(fields: Mapping[str, FieldValue], name: str) -> bool:
    value = fields.get(name)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _salesforce(record: ActivityRecord, as_of: datetime) -> Kind:
    fields = record.fields
    subject = _text(fields, "Subject")
    if record.object_type == "OpportunityContactRole":
        won = _truthy(fields, "Opportunity.IsWon")
        closed = _truthy(fields, "Opportunity.IsClosed")
        return ("deal", "deal", Direction.NONE, "won" if won else "lost" if closed else "open")
    if record.object_type == "CampaignMember":
        responded = _truthy(fields, "HasResponded") or _text(fields, "Status") == "Responded"
        outcome = Outcome.RESPONDED if responded else Outcome.SENT
        return ("activity", ActivityKind.CAMPAIGN_RESPONSE, Direction.INBOUND, outcome)
    if record.object_type == "Event":
        lowered = subject.lower()
        if "no show" in lowered or "no-show" in lowered:
            outcome = Outcome.NO_SHOW
        elif "cancel" in lowered:
            outcome = Outcome.CANCELED
        elif record.occurred_at is not None and record.occurred_at > as_of:
            outcome = Outcome.SCHEDULED
        else:
            outcome = Outcome.HELD
        return ("activity", ActivityKind.MEETING, Direction.OUTBOUND, outcome)
    subtype = (_text(fields, "TaskSubtype") or _text(fields, "Type")).lower()
    if subtype == "call" or _text(fields, "Type").lower() == "call":
        direction = (
            Direction.INBOUND
            if _text(fields, "CallType").lower() == "inbound"
            else Direction.OUTBOUND
        )
        disposition = _text(fields, "CallDisposition").lower()
        outcome = next(
            (found for needle, found in _CALL_DISPOSITIONS if needle in disposition),
            Outcome.CONNECTED
            if _number(fields, "CallDurationInSeconds") >= 60
            else Outcome.UNKNOWN,
        )
        return ("activity", ActivityKind.CALL, direction, outcome)
    if subtype in ("email", "listemail"):
        if subtype == "email" and _REPLY.match(subject):
            return ("activity", ActivityKind.EMAIL, Direction.INBOUND, Outcome.REPLIED)
        return ("activity", ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.SENT)
    if _DEMO.search(subject):
        return ("activity", ActivityKind.FORM_SUBMISSION, Direction.INBOUND, Outcome.DEMO_REQUESTED)
    done = _text(fields, "Status").lower() == "completed" or _truthy(fields, "IsClosed")
    return (
        "activity",
        ActivityKind.TASK,
        Direction.NONE,
        Outcome.COMPLETED if done else Outcome.UNKNOWN,
    )


def _hubspot(record: ActivityRecord) -> Kind:
    fields = record.fields
    kind = record.object_type
    if kind == "deals":
        won = _truthy(fields, "hs_is_closed_won")
        closed = _truthy(fields, "hs_is_closed")
        return ("deal", "deal", Direction.NONE, "won" if won else "lost" if closed else "open")
    if kind == "emails":
        direction = _text(fields, "hs_email_direction")
        if _text(fields, "hs_email_status") in ("BOUNCED", "FAILED"):
            return ("activity", ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.BOUNCED)
        if direction == "INCOMING_EMAIL":
            return ("activity", ActivityKind.EMAIL, Direction.INBOUND, Outcome.REPLIED)
        return ("activity", ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.SENT)
    if kind == "calls":
        direction = (
            Direction.INBOUND
            if _text(fields, "hs_call_direction") == "INBOUND"
            else Direction.OUTBOUND
        )
        outcome = _HS_CALL_STATUS.get(_text(fields, "hs_call_status"), Outcome.UNKNOWN)
        return ("activity", ActivityKind.CALL, direction, outcome)
    if kind == "meetings":
        outcome = _HS_MEETING.get(_text(fields, "hs_meeting_outcome"), Outcome.UNKNOWN)
        return ("activity", ActivityKind.MEETING, Direction.OUTBOUND, outcome)
    if kind == "notes":
        return ("activity", ActivityKind.NOTE, Direction.NONE, Outcome.COMPLETED)
    done = _text(fields, "hs_task_status") == "COMPLETED"
    return (
        "activity",
        ActivityKind.TASK,
        Direction.NONE,
        Outcome.COMPLETED if done else Outcome.UNKNOWN,
    )


def _instant(value: FieldValue) -> datetime | None:
    if value is None or value == "":
        return None
    text = str(value)
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _conversions(record: ActivityRecord, ref: SourceRef) -> list[StoredActivity]:
    """Form submissions and page views from a HubSpot contact's summary properties."""
    fields = record.fields
    found: list[StoredActivity] = []
    seen_dates: set[datetime] = set()
    for prefix in ("first", "recent"):
        when = _instant(fields.get(f"{prefix}_conversion_date"))
        if when is None or when in seen_dates:
            continue
        seen_dates.add(when)
        name = _text(fields, f"{prefix}_conversion_event_name")
        outcome = Outcome.DEMO_REQUESTED if _DEMO.search(name) else Outcome.SUBMITTED
        found.append(
            StoredActivity(
                system=System.HUBSPOT,
                activity_id=f"{record.id}:{prefix}",
                record=ref,
                category="activity",
                kind=ActivityKind.FORM_SUBMISSION.value,
                direction=Direction.INBOUND.value,
                outcome=outcome.value,
                occurred_at=when,
            )
        )
    views = min(int(_number(fields, "hs_analytics_num_page_views")), PAGE_VIEW_CAP)
    when = _instant(fields.get("recent_conversion_date")) or record.occurred_at
    for index in range(views if when is not None else 0):
        found.append(
            StoredActivity(
                system=System.HUBSPOT,
                activity_id=f"{record.id}:view:{index}",
                record=ref,
                category="activity",
                kind=ActivityKind.PAGE_VIEW.value,
                direction=Direction.NONE.value,
                outcome=Outcome.VIEWED.value,
                occurred_at=when,
            )
        )
    return found


def stored_activities(
    system: System,
    records: Iterable[ActivityRecord],
    record_types: Mapping[str, str],
    *,
    as_of: datetime,
) -> list[StoredActivity]:
    """Translate pulled activity into stored rows, one per person record it is attached to.

    ``record_types`` gives each person record id's object type (``Lead``, ``Contact``,
    ``contacts``); activity on records crmsync does not know is skipped. ``as_of`` (the run's
    start) tells a held meeting from a scheduled one.
    """
    found: list[StoredActivity] = []
    for record in records:
        for person_id in record.person_ids:
            object_type = record_types.get(person_id)
            if object_type is None:
                continue
            ref = SourceRef(system=system, object_type=object_type, record_id=person_id)
            if record.object_type == "contact_conversions":
                found.extend(_conversions(record, ref))
                continue
            if system is System.SALESFORCE:
                category, kind, direction, outcome = _salesforce(record, as_of)
            else:
                category, kind, direction, outcome = _hubspot(record)
            activity_id = record.id
            if record.object_type == "OpportunityContactRole":
                activity_id = _text(record.fields, "OpportunityId") or record.id
            found.append(
                StoredActivity(
                    system=system,
                    activity_id=activity_id,
                    record=ref,
                    category=category,
                    kind=str(kind),
                    direction=direction.value,
                    outcome=str(outcome),
                    occurred_at=record.occurred_at,
                    deleted=record.deleted,
                )
            )
    return found
