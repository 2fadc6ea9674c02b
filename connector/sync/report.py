"""What a run did, for the terminal, ``--json``, the state store and the scheduler's alerts.

Reports hold counts and record ids, never names or e-mail addresses (a report is shown at
info level and kept in the state store).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from connector.errors import ExitCode, System
from connector.state import JsonValue, StateStore
from connector.state.models import RunOutcome

if TYPE_CHECKING:
    from connector.sync.apply import ApplyOutcome
    from connector.sync.decide import PersonResult
    from connector.sync.pull import PullStats

__all__ = ["DriftReport", "RunReport", "exit_code", "latest_drift", "record_drift"]

_EXAMPLES = 20


@dataclass
class RunReport:
    job: str
    run_id: str
    started_at: datetime
    dry_run: bool = False
    ended_at: datetime | None = None
    outcome: RunOutcome | None = None
    stopped: str = ""
    pulled: Counter[str] = field(default_factory=Counter)
    activities: Counter[str] = field(default_factory=Counter)
    evaluated: int = 0
    stage_changes: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    bands: Counter[str] = field(default_factory=Counter)
    planned: dict[str, int] = field(default_factory=dict)
    written: Counter[str] = field(default_factory=Counter)
    fields_written: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    partial: Counter[str] = field(default_factory=Counter)  # part-written before a stop
    rejections: list[dict[str, str]] = field(default_factory=list)
    identity_issues: list[dict[str, str]] = field(default_factory=list)  # examples, capped
    identity_counts: Counter[str] = field(default_factory=Counter)  # every one, by kind
    identity_open: int = 0  # open in the state store when the run ended
    data_issues: int = 0
    gone: Counter[str] = field(default_factory=Counter)  # "salesforce.deleted" -> records
    restored: int = 0
    echoes: int = 0
    not_recreated: Counter[str] = field(default_factory=Counter)  # by the system it left
    tombstoned: int = 0
    missing: Counter[str] = field(default_factory=Counter)  # found gone when written
    held: Counter[str] = field(default_factory=Counter)  # "salesforce.INVALID_PICKLIST_VALUE"
    held_examples: list[dict[str, str]] = field(default_factory=list)
    confirmed: Counter[str] = field(default_factory=Counter)  # an interrupted run's writes
    stale: list[str] = field(default_factory=list)
    linked_existing: int = 0  # creates HubSpot answered "already exists": linked instead
    api_calls: dict[System, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def written_total(self) -> int:
        return sum(self.written.values())

    def add_pull(self, stats: PullStats) -> None:
        self.pulled.update(stats.records)
        self.activities.update(stats.activities)
        self.data_issues += len(stats.data_issues)
        self.gone.update(stats.gone)
        self.restored += stats.restored
        self.echoes += stats.echoes
        self.confirmed.update(stats.confirmed)
        self.identity_counts.update(issue.kind.value for issue in stats.identity_issues)
        for issue in stats.identity_issues[: _EXAMPLES - len(self.identity_issues)]:
            self.identity_issues.append(
                {"kind": issue.kind.value, "record": str(issue.ref), "detail": issue.detail}
            )

    def add_decisions(self, results: Sequence[PersonResult]) -> None:
        self.evaluated += len(results)
        for result in results:
            if result.tombstone:
                self.tombstoned += 1
                continue
            self.stages[result.decision.stage.value] += 1
            self.bands[result.decision.band] += 1
            self.not_recreated.update(gone.ref.system.value for gone in result.not_recreated)
            for held in result.held:
                self.held[f"{held.ref.system.value}.{held.code}"] += 1
                if len(self.held_examples) < _EXAMPLES:
                    self.held_examples.append(
                        {
                            "record": str(held.ref),
                            "field": held.change.field,
                            "code": held.code,
                            "reason": held.message(),
                            "allowed": ", ".join(held.allowed),
                        }
                    )

    def add_apply(self, applied: ApplyOutcome) -> None:
        self.written.update(applied.written)
        self.fields_written.update(applied.fields)
        self.rejected.update(applied.rejected)
        self.partial.update(applied.partial)
        self.missing.update(applied.missing)
        self.linked_existing += len(applied.linked_existing)
        for ref, code, message in applied.rejections[: _EXAMPLES - len(self.rejections)]:
            self.rejections.append({"record": str(ref), "code": code, "message": message})

    def finish(self, ended: datetime, outcome: RunOutcome, calls: Mapping[System, int]) -> None:
        self.ended_at = ended
        self.outcome = outcome
        self.api_calls = dict(calls)

    @property
    def seconds(self) -> float:
        return 0.0 if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()

    def counts(self) -> dict[str, int]:
        counts = {
            "pulled": sum(self.pulled.values()),
            "activities": sum(self.activities.values()),
            "evaluated": self.evaluated,
            "stage_changes": self.stage_changes,
            "written": self.written_total,
            "rejected": self.rejected_total,
            "held_back": sum(self.held.values()),
            "written_partially": sum(self.partial.values()),
            "data_issues": self.data_issues,
            "identity_issues": sum(self.identity_counts.values()),
            "identity_issues_open": self.identity_open,
            "gone": sum(self.gone.values()) + sum(self.missing.values()),
            "restored": self.restored,
            "not_recreated": sum(self.not_recreated.values()),
            "tombstoned": self.tombstoned,
            "stale": len(self.stale),
            "linked_existing": self.linked_existing,
        }
        counts.update({f"written.{key}": value for key, value in self.written.items()})
        if self.confirmed:
            counts["earlier_writes_confirmed"] = sum(self.confirmed.values())
        return counts

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "job": self.job,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome.value if self.outcome else None,
            "stopped": self.stopped,
            "counts": dict(self.counts()),
            "pulled": dict(self.pulled),
            "activities": dict(self.activities),
            "stages": dict(self.stages),
            "bands": dict(self.bands),
            "planned": dict(self.planned),
            "written": dict(self.written),
            "fields_written": dict(self.fields_written),
            "rejected": dict(self.rejected),
            "written_partially": dict(self.partial),
            "rejections": [dict(item) for item in self.rejections],
            "identity_issues": [dict(item) for item in self.identity_issues],
            "identity_counts": dict(self.identity_counts),
            "gone": dict(self.gone + self.missing),
            "echoes_of_gone_records": self.echoes,
            "not_recreated": dict(self.not_recreated),
            "earlier_writes_confirmed": dict(self.confirmed),
            "held_back": dict(self.held),
            "held_back_examples": [dict(item) for item in self.held_examples],
            "stale": list(self.stale[:_EXAMPLES]),
            "api_calls": {system.value: calls for system, calls in self.api_calls.items()},
        }


@dataclass
class DriftReport:
    """How far the two CRMs disagree, person by person, field by field."""

    compared: int = 0  # people with a record in both systems
    stage_disagreements: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # mapping -> records to fix
    examples: list[dict[str, str]] = field(default_factory=list)
    only_salesforce: int = 0
    only_hubspot: int = 0

    @property
    def drift(self) -> int:
        """People whose stage differs across the CRMs: the headline number."""
        return self.stage_disagreements

    def add(self, results: Sequence[PersonResult]) -> None:
        for result in results:
            systems = set(result.primary)
            if systems == {System.SALESFORCE, System.HUBSPOT}:
                self.compared += 1
                stages = {result.shown.get(system) for system in systems}
                if len(stages) > 1:
                    self.stage_disagreements += 1
                    if len(self.examples) < _EXAMPLES:
                        self.examples.append(
                            {
                                str(item.ref): str(result.shown.get(system, "?"))
                                for system, item in result.primary.items()
                            }
                        )
            elif systems == {System.SALESFORCE}:
                self.only_salesforce += 1
            elif systems == {System.HUBSPOT}:
                self.only_hubspot += 1
            for record in result.records:
                for change in record.changes:
                    self.fields[change.mapping or change.field] += 1

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "compared": self.compared,
            "stage_disagreements": self.stage_disagreements,
            "only_salesforce": self.only_salesforce,
            "only_hubspot": self.only_hubspot,
            "fields": dict(self.fields),
            "examples": [dict(item) for item in self.examples],
        }


def record_drift(
    store: StateStore, job: str, drift: DriftReport, started: datetime, ended: datetime
) -> None:
    """Keep a drift check as a run, so ``crmsync status`` can show the current drift."""
    run = store.runs.start(job)
    store.runs.finish(
        run.id,
        RunOutcome.SUCCEEDED,
        counts={"compared": drift.compared, "stage_disagreements": drift.stage_disagreements},
        report={
            "drift": drift.to_json(),
            "started_at": started.isoformat(),
            "ended_at": ended.isoformat(),
        },
    )


def latest_drift(store: StateStore, *, look_back: int = 50) -> tuple[datetime, DriftReport] | None:
    """The most recent drift check recorded, if any."""
    for run in store.runs.recent(limit=look_back):
        found = run.report.get("drift")
        if isinstance(found, dict):
            drift = DriftReport(
                compared=int(found.get("compared") or 0),  # type: ignore[arg-type]
                stage_disagreements=int(found.get("stage_disagreements") or 0),  # type: ignore[arg-type]
            )
            return run.started_at, drift
    return None


def exit_code(report: RunReport) -> ExitCode:
    """The CLI's exit code for a finished run."""
    if report.outcome is RunOutcome.STOPPED_ON_QUOTA:
        return ExitCode.STOPPED_ON_QUOTA
    if report.outcome is RunOutcome.FINISHED_WITH_REJECTIONS:
        return ExitCode.FINISHED_WITH_REJECTIONS
    if report.outcome in (RunOutcome.SUCCEEDED, RunOutcome.INTERRUPTED):
        return ExitCode.OK  # an interrupted run checkpointed; the next one resumes
    return ExitCode.FAILED
