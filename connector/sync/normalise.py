"""From a CRM record to canonical observations, through the admin's mappings.

Each pulled :class:`~connector.crm.types.RawRecord` becomes a :class:`Snapshot`: its identity
facts (for :mod:`connector.sync.identity`) and, per field mapping, the canonical value the
record holds, in JSON form. A value the mapping cannot convert (``"lots"`` in a number field, a
status no value map knows) is left out of the snapshot and reported: it is neither read as a
blank nor overwritten, so bad data in one CRM never wipes good data in the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connector.crm.types import RawRecord
from connector.errors import System
from connector.funnel import SourceRef, normalise_email
from connector.mapping.model import FieldMapping, MappingSet
from connector.mapping.values import ConversionError
from connector.sync.decide import NOT_PROVIDED, REQUIRED_ON_CREATE
from connector.sync.identity import RecordIdentity
from connector.sync.merge import JsonScalar, json_value

__all__ = ["DataIssue", "Normaliser", "Snapshot"]

EMAIL_FIELD = "email"
_REQUIRED = frozenset(name for names in REQUIRED_ON_CREATE.values() for name in names)


@dataclass(frozen=True, slots=True)
class DataIssue:
    """A value in a CRM that the mapping could not read (no personal data in ``detail``)."""

    ref: SourceRef
    mapping: str
    detail: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One record as crmsync understands it: identity facts and canonical values per mapping."""

    identity: RecordIdentity
    modified_at: datetime
    values: dict[str, JsonScalar] = field(default_factory=dict)
    issues: tuple[DataIssue, ...] = ()

    @property
    def ref(self) -> SourceRef:
        return self.identity.ref


class Normaliser:
    """Reads records of every people object through one :class:`MappingSet`."""

    def __init__(self, mappings: MappingSet) -> None:
        self.mappings = mappings
        self._by_object: dict[tuple[System, str], tuple[tuple[FieldMapping, str], ...]] = {}
        self._email = mappings.for_field(EMAIL_FIELD)

    def fields_to_pull(self, system: System, object_type: str) -> tuple[str, ...]:
        """Every field to request: those read, and those written (to diff before writing)."""
        names = [name for _, name in self._mapped(system, object_type)]
        return tuple(dict.fromkeys(names))

    def _mapped(self, system: System, object_type: str) -> tuple[tuple[FieldMapping, str], ...]:
        key = (system, object_type)
        if key not in self._by_object:
            self._by_object[key] = tuple(
                (mapping, name)
                for mapping in self.mappings
                if (name := mapping.target(system, object_type)) is not None
                and (mapping.reads_from(system) or mapping.writes_to(system))
            )
        return self._by_object[key]

    def convert(
        self, mapping: FieldMapping, system: System, raw: object, field: str = ""
    ) -> JsonScalar:
        """The canonical JSON value of a raw CRM value (raises ``ConversionError``).

        ``field`` is the Salesforce field the value came from: crmsync's placeholder in a field
        Salesforce requires (a Lead created for someone HubSpot has no last name for) means
        blank, so it is never copied into HubSpot as if a user had typed it.
        """
        if system is System.SALESFORCE and raw == NOT_PROVIDED and field in _REQUIRED:
            return None
        if system is System.SALESFORCE:
            value = mapping.from_salesforce(raw)  # type: ignore[arg-type]
        else:
            value = mapping.from_hubspot(None if raw is None else str(raw))
        return json_value(value)

    def snapshot(self, record: RawRecord) -> Snapshot:
        ref = SourceRef(system=record.system, object_type=record.object_type, record_id=record.id)
        values: dict[str, JsonScalar] = {}
        issues: list[DataIssue] = []
        for mapping, name in self._mapped(record.system, record.object_type):
            if name not in record.fields:
                continue
            try:
                raw = record.fields[name]
                values[mapping.name] = self.convert(mapping, record.system, raw, name)
            except ConversionError as exc:
                issues.append(DataIssue(ref, mapping.name, str(exc)))
        email = self._email_of(values)
        identity = RecordIdentity(
            ref=ref,
            email=email,
            deleted=record.deleted,
            converted_contact_id=record.converted_contact_id if record.converted else None,
            master_record_id=record.master_record_id,
            merged_ids=record.merged_ids,
        )
        return Snapshot(identity, record.modified_at, values, tuple(issues))

    def email_of(self, values: Mapping[str, object]) -> str | None:
        """The normalised address among a record's canonical values (``None``: none)."""
        return self._email_of(values)

    def _email_of(self, values: Mapping[str, object]) -> str | None:
        for mapping in self._email:
            raw = values.get(mapping.name)
            if isinstance(raw, str) and raw.strip():
                try:
                    return normalise_email(raw)
                except ValueError:
                    return None
        return None

    def snapshots(self, records: Iterable[RawRecord]) -> list[Snapshot]:
        return [self.snapshot(record) for record in records]
