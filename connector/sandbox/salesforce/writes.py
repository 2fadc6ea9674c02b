"""DML with Salesforce's semantics: field checks, converted and deleted rows, one validation rule,
and the duplicate rules the fault plan switches on (:mod:`.duplicates`).

Every write is prepared (checked, nothing changed) and then applied, so sObject Collections can
honour ``allOrNone`` by preparing every record before applying any. Applying stamps
``LastModifiedDate`` and ``SystemModstamp`` from the store's :class:`ModstampClock` (real UTC,
strictly increasing), even when no value changed, as Salesforce does on every update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.sandbox.faults import FaultInjector
from connector.sandbox.salesforce._coerce import SfError, coerce
from connector.sandbox.salesforce._values import to_18
from connector.sandbox.salesforce.duplicates import MESSAGE, find_duplicates
from connector.sandbox.salesforce.schema import ObjectSpec, object_for_id, object_spec
from connector.sandbox.salesforce.store import Row, SalesforceStore, Table, derive

__all__ = ["Change", "SfError", "ValidationRule", "Writer"]


@dataclass(frozen=True, slots=True)
class ValidationRule:
    """A numeric range enforced like an org validation rule (``FIELD_CUSTOM_VALIDATION_EXCEPTION``).

    The default refuses ``Lead_Score__c`` outside 0..100 on Lead and Contact.
    """

    sobjects: tuple[str, ...] = ("Lead", "Contact")
    field: str = "Lead_Score__c"
    min_value: float | None = 0.0
    max_value: float | None = 100.0
    message: str = "Lead Score must be between 0 and 100."

    def check(self, sobject: str, row: Row) -> SfError | None:
        if sobject not in self.sobjects:
            return None
        value = row.get(self.field)
        if value is None:
            return None
        low = self.min_value is not None and value < self.min_value
        high = self.max_value is not None and value > self.max_value
        if low or high:
            return SfError("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.message, (self.field,))
        return None


@dataclass(slots=True)
class Change:
    """A checked write, not yet applied. ``record_id`` is ``None`` for an insert."""

    sobject: str
    record_id: str | None
    values: Row


class Writer:
    """Prepares and applies writes against a store, consulting the fault injector for locks."""

    def __init__(
        self,
        store: SalesforceStore,
        injector: FaultInjector | None = None,
        rule: ValidationRule | None = None,
    ) -> None:
        self.store = store
        self.injector = injector
        self.rule = rule

    def spec(self, sobject: str) -> ObjectSpec:
        spec = object_spec(sobject)
        if spec is None:
            raise SfError(
                "NOT_FOUND", f"The requested resource does not exist: {sobject}", http_status=404
            )
        return spec

    def spec_for_id(self, record_id: str) -> ObjectSpec | None:
        return object_for_id(record_id)

    def _values(self, spec: ObjectSpec, body: dict[str, Any], *, insert: bool) -> Row:
        values: Row = {}
        for name, value in body.items():
            if name == "attributes" or (not insert and name.lower() == "id"):
                continue
            field = spec.field(name)
            if field is None:
                raise SfError(
                    "INVALID_FIELD", f"No such column '{name}' on sobject of type {spec.name}"
                )
            if not (field.createable if insert else field.updateable):
                raise SfError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {field.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    (field.name,),
                )
            values[field.name] = coerce(field, value)
        return values

    def _check(self, spec: ObjectSpec, merged: Row, record_id: str | None) -> None:
        for field in spec.fields:
            if (
                field.createable
                and not field.nillable
                and field.type != "boolean"
                and not field.defaulted_on_create
                and merged.get(field.name) is None
            ):
                raise SfError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{field.name}]",
                    (field.name,),
                )
        table = self.store.table(spec.name)
        for name, index in table.external.items():
            value = merged.get(name)
            owner = index.get(str(value).lower()) if value is not None else None
            if owner is not None and owner != record_id:
                raise SfError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: {owner}",
                    (name,),
                )
        if self.rule is not None:
            failure = self.rule.check(spec.name, merged)
            if failure is not None:
                raise failure

    def _maybe_locked(self, record_id: str) -> None:
        if self.injector is not None and self.injector.lock_record():
            raise SfError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {record_id}",
            )

    def existing(self, spec: ObjectSpec, record_id: str) -> Row:
        """The live row with this Id; Salesforce's errors when it is malformed/missing/deleted."""
        normalised = to_18(record_id) if len(record_id) == 15 else record_id
        if len(normalised) != 18 or not normalised.startswith(spec.key_prefix):
            raise SfError(
                "MALFORMED_ID",
                f"{spec.label} ID: id value of incorrect type: {record_id}",
                ("Id",),
            )
        row = self.store.table(spec.name).rows.get(normalised)
        if row is None:
            raise SfError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", http_status=404
            )
        if row["IsDeleted"]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", http_status=404)
        return row

    def _duplicates(self, sobject: str, merged: Row) -> None:
        active = self.injector.plan.duplicate_rules if self.injector is not None else ()
        found = find_duplicates(self.store, sobject, merged, active)
        if found is not None:
            raise SfError("DUPLICATES_DETECTED", MESSAGE, duplicate=found)

    def prepare_create(
        self, sobject: str, body: dict[str, Any], *, allow_duplicates: bool = False
    ) -> Change:
        """A checked insert; ``allow_duplicates`` is the duplicate rule header's allowSave."""
        spec = self.spec(sobject)
        if any(name.lower() == "id" for name in body):
            raise SfError(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ("Id",)
            )
        values = self._values(spec, body, insert=True)
        merged = {field.name: field.default_value for field in spec.fields} | values
        derive(spec.name, merged)
        self._check(spec, merged, None)
        if not allow_duplicates:
            self._duplicates(spec.name, merged)
        self._maybe_locked("new record")
        return Change(spec.name, None, values)

    def prepare_update(self, sobject: str, record_id: str, body: dict[str, Any]) -> Change:
        spec = self.spec(sobject)
        row = self.existing(spec, record_id)
        if spec.name == "Lead" and row["IsConverted"]:
            raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        values = self._values(spec, body, insert=False)
        merged = row | values
        derive(spec.name, merged)
        self._check(spec, merged, row["Id"])
        self._maybe_locked(row["Id"])
        return Change(spec.name, row["Id"], values)

    def prepare_upsert(
        self,
        sobject: str,
        external_field: str,
        value: str | None,
        body: dict[str, Any],
        *,
        allow_duplicates: bool = False,
    ) -> tuple[Change, bool]:
        """An upsert by external Id: ``(change, created)``. ``value`` overrides the body's."""
        spec = self.spec(sobject)
        field = spec.field(external_field)
        if field is None or not (field.external_id or field.name == "Id"):
            raise SfError(
                "INVALID_FIELD",
                f"Field name provided, {external_field} is not an External ID or indexed field "
                f"for {spec.name}",
            )
        if value is None:
            value = next((v for k, v in body.items() if k.lower() == field.name.lower()), None)
        if value in (None, ""):
            raise SfError("MISSING_ARGUMENT", f"{field.name} not specified", (field.name,))
        existing = self.store.table(spec.name).by_external(field.name, str(value))
        if existing is None:
            change = self.prepare_create(
                spec.name, body | {field.name: value}, allow_duplicates=allow_duplicates
            )
            return change, True
        return self.prepare_update(spec.name, existing, body), False

    def apply(self, change: Change) -> Row:
        """Make the change; returns the stored row."""
        store = self.store
        with store.lock:
            stamp = store.clock.now()
            if change.record_id is None:
                return store.put(change.sobject, change.values, stamp=stamp, created=stamp)
            table = store.table(change.sobject)
            row = table.rows[change.record_id]
            previous = dict(row)
            row.update(change.values)
            derive(change.sobject, row)
            row["LastModifiedDate"] = row["SystemModstamp"] = stamp
            row["LastModifiedById"] = store.integration_user_id or None
            store.index(table, row, previous)
            return row

    def delete(self, sobject: str, record_id: str) -> None:
        spec = self.spec(sobject)
        row = self.existing(spec, record_id)
        self._maybe_locked(row["Id"])
        store = self.store
        with store.lock:
            stamp = store.clock.now()
            table = store.table(spec.name)
            previous = dict(row)
            row["IsDeleted"] = True
            row["LastModifiedDate"] = row["SystemModstamp"] = stamp
            for name, index in table.external.items():
                if previous.get(name) is not None:
                    index.pop(str(previous[name]).lower(), None)
            table.deleted_log.append((row["Id"], stamp))

    def _table_of(self, record_id: str) -> Table:
        spec = self.spec_for_id(record_id)
        if spec is None:
            raise SfError("MALFORMED_ID", f"malformed id {record_id}")
        return self.store.table(spec.name)

    def undelete(self, record_id: str) -> Row:
        """Restore a row from the Recycle Bin, as the Recycle Bin page or ``undelete()`` does:
        it is live again under its old Id, and its modification stamps move."""
        store = self.store
        with store.lock:
            row = store.get(record_id)
            if row is None:
                raise SfError("ENTITY_IS_DELETED", "entity is deleted", http_status=404)
            if not row["IsDeleted"]:
                raise SfError("UNDELETE_FAILED", "Entity is not in the recycle bin")
            table = self._table_of(record_id)
            for name, index in table.external.items():
                value = row.get(name)
                if value is not None and index.get(str(value).lower()) not in (None, record_id):
                    raise SfError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {name} duplicates value on another record",
                        fields=(name,),
                    )
            stamp = store.clock.now()
            row["IsDeleted"] = False
            row["LastModifiedDate"] = row["SystemModstamp"] = stamp
            store.index(table, row)
            return row

    def empty_recycle_bin(self, record_ids: list[str]) -> int:
        """Delete rows in the Recycle Bin for good (``emptyRecycleBin()``), and let the day or
        so Salesforce keeps them visible to ``queryAll`` pass: only getDeleted still names
        them. Returns how many rows went."""
        store = self.store
        purged = 0
        with store.lock:
            for record_id in record_ids:
                row = store.get(record_id)
                if row is None or not row["IsDeleted"]:
                    continue
                del self._table_of(record_id).rows[record_id]
                purged += 1
        return purged
