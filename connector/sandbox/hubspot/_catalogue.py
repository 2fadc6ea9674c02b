"""The object types the emulator serves, their default properties and association types.

Values come from the reference: lifecycle stages and lead statuses (§4), engagement properties
(§2.2), association type ids (§2.3, from the SDK's ``association_type.py``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from connector.sandbox.hubspot._engagements import CALL_DISPOSITIONS, engagement_properties
from connector.sandbox.hubspot._propbuild import BOOL_OPTIONS, calculated, common, prop
from connector.sandbox.hubspot._schema import PropertyDef, options

__all__ = [
    "ASSOCIATION_TYPES",
    "CALL_DISPOSITIONS",
    "CUSTOM_CONTACT_PROPERTIES",
    "DEFAULT_PROPERTIES",
    "LIFECYCLE_STAGES",
    "OBJECT_TYPES",
    "SINGULAR",
    "canonical_type",
    "catalogue",
    "default_properties",
    "type_id",
]

OBJECT_TYPES: Final = ("contacts", "deals", "emails", "calls", "meetings", "notes", "tasks")
SINGULAR: Final = MappingProxyType(
    {
        "contacts": "contact",
        "deals": "deal",
        "emails": "email",
        "calls": "call",
        "meetings": "meeting",
        "notes": "note",
        "tasks": "task",
    }
)
_TYPE_IDS: Final = {
    "0-1": "contacts",
    "0-3": "deals",
    "0-49": "emails",
    "0-48": "calls",
    "0-47": "meetings",
    "0-46": "notes",
    "0-27": "tasks",
}


def type_id(object_type: str) -> str:
    """HubSpot's ``0-1``-style id of an object type."""
    return next(key for key, name in _TYPE_IDS.items() if name == object_type)


def canonical_type(name: str) -> str | None:
    """``contacts``, ``contact``, ``CONTACT`` or ``0-1`` all name the contacts type."""
    lowered = name.lower()
    if lowered in SINGULAR:
        return lowered
    for plural, singular in SINGULAR.items():
        if lowered == singular:
            return plural
    return _TYPE_IDS.get(lowered)


# HUBSPOT_DEFINED association type ids, (from, to) -> id.
ASSOCIATION_TYPES: Final = MappingProxyType(
    {
        ("deals", "contacts"): 3,
        ("contacts", "deals"): 4,
        ("contacts", "calls"): 193,
        ("calls", "contacts"): 194,
        ("contacts", "emails"): 197,
        ("emails", "contacts"): 198,
        ("contacts", "meetings"): 199,
        ("meetings", "contacts"): 200,
        ("contacts", "notes"): 201,
        ("notes", "contacts"): 202,
        ("contacts", "tasks"): 203,
        ("tasks", "contacts"): 204,
        ("deals", "calls"): 205,
        ("calls", "deals"): 206,
        ("deals", "emails"): 209,
        ("emails", "deals"): 210,
        ("deals", "meetings"): 211,
        ("meetings", "deals"): 212,
        ("deals", "notes"): 213,
        ("notes", "deals"): 214,
        ("deals", "tasks"): 215,
        ("tasks", "deals"): 216,
    }
)

LIFECYCLE_STAGES: Final = options(
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
_LEAD_STATUS: Final = options(
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
)
_SOURCES: Final = options(
    ("ORGANIC_SEARCH", "Organic Search"),
    ("PAID_SEARCH", "Paid Search"),
    ("EMAIL_MARKETING", "Email Marketing"),
    ("SOCIAL_MEDIA", "Organic Social"),
    ("REFERRALS", "Referrals"),
    ("OTHER_CAMPAIGNS", "Other Campaigns"),
    ("DIRECT_TRAFFIC", "Direct Traffic"),
    ("OFFLINE", "Offline Sources"),
    ("PAID_SOCIAL", "Paid Social"),
)
_DEAL_STAGES: Final = options(
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
)


def _contacts() -> list[PropertyDef]:
    g = "contactinformation"
    props = common(g, contacts=True)
    props += [
        prop("email", "Email", "string", "text", g, form_field=True),
        prop("firstname", "First Name", "string", "text", g, form_field=True),
        prop("lastname", "Last Name", "string", "text", g, form_field=True),
        prop("phone", "Phone Number", "string", "phonenumber", g, form_field=True),
        prop("jobtitle", "Job Title", "string", "text", g, form_field=True),
        prop("company", "Company Name", "string", "text", g, form_field=True),
        prop("website", "Website URL", "string", "text", g),
        prop("country", "Country/Region", "string", "text", g),
        prop("industry", "Industry", "string", "text", g),
        prop(
            "numemployees",
            "Number of Employees",
            "enumeration",
            "select",
            g,
            options=options(
                ("1-5", "1-5"),
                ("5-25", "5-25"),
                ("25-50", "25-50"),
                ("50-100", "50-100"),
                ("100-500", "100-500"),
                ("500-1000", "500-1000"),
                ("1000+", "1000+"),
            ),
        ),
        prop("annualrevenue", "Annual Revenue", "string", "text", g),
        prop(
            "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g, options=LIFECYCLE_STAGES
        ),
        prop("hs_lead_status", "Lead Status", "enumeration", "radio", g, options=_LEAD_STATUS),
        calculated(
            "hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", g
        ),
        calculated(
            "hs_calculated_merged_vids",
            "Merged Contact IDs with timestamps",
            "enumeration",
            "checkbox",
            g,
        ),
        calculated("hs_email_domain", "Email Domain", "string", "text", g),
        calculated("hubspotscore", "HubSpot Score", "number", "number", g),
        calculated("num_associated_deals", "Number of Associated Deals", "number", "number", g),
        calculated(
            "hs_analytics_source",
            "Original Traffic Source",
            "enumeration",
            "select",
            "analyticsinformation",
            options=_SOURCES,
        ),
        calculated(
            "notes_last_updated",
            "Last Activity Date",
            "datetime",
            "date",
            "contactinformation",
        ),
        calculated(
            "hs_analytics_num_page_views",
            "Number of Pageviews",
            "number",
            "number",
            "analyticsinformation",
        ),
        calculated(
            "hs_analytics_num_visits",
            "Number of Sessions",
            "number",
            "number",
            "analyticsinformation",
        ),
        calculated(
            "num_conversion_events",
            "Number of Form Submissions",
            "number",
            "number",
            "conversioninformation",
        ),
        calculated(
            "num_unique_conversion_events",
            "Number of Unique Forms Submitted",
            "number",
            "number",
            "conversioninformation",
        ),
        calculated(
            "first_conversion_event_name",
            "First Conversion",
            "string",
            "text",
            "conversioninformation",
        ),
        calculated(
            "first_conversion_date",
            "First Conversion Date",
            "datetime",
            "date",
            "conversioninformation",
        ),
        calculated(
            "recent_conversion_event_name",
            "Recent Conversion",
            "string",
            "text",
            "conversioninformation",
        ),
        calculated(
            "recent_conversion_date",
            "Recent Conversion Date",
            "datetime",
            "date",
            "conversioninformation",
        ),
        calculated(
            "notes_last_contacted", "Last Contacted", "datetime", "date", "sales_properties"
        ),
        calculated(
            "num_contacted_notes",
            "Number of times contacted",
            "number",
            "number",
            "sales_properties",
        ),
    ]
    for stage in LIFECYCLE_STAGES:
        props.append(
            calculated(
                f"hs_lifecyclestage_{stage.value}_date",
                f"Became a {stage.label} Date",
                "datetime",
                "date",
                g,
            )
        )
    return props


def _deals() -> list[PropertyDef]:
    g = "dealinformation"
    return [
        *common(g),
        calculated("createdate", "Create Date", "datetime", "date", g),
        prop("dealname", "Deal Name", "string", "text", g),
        prop(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            g,
            options=options(("default", "Sales Pipeline")),
        ),
        prop("dealstage", "Deal Stage", "enumeration", "radio", g, options=_DEAL_STAGES),
        prop("amount", "Amount", "number", "number", g),
        prop("closedate", "Close Date", "datetime", "date", g),
        calculated(
            "hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", g, options=BOOL_OPTIONS
        ),
        calculated(
            "hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", g, options=BOOL_OPTIONS
        ),
        calculated(
            "num_associated_contacts", "Number of Associated Contacts", "number", "number", g
        ),
    ]


def catalogue() -> dict[str, dict[str, PropertyDef]]:
    """Fresh HubSpot-defined property maps for every object type."""
    built = {
        "contacts": _contacts(),
        "deals": _deals(),
        **engagement_properties(),
    }
    return {kind: {p.name: p for p in props} for kind, props in built.items()}


_CRMSYNC_GROUP: Final = "crmsync"
_FUNNEL: Final = options(
    ("lead", "Lead"),
    ("prospect", "Prospect"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("disqualified", "Disqualified"),
)
# The custom properties the default mapping writes; the connector's setup may also create them.
CUSTOM_CONTACT_PROPERTIES: Final = (
    PropertyDef(
        "crmsync_funnel_stage",
        "Funnel stage (crmsync)",
        "enumeration",
        "select",
        _CRMSYNC_GROUP,
        options=_FUNNEL,
        read_only_definition=False,
        hubspot_defined=False,
    ),
    PropertyDef(
        "crmsync_lead_score",
        "Lead score (crmsync)",
        "number",
        "number",
        _CRMSYNC_GROUP,
        read_only_definition=False,
        hubspot_defined=False,
    ),
    PropertyDef(
        "crmsync_fit_score",
        "Fit score (crmsync)",
        "number",
        "number",
        _CRMSYNC_GROUP,
        read_only_definition=False,
        hubspot_defined=False,
    ),
    PropertyDef(
        "crmsync_engagement_score",
        "Engagement score (crmsync)",
        "number",
        "number",
        _CRMSYNC_GROUP,
        read_only_definition=False,
        hubspot_defined=False,
    ),
    PropertyDef(
        "crmsync_score_reason",
        "Score reason (crmsync)",
        "string",
        "textarea",
        _CRMSYNC_GROUP,
        read_only_definition=False,
        hubspot_defined=False,
    ),
    PropertyDef(
        "crmsync_person_id",
        "Person id (crmsync)",
        "string",
        "text",
        _CRMSYNC_GROUP,
        has_unique_value=True,
        read_only_definition=False,
        hubspot_defined=False,
    ),
)

# Properties answered when a read names none (reference §1.1, §1.5).
DEFAULT_PROPERTIES: Final = MappingProxyType(
    {
        "contacts": (
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ),
        "deals": (
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ),
    }
)
_ENGAGEMENT_DEFAULTS: Final = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")


def default_properties(object_type: str) -> tuple[str, ...]:
    return DEFAULT_PROPERTIES.get(object_type, _ENGAGEMENT_DEFAULTS)
