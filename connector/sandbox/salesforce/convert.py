"""Lead conversion as Salesforce performs it (``POST /__sandbox__/convert-lead``).

An Account is matched by name (case-insensitive, = the Lead's Company) or created; a Contact is
matched by e-mail within that Account or created; an Opportunity (and its primary contact role)
is created on request. The Lead becomes read-only: ``IsConverted``, ``Converted*Id``,
``ConvertedDate`` (a date) and Status ``Closed - Converted``. As Salesforce documents, the Lead's
activities and campaign memberships move to the Contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce.store import Row, SalesforceStore, derive

__all__ = ["Conversion", "convert_lead"]

_COPIED_TO_CONTACT = (
    "FirstName", "LastName", "Email", "Phone", "Title", "LeadSource", "HasOptedOutOfEmail",
    "Description", "Funnel_Stage__c", "Lead_Score__c", "Fit_Score__c", "Engagement_Score__c",
    "Score_Reason__c", "Crmsync_Person_Id__c", "OwnerId",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Conversion:
    lead_id: str
    account_id: str
    contact_id: str
    opportunity_id: str | None


def _quarter_end(today: date) -> date:
    month = ((today.month - 1) // 3 + 1) * 3
    following = date(today.year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _touch(store: SalesforceStore, sobject: str, row: Row, stamp: datetime) -> None:
    derive(sobject, row)
    row["LastModifiedDate"] = row["SystemModstamp"] = stamp


def convert_lead(
    store: SalesforceStore,
    lead_id: str,
    *,
    create_opportunity: bool = True,
    stamp: datetime | None = None,
) -> Conversion:
    """Convert one live, unconverted Lead; raise :class:`SfError` otherwise."""
    with store.lock:
        leads = store.table("Lead")
        lead = leads.rows.get(lead_id)
        if lead is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", http_status=404)
        if lead["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", http_status=404)
        if lead["IsConverted"]:
            raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        when = stamp or store.clock.now()
        company = str(lead.get("Company") or "")
        account = next(
            (
                row
                for row in store.table("Account").rows.values()
                if not row["IsDeleted"] and str(row.get("Name", "")).lower() == company.lower()
            ),
            None,
        )
        if account is None:
            account = store.put(
                "Account",
                {
                    "Name": company,
                    "Industry": lead.get("Industry"),
                    "NumberOfEmployees": lead.get("NumberOfEmployees"),
                    "AnnualRevenue": lead.get("AnnualRevenue"),
                    "Website": lead.get("Website"),
                    "BillingCountry": lead.get("Country"),
                    "OwnerId": lead.get("OwnerId"),
                },
                stamp=when,
                created=when,
            )
        email = str(lead.get("Email") or "").lower()
        contact = next(
            (
                row
                for row in store.table("Contact").rows.values()
                if email
                and not row["IsDeleted"]
                and row.get("AccountId") == account["Id"]
                and str(row.get("Email", "")).lower() == email
            ),
            None,
        )
        if contact is None:
            values = {name: lead.get(name) for name in _COPIED_TO_CONTACT}
            contact = store.put(
                "Contact",
                values | {"AccountId": account["Id"], "MailingCountry": lead.get("Country")},
                stamp=when,
                created=when,
            )
        opportunity_id = None
        if create_opportunity:
            opportunity = store.put(
                "Opportunity",
                {
                    "Name": f"{company}-",
                    "AccountId": account["Id"],
                    "StageName": "Prospecting",
                    "CloseDate": _quarter_end(when.date()),
                    "LeadSource": lead.get("LeadSource"),
                    "OwnerId": lead.get("OwnerId"),
                    "ContactId": contact["Id"],
                },
                stamp=when,
                created=when,
            )
            opportunity_id = opportunity["Id"]
            store.put(
                "OpportunityContactRole",
                {"OpportunityId": opportunity_id, "ContactId": contact["Id"], "IsPrimary": True},
                stamp=when,
                created=when,
            )
        lead.update(
            {
                "IsConverted": True,
                "Status": "Closed - Converted",
                "ConvertedDate": when.date(),
                "ConvertedAccountId": account["Id"],
                "ConvertedContactId": contact["Id"],
                "ConvertedOpportunityId": opportunity_id,
            }
        )
        _touch(store, "Lead", lead, when)
        for sobject in ("Task", "Event"):
            for row in store.table(sobject).rows.values():
                if row.get("WhoId") == lead_id:
                    row["WhoId"] = contact["Id"]
                    _touch(store, sobject, row, when)
        for row in store.table("CampaignMember").rows.values():
            if row.get("LeadId") == lead_id:
                row["ContactId"] = contact["Id"]
                _touch(store, "CampaignMember", row, when)
        return Conversion(lead_id, account["Id"], contact["Id"], opportunity_id)
