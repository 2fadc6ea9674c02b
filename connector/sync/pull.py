"""Pulling: changed people and their activity from each CRM into the state store's buffer.

Each page is handled in one transaction: records are normalised, resolved to people, stored as
observations, their people marked dirty, and the stream's cursor committed. A crash between
pages loses nothing: the cursor only ever covers pages already stored.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from connector.crm.types import ActivityRecord, CrmSource, Page, RawRecord
from connector.crm.types import Cursor as CrmCursor
from connector.errors import System
from connector.funnel import SourceRef
from connector.state import NewObservation, StateStore
from connector.state.gone import GoneHow, GoneRecord
from connector.state.issues import IssueSeen, StoredIssue
from connector.state.models import Cursor, LinkReason
from connector.stopping import Stop
from connector.sync._overlap import interleaved
from connector.sync.activity import stored_activities
from connector.sync.identity import IdentityIssue, IssueKind, Resolution, resolve
from connector.sync.normalise import DataIssue, Normaliser, Snapshot

__all__ = [
    "PullStats",
    "pull_activity",
    "pull_deleted",
    "pull_people",
    "read_linked",
    "store_records",
    "stream_name",
    "waiting_records",
]

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]


def stream_name(pair: str, system: System, object_type: str) -> str:
    return f"{pair}:{system.value}:{object_type}"


@dataclass
class PullStats:
    records: Counter[str] = field(default_factory=Counter)  # "salesforce.Lead" -> records
    activities: Counter[str] = field(default_factory=Counter)
    dirty: int = 0
    activity_due: dict[System, dict[str, list[str]]] = field(default_factory=dict)
    """Record ids (by system and object type) whose activity to read in full: records linked for
    the first time. Activity of records already known arrives through the CRMs' own change
    signals (window queries, HubSpot's Last Activity Date), so an edited record or the echo of
    crmsync's own write costs no activity calls."""
    identity_issues: list[IdentityIssue] = field(default_factory=list)
    data_issues: list[DataIssue] = field(default_factory=list)
    gone: Counter[str] = field(default_factory=Counter)  # "salesforce.deleted" -> records
    restored: int = 0  # records that came back and rejoined their person
    echoes: int = 0  # versions of gone records older than their going: dropped
    recheck: list[SourceRef] = field(default_factory=list)
    """Unlinked records to read again: the record they conflicted with changed."""
    run_id: str | None = None
    confirmed: Counter[str] = field(default_factory=Counter)
    """Writes of runs that died mid-write, confirmed against what was pulled."""


def pull_people(
    sources: Iterable[CrmSource],
    normaliser: Normaliser,
    store: StateStore,
    *,
    pair: str,
    run_start: datetime,
    backfill: bool = False,
    objects: Iterable[str] = (),
    progress: Progress | None = None,
    stats: PullStats | None = None,
    stop: Stop | None = None,
) -> PullStats:
    """Pull every people object of every source changed since its cursor (all, on backfill).

    The sources are read side by side, each on a thread of its own; their pages are stored on
    the caller's thread as they arrive, each in one transaction with its stream's cursor.
    Once ``stop`` is set no further page is stored (:class:`~connector.errors.StopRequested`
    is raised between pages): what was stored stays stored, its cursor with it.
    """
    stats = stats or PullStats()
    wanted = set(objects)
    streams: dict[System, Callable[[], Iterator[tuple[str, str, Page]]]] = {}
    for source in sources:
        plan: list[tuple[str, str, CrmCursor | None, list[str]]] = []
        for object_type in source.people_objects():
            if wanted and object_type not in wanted:
                continue
            stream = stream_name(pair, source.system, object_type)
            stored = None if backfill else store.cursors.get(stream)
            since = (
                None
                if stored is None
                else CrmCursor(watermark=stored.watermark, last_id=stored.tie_break or "")
            )
            fields = list(normaliser.fields_to_pull(source.system, object_type))
            plan.append((object_type, stream, since, fields))
        streams[source.system] = partial(_people_pages, source, plan, run_start)
    for system, (object_type, stream, page) in interleaved(streams, stop=stop):
        cursor = Cursor(
            stream=stream,
            watermark=page.cursor.watermark,
            tie_break=page.cursor.last_id or None,
            run_started_at=run_start,
        )
        first_seen = store_records(normaliser, store, page.records, stats, cursor=cursor)
        label = f"{system.value}.{object_type}"
        stats.records[label] += len(page.records)
        due = stats.activity_due.setdefault(system, {}).setdefault(object_type, [])
        due.extend(first_seen)
        if progress is not None:
            progress(label, len(page.records))
    return stats


def _people_pages(
    source: CrmSource,
    plan: Sequence[tuple[str, str, CrmCursor | None, list[str]]],
    run_start: datetime,
) -> Iterator[tuple[str, str, Page]]:
    for object_type, stream, since, fields in plan:
        for page in source.pull_people(
            object_type, since=since, run_start=run_start, fields=fields
        ):
            yield object_type, stream, page


def waiting_records(
    store: StateStore, dirty: Iterable[Sequence[str]]
) -> tuple[list[SourceRef], list[SourceRef]]:
    """The records of the ``dirty`` people (chunks of ids), and the records linked to them
    that crmsync never read.

    A run killed after pulling people but before pulling their activity leaves them dirty
    with their people cursors advanced: the next run would not pull those records again, and
    without this would evaluate them without the activity it never read. A record linked from
    a write's answer (HubSpot's "Existing ID") has no observation until it is read.
    """
    refs: list[SourceRef] = []
    unread: list[SourceRef] = []
    for batch in dirty:
        known: set[SourceRef] = set()
        for items in store.observations.for_people(batch).values():
            known.update(item.ref for item in items)
            refs.extend(item.ref for item in items if not item.deleted)
        for links in store.links.for_people(batch).values():
            unread.extend(link.ref for link in links if link.ref not in known)
    return refs, unread


def read_linked(
    sources: Mapping[System, CrmSource],
    normaliser: Normaliser,
    store: StateStore,
    refs: Sequence[SourceRef],
    stats: PullStats,
) -> int:
    """Read by id the records crmsync linked without ever reading them (those of ``refs``
    still without an observation), and store them as a pull would; their activity is due in
    full. HubSpot names the contact that owns an e-mail address when it refuses to create
    another: that contact is linked at once, but may have changed before the pulls' windows.
    Returns how many records were read."""
    seen = store.observations.get_many(refs)
    wanted: dict[System, dict[str, list[str]]] = {}
    for ref in refs:
        if ref not in seen:
            wanted.setdefault(ref.system, {}).setdefault(ref.object_type, []).append(ref.record_id)
    read = 0
    for system, by_type in wanted.items():
        source = sources[system]
        for object_type, ids in by_type.items():
            fields = normaliser.fields_to_pull(system, object_type)
            records = source.read_people(object_type, ids, fields=fields)
            store_records(normaliser, store, records, stats)
            stats.records[f"{system.value}.{object_type}"] += len(records)
            due = stats.activity_due.setdefault(system, {}).setdefault(object_type, [])
            due.extend(record.id for record in records)
            read += len(records)
    return read


def store_records(
    normaliser: Normaliser,
    store: StateStore,
    records: Sequence[RawRecord],
    stats: PullStats,
    *,
    cursor: Cursor | None = None,
) -> list[str]:
    """Normalise, resolve and store ``records`` in one transaction, marking their people dirty
    and committing ``cursor`` with them. Returns the ids of records linked for the first time.

    Records crmsync has seen go (deleted, archived, merged away) are told apart here: a newer
    version is a restore and rejoins its old person; an older or equal one is a late echo (a
    lagging search index) and is dropped, so it can never make a new person or a new record.
    """
    snapshots = normaliser.snapshots(records)
    refs = [snapshot.ref for snapshot in snapshots]
    with store.transaction():
        before = {ref: link.person_id for ref, link in store.links.resolve(refs).items()}
        unlinked = [ref for ref in refs if ref not in before]
        gone = store.gone.get_many(unlinked) if unlinked else {}
        if gone:
            snapshots = _returning(store, snapshots, gone, before, stats)
        dismissed = frozenset(
            SourceRef.parse(key)
            for key in store.issues.decided(
                [str(ref) for ref in unlinked], IssueKind.AMBIGUOUS_EMAIL.value
            )
        )
        open_issues = store.issues.open_for_records(str(ref) for ref in refs)
        rivals = _rivals_moved(store, snapshots, open_issues, normaliser)
        resolution = resolve(store, [s.identity for s in snapshots], dismissed=dismissed)
        observations: list[NewObservation] = []
        first_seen: list[str] = []
        touched: set[str] = set()
        for snapshot in snapshots:
            person = resolution.person_of.get(snapshot.ref)
            previous = before.get(snapshot.ref)
            if person is None and previous is not None:
                # Deleted, or a converted Lead: keep it, inactive, under its old person.
                owner = previous
                inactive = True
            elif person is None:
                continue  # unlinked (ambiguous): reported, not synced
            else:
                owner, inactive = person, snapshot.identity.deleted
            if previous is None:
                first_seen.append(snapshot.ref.record_id)
            observations.append(
                NewObservation(snapshot.ref, owner, snapshot.modified_at, snapshot.values, inactive)
            )
            if inactive and person is not None:
                touched.add(person)
        for ref, person in resolution.person_of.items():
            if person is not None and ref not in before:
                touched.add(person)  # conversion targets, newly linked records
        departed = _departures(snapshots, resolution)
        store.gone.record(departed)
        touched.update(item.person_id for item in departed)
        changed = store.observations.record(observations) | touched
        store.dirty.mark(changed, "pulled")
        _keep_issues(store, snapshots, resolution, open_issues, rivals, stats)
        if cursor is not None:
            store.cursors.commit(cursor)
    stats.dirty += len(changed)
    stats.identity_issues.extend(resolution.issues)
    stats.gone.update(f"{item.ref.system.value}.{item.how.value}" for item in departed)
    for snapshot in snapshots:
        stats.data_issues.extend(snapshot.issues)
    return first_seen


def _returning(
    store: StateStore,
    snapshots: list[Snapshot],
    gone: Mapping[SourceRef, GoneRecord],
    before: dict[SourceRef, str],
    stats: PullStats,
) -> list[Snapshot]:
    """Records crmsync saw go, seen again: restores rejoin their person (``before`` gains
    their link), late echoes are dropped. Returns the snapshots to go on with."""
    kept: list[Snapshot] = []
    restored: dict[SourceRef, str] = {}
    for snapshot in snapshots:
        left = gone.get(snapshot.ref)
        if left is None:
            kept.append(snapshot)
        elif snapshot.identity.deleted:
            continue  # already known to be gone
        elif snapshot.modified_at > left.gone_at and left.how is not GoneHow.MERGED:
            restored[snapshot.ref] = store.people.current(left.person_id)
            kept.append(snapshot)
        else:
            stats.echoes += 1  # as the record was before it went: nothing to do
    if restored:
        store.links.add_many((ref, person, LinkReason.RESTORED) for ref, person in restored.items())
        store.gone.restore(restored)
        store.people.revive(restored.values())
        before.update(restored)
        stats.restored += len(restored)
    return kept


def _departures(snapshots: Sequence[Snapshot], resolution: Resolution) -> list[GoneRecord]:
    """Gone records for the linked records that left their person on this page."""
    when = {snapshot.ref.record_id: snapshot.modified_at for snapshot in snapshots}
    found: list[GoneRecord] = []
    for item in resolution.departed:
        if item.converted:
            how = GoneHow.CONVERTED
        elif item.merged:
            how = GoneHow.MERGED
        elif item.ref.system is System.HUBSPOT:
            how = GoneHow.ARCHIVED
        else:
            how = GoneHow.DELETED
        # A HubSpot merge names the merged-away contact on the survivor: the survivor's time.
        gone_at = when.get(item.ref.record_id) or when.get(item.survivor or "")
        if gone_at is None:
            continue
        found.append(
            GoneRecord(
                ref=item.ref,
                person_id=item.person_id,
                how=how,
                gone_at=gone_at,
                survivor_id=item.survivor,
            )
        )
    return found


def _rivals_moved(
    store: StateStore,
    snapshots: Sequence[Snapshot],
    issues: Sequence[StoredIssue],
    normaliser: Normaliser,
) -> set[str]:
    """The records on this page holding an address an unlinked duplicate wants, that let go
    of it: deleted, or re-addressed. (crmsync's own writes coming back change neither.)"""
    by_key = {str(snapshot.ref): snapshot for snapshot in snapshots}
    holders = [
        by_key[issue.other]
        for issue in issues
        if issue.kind == IssueKind.AMBIGUOUS_EMAIL.value and issue.other in by_key
    ]
    if not holders:
        return set()
    before = store.observations.get_many(snapshot.ref for snapshot in holders)
    moved: set[str] = set()
    for snapshot in holders:
        seen = before.get(snapshot.ref)
        previous = normaliser.email_of(seen.values) if seen is not None else None
        if snapshot.identity.deleted or snapshot.identity.email != previous:
            moved.add(str(snapshot.ref))
    return moved


def _keep_issues(
    store: StateStore,
    snapshots: Sequence[Snapshot],
    resolution: Resolution,
    open_issues: Sequence[StoredIssue],
    rivals_moved: set[str],
    stats: PullStats,
) -> None:
    """Record the page's identity issues as state; close those the data has resolved, and
    ask for the records of issues whose rival let go of the address to be read again."""
    found = [issue for issue in resolution.issues if issue.kind.actionable]
    if found:
        store.issues.seen(
            (
                IssueSeen(
                    kind=issue.kind.value,
                    record=str(issue.ref),
                    other=str(issue.other) if issue.other is not None else None,
                    detail=issue.detail,
                    people=issue.people,
                )
                for issue in found
            ),
            run_id=stats.run_id,
        )
    by_key = {str(snapshot.ref): snapshot for snapshot in snapshots}
    still = {str(issue.ref) for issue in found}
    settled: list[int] = []
    for issue in open_issues:
        if issue.kind != IssueKind.AMBIGUOUS_EMAIL.value:
            continue  # a merge conflict waits for a decision
        mine = by_key.get(issue.record)
        if mine is not None and issue.record not in still:
            settled.append(issue.id)  # the record now resolves (linked, or deleted)
            continue
        if mine is None and issue.other in rivals_moved:
            # The record holding the address let go of it: the unlinked one may resolve
            # now. Read it again.
            stats.recheck.append(SourceRef.parse(issue.record))
    store.issues.resolved_by_data(settled)


def pull_deleted(
    sources: Mapping[System, CrmSource],
    store: StateStore,
    *,
    pair: str,
    run_start: datetime,
    stats: PullStats,
) -> None:
    """Ask each CRM's delete log (Salesforce getDeleted) which people records were deleted
    since its cursor, for the deletions the people pull can no longer see: records emptied
    from the recycle bin before a run read them. Linked ones are remembered as gone and their
    links closed. When the log itself was purged past the cursor, the linked records of that
    object are read by id instead, and those the CRM no longer holds are gone.

    A first run only starts the cursor: its pull reads the recycle bin whole.
    """
    for system, source in sources.items():
        for object_type in source.people_objects():
            stream = stream_name(pair, system, f"{object_type}:deleted")
            stored = store.cursors.get(stream)
            if stored is None:
                _commit(store, stream, run_start, run_start)
                continue
            log = source.pull_deleted(object_type, since=stored.watermark, run_start=run_start)
            if log is None:
                continue  # no delete log, or too short a window: the cursor stays
            deleted = {
                SourceRef(system=system, object_type=object_type, record_id=r.id): r.deleted_at
                for r in log.records
            }
            missing = {} if log.complete else _missing(source, store, system, object_type)
            with store.transaction():
                _gone_by_id(store, deleted, GoneHow.PURGED, stats)
                _gone_by_id(store, missing, GoneHow.MISSING, stats)
                _commit(store, stream, min(log.covered_to, run_start), run_start)


def _commit(store: StateStore, stream: str, watermark: datetime, run_start: datetime) -> None:
    store.cursors.commit(
        Cursor(stream=stream, watermark=watermark, tie_break=None, run_started_at=run_start)
    )


def _gone_by_id(
    store: StateStore, refs: Mapping[SourceRef, datetime], how: GoneHow, stats: PullStats
) -> None:
    """Remember the linked records among ``refs`` as gone (at the given times); close their
    links and mark their people dirty. Records already known to be gone, or never linked, are
    left alone."""
    linked = store.links.resolve(refs)
    if not linked:
        return
    store.gone.record(
        GoneRecord(ref=ref, person_id=link.person_id, how=how, gone_at=refs[ref])
        for ref, link in linked.items()
    )
    store.links.close_many(linked)
    store.dirty.mark({link.person_id for link in linked.values()}, "gone")
    stats.gone.update(f"{ref.system.value}.{how.value}" for ref in linked)


def _missing(
    source: CrmSource, store: StateStore, system: System, object_type: str
) -> dict[SourceRef, datetime]:
    """Linked records of one object that the CRM no longer holds (read by id, in batches)."""
    linked = store.links.active_records(system, object_type)
    found = {record.id for record in source.read_people(object_type, linked, fields=())}
    now = datetime.now(UTC)
    return {
        SourceRef(system=system, object_type=object_type, record_id=record_id): now
        for record_id in linked
        if record_id not in found
    }


def _batches(records: Iterable[ActivityRecord], size: int) -> Iterator[list[ActivityRecord]]:
    batch: list[ActivityRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _record_types(
    source: CrmSource, store: StateStore, records: list[ActivityRecord], due: Mapping[str, str]
) -> dict[str, str]:
    """The object type of every known person record the activity is attached to: the ones
    asked for, and any other record crmsync has linked (window queries return activity of
    records that did not change this run; activity of records crmsync does not know is
    dropped)."""
    types = dict(due)
    other = {i for record in records for i in record.person_ids if i not in types}
    if other:
        refs = [
            SourceRef(system=source.system, object_type=object_type, record_id=record_id)
            for record_id in sorted(other)
            for object_type in source.people_objects()
        ]
        for ref in store.links.resolve(refs):
            types[ref.record_id] = ref.object_type
    return types


def pull_activity(
    sources: Mapping[System, CrmSource],
    store: StateStore,
    record_ids: Mapping[System, Mapping[str, list[str]]],
    *,
    pair: str,
    run_start: datetime,
    stats: PullStats,
    progress: Progress | None = None,
    chunk: int = 2000,
    stop: Stop | None = None,
) -> PullStats:
    """Pull activity changed since each source's activity cursor: of ``record_ids`` (by system
    and object type; the new or changed records), and whatever else the CRM's window queries
    return for records crmsync knows. Store it and mark the people whose activity changed
    dirty; a source's cursor moves once all of its activity is stored. Pass every source,
    even with no ids: activity can change on a record that did not. Sources are read side by
    side, as in :func:`pull_people`, and a ``stop`` ends the pull between batches the same
    way (a source whose activity was not all stored keeps its cursor)."""
    streams: dict[System, Callable[[], Iterator[list[ActivityRecord] | None]]] = {}
    due_by_system: dict[System, dict[str, str]] = {}
    for system, source in sources.items():
        stored = store.cursors.get(stream_name(pair, system, "activity"))
        since = stored.watermark if stored is not None else None
        due = {
            record_id: kind
            for kind, values in record_ids.get(system, {}).items()
            for record_id in values
        }
        due_by_system[system] = due
        streams[system] = partial(_activity_batches, source, list(due), since, run_start, chunk)
    for system, records in interleaved(streams, stop=stop):
        source = sources[system]
        if records is None:  # all of this source's activity is stored
            store.cursors.commit(
                Cursor(
                    stream=stream_name(pair, system, "activity"),
                    watermark=run_start,
                    tie_break=None,
                    run_started_at=run_start,
                )
            )
            continue
        kinds = _record_types(source, store, records, due_by_system[system])
        items = stored_activities(system, records, kinds, as_of=run_start)
        with store.transaction():
            changed_refs = store.activities.put_many(items)
            people = store.links.resolve(changed_refs)
            store.dirty.mark({link.person_id for link in people.values()}, "activity")
        label = f"{system.value}.activity"
        stats.activities[label] += len(records)
        if progress is not None:
            progress(label, len(records))
    return stats


def _activity_batches(
    source: CrmSource,
    record_ids: list[str],
    since: datetime | None,
    run_start: datetime,
    chunk: int,
) -> Iterator[list[ActivityRecord] | None]:
    """The source's activity in batches of ``chunk``, then None."""
    pulled = source.pull_activity(record_ids, since=since, run_start=run_start)
    yield from _batches(pulled, chunk)
    yield None
