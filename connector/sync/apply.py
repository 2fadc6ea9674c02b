"""Apply planned writes through the CRM sinks and record their outcome durably.

Writes go out grouped by system, object and kind; the sinks batch them (200 per Salesforce
collection call, 100 per HubSpot batch) with bounded concurrency and return one result per
record. Then, in one transaction: what was written becomes provenance (so it is recognised as
crmsync's own echo when it comes back) and the records' new merge baseline; created records
are linked to their person at once; refused records become dead letters with their reason.

A run that stops on quota, auth or a fatal error part-way keeps whatever was recorded; the
people whose writes did not go out stay dirty and are planned again by the next run. Writes are
idempotent (PATCH, and upserts keyed on the person id), so repeating one is harmless.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from connector.crm._partial import done_before
from connector.crm.budget import bounded_map
from connector.crm.types import (
    CrmSink,
    DeleteRequest,
    UpsertRequest,
    WriteRequest,
    WriteResult,
    WriteStatus,
)
from connector.errors import System
from connector.funnel import SourceRef
from connector.state import JsonValue, NewDeadLetter, Observed, Provenance, StateStore
from connector.state.dead_letters import DECISION
from connector.state.gone import GoneHow, GoneRecord
from connector.state.issues import IssueSeen
from connector.state.models import LinkReason
from connector.sync.identity import IssueKind
from connector.sync.plan import RecordPlan, WriteKind

__all__ = ["ApplyOutcome", "WriteBehind", "apply_records", "record_outcomes", "send_records"]

log = logging.getLogger(__name__)


@dataclass
class ApplyOutcome:
    """Counts for the run report, and the rejections to show."""

    written: Counter[str] = field(default_factory=Counter)  # "salesforce.update" -> records
    fields: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    partial: Counter[str] = field(default_factory=Counter)
    """Records that received part of their write before the run stopped."""
    stale: int = 0
    duplicates: list[IssueSeen] = field(default_factory=list)
    """Creates a Salesforce duplicate rule refused: identity issues to record."""
    missing: Counter[str] = field(default_factory=Counter)
    """Records the CRM said no longer exist when written: remembered as gone, not retried."""
    linked_existing: set[str] = field(default_factory=set)
    """People whose create HubSpot answered "already exists": linked to that contact instead,
    and left dirty until it is read (see ``SyncEngine._catch_up``)."""
    again: set[str] = field(default_factory=set)
    """People to decide again on the next run: a record of theirs went (found missing, or
    deleted by crmsync), so the delete policy has a say, or they are now all gone."""
    rejections: list[tuple[SourceRef, str, str]] = field(default_factory=list)

    def merge(self, other: ApplyOutcome) -> None:
        self.written.update(other.written)
        self.fields.update(other.fields)
        self.rejected.update(other.rejected)
        self.partial.update(other.partial)
        self.missing.update(other.missing)
        self.duplicates.extend(other.duplicates)
        self.stale += other.stale
        self.linked_existing |= other.linked_existing
        self.again |= other.again
        self.rejections.extend(other.rejections[: max(0, 50 - len(self.rejections))])


_EXISTING_ID = re.compile(r"Existing ID: (\d+)")
_DUPLICATE_RULE = "DUPLICATES_DETECTED"
# What each CRM answers a write to a record that no longer exists.
_MISSING: Final = {
    System.SALESFORCE: frozenset({"ENTITY_IS_DELETED"}),
    System.HUBSPOT: frozenset({"OBJECT_NOT_FOUND"}),
}


def _existing_contact(kind: WriteKind, system: System, result: WriteResult) -> SourceRef | None:
    """The contact HubSpot names when it refuses to create a duplicate e-mail address."""
    if kind is not WriteKind.CREATE or system is not System.HUBSPOT or result.ok:
        return None
    if result.code != "CONFLICT" or not (match := _EXISTING_ID.search(result.message)):
        return None
    return SourceRef(system=System.HUBSPOT, object_type="contacts", record_id=match.group(1))


def _send(
    sink: CrmSink, kind: WriteKind, object_type: str, group: Sequence[RecordPlan]
) -> list[WriteResult]:
    if kind is WriteKind.DELETE:
        return sink.delete(
            [DeleteRequest(object_type=object_type, record_id=r.record_id) for r in group]
        )
    if kind is WriteKind.CREATE:
        return sink.upsert(
            [
                UpsertRequest(
                    object_type=object_type, external_id=record.person_id, fields=record.values()
                )
                for record in group
            ]
        )
    return sink.write(
        [
            WriteRequest(
                object_type=object_type,
                record_id=record.record_id,
                fields=record.values(),
                clear_first=record.clear_first,
            )
            for record in group
        ]
    )


Groups = dict[tuple[System, str, WriteKind], list[RecordPlan]]
Sent = list[tuple[tuple[System, str, WriteKind], list[RecordPlan], list[WriteResult]]]


@dataclass
class Sending:
    """What went out (one result per record, per group), and the error that stopped the rest."""

    sent: Sent = field(default_factory=list)
    error: BaseException | None = None

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def send_records(records: Sequence[RecordPlan], sinks: Mapping[System, CrmSink]) -> Sending:
    """Send ``records`` to the CRMs, both systems at once; one result per record.

    Touches no state: it may run on a writer thread while the engine decides the next chunk.
    A sink's error (quota, auth) stops that system's sending; what went out before it, in
    either system, is returned with it so that it can be recorded before the error is raised.
    """
    groups: Groups = {}
    for record in records:
        groups.setdefault((record.system, record.object_type, record.kind), []).append(record)
    systems = list(dict.fromkeys(key[0] for key in groups))

    def one_system(system: System) -> Sending:
        done = Sending()
        for key, group in groups.items():
            if key[0] is not system:
                continue
            _, object_type, kind = key
            try:
                results = _send(sinks[system], kind, object_type, group)
            except Exception as error:  # handed back: raised once what went out is recorded
                # The sink stopped part-way (quota, auth): the records it did write are
                # recorded and counted like any others.
                went_out = sorted(done_before(error).items())
                if went_out:
                    done.sent.append(
                        (key, [group[i] for i, _ in went_out], [r for _, r in went_out])
                    )
                done.error = error
                return done
            if len(results) != len(group):
                done.error = RuntimeError(
                    f"{system.value} answered {len(results)} results for {len(group)} writes"
                )
                return done
            done.sent.append((key, group, results))
        return done

    parts = bounded_map(one_system, systems, len(systems))  # one_system never raises
    errors = [part.error for part in parts if part.error is not None]
    return Sending(
        sent=[item for part in parts for item in part.sent],
        error=errors[0] if errors else None,
    )


def apply_records(
    records: Sequence[RecordPlan],
    sinks: Mapping[System, CrmSink],
    store: StateStore,
    *,
    run_id: str,
    now: datetime,
    observed: Mapping[SourceRef, Observed],
    counted: Callable[[ApplyOutcome], None] | None = None,
) -> ApplyOutcome:
    """Write ``records`` and record every outcome. ``observed`` holds each target record as
    last pulled (its values become the merge baseline plus what was written). A sink's error
    is raised after what went out before it is recorded and handed to ``counted``."""
    sending = send_records(records, sinks)
    outcome = record_outcomes(sending.sent, store, run_id=run_id, now=now, observed=observed)
    if counted is not None:
        counted(outcome)
    sending.raise_error()
    return outcome


def record_outcomes(
    sent: Sent,
    store: StateStore,
    *,
    run_id: str,
    now: datetime,
    observed: Mapping[SourceRef, Observed],
) -> ApplyOutcome:
    """Record what the CRMs answered, in one transaction (see the module's docstring)."""
    outcome = ApplyOutcome()
    provenance: list[Provenance] = []
    settled: list[tuple[Observed, dict[str, JsonValue]]] = []
    letters: list[NewDeadLetter] = []
    cleared: list[SourceRef] = []
    links: list[tuple[SourceRef, str, LinkReason]] = []
    created: list[Observed] = []
    gone: list[GoneRecord] = []
    for (system, object_type, kind), group, results in sent:
        label = f"{system.value}.{kind.value}"
        for record, result in zip(group, results, strict=True):
            target = SourceRef(system=system, object_type=object_type, record_id=record.record_id)
            if kind is WriteKind.UPDATE and not result.ok and result.code in _MISSING[system]:
                # Deleted (or merged away) since it was read: remembered as gone, and its
                # person decided again under the delete policy. Never dead-lettered.
                outcome.missing[label] += 1
                gone.append(GoneRecord(target, record.person_id, GoneHow.MISSING, now))
                continue
            if kind is WriteKind.DELETE and result.ok:
                outcome.written[label] += 1
                how = GoneHow.ARCHIVED if system is System.HUBSPOT else GoneHow.DELETED
                gone.append(GoneRecord(target, record.person_id, how, now, by_crmsync=True))
                continue
            existing = _existing_contact(kind, system, result)
            if existing is not None:
                # HubSpot refused a create because a contact with this e-mail exists (it was
                # outside this run's window): that contact is the person. Link it, read it and
                # merge it, instead of dead-lettering a duplicate.
                links.append((existing, record.person_id, LinkReason.EMAIL_MATCH))
                outcome.linked_existing.add(record.person_id)
                continue
            if result.status is WriteStatus.PARTIAL:
                # Changed, but not as planned (a clear went out, its set did not): counted as
                # received; nothing is recorded as written, so the person is planned again.
                outcome.partial[label] += 1
                continue
            if not result.ok:
                outcome.rejected[label] += 1
                reason = f"{result.code}: {result.message}" if result.code else result.message
                outcome.rejections.append((target, result.code, result.message))
                duplicate = kind is WriteKind.CREATE and result.code == _DUPLICATE_RULE
                if duplicate:
                    # Salesforce says a record it holds is probably this person: creating one
                    # more would make a duplicate, and retrying would be refused again. The
                    # create waits for an admin's decision, as an identity issue.
                    outcome.duplicates.append(
                        IssueSeen(
                            kind=IssueKind.DUPLICATE_RULE.value,
                            record=str(target),
                            detail=(
                                f"Salesforce's duplicate rules refused to create this person "
                                f"({result.message or result.code}); find the matching "
                                f"{object_type} and link it (`crmsync identity resolve ID "
                                f"--prefer salesforce/{object_type}/ID`), or --ignore"
                            ),
                            people=(record.person_id,),
                        )
                    )
                letters.append(
                    NewDeadLetter(
                        ref=target,
                        fields=tuple(change.field for change in record.changes),
                        error_class="RecordRejectedError",
                        code=result.code,
                        message=reason,
                        person_id=record.person_id,
                        payload={
                            change.mapping or change.field: change.value
                            for change in record.changes
                        },
                        waiting=duplicate,
                        fingerprint=DECISION if duplicate else None,
                    )
                )
                continue
            outcome.written[label] += 1
            outcome.fields[label] += len(record.changes)
            written_id = result.record_id or record.record_id
            # The sink redirects a converted Lead's write to its Contact and says so.
            written_type = result.written_object_type or object_type
            written_ref = (
                target
                if written_id == target.record_id and written_type == object_type
                else SourceRef(system=system, object_type=written_type, record_id=written_id)
            )
            values_written = {c.mapping: c.value for c in record.changes if c.mapping}
            if kind is WriteKind.CREATE:
                created.append(
                    Observed(written_ref, record.person_id, now, values_written, None, False)
                )
            if kind is WriteKind.CREATE or written_ref != target:
                # A new record, or a converted Lead's write redirected to its Contact.
                reason_link = (
                    LinkReason.CREATED if kind is WriteKind.CREATE else LinkReason.CONVERSION
                )
                links.append((written_ref, record.person_id, reason_link))
            cleared.append(target)
            for change in record.changes:
                if change.mapping:
                    provenance.append(
                        Provenance(
                            person_id=record.person_id,
                            field=change.mapping,
                            system=system,
                            seen_value=change.value,
                            seen_modified_at=now,
                            written_value=change.value,
                            written_at=now,
                            written_run_id=run_id,
                        )
                    )
            before = observed.get(target)
            if before is not None and written_ref == target:
                if result.modified_at is not None and result.modified_at > before.modified_at:
                    # The CRM's own stamp for the record as written: a lagging search
                    # answering an older version of it is recognised as stale.
                    before = replace(before, modified_at=result.modified_at)
                settled.append((before, {**before.values, **values_written}))

    with store.transaction():
        if gone:
            store.gone.record(gone)
            store.links.close_many(item.ref for item in gone)
            outcome.again.update(item.person_id for item in gone)
            store.dirty.mark(outcome.again, "gone")
        store.provenance.put_many(provenance)
        # A record linked meanwhile (or twice in this batch) keeps its first link.
        linked = store.links.resolve(ref for ref, _, _ in links)
        first: dict[SourceRef, tuple[SourceRef, str, LinkReason]] = {}
        for item in links:
            if item[0] not in linked:
                first.setdefault(item[0], item)
        store.links.add_many(first.values())
        # A created record's baseline is what crmsync wrote: its echo will change nothing.
        settled.extend((item, dict(item.values)) for item in created)
        store.observations.settle(settled)
        store.dead_letters.clear_records(cleared)
        if letters:
            store.dead_letters.add_many(letters)
        if outcome.duplicates:
            store.issues.seen(outcome.duplicates, run_id=run_id)
        # Answered: these writes need no confirming by a later run.
        store.intents.drop(
            run_id,
            (
                SourceRef(system=key[0], object_type=key[1], record_id=record.record_id)
                for key, group, _ in sent
                for record in group
            ),
        )
        store.dirty.mark(outcome.linked_existing, "linked existing")
    for ref, code, _ in outcome.rejections[-len(letters) :] if letters else ():
        log.info(
            "%s %s rejected (%s); dead-lettered",
            ref.system.value,
            ref.object_type,
            code or "no code",
        )
    return outcome


@dataclass(frozen=True)
class _InFlight:
    people: Sequence[str]
    observed: Mapping[SourceRef, Observed]
    now: datetime
    future: Future[Sending]


class WriteBehind:
    """Sends one chunk's writes while the engine decides the next.

    At most one chunk is being sent at a time. :meth:`submit` waits until the chunk before has
    been sent, starts sending the new one on a writer thread, and *then* records the chunk
    before's outcomes, so the CRMs are not kept waiting while the state store catches up.
    Outcomes are recorded on the calling thread (the state store stays with the thread that
    owns it). A chunk whose sending stopped on an error (quota, auth) is recorded and the error
    raised before anything more is sent; what such a chunk did write is handed to ``stopped``
    (to be counted), and ``done`` is called only for chunks whose sending completed. Leaving
    the context, normally or by an error, finishes the chunk in flight, so no write that went
    out goes unrecorded.
    """

    def __init__(
        self,
        sinks: Mapping[System, CrmSink],
        store: StateStore,
        *,
        run_id: str,
        done: Callable[[ApplyOutcome, Sequence[str]], None],
        stopped: Callable[[ApplyOutcome], None] | None = None,
    ) -> None:
        self._sinks = sinks
        self._store = store
        self._run_id = run_id
        self._done = done
        self._stopped = stopped
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-writer")
        self._pending: _InFlight | None = None

    def submit(
        self,
        people: Sequence[str],
        records: Sequence[RecordPlan],
        *,
        now: datetime,
        observed: Mapping[SourceRef, Observed],
    ) -> None:
        """Write ``records`` (for ``people``, the chunk) behind the caller's next chunk."""
        before = self._sent()
        if before is not None and before[1].error is not None:
            self._record(*before)  # raises its sink's error: nothing more goes out
        future = self._pool.submit(send_records, records, self._sinks)
        self._pending = _InFlight(people, observed, now, future)
        if before is not None:
            self._record(*before)

    def finish(self) -> None:
        """Wait for the chunk in flight, record its outcomes, raise its sink's error."""
        before = self._sent()
        if before is not None:
            self._record(*before)

    def _sent(self) -> tuple[_InFlight, Sending] | None:
        """The chunk in flight, once its sending is over (it is no longer in flight)."""
        pending, self._pending = self._pending, None
        return (pending, pending.future.result()) if pending is not None else None

    def _record(self, chunk: _InFlight, sending: Sending) -> None:
        outcome = record_outcomes(
            sending.sent, self._store, run_id=self._run_id, now=chunk.now, observed=chunk.observed
        )
        if sending.error is not None:
            # Part of the chunk went out: counted, but none of its people is done.
            if self._stopped is not None:
                self._stopped(outcome)
            sending.raise_error()
        self._done(outcome, chunk.people)

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.finish()
            else:
                try:
                    self.finish()
                except Exception:  # the error already leaving wins; this one is logged
                    log.exception("recording the last chunk's writes failed")
        finally:
            self._pool.shutdown(wait=True)
