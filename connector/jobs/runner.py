"""Running one job definition: the bridge from ``jobs/*.yaml`` to the sync engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from connector.errors import CrmsyncError, ExitCode, StopRequested
from connector.jobs.definition import Action, JobDefinition
from connector.jobs.metrics import Metrics
from connector.settings import Settings
from connector.state import StateStore
from connector.state.locks import default_holder
from connector.state.models import RunOutcome
from connector.stopping import Stop
from connector.sync.engine import EngineOptions, SyncEngine
from connector.sync.report import RunReport, exit_code, record_drift
from connector.sync.wiring import connected

__all__ = ["JobRunner", "budgeted"]

log = logging.getLogger(__name__)


def budgeted(settings: Settings, share: float | None) -> Settings:
    """Settings with the job's share of the daily API allowance, if it sets one."""
    if share is None:
        return settings
    return settings.model_copy(
        update={
            "salesforce": settings.salesforce.model_copy(update={"max_daily_share": share}),
            "hubspot": settings.hubspot.model_copy(update={"max_daily_share": share}),
        }
    )


class JobRunner:
    """Runs jobs against one connection pair; records metrics; never raises for a run."""

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        progress: Callable[[str, int], None] | None = None,
        on_report: Callable[[JobDefinition, RunReport], None] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.progress = progress
        self.on_report = on_report

    def __call__(self, job: JobDefinition, stop: Stop) -> ExitCode:
        settings = budgeted(self.settings, job.options.api_budget_share)
        options = EngineOptions(objects=job.options.objects)
        try:
            with connected(settings, options=options, progress=self.progress, stop=stop) as engine:
                report = self._run(engine, job)
        except StopRequested:
            # Stopped outside a recorded run (a reconcile's drift check): nothing to report.
            log.info("job %s stopped on request; its next run starts its check over", job.name)
            return ExitCode.OK
        except CrmsyncError as error:
            log.error("job %s failed: %s", job.name, error)
            if self.metrics is not None:
                self.metrics.failed(job.name)
            return error.exit_code
        if self.metrics is not None:
            self.metrics.observe(job.name, report)
        if self.on_report is not None:
            self.on_report(job, report)
        return exit_code(report)

    @staticmethod
    def _run(engine: SyncEngine, job: JobDefinition) -> RunReport:
        if job.options.dry_run:
            _, report = engine.plan(job=job.name, backfill=job.action is Action.BACKFILL)
            return report
        if job.action is Action.RESCORE:
            engine.mark_everyone("rescore")
        elif job.action is Action.RECONCILE:
            started = engine.clock()
            drift = engine.drift()
            record_drift(engine.store, job.name, drift, started, engine.clock())
            log.info(
                "job %s: %d people compared, %d stage disagreements",
                job.name,
                drift.compared,
                drift.stage_disagreements,
            )
            if not job.options.apply:
                report = RunReport(job=job.name, run_id="", started_at=engine.clock(), dry_run=True)
                report.finish(engine.clock(), RunOutcome.SUCCEEDED, {})
                report.planned = dict(drift.fields)
                return report
            engine.mark_everyone("reconcile")
        return engine.sync(job=job.name, backfill=job.action is Action.BACKFILL)


def store_lock(settings: Settings) -> Callable[[str], AbstractContextManager[object]]:
    """The scheduler's per-job lock: the state store's lease, safe across machines."""

    @contextmanager
    def hold(name: str) -> Iterator[object]:
        with (
            StateStore.from_settings(settings) as store,
            store.locks.held(name, default_holder(name)) as lease,
        ):
            yield lease

    return hold


def last_run(settings: Settings) -> Callable[[str], datetime | None]:
    def find(job: str) -> datetime | None:
        with StateStore.from_settings(settings) as store:
            runs = store.runs.recent(job=job, limit=1)
        return runs[0].started_at if runs else None

    return find
