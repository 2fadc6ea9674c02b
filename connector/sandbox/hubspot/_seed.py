"""HubSpot's side of the shared synthetic world.

Stage mapping (``hubspot_stage`` -> ``lifecyclestage`` / ``hs_lead_status``):

============  ==========================================  ======================================
funnel        lifecyclestage                              hs_lead_status
============  ==========================================  ======================================
lead          subscriber (30%), lead (50%), MQL (20%)     NEW, OPEN, ATTEMPTED_TO_CONTACT or unset
prospect      salesqualifiedlead                          CONNECTED or IN_PROGRESS
opportunity   opportunity                                 OPEN_DEAL
customer      customer                                    CONNECTED or unset
disqualified  lead (70%) or other (30%)                   UNQUALIFIED (BAD_TIMING for timing)
============  ==========================================  ======================================

HubSpot-logged emails, calls, meetings, notes and tasks become engagement objects associated to
the contact; page views and form submissions become the analytics and conversion properties.
People with an open deal get an open deal in the default pipeline; customers a closed-won one.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Final

from connector.funnel import ActivityKind, Direction, FunnelStage, Outcome
from connector.sandbox.hubspot._catalogue import CALL_DISPOSITIONS
from connector.sandbox.hubspot._values import iso
from connector.sandbox.hubspot.store import HubSpotStore
from connector.sandbox.seed import SyntheticActivity, SyntheticPerson, World

__all__ = ["populate"]

_OPEN_DEAL_STAGES: Final = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
_SOURCES: Final = ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA",
                   "REFERRALS", "DIRECT_TRAFFIC", "PAID_SOCIAL")  # fmt: skip
_FORMS: Final = ("Newsletter signup", "Ebook download", "Webinar registration", "Contact us")
_DISPOSITION: Final = {o.label: o.value for o in CALL_DISPOSITIONS}
_CALLS: Final = {
    Outcome.CONNECTED: ("COMPLETED", "Connected"),
    Outcome.NO_ANSWER: ("NO_ANSWER", "No answer"),
    Outcome.BUSY: ("BUSY", "Busy"),
    Outcome.LEFT_VOICEMAIL: ("COMPLETED", "Left voicemail"),
}
_MEETINGS: Final = {
    Outcome.HELD: "COMPLETED",
    Outcome.NO_SHOW: "NO_SHOW",
    Outcome.SCHEDULED: "SCHEDULED",
    Outcome.CANCELED: "CANCELLED",
}


def _employees(count: int) -> str:
    for upper, bucket in ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"),
                          (500, "100-500"), (1000, "500-1000")):  # fmt: skip
        if count <= upper:
            return bucket
    return "1000+"


def _stage(rng: random.Random, person: SyntheticPerson) -> dict[str, str]:
    stage = person.hubspot_stage or FunnelStage.LEAD
    roll = rng.random()
    if stage is FunnelStage.LEAD:
        lifecycle = (
            "subscriber" if roll < 0.3 else "lead" if roll < 0.8 else "marketingqualifiedlead"
        )
        status = rng.choice(("NEW", "OPEN", "ATTEMPTED_TO_CONTACT", ""))
    elif stage is FunnelStage.PROSPECT:
        lifecycle, status = "salesqualifiedlead", rng.choice(("CONNECTED", "IN_PROGRESS"))
    elif stage is FunnelStage.OPPORTUNITY:
        lifecycle, status = "opportunity", "OPEN_DEAL"
    elif stage is FunnelStage.CUSTOMER:
        lifecycle, status = "customer", rng.choice(("CONNECTED", ""))
    else:
        lifecycle = "other" if roll < 0.3 else "lead"
        timing = "timing" in (person.disqualified_reason or "").lower()
        status = "BAD_TIMING" if timing else "UNQUALIFIED"
    values = {"lifecyclestage": lifecycle}
    if status:
        values["hs_lead_status"] = status
    return values


def _contact(rng: random.Random, person: SyntheticPerson) -> dict[str, str]:
    company = person.company
    values = {
        "email": person.email,
        "firstname": person.first_name,
        "lastname": person.last_name,
        "jobtitle": person.title,
        "phone": person.phone,
        "company": company.name,
        "website": f"https://www.{company.domain}",
        "country": company.country,
        "industry": company.industry,
        "numemployees": _employees(company.employees),
        "annualrevenue": str(int(company.annual_revenue)),
        "hs_email_domain": person.email.rsplit("@", 1)[-1],
        "hs_analytics_source": rng.choice(_SOURCES),
        **_stage(rng, person),
    }
    mine = [a for a in person.activities if a.system == "hubspot"]
    views = sum(1 for a in mine if a.kind is ActivityKind.PAGE_VIEW)
    page_views = views * rng.randint(1, 4) + rng.randint(0, 3)
    values["hs_analytics_num_page_views"] = str(page_views)
    values["hs_analytics_num_visits"] = str((page_views + 1) // 2)
    forms = [a for a in mine if a.kind is ActivityKind.FORM_SUBMISSION]
    values["num_conversion_events"] = str(len(forms))
    if forms:
        names = [
            "Demo request" if a.outcome is Outcome.DEMO_REQUESTED else rng.choice(_FORMS)
            for a in forms
        ]
        values["num_unique_conversion_events"] = str(len(set(names)))
        values["first_conversion_event_name"] = names[0]
        values["first_conversion_date"] = iso(forms[0].occurred_at)
        values["recent_conversion_event_name"] = names[-1]
        values["recent_conversion_date"] = iso(forms[-1].occurred_at)
    touches = [
        a for a in mine
        if a.kind in (ActivityKind.EMAIL, ActivityKind.CALL, ActivityKind.MEETING)
        and a.direction is Direction.OUTBOUND
    ]  # fmt: skip
    if touches:
        values["notes_last_contacted"] = iso(touches[-1].occurred_at)
        values["num_contacted_notes"] = str(len(touches))
    return values


def _engagement(
    activity: SyntheticActivity, person: SyntheticPerson
) -> tuple[str, dict[str, str]] | None:
    at = iso(activity.occurred_at)
    kind, outcome = activity.kind, activity.outcome
    if kind is ActivityKind.EMAIL:
        inbound = activity.direction is Direction.INBOUND
        values = {
            "hs_timestamp": at,
            "hs_email_direction": "INCOMING_EMAIL" if inbound else "EMAIL",
            "hs_email_status": "BOUNCED" if outcome is Outcome.BOUNCED else "SENT",
            "hs_email_subject": f"Re: {person.company.name}" if inbound else "Following up",
            "hs_email_open_count": "1" if outcome in (Outcome.OPENED, Outcome.CLICKED) else "0",
            "hs_email_click_count": "1" if outcome is Outcome.CLICKED else "0",
        }
        return "emails", values
    if kind is ActivityKind.CALL:
        status, disposition = _CALLS.get(outcome, ("COMPLETED", "Connected"))
        inbound = activity.direction is Direction.INBOUND
        return "calls", {
            "hs_timestamp": at,
            "hs_call_direction": "INBOUND" if inbound else "OUTBOUND",
            "hs_call_status": status,
            "hs_call_disposition": _DISPOSITION[disposition],
            "hs_call_duration": "0" if status != "COMPLETED" else "420000",
            "hs_call_title": f"Call with {person.first_name}",
        }
    if kind is ActivityKind.MEETING:
        end = activity.occurred_at + timedelta(minutes=30)
        return "meetings", {
            "hs_timestamp": at,
            "hs_meeting_start_time": at,
            "hs_meeting_end_time": iso(end),
            "hs_meeting_outcome": _MEETINGS.get(outcome, "COMPLETED"),
            "hs_meeting_title": f"Intro with {person.company.name}",
        }
    if kind is ActivityKind.NOTE:
        return "notes", {"hs_timestamp": at, "hs_note_body": "Logged note"}
    if kind is ActivityKind.TASK:
        done = outcome is Outcome.COMPLETED
        return "tasks", {
            "hs_timestamp": at,
            "hs_task_subject": f"Follow up with {person.first_name}",
            "hs_task_status": "COMPLETED" if done else "NOT_STARTED",
            "hs_task_type": "TODO",
        }
    return None


def _deal(
    rng: random.Random, person: SyntheticPerson, as_of: datetime, won: bool
) -> tuple[dict[str, str], datetime]:
    amount = round(max(2_000.0, person.company.employees * rng.uniform(40, 160)), -2)
    opened = max(person.created_at, as_of - timedelta(days=rng.randint(20, 170)))
    close = (
        opened + timedelta(days=rng.randint(10, 60))
        if won
        else as_of + timedelta(days=rng.randint(14, 90))
    )
    values = {
        "dealname": f"{person.company.name} - {'Renewal' if won and rng.random() < 0.2 else 'New'}",
        "pipeline": "default",
        "dealstage": "closedwon" if won else rng.choice(_OPEN_DEAL_STAGES),
        "amount": str(int(amount)),
        "closedate": iso(close),
    }
    return values, opened


def populate(store: HubSpotStore, world: World, *, seed: int) -> None:
    """Load the world's HubSpot people, engagements and deals into an empty store."""
    rng = random.Random(seed * 9973 + 11)
    for person in world.people:
        if not person.in_hubspot:
            continue
        contact = store.insert_seeded(
            "contacts", _contact(rng, person), person.created_at, person.modified_at
        )
        for activity in person.activities:
            if activity.system != "hubspot":
                continue
            drawn = _engagement(activity, person)
            if drawn is None:
                continue
            kind, values = drawn
            made = store.insert_seeded(kind, values, activity.occurred_at, activity.occurred_at)
            store.associate("contacts", contact.id, kind, made.id, logged=False)
        deals = []
        if person.has_open_deal:
            deals.append(_deal(rng, person, world.as_of, won=False))
        if person.hubspot_stage is FunnelStage.CUSTOMER:
            deals.append(_deal(rng, person, world.as_of, won=True))
        for values, opened in deals:
            deal = store.insert_seeded("deals", values, opened, opened)
            store.associate("contacts", contact.id, "deals", deal.id)
