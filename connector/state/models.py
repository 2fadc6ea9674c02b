"""The typed values the state store reads and writes.

Every value is a frozen dataclass: callers derive a new value with ``dataclasses.replace`` and
hand it back, nothing is mutated in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from connector.errors import System
from connector.funnel import FunnelStage, Person, SourceRef
from connector.state._types import JsonValue

__all__ = [
    "Backoff",
    "Cursor",
    "DeadLetter",
    "ForgetResult",
    "Lease",
    "Link",
    "LinkReason",
    "NewDeadLetter",
    "PersonRecord",
    "Provenance",
    "ProvenanceKey",
    "RunOutcome",
    "RunRecord",
    "StageChange",
    "TransitionRecord",
    "frozen_mapping",
    "new_id",
]


def new_id() -> str:
    """A fresh opaque identifier (for canonical people and runs)."""
    return uuid.uuid4().hex


_K = TypeVar("_K")
_V = TypeVar("_V")


def frozen_mapping(values: Mapping[_K, _V] | None = None) -> Mapping[_K, _V]:
    """A read-only copy of ``values``."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A canonical person as stored, with bookkeeping.

    ``merged_into`` is set when this person turned out to be the same human as another one; the
    record stays (its history points at it) but no longer answers lookups by email.
    """

    person: Person
    created_at: datetime
    updated_at: datetime
    merged_into: str | None = None
    tombstoned_at: datetime | None = None
    """Set when every record of the person is gone: ``person`` then holds the id alone."""

    @property
    def id(self) -> str:
        return self.person.id


class LinkReason(StrEnum):
    """Why a CRM record is (or was) linked to a person."""

    CREATED = "created"
    EMAIL_MATCH = "email_match"
    CONVERSION = "conversion"
    MERGE = "merge"
    STORED = "stored"
    RESTORED = "restored"  # a deleted record came back (recycle bin, un-archived)
    DECISION = "decision"  # an admin resolved an identity issue


@dataclass(frozen=True, slots=True)
class Link:
    """One CRM record attached to one person for a period; closed links are history."""

    id: int
    ref: SourceRef
    person_id: str
    active: bool
    valid_from: datetime
    valid_to: datetime | None
    reason: LinkReason


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far one stream has been durably read.

    Records are ordered by ``(watermark, tie_break)``; ``tie_break`` (a record id) keeps a
    keyset complete when many records share one modification time. ``run_started_at`` is the
    start of the run that committed it: the engine caps its reads there.
    """

    stream: str
    watermark: datetime
    tie_break: str | None
    run_started_at: datetime
    updated_at: datetime | None = None

    def position(self) -> tuple[datetime, tuple[int, int, str]]:
        """The sort key: numeric tie-breaks (HubSpot ids) compare as numbers."""
        tie = self.tie_break
        if tie is None:
            return (self.watermark, (0, 0, ""))
        if tie.isdigit():
            return (self.watermark, (1, int(tie), ""))
        return (self.watermark, (2, 0, tie))


class ProvenanceKey(NamedTuple):
    person_id: str
    field: str
    system: System


@dataclass(frozen=True, slots=True)
class Provenance:
    """What crmsync knows about one field of one person in one system.

    ``seen_*``: the last value read from the system and the system's modification time for it.
    ``written_*``: the last value crmsync wrote there, when, and in which run; a value that
    comes back equal to it is crmsync's own echo, not a user edit.
    """

    person_id: str
    field: str
    system: System
    seen_value: JsonValue = None
    seen_modified_at: datetime | None = None
    written_value: JsonValue = None
    written_at: datetime | None = None
    written_run_id: str | None = None

    @property
    def key(self) -> ProvenanceKey:
        return ProvenanceKey(self.person_id, self.field, self.system)


class RunOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FINISHED_WITH_REJECTIONS = "finished_with_rejections"
    STOPPED_ON_QUOTA = "stopped_on_quota"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a job. ``outcome`` and ``ended_at`` are ``None`` while it runs (or if the
    process died)."""

    id: str
    job: str
    started_at: datetime
    ended_at: datetime | None = None
    outcome: RunOutcome | None = None
    counts: Mapping[str, int] = field(default_factory=frozen_mapping)
    api_calls: Mapping[System, int] = field(default_factory=frozen_mapping)
    report: Mapping[str, JsonValue] = field(default_factory=frozen_mapping)


@dataclass(frozen=True, slots=True)
class StageChange:
    """A funnel move to audit: ``from_stage`` is ``None`` for a new person."""

    person_id: str
    from_stage: FunnelStage | None
    to_stage: FunnelStage
    rules_version: str
    reasons: tuple[str, ...] = ()
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """A stored stage transition."""

    id: int
    at: datetime
    change: StageChange


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    """A write a CRM refused (or that failed for good), to retry on later runs.

    ``message`` must already be redacted: it is shown to users by ``crmsync deadletter list``.
    One dead letter exists per target record and field set; adding the same one again counts
    another attempt.
    """

    ref: SourceRef
    fields: tuple[str, ...]
    error_class: str
    message: str
    code: str = ""
    person_id: str | None = None
    payload: Mapping[str, JsonValue] = field(default_factory=frozen_mapping)
    waiting: bool = False
    """The cause cannot change on its own (an invalid value, a validation rule): retried when
    the record's inputs, the mapping or the schema change (``fingerprint``), not on a timer."""
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    ref: SourceRef
    fields: tuple[str, ...]
    person_id: str | None
    payload: Mapping[str, JsonValue]
    error_class: str
    code: str
    message: str
    attempts: int
    next_retry_at: datetime
    created_at: datetime
    updated_at: datetime
    waiting: bool = False
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Backoff:
    """When a dead letter is retried: ``base * factor ** (attempts - 1)``, at most ``cap``."""

    base: timedelta = timedelta(minutes=15)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        # Bounded exponent and comparison in seconds: a huge attempt count cannot overflow.
        exponent = min(max(attempts - 1, 0), 64)
        seconds = self.base.total_seconds() * self.factor**exponent
        return timedelta(seconds=min(seconds, self.cap.total_seconds()))


@dataclass(frozen=True, slots=True)
class Lease:
    """A held run lock. ``holder`` identifies the run (host, process, run id)."""

    pair: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """How many rows ``forget`` erased, per table."""

    people: int = 0
    links: int = 0
    provenance: int = 0
    transitions: int = 0
    dead_letters: int = 0
    observations: int = 0
    activities: int = 0

    @property
    def total(self) -> int:
        return (
            self.people
            + self.links
            + self.provenance
            + self.transitions
            + self.dead_letters
            + self.observations
            + self.activities
        )
