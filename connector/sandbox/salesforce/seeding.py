"""Load a synthetic :class:`~connector.sandbox.seed.World` into the Salesforce store.

What each person becomes (only people with ``in_salesforce``):

* ``salesforce_object == "Lead"``: a Lead. Status follows the Salesforce stage: lead → ``Open -
  Not Contacted``, prospect → ``Working - Contacted``, disqualified → ``Closed - Not Converted``
  (the reason in ``Description``). ``salesforce_duplicate`` adds a second Lead, same e-mail.
* ``"Contact"``: an Account per company, a Contact, and for opportunity/customer stages an
  Opportunity (open stage / ``Closed Won``) with a primary contact role. With
  ``lead_converted`` a converted Lead pointing at them exists as well.
* ``Funnel_Stage__c`` holds the Salesforce stage's label on every seeded Lead/Contact.
* Salesforce activities: e-mails and calls → Task (``TaskSubtype`` Email/Call; an inbound reply
  has a ``Re:`` subject; ``CallDisposition`` Connected/No Answer/Left Voicemail), meetings →
  Event (a no-show says so in Subject), demo requests → Task ``Demo request``, campaign responses
  → CampaignMember with Status ``Responded``.

Timestamps come from the world (``created_at``, ``modified_at``, ``occurred_at``), never the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from connector.errors import System
from connector.funnel import ActivityKind, Direction, FunnelStage, Outcome
from connector.sandbox.salesforce.store import Row, SalesforceStore
from connector.sandbox.seed import SyntheticActivity, SyntheticCompany, SyntheticPerson, World

__all__ = ["seed_store"]

_LEAD_STATUS: Final = {
    FunnelStage.LEAD: "Open - Not Contacted",
    FunnelStage.PROSPECT: "Working - Contacted",
    FunnelStage.DISQUALIFIED: "Closed - Not Converted",
}
_OPEN_STAGES: Final = ("Qualification", "Needs Analysis", "Proposal/Price Quote")
_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_CAMPAIGNS: Final = (
    ("Spring Webinar", "Webinar"), ("Trade Show", "Conference"), ("Newsletter", "Email"),
    ("Paid Search", "Advertisement"),
)  # fmt: skip
_REPS: Final = (("Dana", "Reyes"), ("Sam", "Okoro"), ("Lee", "Marsh"), ("Kim", "Haas"))
_CALL_DISPOSITION: Final = {
    Outcome.CONNECTED: "Connected",
    Outcome.NO_ANSWER: "No Answer",
    Outcome.LEFT_VOICEMAIL: "Left Voicemail",
}


class _Seeder:
    def __init__(self, store: SalesforceStore, world: World) -> None:
        self.store = store
        self.world = world
        self.accounts: dict[str, str] = {}
        self.reps: list[str] = []
        self.campaigns: list[str] = []

    def put(self, sobject: str, values: dict[str, Any], created: datetime, stamp: datetime) -> Row:
        return self.store.put(sobject, values, stamp=stamp, created=created)

    def users(self) -> None:
        start = self.world.as_of - timedelta(days=900)
        admin = self.put(
            "User",
            {"Username": "integration@crmsync.sandbox", "FirstName": "Crmsync",
             "LastName": "Integration", "Email": "integration@crmsync.sandbox", "IsActive": True},
            start, start,
        )  # fmt: skip
        self.store.integration_user_id = admin["Id"]
        admin["CreatedById"] = admin["LastModifiedById"] = admin["Id"]
        for first, last in _REPS:
            handle = f"{first}.{last}".lower()
            rep = self.put(
                "User",
                {"Username": f"{handle}@crmsync.sandbox", "FirstName": first, "LastName": last,
                 "Email": f"{handle}@crmsync.sandbox", "IsActive": True},
                start, start,
            )  # fmt: skip
            self.reps.append(rep["Id"])
        for name, kind in _CAMPAIGNS:
            campaign = self.put(
                "Campaign",
                {"Name": name, "Type": kind, "Status": "In Progress", "IsActive": True,
                 "StartDate": (self.world.as_of - timedelta(days=200)).date()},
                start, start,
            )  # fmt: skip
            self.campaigns.append(campaign["Id"])

    def account(self, company: SyntheticCompany, owner: str, when: datetime) -> str:
        existing = self.accounts.get(company.key)
        if existing is None:
            row = self.put(
                "Account",
                {"Name": company.name, "Industry": company.industry,
                 "NumberOfEmployees": company.employees, "AnnualRevenue": company.annual_revenue,
                 "Website": f"https://www.{company.domain}", "BillingCountry": company.country,
                 "Type": "Prospect", "OwnerId": owner},
                when, when,
            )  # fmt: skip
            existing = self.accounts[company.key] = row["Id"]
        return existing

    def person(self, index: int, person: SyntheticPerson) -> None:
        stage = person.salesforce_stage or FunnelStage.LEAD
        owner = self.reps[index % len(self.reps)]
        common = {
            "FirstName": person.first_name, "LastName": person.last_name,
            "Email": person.email, "Phone": person.phone, "Title": person.title,
            "LeadSource": _SOURCES[index % len(_SOURCES)], "OwnerId": owner,
            "Funnel_Stage__c": stage.value.capitalize(),
        }  # fmt: skip
        created, modified = person.created_at, person.modified_at
        company = person.company
        lead_values = common | {
            "Company": company.name, "Industry": company.industry,
            "NumberOfEmployees": company.employees, "AnnualRevenue": company.annual_revenue,
            "Country": company.country, "Website": f"https://www.{company.domain}",
        }  # fmt: skip
        if person.salesforce_object == "Lead":
            values = lead_values | {"Status": _LEAD_STATUS.get(stage, "Working - Contacted")}
            if person.disqualified_reason and stage is FunnelStage.DISQUALIFIED:
                values["Description"] = f"Disqualified: {person.disqualified_reason}"
            who = self.put("Lead", values, created, modified)["Id"]
            if person.salesforce_duplicate:
                later = created + timedelta(seconds=(modified - created).total_seconds() // 2)
                self.put("Lead", lead_values | {"Status": "Open - Not Contacted"}, later, later)
        else:
            account = self.account(company, owner, created)
            contact = self.put(
                "Contact",
                common | {"AccountId": account, "MailingCountry": company.country},
                created,
                modified,
            )
            who = contact["Id"]
            opportunity = self.opportunity(person, stage, account, who, owner)
            if person.lead_converted:
                lead = lead_values | {
                    "Status": "Closed - Converted", "IsConverted": True,
                    "ConvertedDate": created.date(), "ConvertedAccountId": account,
                    "ConvertedContactId": who, "ConvertedOpportunityId": opportunity,
                }  # fmt: skip
                self.put("Lead", lead, created - timedelta(days=3), created)
        for activity in person.activities:
            if activity.system is System.SALESFORCE:
                self.activity(activity, who, owner, person.salesforce_object == "Lead")

    def opportunity(
        self, person: SyntheticPerson, stage: FunnelStage, account: str, contact: str, owner: str
    ) -> str | None:
        if stage not in (FunnelStage.OPPORTUNITY, FunnelStage.CUSTOMER):
            return None
        won = stage is FunnelStage.CUSTOMER
        span = (person.modified_at - person.created_at).total_seconds()
        created = person.created_at + timedelta(seconds=span // 3)
        close = (person.modified_at if won else self.world.as_of + timedelta(days=45)).date()
        row = self.put(
            "Opportunity",
            {"Name": f"{person.company.name} - {person.last_name}", "AccountId": account,
             "StageName": "Closed Won" if won else _OPEN_STAGES[len(person.key) % 3],
             "CloseDate": close, "Amount": round(person.company.employees * 120.0, 2),
             "OwnerId": owner, "ContactId": contact},
            created, person.modified_at,
        )  # fmt: skip
        self.put(
            "OpportunityContactRole",
            {"OpportunityId": row["Id"], "ContactId": contact, "IsPrimary": True,
             "Role": "Decision Maker"},
            created, created,
        )  # fmt: skip
        return str(row["Id"])

    def activity(self, activity: SyntheticActivity, who: str, owner: str, is_lead: bool) -> None:
        when = activity.occurred_at
        base = {"WhoId": who, "OwnerId": owner, "ActivityDate": when.date()}
        kind = activity.kind
        if kind is ActivityKind.CAMPAIGN_RESPONSE:
            campaign = self.campaigns[int(activity.key[1:]) % len(self.campaigns)]
            member = {"CampaignId": campaign, "Status": "Responded",
                      "FirstRespondedDate": when.date()}  # fmt: skip
            member["LeadId" if is_lead else "ContactId"] = who
            self.put("CampaignMember", member, when, when)
        elif kind is ActivityKind.MEETING:
            subject = "Meeting (no show)" if activity.outcome is Outcome.NO_SHOW else "Meeting"
            self.put(
                "Event",
                base | {"Subject": subject, "Type": "Meeting", "ActivityDateTime": when,
                        "StartDateTime": when, "EndDateTime": when + timedelta(minutes=30),
                        "DurationInMinutes": 30, "EventSubtype": "Event"},
                when, when,
            )  # fmt: skip
        elif kind is ActivityKind.CALL:
            connected = activity.outcome is Outcome.CONNECTED
            self.put(
                "Task",
                base | {"Subject": "Call", "Type": "Call", "TaskSubtype": "Call",
                        "Status": "Completed", "CallType": "Outbound",
                        "CallDisposition": _CALL_DISPOSITION.get(activity.outcome, "Other"),
                        "CallDurationInSeconds": 600 if connected else 0,
                        "CompletedDateTime": when},
                when, when,
            )  # fmt: skip
        elif kind is ActivityKind.EMAIL:
            inbound = activity.direction is Direction.INBOUND
            self.put(
                "Task",
                base | {"Subject": "Email: Re: Follow-up" if inbound else "Email: Follow-up",
                        "Type": "Email", "TaskSubtype": "Email", "Status": "Completed",
                        "CompletedDateTime": when},
                when, when,
            )  # fmt: skip
        else:
            self.put(
                "Task",
                base | {"Subject": "Demo request", "Type": "Other", "TaskSubtype": "Task",
                        "Status": "Completed", "CompletedDateTime": when},
                when, when,
            )  # fmt: skip


def seed_store(store: SalesforceStore, world: World) -> None:
    """Fill an empty store with the Salesforce side of ``world``."""
    seeder = _Seeder(store, world)
    with store.lock:
        seeder.users()
        for index, person in enumerate(world.people):
            if person.in_salesforce:
                seeder.person(index, person)
