"""``crmsync sync | plan | apply | deadletter | forget | status`` and ``rules explain``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from connector.errors import ConfigError, ExitCode, Problem, display_path
from connector.funnel import normalise_email
from connector.settings import Settings
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.stopping import Stop, stop_on_signals
from connector.sync.engine import EngineOptions, SyncEngine
from connector.sync.plan import Plan, read_plan
from connector.sync.report import DriftReport, RunReport, exit_code, latest_drift, record_drift
from connector.sync.wiring import connected

__all__ = ["open_store", "register", "render_plan", "render_report", "settings_of"]

log = logging.getLogger(__name__)
_out = Console(highlight=False, soft_wrap=True)


def settings_of(ctx: typer.Context) -> Settings:
    from connector.cli import AppContext

    context: AppContext = ctx.obj
    return context.settings()


@contextmanager
def engine_for(
    settings: Settings,
    *,
    progress: Callable[[str, int], None] | None,
    options: EngineOptions | None = None,
) -> Iterator[SyncEngine]:
    """The engine a command runs, stopped by SIGTERM or SIGINT: the run in progress ends
    within seconds, recorded as interrupted (exit 0); a second signal ends the process."""
    with (
        stop_on_signals(Stop()) as stop,
        connected(settings, progress=progress, options=options, stop=stop) as engine,
    ):
        yield engine


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Callable[[str, int], None] | None]:
    """Rich progress bars on a terminal; plain log lines (at page granularity) otherwise."""
    if not enabled or not _out.is_terminal:

        def log_line(stream: str, count: int) -> None:
            log.info("%s: +%d", stream, count)

        yield log_line
        return
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_out,
        transient=False,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(stream: str, count: int) -> None:
            if stream not in tasks:
                tasks[stream] = bars.add_task(stream, total=None)
            bars.advance(tasks[stream], count)

        yield advance


def render_report(report: RunReport, console: Console = _out) -> None:
    outcome = report.outcome.value if report.outcome else "?"
    table = Table(title=f"{report.job} run {report.run_id[:8]}: {outcome}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in report.counts().items():
        table.add_row(key, str(value))
    for system, calls in sorted(report.api_calls.items()):
        table.add_row(f"API calls {system.value}", str(calls))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(table)
    if report.stages:
        console.print("stages: " + ", ".join(f"{k} {v}" for k, v in sorted(report.stages.items())))
    for rejection in report.rejections[:10]:
        console.print(f"rejected {rejection['record']}: {rejection['code']} {rejection['message']}")
    for held in report.held_examples[:10]:
        allowed = f" (allowed: {held['allowed']})" if held["allowed"] else ""
        console.print(f"held back {held['record']}: {held['code']} {held['reason']}{allowed}")
    if report.not_recreated:
        console.print(
            "not re-created (deleted there; [sync] on_delete): "
            + ", ".join(
                f"{system} {count}" for system, count in sorted(report.not_recreated.items())
            )
        )
    for issue in report.identity_issues[:10]:
        console.print(f"identity {issue['kind']}: {issue['record']} ({issue['detail']})")
    if report.stopped:
        console.print(f"stopped: {report.stopped}")


def render_plan(plan: Plan, console: Console = _out, *, limit: int = 30) -> None:
    summary = Table(title=f"plan {plan.run_id[:8]} (rules {plan.rules_version})")
    summary.add_column("what")
    summary.add_column("count", justify="right")
    for key, value in plan.summary().items():
        summary.add_row(key, str(value))
    console.print(summary)
    detail = Table(title=f"first {limit} changes")
    for column in ("system", "object", "record", "field", "old", "new", "why"):
        detail.add_column(column, overflow="fold")
    shown = 0
    for record in plan.records:
        for change in record.changes:
            if shown >= limit:
                break
            detail.add_row(
                record.system.value,
                record.object_type,
                record.record_id,
                change.field,
                "" if change.old is None else str(change.old)[:40],
                "" if change.new is None else str(change.new)[:40],
                change.reason,
            )
            shown += 1
    if shown:
        console.print(detail)


ReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="Also write the run report as JSON to this file."),
]


def _finish(report: RunReport, as_json: bool, report_file: Path | None = None) -> None:
    if report_file is not None:
        # Counts and record ids only (no names or addresses); owner-only all the same.
        report_file.parent.mkdir(parents=True, exist_ok=True)
        report_file.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        report_file.chmod(0o600)
    if as_json:
        _out.print_json(json.dumps(report.to_json()))
    else:
        render_report(report)
    code = exit_code(report)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def sync(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    backfill: Annotated[bool, typer.Option(help="Read everything, ignoring watermarks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run report as JSON.")] = False,
    chunk: Annotated[
        int | None,
        typer.Option(
            min=1, help="People per decide-and-write round: each round is one checkpoint."
        ),
    ] = None,
    report_file: ReportOption = None,
) -> None:
    """Pull both CRMs, evaluate the rules, and write stage and score changes back."""
    settings = settings_of(ctx)
    options = EngineOptions(chunk=chunk) if chunk is not None else None
    with (
        progress_reporter(not as_json) as progress,
        engine_for(settings, progress=progress, options=options) as engine,
    ):
        if dry_run:
            plan, report = engine.plan(job="sync --dry-run", backfill=backfill)
            if not as_json:
                render_plan(plan)
        else:
            report = engine.sync(backfill=backfill)
    _finish(report, as_json, report_file)


def plan_command(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show exactly what a sync would write (per system, record and field), writing nothing."""
    settings = settings_of(ctx)
    with (
        progress_reporter(not as_json) as progress,
        engine_for(settings, progress=progress) as engine,
    ):
        plan, report = engine.plan()
    if report.outcome is not None and exit_code(report) is ExitCode.STOPPED_ON_QUOTA:
        # A partial plan would look complete; say so and leave no file to apply by mistake.
        _out.print(f"plan incomplete: {report.stopped}; run it again after the quota resets")
        raise typer.Exit(int(ExitCode.STOPPED_ON_QUOTA))
    if report.outcome is RunOutcome.INTERRUPTED:
        _out.print(f"plan incomplete: {report.stopped}; no plan written")
        raise typer.Exit(int(exit_code(report)))
    if out is not None:
        plan.write(out)
    if as_json:
        _out.print_json(plan.model_dump_json())
    else:
        render_plan(plan)
        if out is not None:
            _out.print(f"plan written to {out} (owner-only: it holds personal data)")


def apply_command(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="A plan from `crmsync plan --out`.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Execute a saved plan, refusing records that changed in the CRM since it was made."""
    plan = read_plan(plan_file)
    settings = settings_of(ctx)
    with (
        progress_reporter(not as_json) as progress,
        engine_for(settings, progress=progress) as engine,
    ):
        report = engine.apply_plan(plan, source=display_path(plan_file))
    _finish(report, as_json)


@contextmanager
def open_store(ctx: typer.Context) -> Iterator[StateStore]:
    with StateStore.from_settings(settings_of(ctx)) as store:
        yield store


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Last runs, their outcome and counts, API calls, dead letters and people waiting."""
    with open_store(ctx) as store:
        runs = store.runs.recent(limit=10)
        letters = store.dead_letters.list()
        waiting = store.dirty.count()
        people = store.people.count()
        drift = latest_drift(store)
        issues = store.issues.counts()
        gone = store.gone.counts()
        tombstones = store.gone.tombstones()
    rows = [
        {
            "run": run.id,
            "job": run.job,
            "started_at": run.started_at.isoformat(),
            "ended_at": run.ended_at.isoformat() if run.ended_at else None,
            "outcome": run.outcome.value if run.outcome else "running or died",
            "counts": dict(run.counts),
            "api_calls": {system.value: calls for system, calls in run.api_calls.items()},
        }
        for run in runs
    ]
    drift_json: dict[str, object] | None = None
    if drift is not None:
        drift_json = {
            "checked_at": drift[0].isoformat(),
            "compared": drift[1].compared,
            "stage_disagreements": drift[1].stage_disagreements,
        }
    waiting_letters = sum(1 for letter in letters if letter.waiting)
    summary = {
        "people": people,
        "dead_letters": len(letters),
        "dead_letters_waiting_for_a_change": waiting_letters,
        "waiting": waiting,
        "identity_issues": dict(issues),
        "gone_records": dict(gone),
        "tombstones": tombstones,
        "drift": drift_json,
        "runs": rows,
    }
    if as_json:
        _out.print_json(json.dumps(summary))
        return
    title = f"{people} people, {len(letters)} dead letters, {waiting} waiting to sync"
    if drift is not None:
        title += (
            f"; drift {drift[1].stage_disagreements} of {drift[1].compared} "
            f"(checked {drift[0]:%Y-%m-%d %H:%M})"
        )
    table = Table(title=title)
    for column in ("started", "job", "outcome", "pulled", "written", "rejected", "API calls"):
        table.add_column(column)
    for row in rows:
        counts = row["counts"]
        assert isinstance(counts, dict)
        calls = row["api_calls"]
        assert isinstance(calls, dict)
        table.add_row(
            str(row["started_at"])[:19],
            str(row["job"]),
            str(row["outcome"]),
            str(counts.get("pulled", 0)),
            str(counts.get("written", 0)),
            str(counts.get("rejected", 0)),
            ", ".join(f"{k} {v}" for k, v in calls.items()),
        )
    _out.print(table)
    if issues:
        _out.print(
            f"identity issues open: {sum(issues.values())} ("
            + ", ".join(f"{kind} {count}" for kind, count in sorted(issues.items()))
            + "); see `crmsync identity list`"
        )
    if gone:
        _out.print(
            "records gone from a CRM: "
            + ", ".join(f"{key} {count}" for key, count in sorted(gone.items()))
            + f"; {tombstones} people all of whose records are gone (tombstones)"
        )


def explain(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A person's stage, scores and why, from the state store."""
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise ConfigError([Problem(where="argument EMAIL", message=str(exc))]) from None
    with open_store(ctx) as store:
        found = [r for r in store.people.by_email(address) if r.merged_into is None]
        transitions = store.transitions.for_person(found[0].id) if found else []
    if not found:
        _out.print("no person with that address is stored (run `crmsync sync` first)")
        raise typer.Exit(int(ExitCode.FAILED))
    person = found[0].person
    score = person.score
    data = {
        "person": person.id,
        "stage": person.stage.value,
        "disqualified_reason": person.disqualified_reason,
        "score": None if score is None else score.model_dump(mode="json"),
        "records": [str(ref) for ref in person.sources],
        "transitions": [
            {
                "at": t.at.isoformat(),
                "from": t.change.from_stage.value if t.change.from_stage else None,
                "to": t.change.to_stage.value,
                "rules_version": t.change.rules_version,
                "reasons": list(t.change.reasons),
            }
            for t in transitions
        ],
    }
    if as_json:
        _out.print_json(json.dumps(data))
        return
    _out.print(f"[bold]{person.stage.value}[/] (person {person.id})", markup=True)
    if score is not None:
        _out.print(
            f"score {score.total:g} (fit {score.fit:g}, engagement {score.engagement:g}), "
            f"band {score.band}, rules {score.rules_version}"
        )
        table = Table(title="contributions")
        for column in ("rule", "kind", "points", "reason"):
            table.add_column(column)
        for item in sorted(score.contributions, key=lambda c: -abs(c.points)):
            table.add_row(item.rule_id, item.kind.value, f"{item.points:+.1f}", item.reason)
        _out.print(table)
    for t in transitions:
        origin = t.change.from_stage or "new"
        why = "; ".join(t.change.reasons)
        _out.print(f"{t.at:%Y-%m-%d %H:%M} {origin} -> {t.change.to_stage}: {why}")


def reconcile(
    ctx: typer.Context,
    apply: Annotated[bool, typer.Option("--apply", help="Fix the drift found.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compare every linked person across both CRMs and report drift (optionally fix it)."""
    settings = settings_of(ctx)
    with (
        progress_reporter(not as_json) as progress,
        engine_for(settings, progress=progress) as engine,
    ):
        started = engine.clock()
        before = engine.drift()
        record_drift(engine.store, "reconcile", before, started, engine.clock())
        report = after = None
        if apply:
            engine.mark_everyone("reconcile")
            report = engine.sync(job="reconcile")
        if report is not None and report.outcome is not RunOutcome.INTERRUPTED:
            started = engine.clock()
            after = engine.drift()
            record_drift(engine.store, "reconcile", after, started, engine.clock())
    if as_json:
        data = {
            "drift": before.to_json(),
            "after": after.to_json() if after else None,
            "run": report.to_json() if report else None,
        }
        _out.print_json(json.dumps(data))
    else:
        render_drift(before, "drift")
        if report is not None:
            render_report(report)
        if after is not None:
            render_drift(after, "drift after reconcile")
    if report is not None and exit_code(report) is not ExitCode.OK:
        raise typer.Exit(int(exit_code(report)))


def render_drift(drift: DriftReport, title: str, console: Console = _out) -> None:
    table = Table(title=f"{title}: {drift.drift} of {drift.compared} people disagree on stage")
    table.add_column("field")
    table.add_column("records to fix", justify="right")
    for name, count in drift.fields.most_common():
        table.add_row(name, str(count))
    console.print(table)
    console.print(
        f"only in Salesforce: {drift.only_salesforce}, only in HubSpot: {drift.only_hubspot}"
    )
    for example in drift.examples[:5]:
        console.print("  " + ", ".join(f"{ref} says {stage}" for ref, stage in example.items()))


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
    app.command("reconcile")(reconcile)
    app.command("plan")(plan_command)
    app.command("apply")(apply_command)
    app.command("status")(status)
    for group in app.registered_groups:
        if group.name == "rules" and group.typer_instance is not None:
            group.typer_instance.command("explain")(explain)
