"""One sync cycle, as described in docs/architecture.md ("One sync cycle").

:class:`SyncEngine` is handed its collaborators (adapters, mappings, rules, state store, clock)
and runs: lock → pull people → pull activity → for each chunk of dirty people: decide, write,
record → finish the run. ``plan`` does the same up to deciding and writes nothing to the CRMs.
Memory stays flat: pages stream through the state store and dirty people are processed in
chunks, so a sync of 200,000 people holds one chunk at a time.

A stop request (``stop``, set on SIGTERM) is honoured in every phase within seconds: between
pages and activity batches, between chunks, and inside a chunk's writes at the next API call
(see :mod:`connector.stopping`). The run is recorded as interrupted with what it did; the next
run resumes from the checkpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from connector.crm.types import CrmSink, CrmSource, ObjectSchema
from connector.errors import (
    CrmsyncError,
    QuotaExhaustedError,
    StopRequested,
    System,
)
from connector.funnel import SourceRef
from connector.mapping.model import MappingSet
from connector.rules import Rules
from connector.state import JsonValue, NewDeadLetter, Observed, StateStore
from connector.state.gone import GoneRecord
from connector.state.models import PersonRecord, RunOutcome, StageChange, new_id
from connector.stopping import Stop
from connector.sync._lease import Lease
from connector.sync.apply import ApplyOutcome, WriteBehind, apply_records
from connector.sync.decide import CreatePolicy, DeletePolicy, PersonInputs, PersonResult, decide
from connector.sync.intents import intents, settle_intents
from connector.sync.normalise import Normaliser
from connector.sync.plan import Plan, RecordPlan, stale
from connector.sync.plan_seal import check_plan, seal_plan
from connector.sync.pull import (
    PullStats,
    pull_activity,
    pull_deleted,
    pull_people,
    read_linked,
    waiting_records,
)
from connector.sync.report import DriftReport, RunReport
from connector.sync.validate import fingerprint

__all__ = ["EngineOptions", "SyncEngine", "scoring_time"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Progress = Callable[[str, int], None]
CHUNK = 2000  # people per decide/write round: a multiple of both CRMs' batch sizes
STOPPED = "stopped on request after a checkpoint; the next run resumes"


def scoring_time(run_start: datetime) -> datetime:
    """When scores are evaluated: the end of the run's UTC day.

    Engagement decays with time, so evaluating at the exact run start would let two runs a
    minute apart round a score differently and write it again. Every run on one day evaluates
    at the same instant (today's activity included); the daily rescore applies the next day's
    decay.
    """
    day = run_start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    pair: str = "default"
    create: CreatePolicy = field(default_factory=CreatePolicy)
    chunk: int = CHUNK
    objects: tuple[str, ...] = ()
    lock_ttl: timedelta = timedelta(minutes=10)
    on_delete: DeletePolicy | None = None  # None: the settings' ``sync.on_delete``


@dataclass
class SyncEngine:
    store: StateStore
    mappings: MappingSet
    rules: Rules
    sources: Mapping[System, CrmSource]
    sinks: Mapping[System, CrmSink]
    clock: Clock
    options: EngineOptions = field(default_factory=EngineOptions)
    progress: Progress | None = None
    api_calls: Callable[[], Mapping[System, int]] | None = None
    stop: Stop | None = None  # set on SIGTERM: the adapters share it (see ``wiring.connected``)
    _schemas: dict[tuple[System, str], ObjectSchema] = field(default_factory=dict, init=False)

    # -- pulling ---------------------------------------------------------------------------

    def pull(
        self,
        run_start: datetime,
        *,
        backfill: bool = False,
        run_id: str | None = None,
        stats: PullStats | None = None,
    ) -> PullStats:
        """Pull people, deletions and activity into the state store; ``stats`` (new if None)
        counts what was stored, also when a stop or an error ends the pull part-way."""
        normaliser = Normaliser(self.mappings)
        stats = PullStats(run_id=run_id) if stats is None else stats
        waiting, unread = waiting_records(self.store, self._chunks())
        pull_people(
            self.sources.values(),
            normaliser,
            self.store,
            pair=self.options.pair,
            run_start=run_start,
            backfill=backfill,
            objects=self.options.objects,
            progress=self.progress,
            stats=stats,
            stop=self.stop,
        )
        pull_deleted(
            self.sources, self.store, pair=self.options.pair, run_start=run_start, stats=stats
        )
        # Records left unlinked as duplicates whose rival changed: they may resolve now.
        read_linked(self.sources, normaliser, self.store, [*unread, *stats.recheck], stats)
        if run_id is not None:
            confirmed = settle_intents(self.store, keep=run_id)
            stats.confirmed.update(confirmed)
        wanted = stats.activity_due
        for ref in waiting:
            wanted.setdefault(ref.system, {}).setdefault(ref.object_type, []).append(ref.record_id)
        # Every source, even with nothing due: activity changes on records that did not.
        pull_activity(
            self.sources,
            self.store,
            wanted,
            pair=self.options.pair,
            run_start=run_start,
            stats=stats,
            progress=self.progress,
            stop=self.stop,
        )
        # Dead letters whose retry time has come are planned again with their people, and
        # those waiting for a change whose mapping or schema changed.
        due = self.store.dead_letters.due(run_start)
        self.store.dirty.mark({d.person_id for d in due if d.person_id}, "retry")
        changed = self.store.dead_letters.changed_since_refused(self._fingerprint)
        self.store.dirty.mark({d.person_id for d in changed if d.person_id}, "schema changed")
        return stats

    def _catch_up(self, run_start: datetime, stats: PullStats) -> PullStats:
        """Read the contacts HubSpot named as owners of e-mail addresses this run tried to
        create, and their activity, so that their people are synced in this run."""
        unread = waiting_records(self.store, self._chunks())[1]
        read_linked(self.sources, Normaliser(self.mappings), self.store, unread, stats)
        pull_activity(
            {system: self.sources[system] for system in stats.activity_due},
            self.store,
            stats.activity_due,
            pair=self.options.pair,
            run_start=run_start,
            stats=stats,
            progress=self.progress,
            stop=self.stop,
        )
        return stats

    # -- deciding --------------------------------------------------------------------------

    def _inputs(self, person_ids: Sequence[str]) -> list[PersonInputs]:
        records = self.store.people.get_many(person_ids)
        observed = self.store.observations.for_people(person_ids)
        written = self.store.provenance.written_by_person(person_ids)
        activities = self.store.activities.for_scoring(person_ids)
        linked = self.store.links.systems_of(person_ids)
        gone = self.store.gone.for_people(person_ids)
        blocked = self.store.dead_letters.waiting_on_decision(person_ids)
        # A record whose link identity resolution closed without the CRM reporting it deleted
        # (a contact HubSpot merged into another) is history: never the one to write to.
        current = self.store.links.linked(
            item.ref for items in observed.values() for item in items if not item.deleted
        )
        found: list[PersonInputs] = []
        for person_id in person_ids:
            record = records.get(person_id)
            if record is None or record.merged_into is not None or record.tombstoned_at:
                continue
            found.append(
                PersonInputs(
                    record=record,
                    observed=[
                        item if item.deleted or item.ref in current else replace(item, deleted=True)
                        for item in observed.get(person_id, [])
                    ],
                    written=written.get(person_id, {}),
                    activities=activities.get(person_id, []),
                    linked=linked.get(person_id, frozenset()),
                    gone=_latest_gone(gone.get(person_id, ())),
                    blocked=frozenset(blocked.get(person_id, ())),
                )
            )
        return found

    def _fingerprint(self, system: System, object_type: str) -> str:
        """What a value held back on this object waits on: the mappings and its schema."""
        return fingerprint(self.mappings, self._schemas_for().get((system, object_type)))

    def _held(self, results: Sequence[PersonResult]) -> None:
        """Record the values held back as dead letters waiting for a change (not a timer);
        those of these people no longer held back (fixed, or no longer planned) go."""
        letters = [
            NewDeadLetter(
                ref=held.ref,
                fields=(held.change.field,),
                error_class="InvalidValue",
                code=held.code,
                message=held.message(),
                person_id=held.person_id,
                payload={held.change.mapping or held.change.field: held.change.value},
                waiting=True,
                fingerprint=self._fingerprint(held.ref.system, held.ref.object_type),
            )
            for result in results
            for held in result.held
        ]
        self.store.dead_letters.add_many(letters)
        self.store.dead_letters.settle_waiting(
            [result.person.id for result in results], keep=letters
        )
        # A create a duplicate rule refused is moot once the person has a record there (the
        # matching record was read and linked): its letter and issue settle by themselves.
        moot = {
            (result.person.id, system)
            for result in results
            for system in result.blocked
            if system in result.primary
        }
        if moot:
            self.store.dead_letters.settle_decisions(moot)
            records = [
                f"{system.value}/{obj}/{person}"
                for person, system in moot
                for obj in self.sources[system].people_objects()
            ]
            self.store.issues.resolved_by_data(
                issue.id for issue in self.store.issues.open_for_records(records)
            )

    def _schemas_for(self) -> dict[tuple[System, str], ObjectSchema]:
        if not self._schemas:
            for system, source in self.sources.items():
                for object_type in source.people_objects():
                    self._schemas[(system, object_type)] = source.describe(object_type)
        return self._schemas

    def _everyone(self) -> Iterator[list[str]]:
        after = ""
        while batch := self.store.people.ids(after=after, limit=self.options.chunk):
            yield batch
            after = batch[-1]

    def drift(self) -> DriftReport:
        """Pull, then compare every person across both CRMs (writes nothing anywhere)."""
        run_start = self._run_start()
        report = DriftReport()
        with self._locked(new_id()):
            self.pull(run_start)
            for batch in self._everyone():
                self._check_stop()
                report.add(self.decide_chunk(batch, scoring_time(run_start)))
        return report

    def mark_everyone(self, reason: str) -> int:
        """Make every person due for evaluation (rescore, reconcile --apply)."""
        marked = 0
        for batch in self._everyone():
            marked += self.store.dirty.mark(batch, reason)
        return marked

    def _chunks(self) -> Iterator[list[str]]:
        after = ""
        while batch := self.store.dirty.take(self.options.chunk, after=after):
            yield batch
            after = batch[-1]

    def decide_chunk(self, person_ids: Sequence[str], as_of: datetime) -> list[PersonResult]:
        return self._decide(self._inputs(person_ids), as_of)

    def _decide(self, chunk: Sequence[PersonInputs], as_of: datetime) -> list[PersonResult]:
        schemas = self._schemas_for()
        now = self.clock()
        return [
            decide(
                inputs,
                self.mappings,
                self.rules,
                as_of,
                create=self.options.create,
                schemas=schemas,
                now=now,
                on_delete=self.options.on_delete or DeletePolicy.UNLINK,
            )
            for inputs in chunk
        ]

    def _record(
        self,
        results: Sequence[PersonResult],
        previous: Mapping[str, PersonRecord],
        run_id: str,
    ) -> int:
        """Store the new canonical people, their stage transitions and record baselines."""
        changes: list[StageChange] = []
        baselines: list[tuple[Observed, dict[str, JsonValue]]] = []
        for result in results:
            if result.tombstone:
                continue
            before = previous.get(result.person.id)
            old_stage = (
                None if before is None or before.person.score is None else before.person.stage
            )
            if old_stage is not result.decision.stage:
                changes.append(
                    StageChange(
                        person_id=result.person.id,
                        from_stage=old_stage,
                        to_stage=result.decision.stage,
                        rules_version=result.decision.rules_version,
                        reasons=result.decision.reasons,
                        run_id=run_id,
                    )
                )
            for item in result.primary.values():
                baselines.append((item, dict(item.values)))
        self.store.people.upsert_many(result.person for result in results if not result.tombstone)
        self.store.transitions.record_many(changes)
        self.store.observations.settle(baselines)
        # Every record of these people is gone: keep their ids, erase the rest.
        self.store.tombstone([result.person.id for result in results if result.tombstone])
        return len(changes)

    # -- running ---------------------------------------------------------------------------

    @contextmanager
    def _recorded(self, job: str, *, dry_run: bool = False) -> Iterator[tuple[RunReport, Lease]]:
        """One recorded run under the pair's lock: yields its report and lease.

        The body may set ``report.outcome`` (an interrupted run does); otherwise the run
        succeeded, or finished with rejections or stale records. A spent quota or a stop
        request ends the run cleanly (its state kept, the next run resumes); any other error is
        recorded as a failure and raised. Either way the run's counts and report are stored.
        """
        report = RunReport(job=job, run_id="", started_at=self._run_start(), dry_run=dry_run)
        run = self.store.runs.start(job)
        report.run_id = run.id
        outcome = RunOutcome.FAILED
        try:
            with self._locked(run.id) as lease:
                self.store.runs.interrupt_unfinished(job, keep=run.id)
                yield report, lease
            if report.outcome is not None:
                outcome = report.outcome
            elif report.rejected_total or report.stale or report.held:
                outcome = RunOutcome.FINISHED_WITH_REJECTIONS
            else:
                outcome = RunOutcome.SUCCEEDED
        except StopRequested:
            outcome = RunOutcome.INTERRUPTED
            report.stopped = STOPPED
        except QuotaExhaustedError as stop:
            outcome = RunOutcome.STOPPED_ON_QUOTA
            report.stopped = str(stop)
        except CrmsyncError as failure:
            report.stopped = str(failure)
            raise
        finally:
            report.identity_open = sum(self.store.issues.counts().values())
            report.finish(self.clock(), outcome, self._calls())
            self.store.runs.finish(
                run.id,
                outcome,
                counts=report.counts(),
                api_calls=dict(report.api_calls),
                report=report.to_json(),
            )

    def plan(self, *, job: str = "plan", backfill: bool = False) -> tuple[Plan, RunReport]:
        """Pull and decide everything, write nothing to the CRMs; return the plan.

        A dry run is a run too: it leaves its report (what would be written) in the store.
        """
        records: list[RecordPlan] = []
        with self._recorded(job, dry_run=True) as (report, _):
            run_start = report.started_at
            with self._pulling(report, PullStats(run_id=report.run_id)) as stats:
                self.pull(run_start, backfill=backfill, run_id=report.run_id, stats=stats)
            for batch in self._chunks():
                self._check_stop()
                results = self.decide_chunk(batch, scoring_time(run_start))
                report.add_decisions(results)
                records.extend(record for result in results for record in result.records)
            report.planned = Plan.count(records)
        # After a quota stop or a stop request this plan is partial; report.outcome says so.
        plan = Plan(
            created_at=report.started_at,
            run_id=report.run_id,
            rules_version=self.rules.compiled.version,
            records=tuple(records),
        )
        plan = seal_plan(plan, self.store, self.mappings, self.rules)
        return plan, report

    def sync(self, *, job: str = "sync", backfill: bool = False) -> RunReport:
        """Pull, decide and write, chunk by chunk; record the run. Never raises for a run that
        can be resumed (quota): the report says how it ended."""
        with self._recorded(job) as (report, lease):
            run_start = report.started_at
            with self._pulling(report, PullStats(run_id=report.run_id)) as stats:
                self.pull(run_start, backfill=backfill, run_id=report.run_id, stats=stats)
            lease.renew()
            self._write_dirty(report, run_start, lease)
            if report.linked_existing and not self._stopping():
                # Creates HubSpot answered "already exists" linked that contact instead; read
                # it and sync its person now rather than leave it to the next run.
                with self._pulling(report, PullStats()) as stats:
                    self._catch_up(run_start, stats)
                self._write_dirty(report, run_start, lease)
            if self._stopping():
                report.outcome = RunOutcome.INTERRUPTED
                report.stopped = STOPPED
        return report

    @contextmanager
    def _pulling(self, report: RunReport, stats: PullStats) -> Iterator[PullStats]:
        """``stats`` for a pull, counted in ``report`` however the pull ends: a pull stopped
        part-way stored pages, and the run's row must show them."""
        try:
            yield stats
        finally:
            report.add_pull(stats)

    def _write_dirty(self, report: RunReport, run_start: datetime, lease: Lease) -> None:
        done = self._chunk_written(report)
        with WriteBehind(
            self.sinks,
            self.store,
            run_id=report.run_id,
            done=done,
            stopped=lambda applied: self._counted(report, applied),
        ) as writer:
            for batch in self._chunks():
                if self._stopping():
                    break
                self._sync_chunk(batch, scoring_time(run_start), report.run_id, report, writer)
                lease.renew()

    def apply_plan(self, plan: Plan, *, job: str = "apply", source: str = "plan") -> RunReport:
        """Execute a saved plan. Records changed in the CRM since the plan was made are
        refused as stale (and reported); their people are planned again by the next sync.

        A plan whose seal does not hold (edited, made under other mappings or rules, or
        against another state store) is refused first, before anything is read or written;
        ``source`` names it (its file) in the message."""
        check_plan(plan, source, self.store, self.mappings, self.rules)
        with self._recorded(job) as (report, _):
            with self._pulling(report, PullStats(run_id=report.run_id)) as stats:
                self.pull(report.started_at, run_id=report.run_id, stats=stats)
            refs = {
                SourceRef(system=r.system, object_type=r.object_type, record_id=r.record_id): r
                for r in plan.records
            }
            current = self.store.observations.get_many(refs)
            fresh: list[RecordPlan] = []
            for ref, record in refs.items():
                seen = current.get(ref)
                if stale(record, seen.modified_at if seen is not None else None):
                    report.stale.append(str(ref))
                else:
                    fresh.append(record)
            people = {r.person_id for r in plan.records}
            try:
                apply_records(
                    fresh,
                    self.sinks,
                    self.store,
                    run_id=report.run_id,
                    now=self.clock(),
                    observed=dict(current),
                    counted=report.add_apply,  # before a quota stop is raised, too
                )
            except StopRequested:
                self.store.dirty.mark(people, "applied")  # the next sync writes what did not go
                raise
            # The canonical records and audit catch up on the next sync (no writes then).
            self.store.dirty.mark(people, "applied")
        return report

    def _sync_chunk(
        self,
        batch: list[str],
        as_of: datetime,
        run_id: str,
        report: RunReport,
        writer: WriteBehind,
    ) -> None:
        """Decide and record one chunk, then hand its writes to ``writer``: they go out while
        the next chunk is decided. The chunk's people stay dirty until their writes are
        recorded, so a run killed in between plans them again."""
        chunk = self._inputs(batch)
        previous = {inputs.record.person.id: inputs.record for inputs in chunk}
        results = self._decide(chunk, as_of)
        if self._stopping():
            return  # asked to stop while deciding: nothing recorded or sent, the people wait
        report.add_decisions(results)
        observed: dict[SourceRef, Observed] = {
            item.ref: item for result in results for item in result.primary.values()
        }
        records = [record for result in results for record in result.records]
        now = self.clock()
        with self.store.transaction():
            report.stage_changes += self._record(results, previous, run_id)
            self._held(results)
            # Journalled before they go out: a run killed mid-write is accounted for by the
            # next one (see connector.state.intents).
            self.store.intents.put_many(intents(records, run_id, now))
        writer.submit(batch, records, now=now, observed=observed)

    def _chunk_written(self, report: RunReport) -> Callable[[ApplyOutcome, Sequence[str]], None]:
        def done(applied: ApplyOutcome, people: Sequence[str]) -> None:
            # People linked to an existing contact stay dirty until it is read; people one of
            # whose records went stay dirty for the next run to decide under the policy.
            self.store.dirty.clear(set(people) - applied.linked_existing - applied.again)
            self._counted(report, applied)
            if self.progress is not None:
                self.progress("people", len(people))

        return done

    def _counted(self, report: RunReport, applied: ApplyOutcome) -> None:
        """Count what a chunk wrote, and keep the run's row up to date with it: a run killed
        later still shows every write it recorded."""
        report.add_apply(applied)
        self.store.runs.checkpoint(report.run_id, report.counts(), self._calls())

    def _run_start(self) -> datetime:
        """Where every read of this run ends: the start, floored to a whole second.

        Salesforce compares SOQL datetimes to the second and HubSpot to the millisecond. With
        a shared whole-second cap, a record changed in the run's first partial second is left
        to the next run in *both* systems; otherwise one side of a person could be seen
        without the other, and the person mistaken for one that must be created.
        """
        return self.clock().replace(microsecond=0)

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _check_stop(self) -> None:
        if self.stop is not None:
            self.stop.check()

    def _calls(self) -> dict[System, int]:
        return dict(self.api_calls()) if self.api_calls is not None else {}

    def _locked(self, run_id: str) -> Lease:
        return Lease(self.store, f"pair:{self.options.pair}", run_id, self.options.lock_ttl)


def _latest_gone(items: Sequence[GoneRecord]) -> dict[System, GoneRecord]:
    """Per system, the record that went last."""
    latest: dict[System, GoneRecord] = {}
    for item in sorted(items, key=lambda g: g.gone_at):
        latest[item.ref.system] = item
    return latest
