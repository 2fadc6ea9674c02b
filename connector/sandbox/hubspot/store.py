"""The emulator's data: object tables, properties, associations, and HubSpot's write rules.

Write rules enforced here (reference §1.3, §4.1, §5):

* every value is a string; formats are checked per property type and enumerations refuse
  unknown options (``INVALID_OPTION``);
* read-only properties (``modificationMetadata.readOnlyValue``) refuse writes (``READ_ONLY_VALUE``);
* unknown properties are refused (``PROPERTY_DOESNT_EXIST``);
* ``email`` and ``hasUniqueValue`` properties refuse a value another record holds (``CONFLICT``);
* ``lifecyclestage`` only moves forward: a backward value is ignored (the write still succeeds)
  unless the stage was cleared with ``""`` in an earlier request;
* ``lastmodifieddate``/``hs_lastmodifieddate`` move on every write, strictly increasing.

All public methods take the store lock, so tests may read and edit it while the server runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from connector.sandbox.hubspot._catalogue import (
    ASSOCIATION_TYPES,
    CUSTOM_CONTACT_PROPERTIES,
    OBJECT_TYPES,
    canonical_type,
    catalogue,
)
from connector.sandbox.hubspot._clock import Clock
from connector.sandbox.hubspot._errors import ApiProblem, PropertyError
from connector.sandbox.hubspot._records import ObjectTable, Record
from connector.sandbox.hubspot._schema import PropertyDef
from connector.sandbox.hubspot._values import iso, normalise

__all__ = ["HubSpotStore", "Record", "WriteRejected"]

_FIRST_ID = 100_001
_MODIFIED = {"contacts": ("lastmodifieddate", "hs_lastmodifieddate")}
_DEFAULT_MODIFIED = ("hs_lastmodifieddate",)


_ENGAGEMENTS = frozenset({"emails", "calls", "meetings", "notes", "tasks"})


class WriteRejected(Exception):
    """A write refused property by property; nothing was changed."""

    def __init__(self, errors: list[PropertyError]) -> None:
        super().__init__(f"{len(errors)} property error(s)")
        self.errors = errors


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
        # (from type, to type) -> from id -> to id -> association type ids
        self.links: dict[tuple[str, str], dict[str, dict[str, set[int]]]] = {}

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

    def _check(
        self, table: ObjectTable, record: Record | None, values: Mapping[str, Any], trusted: bool
    ) -> dict[str, str]:
        errors: list[PropertyError] = []
        clean: dict[str, str] = {}
        for name, raw in values.items():
            prop = table.properties.get(name)
            if prop is None:
                errors.append(
                    PropertyError(
                        name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
                    )
                )
                continue
            if prop.read_only_value and not trusted:
                errors.append(
                    PropertyError(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a read only property; its value cannot be set.',
                    )
                )
                continue
            value = normalise(prop, raw)
            if isinstance(value, PropertyError):
                errors.append(value)
                continue
            clean[name] = value
        for name in table.unique_names():
            unique = clean.get(name)
            if not unique:
                continue
            owner = table.owner_of(name, unique)
            if owner is not None and (record is None or owner != record.id):
                message = (
                    f"Contact already exists. Existing ID: {owner}"
                    if name == "email"
                    else f"A record with {name}={unique!r} already exists. Existing ID: {owner}"
                )
                errors.append(PropertyError(name, "CONFLICT", message))
        if errors:
            raise WriteRejected(errors)
        return clean

    def validate(self, object_type: str, record: Record | None, values: Mapping[str, Any]) -> None:
        """Check a write without applying it (raises :class:`WriteRejected`)."""
        with self.lock:
            self._check(self.table(object_type), record, values, trusted=False)

    def create(
        self, object_type: str, values: Mapping[str, Any], *, trusted: bool = False
    ) -> Record:
        """Create a record (raises :class:`WriteRejected`). ``trusted`` skips read-only checks."""
        with self.lock:
            table = self.table(object_type)
            clean = self._check(table, None, values, trusted)
            if table.name == "meetings" and not clean.get("hs_timestamp"):
                # HubSpot defaults a meeting's timeline time to its start time.
                clean["hs_timestamp"] = clean.get("hs_meeting_start_time", "")
            missing = [name for name in _required(table.name) if not clean.get(name)]
            if missing:
                raise WriteRejected(
                    [PropertyError(n, "REQUIRED", f"{n} is required") for n in missing]
                )
            stamp = self.stamp()
            return self._insert(table, clean, stamp, stamp)

    def _insert(
        self, table: ObjectTable, clean: dict[str, str], created: datetime, modified: datetime
    ) -> Record:
        num = self._next_id
        self._next_id += 1
        record = Record(str(num), num, {}, created, modified)
        record.props["hs_object_id"] = record.id
        created_name = "createdate" if table.name in ("contacts", "deals") else "hs_createdate"
        record.props[created_name] = iso(created)
        self._assign(table, record, clean, modified, enforce_lifecycle=False)
        table.add(record)
        self.version += 1
        return record

    def insert_seeded(
        self, object_type: str, values: dict[str, str], created: datetime, modified: datetime
    ) -> Record:
        """Bulk-load path for seeding: values are trusted and already canonical."""
        with self.lock:
            return self._insert(self.tables[object_type], values, created, modified)

    def update(
        self,
        object_type: str,
        record: Record,
        values: Mapping[str, Any],
        *,
        trusted: bool = False,
        user_edit: bool = False,
    ) -> Record:
        """Apply a write to ``record`` (raises :class:`WriteRejected`).

        ``user_edit`` mimics an edit in HubSpot's UI: lifecycle stages may move backwards.
        """
        with self.lock:
            table = self.table(object_type)
            clean = self._check(table, record, values, trusted)
            if record.history is None:
                when = iso(record.updated_at)
                record.history = {n: [(v, when, "CRM_UI")] for n, v in record.props.items()}
            self._assign(
                table,
                record,
                clean,
                self.stamp(),
                enforce_lifecycle=not user_edit,
                source="CRM_UI" if user_edit else "API",
            )
            self.version += 1
            return record

    def _assign(
        self,
        table: ObjectTable,
        record: Record,
        clean: dict[str, str],
        stamp: datetime,
        *,
        enforce_lifecycle: bool,
        source: str = "API",
    ) -> None:
        when = iso(stamp)
        for name, value in clean.items():
            old = record.props.get(name, "")
            if name == "lifecyclestage" and enforce_lifecycle and self._backward(table, old, value):
                continue
            if value:
                record.props[name] = value
            else:
                record.props.pop(name, None)
            if name in table.unique_names():
                table.reindex(record, name, old, value)
            if old != value and record.history is not None:
                record.history.setdefault(name, []).insert(0, (value, when, source))
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
    def _backward(table: ObjectTable, old: str, new: str) -> bool:
        if not old or not new:
            return False
        order = {o.value: o.display_order for o in table.properties["lifecyclestage"].options}
        return order.get(new, 0) < order.get(old, 0)

    def archive(self, object_type: str, record: Record) -> None:
        with self.lock:
            table = self.table(object_type)
            if table.live.pop(record.id, None) is None:
                return
            record.archived_at = self.stamp()
            table.archived[record.id] = record
            for name in table.unique_names():
                table.reindex(record, name, record.props.get(name, ""), "")
            self.version += 1

    def purge(self, object_type: str, record: Record) -> None:
        """Delete a record for good (GDPR delete): no archived copy to list or restore."""
        with self.lock:
            table = self.table(object_type)
            table.live.pop(record.id, None)
            table.archived.pop(record.id, None)
            for name in table.unique_names():
                table.reindex(record, name, record.props.get(name, ""), "")
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
            del table.archived[object_id]
            record.archived_at = None
            stamp = self.stamp()
            for name in _MODIFIED.get(table.name, _DEFAULT_MODIFIED):
                record.props[name] = iso(stamp)
            record.updated_at = stamp
            table.live[record.id] = record
            for name in table.unique_names():
                table.reindex(record, name, "", record.props.get(name, ""))
            self.version += 1
            return record

    def merge(self, object_type: str, primary_id: str, secondary_id: str) -> Record:
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
            self._assign(table, primary, fill, stamp, enforce_lifecycle=False)
            self._merge_lists(table, primary, secondary, stamp)
            del table.live[secondary.id]
            table.merged_into[secondary.id] = primary.id
            self._move_links(table.name, secondary.id, primary.id)
            for (a, b), by_from in self.links.items():
                if a == table.name:
                    self._count_links(a, primary.id, b)
                    for to_id in by_from.get(primary.id, {}):
                        self._count_links(b, to_id, a)
            self.version += 1
            return primary

    def _merge_lists(
        self, table: ObjectTable, primary: Record, secondary: Record, stamp: datetime
    ) -> None:
        def listed(record: Record, name: str) -> list[str]:
            return [v for v in record.props.get(name, "").split(";") if v]

        merged = [*listed(primary, "hs_merged_object_ids"), secondary.id]
        merged += listed(secondary, "hs_merged_object_ids")
        primary.props["hs_merged_object_ids"] = ";".join(merged)
        if table.name != "contacts":
            return
        millis = str(int(stamp.timestamp() * 1000))
        vids = [*listed(primary, "hs_calculated_merged_vids"), f"{secondary.id}:{millis}"]
        vids += listed(secondary, "hs_calculated_merged_vids")
        primary.props["hs_calculated_merged_vids"] = ";".join(vids)
        emails = listed(primary, "hs_additional_emails") + listed(secondary, "hs_additional_emails")
        if secondary.props.get("email"):
            emails.append(secondary.props["email"])
            # Secondary addresses still find the contact, as HubSpot's lookups do.
            table.unique.setdefault("email", {})[secondary.props["email"].lower()] = primary.id
        if emails:
            primary.props["hs_additional_emails"] = ";".join(emails)

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
            self.links.setdefault((a, b), {}).setdefault(from_id, {}).setdefault(to_id, set()).add(
                forward
            )
            self.links.setdefault((b, a), {}).setdefault(to_id, {}).setdefault(from_id, set()).add(
                backward
            )
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
            stamp = self.stamp()
            self._assign(
                table, record, {"notes_last_updated": iso(stamp)}, stamp, enforce_lifecycle=True
            )

    def _count_links(self, object_type: str, object_id: str, other: str) -> None:
        # HubSpot keeps these calculated counters on contacts and deals.
        name = {
            ("contacts", "deals"): "num_associated_deals",
            ("deals", "contacts"): "num_associated_contacts",
        }.get((object_type, other))
        record = self.tables[object_type].live.get(object_id)
        if name and record is not None:
            record.props[name] = str(len(self.links[(object_type, other)].get(object_id, {})))

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, list[int]]]:
        """``(to id, type ids)`` for one record, in id order, skipping archived targets."""
        with self.lock:
            a, b = self.table(from_type).name, self.table(to_type).name
            targets = self.links.get((a, b), {}).get(from_id, {})
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
            return set(self.links.get((from_type, to_type), {}).get(from_id, {}))

    def _move_links(self, object_type: str, old: str, new: str) -> None:
        for (a, b), by_from in self.links.items():
            if a == object_type and old in by_from:
                for to_id, types in by_from.pop(old).items():
                    by_from.setdefault(new, {}).setdefault(to_id, set()).update(types)
                    back = self.links[(b, a)].get(to_id, {})
                    back.setdefault(new, set()).update(back.pop(old, set()))

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


def _required(object_type: str) -> Iterable[str]:
    return {
        "emails": ("hs_timestamp",),
        "calls": ("hs_timestamp",),
        "meetings": ("hs_timestamp",),
        "notes": ("hs_timestamp", "hs_note_body"),
        "tasks": ("hs_timestamp", "hs_task_subject"),
        "deals": ("dealname",),
    }.get(object_type, ())
