"""Runs of jobs and the audit trail of stage transitions they made."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from connector.errors import StateError, System
from connector.funnel import FunnelStage
from connector.state._db import Db
from connector.state._types import JsonValue
from connector.state.models import (
    RunOutcome,
    RunRecord,
    StageChange,
    TransitionRecord,
    frozen_mapping,
    new_id,
)
from connector.state.schema import runs, stage_transitions

__all__ = ["RunStore", "TransitionStore"]


def _run(row: Row[Any]) -> RunRecord:
    return RunRecord(
        id=row.id,
        job=row.job,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=RunOutcome(row.outcome) if row.outcome is not None else None,
        counts=frozen_mapping(row.counts),
        api_calls=frozen_mapping({System(name): calls for name, calls in row.api_calls.items()}),
        report=frozen_mapping(row.report),
    )


class RunStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def start(self, job: str, *, run_id: str | None = None) -> RunRecord:
        """Record that a run of ``job`` starts now."""
        record = RunRecord(id=run_id or new_id(), job=job, started_at=self._db.now())
        with self._db.write() as connection:
            connection.execute(
                runs.insert().values(
                    id=record.id,
                    job=record.job,
                    started_at=record.started_at,
                    counts={},
                    api_calls={},
                    report={},
                )
            )
        return record

    def finish(
        self,
        run_id: str,
        outcome: RunOutcome,
        *,
        counts: Mapping[str, int] | None = None,
        api_calls: Mapping[System, int] | None = None,
        report: Mapping[str, JsonValue] | None = None,
    ) -> RunRecord:
        """Record a run's end, outcome, counts, API calls per system and report."""
        with self._db.write() as connection:
            result = connection.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    ended_at=self._db.now(),
                    outcome=outcome.value,
                    counts=dict(counts or {}),
                    api_calls={system.value: calls for system, calls in (api_calls or {}).items()},
                    report=dict(report or {}),
                )
            )
            if result.rowcount != 1:
                raise StateError(f"no run {run_id} to finish")
        record = self.get(run_id)
        if record is None:
            raise StateError(f"run {run_id} vanished while finishing")
        return record

    def checkpoint(
        self, run_id: str, counts: Mapping[str, int], api_calls: Mapping[System, int]
    ) -> None:
        """Record a running run's counts so far (its process may yet die)."""
        with self._db.write() as connection:
            connection.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.ended_at.is_(None))
                .values(
                    counts=dict(counts),
                    api_calls={system.value: calls for system, calls in api_calls.items()},
                )
            )

    def add_confirmed(self, run_id: str, written: Mapping[str, int]) -> None:
        """Add writes a later run confirmed (by ``system.kind``) to a run that died before it
        could record them: its counts then say what the CRMs received."""
        with self._db.transaction(), self._db.write() as connection:
            row = connection.execute(select(runs.c.counts).where(runs.c.id == run_id)).first()
            if row is None:
                return  # the run's row is gone (a store restored from a backup)
            counts = dict(row.counts or {})
            total = sum(written.values())
            counts["written"] = int(counts.get("written", 0)) + total
            counts["confirmed_after_interruption"] = (
                int(counts.get("confirmed_after_interruption", 0)) + total
            )
            for label, count in written.items():
                counts[f"written.{label}"] = int(counts.get(f"written.{label}", 0)) + count
            connection.execute(runs.update().where(runs.c.id == run_id).values(counts=counts))

    def interrupt_unfinished(self, job: str, *, keep: str | None = None) -> int:
        """Mark runs of ``job`` that never finished (their process died) as interrupted.

        Call it holding the job's run lock, so no live run is affected; ``keep`` spares the
        caller's own run. Returns how many were marked.
        """
        query = runs.update().where(runs.c.job == job, runs.c.ended_at.is_(None))
        if keep is not None:
            query = query.where(runs.c.id != keep)
        with self._db.write() as connection:
            result = connection.execute(
                query.values(ended_at=self._db.now(), outcome=RunOutcome.INTERRUPTED.value)
            )
        return result.rowcount

    def get(self, run_id: str) -> RunRecord | None:
        with self._db.read() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        return _run(row) if row is not None else None

    def recent(self, *, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first."""
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id).limit(limit)
        if job is not None:
            query = query.where(runs.c.job == job)
        with self._db.read() as connection:
            return [_run(row) for row in connection.execute(query)]


def _transition(row: Row[Any]) -> TransitionRecord:
    return TransitionRecord(
        id=row.id,
        at=row.at,
        change=StageChange(
            person_id=row.person_id,
            from_stage=FunnelStage(row.from_stage) if row.from_stage is not None else None,
            to_stage=FunnelStage(row.to_stage),
            rules_version=row.rules_version,
            reasons=tuple(row.reasons),
            run_id=row.run_id,
        ),
    )


class TransitionStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, change: StageChange) -> None:
        self.record_many([change])

    def record_many(self, changes: Iterable[StageChange]) -> int:
        """Audit many stage transitions in one statement, stamped now."""
        now = self._db.now()
        rows = [
            {
                "person_id": change.person_id,
                "from_stage": change.from_stage.value if change.from_stage else None,
                "to_stage": change.to_stage.value,
                "rules_version": change.rules_version,
                "reasons": list(change.reasons),
                "run_id": change.run_id,
                "at": now,
            }
            for change in changes
        ]
        if rows:
            with self._db.write() as connection:
                connection.execute(stage_transitions.insert(), rows)
        return len(rows)

    def for_person(self, person_id: str) -> list[TransitionRecord]:
        """A person's stage history, oldest first."""
        query = (
            select(stage_transitions)
            .where(stage_transitions.c.person_id == person_id)
            .order_by(stage_transitions.c.at, stage_transitions.c.id)
        )
        with self._db.read() as connection:
            return [_transition(row) for row in connection.execute(query)]

    def for_run(self, run_id: str) -> list[TransitionRecord]:
        query = (
            select(stage_transitions)
            .where(stage_transitions.c.run_id == run_id)
            .order_by(stage_transitions.c.id)
        )
        with self._db.read() as connection:
            return [_transition(row) for row in connection.execute(query)]
