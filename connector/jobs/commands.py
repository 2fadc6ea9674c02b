"""``crmsync run JOB`` and ``crmsync schedule``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from connector.errors import ConfigError, ExitCode, Problem
from connector.jobs.alerts import send_alert
from connector.jobs.definition import JobDefinition, load_jobs
from connector.jobs.metrics import Metrics
from connector.jobs.runner import JobRunner, last_run, store_lock
from connector.jobs.scheduler import Scheduler
from connector.logs import configure_logging
from connector.settings import Settings
from connector.stopping import Stop, stop_on_signals
from connector.sync.report import RunReport

__all__ = ["register"]

log = logging.getLogger(__name__)
_out = Console(highlight=False, soft_wrap=True)


def _settings(ctx: typer.Context) -> Settings:
    from connector.cli import AppContext

    context: AppContext = ctx.obj
    return context.settings()


def _summary(report: RunReport) -> str:
    counts = report.counts()
    return (
        f"pulled {counts['pulled']}, written {counts['written']}, rejected {counts['rejected']}"
        + (f"; {report.stopped}" if report.stopped else "")
    )


def _alerting(job: JobDefinition, report: RunReport) -> None:
    from connector.sync.report import exit_code

    if job.alert is not None:
        send_alert(job.alert, job=job.name, code=exit_code(report), summary=_summary(report))


def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The job's name (from jobs/*.yaml).")],
) -> None:
    """Run one job now, as the scheduler would (its lock, options and alert)."""
    settings = _settings(ctx)
    jobs = {job.name: job for job in load_jobs(settings.jobs_dir)}
    if name not in jobs:
        from connector.yamlfile import did_you_mean

        raise ConfigError(
            [
                Problem(
                    where=str(settings.jobs_dir),
                    message=f"no job named {name!r}",
                    hint=did_you_mean(name, jobs) or "jobs: " + ", ".join(sorted(jobs)),
                )
            ]
        )
    runner = JobRunner(settings, on_report=_alerting)
    with stop_on_signals(Stop()) as stop, store_lock(settings)(f"job:{name}"):
        code = runner(jobs[name], stop)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
    _out.print(f"job {name}: done")


def schedule(
    ctx: typer.Context,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
) -> None:
    """Run due jobs until SIGTERM/SIGINT; then stop the job under way within seconds, exit 0."""
    settings = _settings(ctx)
    configure_logging(settings.log_level, settings.log_format)
    jobs = load_jobs(settings.jobs_dir)
    metrics = Metrics()
    if metrics_port is not None:
        metrics.serve(metrics_port)
    stop = Stop()
    scheduler = Scheduler(
        jobs=jobs,
        run_job=JobRunner(settings, metrics=metrics, on_report=_alerting),
        lock=store_lock(settings),
        last_run=last_run(settings),
        clock=lambda: datetime.now(UTC),
        stop=stop,
    )
    for name, when in sorted(scheduler.next_fire_times().items(), key=lambda item: item[1]):
        log.info("job %s next runs at %s", name, when.isoformat())
    with stop_on_signals(stop):
        history = scheduler.serve()
    log.info("scheduler stopped after %d runs", len(history))


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("schedule")(schedule)
