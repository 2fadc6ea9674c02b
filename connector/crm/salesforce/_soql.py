"""SOQL builders. Every value goes through ``format_soql``; field names come from the mapping
and describe, never from record data, and are checked against a strict pattern."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from simple_salesforce.format import format_soql

from connector.errors import FatalApiError, System

__all__ = [
    "ACTIVITY_FIELDS",
    "PEOPLE_SYSTEM_FIELDS",
    "activity_query",
    "campaign_member_query",
    "changed_roles_query",
    "converted_query",
    "count_query",
    "people_query",
    "roles_query",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")

#: Fields every person pull selects, besides the ones the mapping asks for.
PEOPLE_SYSTEM_FIELDS: dict[str, tuple[str, ...]] = {
    "Lead": (
        "Id",
        "SystemModstamp",
        "IsDeleted",
        "Email",
        "IsConverted",
        "ConvertedContactId",
        "ConvertedAccountId",
        "ConvertedOpportunityId",
        "MasterRecordId",
        "CreatedDate",
    ),
    "Contact": ("Id", "SystemModstamp", "IsDeleted", "Email", "MasterRecordId", "CreatedDate"),
}

ACTIVITY_FIELDS: dict[str, tuple[str, ...]] = {
    "Task": (
        "Id",
        "WhoId",
        "WhatId",
        "Subject",
        "Type",
        "TaskSubtype",
        "Status",
        "ActivityDate",
        "CompletedDateTime",
        "CallType",
        "CallDurationInSeconds",
        "CallDisposition",
        "IsClosed",
        "IsDeleted",
        "IsArchived",
        "CreatedDate",
        "SystemModstamp",
    ),
    "Event": (
        "Id",
        "WhoId",
        "WhatId",
        "Subject",
        "Type",
        "EventSubtype",
        "ActivityDate",
        "ActivityDateTime",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
        "IsDeleted",
        "IsArchived",
        "CreatedDate",
        "SystemModstamp",
    ),
    "CampaignMember": (
        "Id",
        "CampaignId",
        "LeadId",
        "ContactId",
        "Status",
        "HasResponded",
        "FirstRespondedDate",
        "IsDeleted",
        "CreatedDate",
        "SystemModstamp",
    ),
    "OpportunityContactRole": (
        "Id",
        "ContactId",
        "OpportunityId",
        "Role",
        "IsPrimary",
        "IsDeleted",
        "SystemModstamp",
        "Opportunity.StageName",
        "Opportunity.IsClosed",
        "Opportunity.IsWon",
        "Opportunity.Amount",
        "Opportunity.CloseDate",
    ),
}


def _names(fields: Sequence[str]) -> str:
    for name in fields:
        if not _NAME.match(name):
            raise FatalApiError(System.SALESFORCE, f"not a field name: {name[:40]!r}")
    return ", ".join(dict.fromkeys(fields))


def _window(start: datetime | None, end: datetime) -> str:
    if start is None:
        return format_soql("SystemModstamp < {}", end)
    return format_soql("SystemModstamp >= {} AND SystemModstamp < {}", start, end)


def _object(object_type: str) -> str:
    if not _NAME.match(object_type) or "." in object_type:
        raise FatalApiError(System.SALESFORCE, f"not an object name: {object_type[:40]!r}")
    return object_type


# Field and object names are validated by _names/_object and inserted with ``:literal``; every
# value is quoted by format_soql itself.


def people_query(
    object_type: str,
    fields: Sequence[str],
    start: datetime | None,
    end: datetime,
    *,
    ordered: bool = True,
) -> str:
    """Changed people in ``[start, end)``, ordered by ``(SystemModstamp, Id)``."""
    selected = _names([*PEOPLE_SYSTEM_FIELDS[object_type], *fields])
    order = " ORDER BY SystemModstamp, Id" if ordered else ""
    return format_soql(
        "SELECT {:literal} FROM {:literal} WHERE {:literal}{:literal}",
        selected,
        _object(object_type),
        _window(start, end),
        order,
    )


def people_by_ids_query(object_type: str, fields: Sequence[str], ids: Sequence[str]) -> str:
    """The given people, deleted ones too (``queryAll``), in ``Id`` order."""
    return format_soql(
        "SELECT {:literal} FROM {:literal} WHERE Id IN {} ORDER BY Id",
        _names([*PEOPLE_SYSTEM_FIELDS[object_type], *fields]),
        _object(object_type),
        list(ids),
    )


def count_query(object_type: str, start: datetime | None, end: datetime) -> str:
    return format_soql(
        "SELECT COUNT() FROM {:literal} WHERE {:literal}", _object(object_type), _window(start, end)
    )


def activity_query(
    object_type: str, who_ids: Sequence[str] | None, start: datetime | None, end: datetime
) -> str:
    """Tasks or Events in the window attached (``WhoId``) to the given people, or to anyone
    when ``who_ids`` is None (one window query costs a page per 2,000 rows, whoever they
    belong to; the caller keeps the rows of people it knows)."""
    who = "WhoId != null" if who_ids is None else format_soql("WhoId IN {}", list(who_ids))
    return format_soql(
        "SELECT {:literal} FROM {:literal} WHERE {:literal} AND {:literal} "
        "ORDER BY SystemModstamp, Id",
        _names(ACTIVITY_FIELDS[object_type]),
        _object(object_type),
        who,
        _window(start, end),
    )


def campaign_member_query(
    person_ids: Sequence[str] | None, start: datetime | None, end: datetime
) -> str:
    """Campaign members in the window: of the given Leads and Contacts, or of anyone."""
    if person_ids is None:
        who = "(LeadId != null OR ContactId != null)"
    else:
        ids = list(person_ids)
        who = format_soql("(LeadId IN {} OR ContactId IN {})", ids, ids)
    return format_soql(
        "SELECT {:literal} FROM CampaignMember WHERE {:literal} AND {:literal} "
        "ORDER BY SystemModstamp, Id",
        _names(ACTIVITY_FIELDS["CampaignMember"]),
        who,
        _window(start, end),
    )


def roles_query(contact_ids: Sequence[str]) -> str:
    """Opportunity roles (and their opportunity's stage) for Contacts, whatever their age: a
    person's opportunity stage is current state, not an event in the window."""
    return format_soql(
        "SELECT {:literal} FROM OpportunityContactRole WHERE ContactId IN {} ORDER BY Id",
        _names(ACTIVITY_FIELDS["OpportunityContactRole"]),
        list(contact_ids),
    )


def changed_roles_query(start: datetime | None, end: datetime) -> str:
    """Every opportunity role (``start`` None), or those whose role or opportunity changed in
    the window: an opportunity's stage moving changes the person's deal, not the role row."""
    if start is None:
        where = format_soql("SystemModstamp < {}", end)
    else:
        where = format_soql(
            "(SystemModstamp >= {} OR Opportunity.SystemModstamp >= {}) AND SystemModstamp < {}",
            start,
            start,
            end,
        )
    return format_soql(
        "SELECT {:literal} FROM OpportunityContactRole WHERE {:literal} ORDER BY Id",
        _names(ACTIVITY_FIELDS["OpportunityContactRole"]),
        where,
    )


def converted_query(lead_ids: Sequence[str]) -> str:
    return format_soql(
        "SELECT Id, IsConverted, ConvertedContactId FROM Lead WHERE Id IN {}", list(lead_ids)
    )
