"""Write intents: journal a chunk's writes before they go out, and settle what dead runs left.

A run killed between sending a chunk and recording the answers (``kill -9``, a lost machine)
leaves the CRMs changed and the state store not knowing it. Without the journal, the next run
would take crmsync's own writes for users' edits (a stage written by crmsync would look set by
hand and be pinned) and the dead run's report would say it wrote less than it did. The next
run settles the journal once it has pulled: a target record that changed after the intent and
holds every intended value received the write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from connector.errors import System
from connector.funnel import SourceRef
from connector.state import JsonValue, Observed, Provenance, StateStore
from connector.state.intents import WriteIntent
from connector.sync.plan import RecordPlan, WriteKind

__all__ = ["SKEW", "intents", "settle_intents"]

SKEW = timedelta(minutes=2)
"""How far a CRM's modification stamp may lag crmsync's clock (clock skew between hosts)."""


def intents(records: Iterable[RecordPlan], run_id: str, now: datetime) -> list[WriteIntent]:
    """The intents of a chunk's planned writes (deletes carry nothing to confirm by value)."""
    return [
        WriteIntent(
            run_id=run_id,
            ref=SourceRef(system=r.system, object_type=r.object_type, record_id=r.record_id),
            kind=r.kind.value,
            person_id=r.person_id,
            intended={c.mapping: c.value for c in r.changes if c.mapping},
            sent_at=now,
        )
        for r in records
        if r.kind is not WriteKind.DELETE
    ]


def _holds(item: Observed, intent: WriteIntent) -> bool:
    return item.modified_at >= intent.sent_at - SKEW and all(
        item.values.get(name) == value for name, value in intent.intended.items()
    )


def _target(
    store: StateStore, intent: WriteIntent, created: dict[tuple[str, System], list[Observed]]
) -> Observed | None:
    """The record an intent wrote to, as last pulled: the record itself for an update; for a
    create, the person's record in that system that appeared after the intent."""
    if intent.kind != WriteKind.CREATE.value:
        return store.observations.get_many([intent.ref]).get(intent.ref)
    for item in created.get((intent.person_id, intent.ref.system), ()):
        if _holds(item, intent):
            return item
    return None


def settle_intents(store: StateStore, *, keep: str) -> Counter[str]:
    """Confirm or drop the intents runs other than ``keep`` left behind (call holding the run
    lock, after pulling). Confirmed writes are recorded as crmsync's own and added to their
    run's counts. Returns the confirmed writes by ``system.kind``."""
    left = store.intents.left_by_other_runs(keep)
    if not left:
        return Counter()
    creates = [i for i in left if i.kind == WriteKind.CREATE.value]
    created: dict[tuple[str, System], list[Observed]] = {}
    if creates:
        observed = store.observations.for_people({i.person_id for i in creates})
        for person_id, records in observed.items():
            for record in records:
                created.setdefault((person_id, record.ref.system), []).append(record)
    confirmed: Counter[str] = Counter()
    per_run: dict[str, Counter[str]] = {}
    provenance: list[Provenance] = []
    settled: list[tuple[Observed, dict[str, JsonValue]]] = []
    for intent in left:
        item = _target(store, intent, created)
        if item is None or not _holds(item, intent):
            continue  # it did not land (or a user changed it since): planned again
        label = f"{intent.ref.system.value}.{intent.kind}"
        confirmed[label] += 1
        per_run.setdefault(intent.run_id, Counter())[label] += 1
        provenance.extend(_provenance(intent))
        settled.append((item, {**(item.merged or {}), **intent.intended}))
    with store.transaction():
        store.provenance.put_many(provenance)
        store.observations.settle(settled)
        for run_id, counts in per_run.items():
            store.runs.add_confirmed(run_id, counts)
        store.intents.clear_runs({i.run_id for i in left})
    return confirmed


def _provenance(intent: WriteIntent) -> Sequence[Provenance]:
    return [
        Provenance(
            person_id=intent.person_id,
            field=name,
            system=intent.ref.system,
            seen_value=value,
            seen_modified_at=intent.sent_at,
            written_value=value,
            written_at=intent.sent_at,
            written_run_id=intent.run_id,
        )
        for name, value in intent.intended.items()
    ]
