"""crmsync's state store: SQLite by default, PostgreSQL by URL, migrated with alembic.

What is stored (personal data: the SQLite file and its ``.crmsync/`` directory are created
owner-only, 0o600 and 0o700):

- people: the canonical person (name, emails, title, phone, country, company, qualification
  evidence, stage, score and its explanation) as JSON, with primary email, stage and score;
- links: which CRM record ids belong to which person, since when and why, with history;
- field provenance: per person, field and system, the last value seen and the last value
  crmsync wrote (values of mapped fields, so personal data too);
- stage transitions (person, from, to, rules version, reasons, run), dead letters (target
  record, fields, the refused payload, redacted error), runs (counts, API calls, report),
  stream cursors and run locks;
- keys the store makes for itself (the one that signs plan files): not personal data, never
  shown or logged.

``StateStore.forget(email)`` erases a person and every row about them.
"""

from connector.state._types import Clock, JsonValue, system_clock
from connector.state.activities import ActivityStore, ScoringActivity, StoredActivity
from connector.state.buffer import DirtyStore, NewObservation, ObservationStore, Observed
from connector.state.cursors import CursorStore
from connector.state.dead_letters import DeadLetterStore
from connector.state.keys import KeyStore
from connector.state.links import LinkStore
from connector.state.locks import DEFAULT_TTL, RunLocks, default_holder
from connector.state.models import (
    Backoff,
    Cursor,
    DeadLetter,
    ForgetResult,
    Lease,
    Link,
    LinkReason,
    NewDeadLetter,
    PersonRecord,
    Provenance,
    ProvenanceKey,
    RunOutcome,
    RunRecord,
    StageChange,
    TransitionRecord,
    new_id,
)
from connector.state.people import PeopleStore
from connector.state.provenance import ProvenanceStore
from connector.state.runs import RunStore, TransitionStore
from connector.state.store import StateStore

__all__ = [
    "DEFAULT_TTL",
    "ActivityStore",
    "Backoff",
    "Clock",
    "Cursor",
    "CursorStore",
    "DeadLetter",
    "DeadLetterStore",
    "DirtyStore",
    "ForgetResult",
    "JsonValue",
    "KeyStore",
    "Lease",
    "Link",
    "LinkReason",
    "LinkStore",
    "NewDeadLetter",
    "NewObservation",
    "ObservationStore",
    "Observed",
    "PeopleStore",
    "PersonRecord",
    "Provenance",
    "ProvenanceKey",
    "ProvenanceStore",
    "RunLocks",
    "RunOutcome",
    "RunRecord",
    "RunStore",
    "ScoringActivity",
    "StageChange",
    "StateStore",
    "StoredActivity",
    "TransitionRecord",
    "TransitionStore",
    "default_holder",
    "new_id",
    "system_clock",
]
