"""What crmsync knows about CRM fields without asking the CRM.

Two small catalogues serve offline checks: the standard Salesforce Lead/Contact fields and the
default HubSpot contact properties (for "did you mean ...?" on near-miss names and for refusing
writes to fields that are read-only everywhere), and the custom fields crmsync itself needs
(for ``crmsync setup``). Orgs and portals can differ; ``crmsync mappings validate --live`` checks
the real schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from connector.funnel import FunnelStage

__all__ = [
    "CONNECTOR_HUBSPOT_PROPERTIES",
    "CONNECTOR_SALESFORCE_FIELDS",
    "HUBSPOT_OBJECT",
    "SALESFORCE_OBJECTS",
    "STANDARD_HUBSPOT_PROPERTIES",
    "STANDARD_SALESFORCE_FIELDS",
    "ConnectorField",
    "KnownField",
    "describe_connector_field",
]

SALESFORCE_OBJECTS: Final = ("Lead", "Contact")
HUBSPOT_OBJECT: Final = "contacts"


@dataclass(frozen=True, slots=True)
class KnownField:
    """A standard field: its API name, type (as describe/properties report it) and writability."""

    name: str
    type: str
    writable: bool = True


def _fields(spec: str, writable: bool = True) -> dict[str, KnownField]:
    out: dict[str, KnownField] = {}
    for item in spec.split():
        name, kind = item.split(":")
        out[name] = KnownField(name, kind, writable)
    return out


# Sources: Salesforce Lead/Contact field references (see shared reference §5.2) and describe.
_PERSON_FIELDS = (
    "FirstName:string LastName:string MiddleName:string Suffix:string Salutation:picklist "
    "Title:string Phone:phone MobilePhone:phone Fax:phone Email:email Description:textarea "
    "LeadSource:picklist OwnerId:reference HasOptedOutOfEmail:boolean HasOptedOutOfFax:boolean "
    "DoNotCall:boolean Jigsaw:string CleanStatus:picklist EmailBouncedReason:string "
    "EmailBouncedDate:datetime IndividualId:reference RecordTypeId:reference "
    "CurrencyIsoCode:picklist"
)
_SYSTEM_FIELDS = (
    "Id:id IsDeleted:boolean MasterRecordId:reference Name:string CreatedDate:datetime "
    "CreatedById:reference LastModifiedDate:datetime LastModifiedById:reference "
    "SystemModstamp:datetime LastActivityDate:date LastViewedDate:datetime "
    "LastReferencedDate:datetime PhotoUrl:url JigsawContactId:string"
)
_LEAD_ONLY = (
    "Company:string Street:textarea City:string State:string PostalCode:string Country:string "
    "StateCode:picklist CountryCode:picklist Latitude:double Longitude:double "
    "GeocodeAccuracy:picklist Website:url Status:picklist Industry:picklist Rating:picklist "
    "AnnualRevenue:currency NumberOfEmployees:int IsUnreadByOwner:boolean "
    "CompanyDunsNumber:string DandbCompanyId:reference"
)
_LEAD_SYSTEM = (
    "Address:address IsConverted:boolean ConvertedDate:date ConvertedAccountId:reference "
    "ConvertedContactId:reference ConvertedOpportunityId:reference LastTransferDate:date"
)
_CONTACT_ONLY = (
    "AccountId:reference MailingStreet:textarea MailingCity:string MailingState:string "
    "MailingPostalCode:string MailingCountry:string MailingStateCode:picklist "
    "MailingCountryCode:picklist OtherStreet:textarea OtherCity:string OtherState:string "
    "OtherPostalCode:string OtherCountry:string HomePhone:phone OtherPhone:phone "
    "AssistantPhone:phone AssistantName:string ReportsToId:reference Department:string "
    "Birthdate:date"
)
_CONTACT_SYSTEM = (
    "MailingAddress:address OtherAddress:address IsEmailBounced:boolean "
    "LastCURequestDate:datetime LastCUUpdateDate:datetime"
)

STANDARD_SALESFORCE_FIELDS: Final = MappingProxyType(
    {
        "Lead": MappingProxyType(
            _fields(_PERSON_FIELDS)
            | _fields(_LEAD_ONLY)
            | _fields(_SYSTEM_FIELDS, writable=False)
            | _fields(_LEAD_SYSTEM, writable=False)
        ),
        "Contact": MappingProxyType(
            _fields(_PERSON_FIELDS)
            | _fields(_CONTACT_ONLY)
            | _fields(_SYSTEM_FIELDS, writable=False)
            | _fields(_CONTACT_SYSTEM, writable=False)
        ),
    }
)
"""Standard Lead and Contact fields by object, as describe names them."""

# Default HubSpot contact properties (reference: hubspot-api.md §4-5). HubSpot computes the
# read-only ones; an integration writing them gets an error or, worse, a silent no-op.
STANDARD_HUBSPOT_PROPERTIES: Final = MappingProxyType(
    _fields(
        "email:string firstname:string lastname:string jobtitle:string phone:string "
        "mobilephone:string fax:string salutation:string company:string website:string "
        "industry:string numemployees:enumeration annualrevenue:string address:string "
        "city:string state:string zip:string country:string lifecyclestage:enumeration "
        "hs_lead_status:enumeration hubspot_owner_id:enumeration hs_persona:enumeration "
        "hs_language:enumeration message:string twitterhandle:string "
        "hs_legal_basis:enumeration"
    )
    | _fields(
        "hs_object_id:number createdate:datetime lastmodifieddate:datetime "
        "hs_lastmodifieddate:datetime hubspotscore:number hs_predictivecontactscore_v2:number "
        "hs_predictivescoringtier:enumeration hs_merged_object_ids:enumeration "
        "hs_all_contact_vids:enumeration hs_email_domain:string num_associated_deals:number "
        "hs_analytics_source:enumeration hs_analytics_num_page_views:number "
        "hs_analytics_num_visits:number notes_last_updated:datetime "
        "hs_lifecyclestage_lead_date:datetime hs_lifecyclestage_customer_date:datetime "
        "associatedcompanyid:number",
        writable=False,
    )
)
"""Default HubSpot contact properties by internal name."""


@dataclass(frozen=True, slots=True)
class ConnectorField:
    """A custom field crmsync writes; an admin (or ``crmsync setup``) creates it."""

    name: str
    label: str
    type: str  # Salesforce describe type, or HubSpot property type
    length: int | None = None
    options: tuple[str, ...] = ()
    unique: bool = False
    field_type: str = ""  # HubSpot fieldType for creation


_STAGES = tuple(stage.value for stage in FunnelStage)
# Salesforce picklist values conventionally read like their labels; HubSpot internal values are
# lowercase. The shipped value maps (mappings/funnel.yaml) spell each system's way.
_SF_STAGES = tuple(stage.capitalize() for stage in _STAGES)

CONNECTOR_SALESFORCE_FIELDS: Final = (
    ConnectorField("Funnel_Stage__c", "Funnel Stage", "picklist", 255, _SF_STAGES),
    ConnectorField("Lead_Score__c", "Lead Score", "double"),
    ConnectorField("Fit_Score__c", "Fit Score", "double"),
    ConnectorField("Engagement_Score__c", "Engagement Score", "double"),
    ConnectorField("Score_Reason__c", "Score Reason", "string", 255),
    ConnectorField("Crmsync_Person_Id__c", "crmsync Person Id", "string", 64, unique=True),
)
"""Custom fields crmsync needs on both Lead and Contact (restricted picklist for the stage)."""

CONNECTOR_HUBSPOT_PROPERTIES: Final = (
    ConnectorField(
        "crmsync_funnel_stage", "Funnel stage", "enumeration", None, _STAGES, False, "select"
    ),
    ConnectorField("crmsync_lead_score", "Lead score", "number", field_type="number"),
    ConnectorField("crmsync_fit_score", "Fit score", "number", field_type="number"),
    ConnectorField("crmsync_engagement_score", "Engagement score", "number", field_type="number"),
    ConnectorField("crmsync_score_reason", "Score reason", "string", field_type="text"),
    ConnectorField(
        "crmsync_person_id", "crmsync person id", "string", unique=True, field_type="text"
    ),
)
"""Custom contact properties crmsync needs in HubSpot."""


def describe_connector_field(field: ConnectorField) -> str:
    """How an admin creates ``field``: its type, length and options, in one line."""
    text = f"{field.type} {field.name!r} labelled {field.label!r}"
    if field.length:
        text += f", length {field.length}"
    if field.options:
        restricted = "restricted, " if field.type == "picklist" else ""
        text += f", {restricted}values " + ", ".join(field.options)
    if field.unique:
        text += ", unique" + (
            " external id" if field.type == "string" and "__c" in field.name else ""
        )
    return text
