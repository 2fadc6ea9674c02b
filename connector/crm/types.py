"""The typed seam between the sync engine and the CRM adapters.

Everything that crosses ``connector.crm`` is one of the frozen pydantic models below, never a
simple-salesforce dict or a hubspot-api-client model. Two protocols describe what the engine may
ask of an adapter:

* :class:`CrmSource` — pull changed people since a :class:`Cursor` (capped at the run's start),
  pull their activity, describe the writable schema;
* :class:`CrmSink` — write a batch of field changes to existing records, create records by
  upserting on the connector's own external id so that a retried create never duplicates, or
  delete records (erasure requests).

Field values are the JSON scalars both CRMs agree on (``str | int | float | bool | None``).
HubSpot sends every property as a string; adapters pass values through as received and leave
typing to the mapping layer, which knows each field's :class:`FieldSchema`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import System
from connector.funnel import UtcDatetime

__all__ = [
    "ActivityRecord",
    "CrmSink",
    "CrmSource",
    "Cursor",
    "DeleteRequest",
    "DeletedLog",
    "DeletedRecord",
    "FieldSchema",
    "FieldValue",
    "ObjectSchema",
    "Page",
    "PropertySpec",
    "RawRecord",
    "UpsertRequest",
    "WriteRequest",
    "WriteResult",
    "WriteStatus",
]

FieldValue = str | int | float | bool | None

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RawRecord(BaseModel):
    """One person record (Salesforce Lead/Contact, HubSpot contact) as the CRM holds it.

    ``fields`` holds exactly the fields the mapping asked for (plus the CRM's own email field).
    Conversion and merge facts are lifted out of ``fields`` so identity resolution need not know
    vendor field names.
    """

    model_config = _FROZEN

    system: System
    object_type: str
    id: str
    modified_at: UtcDatetime
    deleted: bool = False
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    converted: bool = False
    """A Salesforce Lead that was converted; write to ``converted_contact_id`` instead."""
    converted_contact_id: str | None = None
    converted_account_id: str | None = None
    converted_opportunity_id: str | None = None
    master_record_id: str | None = None
    """Salesforce merge survivor of a deleted record."""
    merged_ids: tuple[str, ...] = ()
    """HubSpot ids merged into this contact (``hs_merged_object_ids``)."""
    created_at: UtcDatetime | None = None
    """When the CRM created the record, where the adapter reads it (Salesforce)."""


class ActivityRecord(BaseModel):
    """One activity or deal touching a person: Task, Event, CampaignMember, Opportunity stage
    (Salesforce) or an engagement / deal (HubSpot), plus form conversions and page views that
    HubSpot keeps as contact properties."""

    model_config = _FROZEN

    system: System
    object_type: str
    id: str
    person_ids: tuple[str, ...]
    """The person records (Lead/Contact ids, contact ids) this activity is attached to."""
    occurred_at: UtcDatetime | None
    modified_at: UtcDatetime | None = None
    deleted: bool = False
    fields: dict[str, FieldValue] = Field(default_factory=dict)


class Cursor(BaseModel):
    """Where an incremental pull stands: a watermark plus the id that breaks ties within it.

    The adapter re-reads from ``watermark - lookback``; records are ordered by
    ``(modified_at, id)`` so a page boundary inside one timestamp loses nothing.
    """

    model_config = _FROZEN

    watermark: UtcDatetime
    last_id: str = ""

    def after(self, record: RawRecord) -> Cursor:
        """The cursor once ``record`` has been handled (never moves backwards)."""
        key = (record.modified_at, record.id)
        if key <= (self.watermark, self.last_id):
            return self
        return Cursor(watermark=record.modified_at, last_id=record.id)


class Page(BaseModel):
    """One page of a pull, and the cursor to store once the page is durably handled.

    The last page of a pull carries ``done=True`` and a cursor at the run's start: everything
    before it has been seen.
    """

    model_config = _FROZEN

    records: tuple[RawRecord, ...]
    cursor: Cursor
    done: bool = False


class DeletedRecord(BaseModel):
    """A record the CRM's delete log names (Salesforce getDeleted), by id and time."""

    model_config = _FROZEN

    object_type: str
    id: str
    deleted_at: UtcDatetime


class DeletedLog(BaseModel):
    """What a delete log answers for a window: the deletions in it, how far it reaches, and
    whether its start was already purged (``complete=False``: deletions before
    ``covered_from`` may be missing; the caller checks its linked records by id instead)."""

    model_config = _FROZEN

    records: tuple[DeletedRecord, ...] = ()
    covered_to: UtcDatetime
    complete: bool = True


class FieldSchema(BaseModel):
    """What the live CRM says about one field, normalised across both systems.

    ``type`` keeps the vendor's own type name (Salesforce ``picklist``/``currency``..., HubSpot
    ``enumeration``/``number``...). ``picklist_values`` lists active values only.
    """

    model_config = _FROZEN

    name: str
    label: str = ""
    type: str
    length: int | None = None
    updateable: bool
    createable: bool
    nillable: bool = True
    unique: bool = False
    external_id: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    multiple: bool = False
    """Several options at once, ``;``-separated (a multi-select picklist, a HubSpot checkbox)."""

    @property
    def read_only(self) -> bool:
        return not (self.updateable or self.createable)


class ObjectSchema(BaseModel):
    """The fields of one object type (Lead, Contact, contacts, ...)."""

    model_config = _FROZEN

    system: System
    object_type: str
    fields: dict[str, FieldSchema]

    def field(self, name: str) -> FieldSchema | None:
        return self.fields.get(name)


class PropertySpec(BaseModel):
    """A custom property the connector needs and may create (HubSpot ``POST /properties``)."""

    model_config = _FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: str  # string, number, enumeration, datetime, bool
    field_type: str  # text, number, select, date, booleancheckbox
    options: tuple[str, ...] = ()
    unique: bool = False
    group: str = "contactinformation"
    description: str = ""


class WriteRequest(BaseModel):
    """Set ``fields`` on one existing record.

    ``clear_first`` names fields the CRM only lets move forwards (HubSpot ``lifecyclestage``):
    the adapter clears them in one request, sets them in a second, and re-reads to verify.
    """

    model_config = _FROZEN

    object_type: str
    record_id: str
    fields: dict[str, FieldValue]
    clear_first: tuple[str, ...] = ()


class UpsertRequest(BaseModel):
    """Create or update the record whose connector external id is ``external_id``."""

    model_config = _FROZEN

    object_type: str
    external_id: str
    fields: dict[str, FieldValue]


class DeleteRequest(BaseModel):
    """Delete one record (Salesforce: to the recycle bin; HubSpot: archive)."""

    model_config = _FROZEN

    object_type: str
    record_id: str


class WriteStatus(StrEnum):
    WRITTEN = "written"
    REJECTED = "rejected"
    PARTIAL = "partial"
    """Some of the record's fields changed, not all (a clear went out, then the run stopped
    before the set): the record received a write, but not the one planned."""


class WriteResult(BaseModel):
    """The fate of one request: written (to ``record_id``, which differs from the requested id
    when a converted Lead was redirected to its Contact) or rejected with a classified reason."""

    model_config = _FROZEN

    object_type: str
    requested_id: str
    status: WriteStatus
    record_id: str = ""
    written_object_type: str = ""
    """Set when the write went to another object (a converted Lead's Contact)."""
    created: bool = False
    modified_at: UtcDatetime | None = None
    """The record's modification time after this write, where the CRM says (HubSpot's
    ``updatedAt``): any version stamped earlier that a lagging search returns is stale."""
    code: str = ""
    message: str = ""
    fields: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is WriteStatus.WRITTEN


@runtime_checkable
class CrmSource(Protocol):
    """Reads from one CRM. Implementations: ``SalesforceAdapter``, ``HubSpotAdapter``."""

    @property
    def system(self) -> System: ...

    def people_objects(self) -> tuple[str, ...]:
        """The object types that hold people (``("Lead", "Contact")``, ``("contacts",)``)."""
        ...

    def pull_people(
        self,
        object_type: str,
        *,
        since: Cursor | None,
        run_start: datetime,
        fields: Sequence[str],
    ) -> Iterator[Page]:
        """Records of ``object_type`` changed in ``[since.watermark - lookback, run_start)``,
        ordered by ``(modified_at, id)``, each id at most once, deletions included; ``since=None``
        reads everything (a backfill). Pages stream; nothing holds a whole object in memory."""
        ...

    def read_people(
        self, object_type: str, ids: Sequence[str], *, fields: Sequence[str]
    ) -> list[RawRecord]:
        """The records of ``object_type`` with these ids, as :meth:`pull_people` returns them
        (batched: 100 ids a call in HubSpot, 200 in Salesforce). Ids the CRM no longer holds
        are left out. For records crmsync linked without reading them."""
        ...

    def pull_activity(
        self,
        person_ids: Sequence[str],
        *,
        since: datetime | None,
        run_start: datetime,
    ) -> Iterator[ActivityRecord]:
        """Activity changed in ``[since - lookback, run_start)``, and all activity of
        ``person_ids`` (records seen for the first time). Adapters may return activity of other
        person records too (window queries are cheaper than id lists); the caller keeps what
        belongs to records it knows."""
        ...

    def pull_deleted(
        self, object_type: str, *, since: datetime, run_start: datetime
    ) -> DeletedLog | None:
        """Records of ``object_type`` the CRM's delete log names for ``[since - lookback,
        run_start)``, for deletions a people pull can no longer see (Salesforce: gone from
        the recycle bin before a run read them). ``None``: this CRM has no such log (HubSpot's
        archived contacts come with the people pull) or the window is too short to ask."""
        ...

    def describe(self, object_type: str) -> ObjectSchema:
        """The live schema of ``object_type``; cached for the adapter's lifetime (one run)."""
        ...


@runtime_checkable
class CrmSink(Protocol):
    """Writes to one CRM. Every request yields exactly one :class:`WriteResult`, in order."""

    @property
    def system(self) -> System: ...

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        """Update existing records in batches, with bounded concurrency.

        Raises :class:`~connector.errors.QuotaExhaustedError`, ``AuthError`` or
        ``FatalApiError`` when the whole run must stop; writes are idempotent, so a stopped
        batch is simply planned again by the next run.
        """
        ...

    def upsert(self, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        """Create or update records keyed on the connector's person id."""
        ...

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        """Delete records (an erasure request). A record that is already gone counts as
        deleted; deleting is idempotent, so a stopped batch can simply be asked again."""
        ...
