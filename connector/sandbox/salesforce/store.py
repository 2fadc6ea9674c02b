"""In-memory tables of the Salesforce emulator: one per object, indexed by Id and external Id.

Rows are plain dicts keyed by the canonical field names of :mod:`.schema`; values are Python
values (``str``, ``bool``, ``int``, ``float``, ``date``, aware ``datetime``, ``None``). Deleted
rows stay in their table with ``IsDeleted = true`` (the Recycle Bin) so ``queryAll`` and getDeleted
can see them. One re-entrant lock guards everything: the app mutates from its event loop while
tests and benchmarks may read from other threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.sandbox.salesforce._values import IdFactory, ModstampClock
from connector.sandbox.salesforce.schema import OBJECTS, ObjectSpec, object_for_id

__all__ = ["Row", "SalesforceStore", "Table"]

Row = dict[str, Any]


@dataclass
class Table:
    """The rows of one object, with a unique index per external-Id field."""

    spec: ObjectSpec
    rows: dict[str, Row] = field(default_factory=dict)
    external: dict[str, dict[str, str]] = field(default_factory=dict)
    deleted_log: list[tuple[str, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for spec in self.spec.fields:
            if spec.external_id:
                self.external[spec.name] = {}

    def by_external(self, field_name: str, value: str) -> str | None:
        # External Ids are case-insensitive unless marked case-sensitive, as in Salesforce.
        return self.external[field_name].get(value.lower())

    def live_count(self) -> int:
        return sum(1 for row in self.rows.values() if not row["IsDeleted"])


class SalesforceStore:
    """All tables, the Id factory, the write clock and the integration user's Id."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = IdFactory()
        self.clock = ModstampClock()
        self.tables: dict[str, Table] = {name: Table(spec) for name, spec in OBJECTS.items()}
        self.integration_user_id = ""

    def table(self, sobject: str) -> Table:
        return self.tables[sobject]

    def get(self, record_id: str) -> Row | None:
        """Any row by Id (deleted ones included), found through the Id's key prefix."""
        spec = object_for_id(record_id)
        if spec is None:
            return None
        return self.tables[spec.name].rows.get(record_id)

    def put(self, sobject: str, values: Row, *, stamp: datetime, created: datetime) -> Row:
        """Insert a row as given, filling system fields; no validation (seeding, conversion)."""
        table = self.tables[sobject]
        # Rows are sparse (absent = null) so 200,000-record worlds stay small in memory.
        row: Row = {}
        for spec in table.spec.fields:
            if spec.type == "boolean":
                row[spec.name] = False
            elif spec.default_value is not None:
                row[spec.name] = spec.default_value
        row.update(values)
        with self.lock:
            row["Id"] = self.ids.new(table.spec.key_prefix)
            row["IsDeleted"] = False
            row["CreatedDate"] = created
            row["LastModifiedDate"] = stamp
            row["SystemModstamp"] = stamp
            row["CreatedById"] = row["LastModifiedById"] = self.integration_user_id or None
            if table.spec.field("OwnerId") and row.get("OwnerId") is None:
                row["OwnerId"] = self.integration_user_id or None
            derive(sobject, row)
            table.rows[row["Id"]] = row
            self.index(table, row)
        return row

    def index(self, table: Table, row: Row, previous: Row | None = None) -> None:
        for name, index in table.external.items():
            if previous is not None and previous.get(name) is not None:
                index.pop(str(previous[name]).lower(), None)
            if row.get(name) is not None:
                index[str(row[name]).lower()] = row["Id"]

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per object: live and in the Recycle Bin."""
        with self.lock:
            out: dict[str, dict[str, int]] = {}
            for name, table in self.tables.items():
                live = table.live_count()
                out[name] = {"live": live, "deleted": len(table.rows) - live}
            return out


def derive(sobject: str, row: Row) -> None:
    """Recompute the read-only fields Salesforce derives from others."""
    if sobject in ("Lead", "Contact", "User"):
        parts = [row.get("FirstName"), row.get("LastName")]
        row["Name"] = " ".join(part for part in parts if part) or None
    if sobject == "Opportunity":
        stage = row.get("StageName")
        row["IsClosed"] = stage in ("Closed Won", "Closed Lost")
        row["IsWon"] = stage == "Closed Won"
    elif sobject == "Task":
        row["IsClosed"] = row.get("Status") == "Completed"
    elif sobject == "CampaignMember":
        row["LeadOrContactId"] = row.get("ContactId") or row.get("LeadId")
        row["HasResponded"] = row.get("Status") == "Responded"
