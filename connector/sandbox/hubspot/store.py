"""The emulator's data: object tables, properties, associations, and HubSpot's write rules.

Values are checked by :mod:`._rules` (formats, options, e-mail addresses, read-only and unique
values; batch creates all or nothing). Applied here (reference §1.3, §4.1, §5):

* ``lifecyclestage`` only moves forward: a backward value is ignored (the write still succeeds)
  unless the stage was cleared with ``""`` in an earlier request;
* ``lastmodifieddate``/``hs_lastmodifieddate`` move on every write, strictly increasing;
* each written value is kept in the record's history with the write's stamp and its source (the
  app for API writes, the user for UI edits), for ``propertiesWithHistory``;
* every write is reported to :attr:`HubSpotStore.index`, search's lagging view (:mod:`._index`).

All public methods take the store lock, so tests may read and edit it while the server runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from connector.sandbox.hubspot._auth import SANDBOX_APP_ID, SANDBOX_USER_ID
from connector.sandbox.hubspot._catalogue import (
    ASSOCIATION_TYPES,
    CUSTOM_CONTACT_PROPERTIES,
    OBJECT_TYPES,
    canonical_type,
    catalogue,
)
from connector.sandbox.hubspot._clock import Clock
from connector.sandbox.hubspot._errors import ApiProblem, PropertyError
from connector.sandbox.hubspot._index import VersionIndex, snapshot
from connector.sandbox.hubspot._links import Links
from connector.sandbox.hubspot._records import (
    CALCULATED,
    HistoryEntry,
    ObjectTable,
    Record,
    WriteSource,
    first_entry,
    merge_lists,
)
from connector.sandbox.hubspot._rules import (
    CreateConflict,
    WriteRejected,
    check,
    plan_creates,
    prepare_create,
)
from connector.sandbox.hubspot._schema import PropertyDef
from connector.sandbox.hubspot._values import iso

__all__ = ["HubSpotStore", "Record", "WriteRejected", "WriteSource"]

_FIRST_ID = 100_001
_MODIFIED = {"contacts": ("lastmodifieddate", "hs_lastmodifieddate")}
_DEFAULT_MODIFIED = ("hs_lastmodifieddate",)


_ENGAGEMENTS = frozenset({"emails", "calls", "meetings", "notes", "tasks"})
APP: WriteSource = WriteSource.app(SANDBOX_APP_ID)
"""The private app's writes: the default source of API writes."""
USER: WriteSource = WriteSource.user(SANDBOX_USER_ID)
"""A user in HubSpot's UI: the source of ``user_edit`` writes."""


class HubSpotStore:
    """In-memory HubSpot portal. Ids are numeric strings, unique across object types."""

    def __init__(self, clock: Clock, *, custom_properties: bool = True) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.version = 0
        self._next_id = _FIRST_ID
        self._last_stamp: datetime | None = None
        props = catalogue()
        if custom_properties:
            props["contacts"].update({p.name: p for p in CUSTOM_CONTACT_PROPERTIES})
        self.tables = {name: ObjectTable(name, props[name]) for name in OBJECT_TYPES}
        self.links = Links()
        self.index = VersionIndex()
        """What search sees: records as they were ``index.lag`` ago."""

    # --- lookups ---------------------------------------------------------------------------

    def table(self, object_type: str) -> ObjectTable:
        name = canonical_type(object_type)
        if name is None:
            raise ApiProblem(
                400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}"
            )
        return self.tables[name]

    def get(self, object_type: str, object_id: str) -> Record | None:
        """The live record (following merges), or ``None``."""
        with self.lock:
            return self.table(object_type).resolve(object_id)

    def find(self, object_type: str, id_property: str, value: str) -> Record | None:
        """Look a record up by a unique property (``email``, ``crmsync_person_id``, ...)."""
        with self.lock:
            table = self.table(object_type)
            if id_property in ("hs_object_id", ""):
                return table.resolve(value)
            if id_property not in table.unique_names():
                raise ApiProblem(
                    400,
                    "VALIDATION_ERROR",
                    f"{id_property} is not a unique property and cannot be used as idProperty",
                )
            owner = table.owner_of(id_property, value)
            return table.live.get(owner) if owner else None

    def count(self, object_type: str) -> int:
        with self.lock:
            return len(self.table(object_type).live)

    def records(self, object_type: str) -> list[Record]:
        """A snapshot of the live records in id order."""
        with self.lock:
            return list(self.table(object_type).live.values())

    # --- writes ----------------------------------------------------------------------------

    def stamp(self) -> datetime:
        """Now, to the millisecond, strictly after every earlier stamp."""
        now = self.clock.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def validate(self, object_type: str, record: Record | None, values: Mapping[str, Any]) -> None:
        """Check a write without applying it (raises :class:`WriteRejected`)."""
        with self.lock:
            check(self.table(object_type), record, values, trusted=False)

    def create(
        self,
        object_type: str,
        values: Mapping[str, Any],
        *,
        trusted: bool = False,
        source: WriteSource = APP,
    ) -> Record:
        """Create a record (raises :class:`WriteRejected`). ``trusted`` skips read-only checks."""
        with self.lock:
            table = self.table(object_type)
            clean = prepare_create(table, values, trusted=trusted)
            stamp = self.stamp()
            return self._insert(table, clean, stamp, stamp, source)

    def create_batch(
        self, object_type: str, inputs: Sequence[Mapping[str, Any]], *, source: WriteSource = APP
    ) -> list[Record | list[PropertyError]]:
        """Create records in input order, as ``batch/create`` does: an input with refused values
        answers its errors, and an invalid e-mail address (400) or a unique value that is taken
        (409) refuses the whole call, writing nothing (:func:`._rules.plan_creates`)."""
        with self.lock:
            table = self.table(object_type)
            try:
                planned = plan_creates(table, inputs, trusted=False, first_id=self._next_id)
            except CreateConflict as conflict:
                self._next_id += conflict.ids_used  # rolled back, but the ids stay used
                raise
            out: list[Record | list[PropertyError]] = []
            for item in planned:
                if isinstance(item, list):
                    out.append(item)
                else:
                    stamp = self.stamp()
                    out.append(self._insert(table, item, stamp, stamp, source))
            return out

    def _insert(
        self,
        table: ObjectTable,
        clean: dict[str, str],
        created: datetime,
        modified: datetime,
        source: WriteSource | None,
    ) -> Record:
        num = self._next_id
        self._next_id += 1
        record = Record(str(num), num, {}, created, modified)
        record.props["hs_object_id"] = record.id
        created_name = "createdate" if table.name in ("contacts", "deals") else "hs_createdate"
        record.props[created_name] = iso(created)
        if source is not None:
            record.history = {}  # seeded records (no source) answer first_entry instead
        self._assign(table, record, clean, modified, enforce_lifecycle=False, source=source)
        table.add(record)
        if source is not None:
            self._watch(table, record, live=False)
            self._written(table, record, modified)
        self.version += 1
        return record

    def insert_seeded(
        self, object_type: str, values: dict[str, str], created: datetime, modified: datetime
    ) -> Record:
        """Bulk-load path for seeding: values are trusted and already canonical."""
        with self.lock:
            return self._insert(self.tables[object_type], values, created, modified, None)

    def update(
        self,
        object_type: str,
        record: Record,
        values: Mapping[str, Any],
        *,
        trusted: bool = False,
        user_edit: bool = False,
        source: WriteSource | None = None,
    ) -> Record:
        """Apply a write to ``record`` (raises :class:`WriteRejected`).

        ``user_edit`` mimics an edit in HubSpot's UI: lifecycle stages may move backwards, and
        the history names the user. ``source`` defaults to the private app (or that user).
        """
        with self.lock:
            table = self.table(object_type)
            clean = check(table, record, values, trusted=trusted)
            self._watch(table, record)
            stamp = self.stamp()
            self._assign(
                table,
                record,
                clean,
                stamp,
                enforce_lifecycle=not user_edit,
                source=source or (USER if user_edit else APP),
            )
            self._written(table, record, stamp)
            self.version += 1
            return record

    def _watch(self, table: ObjectTable, record: Record, *, live: bool = True) -> None:
        """Search keeps seeing ``record`` as it is now until the coming write is old enough."""
        if self.index.active:
            here = live and table.live.get(record.id) is record
            self.index.before(table.name, record.id, lambda: snapshot(record) if here else None)

    def _written(self, table: ObjectTable, record: Record, stamp: datetime) -> None:
        if self.index.active:
            here = table.live.get(record.id) is record
            self.index.after(table.name, record.id, stamp, snapshot(record) if here else None)

    def _assign(
        self,
        table: ObjectTable,
        record: Record,
        clean: dict[str, str],
        stamp: datetime,
        *,
        enforce_lifecycle: bool,
        source: WriteSource | None,
    ) -> None:
        when = iso(stamp)
        for name, value in clean.items():
            old = record.props.get(name, "")
            if name == "lifecyclestage" and enforce_lifecycle and self._backward(table, old, value):
                continue
            if old != value and source is not None:
                self._remember(table, record, name, HistoryEntry(value, when, source))
            if value:
                record.props[name] = value
            else:
                record.props.pop(name, None)
            if name in table.unique_names():
                table.reindex(record, name, old, value)
            if name == "lifecyclestage" and value:
                record.props.setdefault(f"hs_lifecyclestage_{value}_date", when)
            if name == "dealstage":
                record.props["hs_is_closed_won"] = "true" if value == "closedwon" else "false"
                closed = value in ("closedwon", "closedlost")
                record.props["hs_is_closed"] = "true" if closed else "false"
        for name in _MODIFIED.get(table.name, _DEFAULT_MODIFIED):
            record.props[name] = when
        record.updated_at = stamp

    @staticmethod
    def _remember(table: ObjectTable, record: Record, name: str, entry: HistoryEntry) -> None:
        """Put ``entry`` first in the value's history (call before the value changes)."""
        if record.history is None:
            record.history = {}
        entries = record.history.get(name)
        if entries is None:
            prop = table.properties.get(name)
            earlier = first_entry(record, name, calculated=prop is not None and prop.calculated)
            entries = record.history[name] = [earlier] if earlier else []
        entries.insert(0, entry)

    @staticmethod
    def _backward(table: ObjectTable, old: str, new: str) -> bool:
        if not old or not new:
            return False
        order = {o.value: o.display_order for o in table.properties["lifecyclestage"].options}
        return order.get(new, 0) < order.get(old, 0)

    def archive(self, object_type: str, record: Record) -> None:
        with self.lock:
            table = self.table(object_type)
            if table.live.get(record.id) is not record:
                return
            self._watch(table, record)
            del table.live[record.id]
            record.archived_at = self.stamp()
            table.archived[record.id] = record
            for name in table.unique_names():
                table.reindex(record, name, record.props.get(name, ""), "")
            self._written(table, record, record.archived_at)
            self.version += 1

    def purge(self, object_type: str, record: Record) -> None:
        """Delete a record for good (GDPR delete): no archived copy to list or restore."""
        with self.lock:
            table = self.table(object_type)
            self._watch(table, record)
            table.live.pop(record.id, None)
            table.archived.pop(record.id, None)
            for name in table.unique_names():
                table.reindex(record, name, record.props.get(name, ""), "")
            self._written(table, record, self.stamp())
            self.version += 1

    def restore(self, object_type: str, object_id: str) -> Record:
        """Restore an archived record, as HubSpot's "Restore records" tool does (within 90
        days): live again under its old id, ``lastmodifieddate`` moves. Refused while a live
        record holds one of its unique values (HubSpot: a contact whose e-mail is taken)."""
        with self.lock:
            table = self.table(object_type)
            record = table.archived.get(object_id)
            if record is None:
                raise ApiProblem(
                    404, "OBJECT_NOT_FOUND", f"Object not found.  objectId: {object_id}"
                )
            for name in table.unique_names():
                value = record.props.get(name, "")
                if value and table.owner_of(name, value) is not None:
                    raise ApiProblem(
                        409, "CONFLICT", f"a live record already has this {name}; cannot restore"
                    )
            self._watch(table, record)
            del table.archived[object_id]
            record.archived_at = None
            stamp = self.stamp()
            for name in _MODIFIED.get(table.name, _DEFAULT_MODIFIED):
                record.props[name] = iso(stamp)
            record.updated_at = stamp
            table.live[record.id] = record
            for name in table.unique_names():
                table.reindex(record, name, "", record.props.get(name, ""))
            self._written(table, record, stamp)
            self.version += 1
            return record

    def merge(
        self, object_type: str, primary_id: str, secondary_id: str, *, source: WriteSource = APP
    ) -> Record:
        """Merge ``secondary_id`` into ``primary_id``; the secondary id then answers the
        survivor. Primary values win, blanks are filled from the secondary, the lifecycle stage
        is the later of the two, and associations move to the survivor."""
        with self.lock:
            table = self.table(object_type)
            primary, secondary = table.live.get(primary_id), table.live.get(secondary_id)
            if primary is None or secondary is None:
                missing = primary_id if primary is None else secondary_id
                raise ApiProblem(404, "OBJECT_NOT_FOUND", f"Object not found.  objectId: {missing}")
            if primary is secondary:
                raise ApiProblem(400, "VALIDATION_ERROR", "Can't merge an object with itself")
            self._watch(table, primary)
            self._watch(table, secondary)
            stamp = self.stamp()
            fill: dict[str, str] = {}
            for name, value in secondary.props.items():
                prop = table.properties.get(name)
                if prop is not None and not prop.read_only_value and not primary.props.get(name):
                    fill[name] = value
            for name in table.unique_names():
                table.reindex(secondary, name, secondary.props.get(name, ""), "")
                fill.pop(name, None)
            stages = [
                s
                for s in (
                    primary.props.get("lifecyclestage"),
                    secondary.props.get("lifecyclestage"),
                )
                if s
            ]
            if len(stages) == 2 and self._backward(table, stages[1], stages[0]):
                fill["lifecyclestage"] = stages[1]
            self._assign(table, primary, fill, stamp, enforce_lifecycle=False, source=source)
            merge_lists(table, primary, secondary, stamp)
            del table.live[secondary.id]
            table.merged_into[secondary.id] = primary.id
            self.links.move(table.name, secondary.id, primary.id)
            for other in self.links.kinds_from(table.name):
                self._count_links(table.name, primary.id, other)
                for to_id in self.links.targets(table.name, primary.id, other):
                    self._count_links(other, to_id, table.name)
            self._written(table, primary, stamp)
            self._written(table, secondary, stamp)
            self.version += 1
            return primary

    # --- associations ----------------------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, *, logged: bool = True
    ) -> int:
        """Link two records both ways with HubSpot's default type ids; answers from->to id.

        ``logged``: an engagement associated through the API is activity logged now, which
        stamps the contact; seeding history passes False.
        """
        with self.lock:
            a, b = self.table(from_type).name, self.table(to_type).name
            forward = ASSOCIATION_TYPES.get((a, b))
            backward = ASSOCIATION_TYPES.get((b, a))
            if forward is None or backward is None:
                raise ApiProblem(
                    400,
                    "VALIDATION_ERROR",
                    f"No association type exists between {a} and {b}",
                    sub_category="crm.associations.INVALID_ASSOCIATION_TYPE",
                )
            self.links.add(a, from_id, b, to_id, forward=forward, backward=backward)
            self._count_links(a, from_id, b)
            self._count_links(b, to_id, a)
            for kind, record_id, other in ((a, from_id, b), (b, to_id, a)):
                if logged and kind == "contacts" and other in _ENGAGEMENTS:
                    self._logged_activity(record_id)
            self.version += 1
            return forward

    def _logged_activity(self, contact_id: str) -> None:
        # HubSpot stamps "Last Activity Date" on a contact when an engagement is logged
        # against it, which also moves its lastmodifieddate (so incremental readers see it).
        table = self.tables["contacts"]
        record = table.live.get(contact_id)
        if record is not None:
            self._watch(table, record)
            stamp = self.stamp()
            self._assign(
                table,
                record,
                {"notes_last_updated": iso(stamp)},
                stamp,
                enforce_lifecycle=True,
                source=CALCULATED,
            )
            self._written(table, record, stamp)

    def _count_links(self, object_type: str, object_id: str, other: str) -> None:
        # HubSpot keeps these calculated counters on contacts and deals.
        name = {
            ("contacts", "deals"): "num_associated_deals",
            ("deals", "contacts"): "num_associated_contacts",
        }.get((object_type, other))
        record = self.tables[object_type].live.get(object_id)
        if name and record is not None:
            record.props[name] = str(len(self.links.targets(object_type, object_id, other)))

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, list[int]]]:
        """``(to id, type ids)`` for one record, in id order, skipping archived targets."""
        with self.lock:
            a, b = self.table(from_type).name, self.table(to_type).name
            targets = self.links.targets(a, from_id, b)
            live = self.tables[b].live
            return [
                (to_id, sorted(types))
                for to_id, types in sorted(targets.items(), key=lambda item: int(item[0]))
                if to_id in live
            ]

    @staticmethod
    def type_for_association(from_type: str, type_id: Any) -> str | None:
        """The object type a HUBSPOT_DEFINED association type id from ``from_type`` points at."""
        for (a, b), known in ASSOCIATION_TYPES.items():
            if a == from_type and known == type_id:
                return b
        return None

    def linked_ids(self, from_type: str, from_id: str, to_type: str) -> set[str]:
        with self.lock:
            return set(self.links.targets(from_type, from_id, to_type))

    # --- properties ------------------------------------------------------------------------

    def properties(self, object_type: str) -> list[PropertyDef]:
        with self.lock:
            return list(self.table(object_type).properties.values())

    def put_property(self, object_type: str, prop: PropertyDef) -> None:
        with self.lock:
            table = self.table(object_type)
            table.properties[prop.name] = prop
            table.refresh()
            self.version += 1
