"""Field metadata of the emulated objects: what describe answers and writes are checked against.

Types, lengths and picklists follow Salesforce's standard object reference (see
``../shared/reference/salesforce-api.md`` §5). Custom fields are the ones crmsync's default
mapping writes on Lead and Contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "FUNNEL_STAGE_VALUES",
    "LEAD_STATUSES",
    "OBJECTS",
    "OPPORTUNITY_STAGES",
    "FieldSpec",
    "ObjectSpec",
    "object_for_id",
    "object_spec",
]

STRING_TYPES: Final = frozenset(
    {"id", "reference", "string", "textarea", "email", "phone", "url", "picklist", "combobox"}
)

LEAD_STATUSES: Final = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
OPPORTUNITY_STAGES: Final = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
    "Closed Lost",
)  # fmt: skip
FUNNEL_STAGE_VALUES: Final = ("Lead", "Prospect", "Opportunity", "Customer", "Disqualified")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field as describe reports it."""

    name: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    custom: bool = False
    picklist: tuple[str, ...] = ()
    default_value: str | None = None
    restricted: bool = False
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    defaulted_on_create: bool = False
    label: str = ""

    @property
    def is_string(self) -> bool:
        return self.type in STRING_TYPES


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """One sObject: its name, Id prefix and fields (looked up case-insensitively)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[FieldSpec, ...]
    by_lower: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_lower", {spec.name.lower(): spec for spec in self.fields})

    def field(self, name: str) -> FieldSpec | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldSpec | None:
        lowered = name.lower()
        for spec in self.fields:
            if spec.relationship and spec.relationship.lower() == lowered:
                return spec
        return None


def _s(name: str, length: int = 255, *, kind: str = "string", **extra: Any) -> FieldSpec:
    return FieldSpec(name=name, type=kind, length=length, **extra)


def _ro(name: str, kind: str, length: int = 0, **extra: Any) -> FieldSpec:
    return FieldSpec(
        name=name, type=kind, length=length, createable=False, updateable=False, **extra
    )


def _pick(
    name: str, values: tuple[str, ...], default: str | None = None, **extra: Any
) -> FieldSpec:
    return FieldSpec(
        name=name, type="picklist", length=255, picklist=values, default_value=default,
        defaulted_on_create=default is not None, **extra,
    )  # fmt: skip


def _ref(name: str, *targets: str, relationship: str, **extra: Any) -> FieldSpec:
    return FieldSpec(
        name=name, type="reference", length=18, reference_to=targets,
        relationship=relationship, **extra,
    )  # fmt: skip


def _num(name: str, kind: str = "double", precision: int = 18, scale: int = 0) -> FieldSpec:
    return FieldSpec(name=name, type=kind, precision=precision, scale=scale)


def _bool(name: str, **extra: Any) -> FieldSpec:
    return FieldSpec(name=name, type="boolean", nillable=False, defaulted_on_create=True, **extra)


def _system(*, owner: bool = True) -> tuple[FieldSpec, ...]:
    fields = [
        _ro("Id", "id", 18, nillable=False, unique=True),
        _ro("IsDeleted", "boolean", nillable=False, defaulted_on_create=True),
        _ro("CreatedDate", "datetime", nillable=False, defaulted_on_create=True),
        _ro("CreatedById", "reference", 18, reference_to=("User",), relationship="CreatedBy"),
        _ro("LastModifiedDate", "datetime", nillable=False, defaulted_on_create=True),
        _ro("LastModifiedById", "reference", 18, reference_to=("User",),
            relationship="LastModifiedBy"),
        _ro("SystemModstamp", "datetime", nillable=False, defaulted_on_create=True),
    ]  # fmt: skip
    if owner:
        fields.append(
            _ref("OwnerId", "User", relationship="Owner", nillable=False, defaulted_on_create=True)
        )
    return tuple(fields)


_INDUSTRIES: Final = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip
_LEAD_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")


def _funnel_custom() -> tuple[FieldSpec, ...]:
    return (
        _pick("Funnel_Stage__c", FUNNEL_STAGE_VALUES, custom=True, restricted=True,
              label="Funnel Stage"),
        FieldSpec(name="Lead_Score__c", type="double", precision=3, scale=0, custom=True,
                  label="Lead Score"),
        FieldSpec(name="Fit_Score__c", type="double", precision=5, scale=1, custom=True,
                  label="Fit Score"),
        FieldSpec(name="Engagement_Score__c", type="double", precision=5, scale=1, custom=True,
                  label="Engagement Score"),
        _s("Score_Reason__c", 255, custom=True, label="Score Reason"),
        _s("Crmsync_Person_Id__c", 64, custom=True, external_id=True, unique=True,
           label="Crmsync Person Id"),
    )  # fmt: skip


def _person_fields() -> tuple[FieldSpec, ...]:
    return (
        _s("FirstName", 40), _s("LastName", 80, nillable=False),
        _ro("Name", "string", 121, nillable=False), _s("Title", 128),
        _s("Email", 80, kind="email"), _s("Phone", 40, kind="phone"),
        _pick("LeadSource", _LEAD_SOURCES), _bool("HasOptedOutOfEmail"),
        _ro("LastActivityDate", "date"), _s("Description", 32000, kind="textarea"),
    )  # fmt: skip


_LEAD: Final = ObjectSpec(
    "Lead",
    "Lead",
    "Leads",
    "00Q",
    _system()
    + _person_fields()
    + (
        _s("Company", 255, nillable=False),
        _pick("Industry", _INDUSTRIES),
        FieldSpec(name="NumberOfEmployees", type="int", precision=8),
        _num("AnnualRevenue", "currency"),
        _s("Country", 80),
        _s("Website", 255, kind="url"),
        _pick("Status", LEAD_STATUSES, LEAD_STATUSES[0], nillable=False, restricted=True),
        _pick("Rating", ("Hot", "Warm", "Cold")),
        _ro("IsConverted", "boolean", nillable=False, defaulted_on_create=True),
        _ro("ConvertedDate", "date"),
        _ro(
            "ConvertedAccountId",
            "reference",
            18,
            reference_to=("Account",),
            relationship="ConvertedAccount",
        ),
        _ro(
            "ConvertedContactId",
            "reference",
            18,
            reference_to=("Contact",),
            relationship="ConvertedContact",
        ),
        _ro(
            "ConvertedOpportunityId",
            "reference",
            18,
            reference_to=("Opportunity",),
            relationship="ConvertedOpportunity",
        ),
        _ro("MasterRecordId", "reference", 18, reference_to=("Lead",), relationship="MasterRecord"),
    )
    + _funnel_custom(),
)

_CONTACT: Final = ObjectSpec(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    _system()
    + _person_fields()
    + (
        _ref("AccountId", "Account", relationship="Account"),
        _s("Department", 80),
        _s("MailingCountry", 80),
        _ro(
            "MasterRecordId",
            "reference",
            18,
            reference_to=("Contact",),
            relationship="MasterRecord",
        ),
    )
    + _funnel_custom(),
)

_ACCOUNT: Final = ObjectSpec(
    "Account",
    "Account",
    "Accounts",
    "001",
    (
        *_system(),
        _s("Name", 255, nillable=False),
        _pick("Industry", _INDUSTRIES),
        FieldSpec(name="NumberOfEmployees", type="int", precision=8),
        _num("AnnualRevenue", "currency"),
        _s("Website", 255, kind="url"),
        _s("BillingCountry", 80),
        _pick("Type", ("Prospect", "Customer - Direct", "Other")),
    ),
)

_OPPORTUNITY: Final = ObjectSpec(
    "Opportunity",
    "Opportunity",
    "Opportunities",
    "006",
    (
        *_system(),
        _s("Name", 120, nillable=False),
        _ref("AccountId", "Account", relationship="Account"),
        _pick("StageName", OPPORTUNITY_STAGES, nillable=False, restricted=True),
        FieldSpec(name="CloseDate", type="date", nillable=False),
        _num("Amount", "currency"),
        _num("Probability", "percent", 3, 0),
        _ro("IsClosed", "boolean", nillable=False),
        _ro("IsWon", "boolean", nillable=False),
        _pick("LeadSource", _LEAD_SOURCES),
        _ref("ContactId", "Contact", relationship="Contact"),
    ),
)

_OCR: Final = ObjectSpec(
    "OpportunityContactRole",
    "Opportunity Contact Role",
    "Opportunity Contact Role",
    "00K",
    (
        *_system(owner=False),
        _ref("OpportunityId", "Opportunity", relationship="Opportunity", nillable=False),
        _ref("ContactId", "Contact", relationship="Contact", nillable=False),
        _pick("Role", ("Decision Maker", "Economic Buyer", "Evaluator", "Influencer", "Other")),
        _bool("IsPrimary"),
    ),
)

_ACTIVITY_COMMON: Final = (
    _ref("WhoId", "Contact", "Lead", relationship="Who"),
    _ref("WhatId", "Account", "Opportunity", "Campaign", relationship="What"),
    FieldSpec(name="Subject", type="combobox", length=255),
    _pick("Type", ("Call", "Email", "Meeting", "Other")),
    _s("Description", 32000, kind="textarea"),
    FieldSpec(name="ActivityDate", type="date"),
    _ro("IsArchived", "boolean", nillable=False, defaulted_on_create=True),
)

_TASK: Final = ObjectSpec(
    "Task",
    "Task",
    "Tasks",
    "00T",
    _system()
    + _ACTIVITY_COMMON
    + (
        _pick(
            "Status",
            ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            "Not Started",
            nillable=False,
        ),
        FieldSpec(
            name="TaskSubtype",
            type="picklist",
            length=40,
            updateable=False,
            picklist=("Task", "Email", "List Email", "Call", "LinkedIn"),
        ),
        _pick("CallType", ("Internal", "Inbound", "Outbound")),
        _s("CallDisposition", 255),
        FieldSpec(name="CallDurationInSeconds", type="int", precision=9),
        FieldSpec(name="CompletedDateTime", type="datetime"),
        _ro("IsClosed", "boolean", nillable=False),
    ),
)

_EVENT: Final = ObjectSpec(
    "Event",
    "Event",
    "Events",
    "00U",
    _system()
    + _ACTIVITY_COMMON
    + (
        FieldSpec(name="ActivityDateTime", type="datetime"),
        FieldSpec(name="StartDateTime", type="datetime"),
        FieldSpec(name="EndDateTime", type="datetime"),
        FieldSpec(name="DurationInMinutes", type="int", precision=8),
        _bool("IsAllDayEvent"),
        FieldSpec(
            name="EventSubtype", type="picklist", length=40, updateable=False, picklist=("Event",)
        ),
    ),
)

_CAMPAIGN: Final = ObjectSpec(
    "Campaign",
    "Campaign",
    "Campaigns",
    "701",
    (
        *_system(),
        _s("Name", 80, nillable=False),
        _pick("Type", ("Conference", "Webinar", "Email", "Advertisement", "Other")),
        _pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
        _bool("IsActive"),
        FieldSpec(name="StartDate", type="date"),
    ),
)

_CAMPAIGN_MEMBER: Final = ObjectSpec(
    "CampaignMember",
    "Campaign Member",
    "Campaign Members",
    "00v",
    (
        *_system(owner=False),
        _ref("CampaignId", "Campaign", relationship="Campaign", nillable=False),
        _ref("LeadId", "Lead", relationship="Lead"),
        _ref("ContactId", "Contact", relationship="Contact"),
        _ro("LeadOrContactId", "reference", 18, reference_to=("Contact", "Lead")),
        _pick("Status", ("Sent", "Responded"), "Sent"),
        _ro("HasResponded", "boolean", nillable=False),
        _ro("FirstRespondedDate", "date"),
    ),
)

_USER: Final = ObjectSpec(
    "User",
    "User",
    "Users",
    "005",
    (
        *_system(owner=False),
        _s("Username", 80, nillable=False),
        _s("FirstName", 40),
        _s("LastName", 80, nillable=False),
        _ro("Name", "string", 121),
        _s("Email", 128, kind="email", nillable=False),
        _bool("IsActive"),
    ),
)

OBJECTS: Final = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _LEAD,
            _CONTACT,
            _ACCOUNT,
            _OPPORTUNITY,
            _OCR,
            _TASK,
            _EVENT,
            _CAMPAIGN,
            _CAMPAIGN_MEMBER,
            _USER,
        )
    }
)
_BY_LOWER: Final = {name.lower(): spec for name, spec in OBJECTS.items()}
_BY_PREFIX: Final = {spec.key_prefix: spec for spec in OBJECTS.values()}


def object_spec(name: str) -> ObjectSpec | None:
    """The object called ``name`` (case-insensitive, as Salesforce resolves sObject names)."""
    return _BY_LOWER.get(name.lower())


def object_for_id(record_id: str) -> ObjectSpec | None:
    """The object an Id belongs to, by its three-character key prefix."""
    return _BY_PREFIX.get(record_id[:3])
