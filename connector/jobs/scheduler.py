"""The long-running scheduler behind ``crmsync schedule``.

Policy, stated once:

* Jobs run one at a time in the scheduler's thread; crmsync is bound by API limits, not CPU.
* A job never overlaps itself: each run holds the state store's lease-based lock for the job,
  so a second scheduler (on another machine) that finds it held skips that fire time.
* Fire times that pass while a job is still running are coalesced into one run.
* Missed runs after downtime follow the job's ``missed_runs``: ``run_once`` runs the job once
  at start-up if at least one fire time passed since its last recorded run; ``skip`` waits for
  the next fire time. A job that has never run waits for its first fire time.
* On SIGTERM/SIGINT the stop request is set: the running job stops within seconds (after
  the API calls in flight, see :mod:`connector.stopping`), records what it did and returns; no
  further job starts; the scheduler returns normally (exit 0).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from connector.errors import ExitCode, RunLockedError
from connector.jobs.definition import JobDefinition, MissedRuns
from connector.stopping import Stop

__all__ = ["JobRun", "Scheduler"]

log = logging.getLogger(__name__)

RunJob = Callable[[JobDefinition, Stop], ExitCode]
"""Runs one job to completion (or to a checkpoint once the event is set); returns its exit code."""
JobLock = Callable[[str], AbstractContextManager[object]]
"""Holds the run lock for a job name; raises RunLockedError when another holder has it."""
LastRun = Callable[[str], datetime | None]
"""When a job last started, from the state store's run history."""
Notify = Callable[[JobDefinition, ExitCode], None]


@dataclass(frozen=True, slots=True)
class JobRun:
    """What one scheduled run did."""

    job: str
    scheduled_for: datetime
    started_at: datetime
    code: ExitCode | None  # None when skipped because another scheduler holds the lock
    skipped_locked: bool = False


@dataclass
class Scheduler:
    jobs: Sequence[JobDefinition]
    run_job: RunJob
    lock: JobLock
    last_run: LastRun
    clock: Callable[[], datetime]
    notify: Notify | None = None
    stop: Stop = field(default_factory=Stop)
    max_idle_seconds: float = 60.0
    _next: dict[str, datetime] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        now = self.clock()
        for job in self.jobs:
            if not job.enabled:
                continue
            schedule = job.schedule.compiled()
            previous = self.last_run(job.name)
            upcoming = schedule.next_after(now)
            if previous is not None and job.missed_runs is MissedRuns.RUN_ONCE:
                missed = schedule.next_after(previous)
                if missed <= now:
                    log.info("job %s missed a run at %s; running it once now", job.name, missed)
                    upcoming = missed
            self._next[job.name] = upcoming

    def next_fire_times(self) -> dict[str, datetime]:
        return dict(self._next)

    def due(self, now: datetime) -> list[JobDefinition]:
        """Enabled jobs whose next fire time has come, earliest first."""
        ready = [job for job in self.jobs if job.name in self._next and self._next[job.name] <= now]
        return sorted(ready, key=lambda job: (self._next[job.name], job.name))

    def run_due(self) -> list[JobRun]:
        """Run every job that is due now, one after another; stop early when asked."""
        runs: list[JobRun] = []
        for job in self.due(self.clock()):
            if self.stop.is_set():
                break
            runs.append(self._run_one(job))
        return runs

    def _run_one(self, job: JobDefinition) -> JobRun:
        scheduled_for = self._next[job.name]
        started = self.clock()
        code: ExitCode | None
        skipped = False
        try:
            with self.lock(f"job:{job.name}"):
                code = self.run_job(job, self.stop)
        except RunLockedError as locked:
            log.info("job %s skipped: %s", job.name, locked)
            code, skipped = None, True
        # Coalesce: whatever fire times passed during the run collapse into the next one.
        self._next[job.name] = job.schedule.compiled().next_after(max(self.clock(), scheduled_for))
        if code is not None and code is not ExitCode.OK and self.notify is not None:
            self.notify(job, code)
        return JobRun(job.name, scheduled_for, started, code, skipped)

    def seconds_until_next(self) -> float:
        if not self._next:
            return self.max_idle_seconds
        soonest = min(self._next.values())
        return max(0.0, min(self.max_idle_seconds, (soonest - self.clock()).total_seconds()))

    def serve(self, wait: Callable[[float], bool] | None = None) -> list[JobRun]:
        """Run until the stop event is set; return every run made.

        ``wait(seconds)`` blocks until the timeout or the stop event (returns True when
        stopped); it defaults to waiting on the stop event, and tests inject a fake clock.
        """
        waiter = wait or self.stop.wait
        history: list[JobRun] = []
        while not self.stop.is_set():
            history.extend(self.run_due())
            if self.stop.is_set() or waiter(self.seconds_until_next()):
                break
        return history
