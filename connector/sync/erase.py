"""Erasure requests in the CRMs: delete every record crmsync ever linked to a person.

``crmsync forget EMAIL --in-crms`` asks both CRMs to delete the person's records through their
APIs (Salesforce collections DELETE, HubSpot batch archive) *before* erasing the state store,
because the state store is what knows which records are the person's. When a CRM refuses any
deletion, the state store is kept so the request can be repeated; deleting is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connector.crm.types import CrmSink, DeleteRequest
from connector.errors import System
from connector.funnel import SourceRef
from connector.state import StateStore

__all__ = ["Erasure", "delete_in_crms", "linked_records"]


@dataclass
class Erasure:
    """What the CRMs answered: records deleted, and the ones refused with their reason."""

    deleted: list[SourceRef] = field(default_factory=list)
    refused: list[tuple[SourceRef, str]] = field(default_factory=list)


def linked_records(store: StateStore, email: str) -> list[SourceRef]:
    """Every record linked, now or before (converted Leads, merged contacts), to the people
    stored under ``email`` and the people they were merged into."""
    people: set[str] = set()
    for record in store.people.by_email(email):
        person_id: str | None = record.id
        while person_id is not None and person_id not in people:
            people.add(person_id)
            found = store.people.get(person_id)
            person_id = found.merged_into if found is not None else None
    refs: dict[SourceRef, None] = {}
    for person_id in sorted(people):
        for link in store.links.for_person(person_id, include_history=True):
            refs[link.ref] = None
    return list(refs)


def delete_in_crms(refs: list[SourceRef], sinks: Mapping[System, CrmSink]) -> Erasure:
    """Ask each CRM to delete its records among ``refs``; one outcome per record."""
    outcome = Erasure()
    for system, sink in sinks.items():
        mine = [ref for ref in refs if ref.system is system]
        if not mine:
            continue
        requests = [DeleteRequest(object_type=r.object_type, record_id=r.record_id) for r in mine]
        for ref, result in zip(mine, sink.delete(requests), strict=True):
            if result.ok:
                outcome.deleted.append(ref)
            else:
                outcome.refused.append((ref, f"{result.code}: {result.message}"))
    return outcome
