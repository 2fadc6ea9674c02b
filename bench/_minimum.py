"""The batching minimum of issue 10, computed from what the sandbox holds and what a run wrote.

Salesforce: ``ceil(rows / 2000)`` query pages per object read (an empty window still costs its
one page) plus ``ceil(writes / 200)`` collections. HubSpot: ``ceil(contacts / 200)`` search
pages plus, per engagement type read (emails, calls, meetings, notes, tasks, and deals),
``ceil(contacts / 100)`` association reads and ``ceil(engagements / 100)`` batch reads, plus
``ceil(writes / 100)`` batch writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from math import ceil
from typing import Any

from connector.sandbox.runner import Sandbox

__all__ = ["ENGAGEMENT_TYPES", "Holdings", "Minimum", "full_sync_minimum", "holdings", "minimum"]

ENGAGEMENT_TYPES = ("emails", "calls", "meetings", "notes", "tasks", "deals")
ACTIVITY_OBJECTS = ("Task", "Event", "CampaignMember", "OpportunityContactRole")


@dataclass(frozen=True)
class Minimum:
    salesforce: int
    hubspot: int
    detail: dict[str, int]

    @property
    def total(self) -> int:
        return self.salesforce + self.hubspot


def _pages(rows: int, size: int) -> int:
    return max(1, ceil(rows / size))


def _written(report: dict[str, Any], system: str) -> int:
    return sum(int(n) for key, n in report.get("written", {}).items() if key.startswith(system))


def minimum(
    *,
    salesforce_rows: dict[str, int],
    salesforce_writes: int,
    contacts_searched: int,
    contacts_with_activity: Collection[str],
    sandbox: Sandbox,
    hubspot_writes: int,
) -> Minimum:
    """The minimum for reading ``salesforce_rows`` (rows per object), searching
    ``contacts_searched`` contacts and reading the activity of ``contacts_with_activity``."""
    detail = {f"salesforce {name} pages": _pages(n, 2000) for name, n in salesforce_rows.items()}
    detail["salesforce collections"] = ceil(salesforce_writes / 200)
    detail["hubspot search pages"] = _pages(contacts_searched, 200)
    store = sandbox.hubspot.store
    wanted = set(contacts_with_activity)
    if wanted:
        per_type = ceil(len(wanted) / 100)
        for name in ENGAGEMENT_TYPES:
            engaged = {
                target
                for source in wanted
                for target in store.links.targets("contacts", source, name)
            }
            detail[f"hubspot {name} association reads"] = per_type
            detail[f"hubspot {name} batch reads"] = ceil(len(engaged) / 100)
    detail["hubspot batch writes"] = ceil(hubspot_writes / 100)
    salesforce = sum(n for key, n in detail.items() if key.startswith("salesforce"))
    return Minimum(salesforce, sum(detail.values()) - salesforce, detail)


@dataclass(frozen=True)
class Holdings:
    """What a full sync must read: Salesforce rows per object and HubSpot contact ids."""

    salesforce_rows: dict[str, int]
    contacts: list[str]


def holdings(sandbox: Sandbox) -> Holdings:
    """Take stock before the full sync (its own creates are not read by it)."""
    sf = sandbox.salesforce.store
    rows = {name: len(sf.table(name).rows) for name in ("Lead", "Contact")}
    for name in ACTIVITY_OBJECTS:
        table = sf.table(name).rows.values()
        if name in ("Task", "Event"):
            rows[name] = sum(1 for row in table if row.get("WhoId"))
        else:
            rows[name] = len(table)
    return Holdings(rows, [record.id for record in sandbox.hubspot.store.records("contacts")])


def full_sync_minimum(sandbox: Sandbox, held: Holdings, report: dict[str, Any]) -> Minimum:
    """The minimum for a full initial sync of what the sandbox held, and the run's writes."""
    return minimum(
        salesforce_rows=held.salesforce_rows,
        salesforce_writes=_written(report, "salesforce"),
        contacts_searched=len(held.contacts),
        contacts_with_activity=held.contacts,
        sandbox=sandbox,
        hubspot_writes=_written(report, "hubspot"),
    )
