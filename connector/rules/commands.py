"""``crmsync rules ...``: validate the rules file and backtest it against a candidate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from connector.errors import ConfigError, Problem
from connector.rules.backtest import BacktestReport, RulesMetrics, backtest
from connector.rules.loader import Rules, load_rules

if TYPE_CHECKING:
    from connector.cli import AppContext

__all__ = ["register"]

stdout = Console(highlight=False, soft_wrap=True)

rules_app = typer.Typer(
    help="Check and compare the qualification and scoring rules (config/rules.yaml).",
    no_args_is_help=True,
)

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file (default: the rules_file setting)."),
]


def _configured(ctx: typer.Context) -> Path:
    context: AppContext = ctx.obj
    return context.settings().rules_file


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # A CrmsyncError rather than typer.BadParameter: the CLI maps it to exit 2 itself.
        raise ConfigError(
            [
                Problem(
                    where="--as-of", message="not a date", hint="use an ISO date, e.g. 2026-11-01"
                )
            ]
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@rules_app.command("validate")
def validate(ctx: typer.Context, rules: RulesOption = None) -> None:
    """Check a rules file offline; list every problem with its line (exit 2 if any)."""
    path = rules or _configured(ctx)
    loaded = load_rules(path)
    source = loaded.source
    engagement = sum(len(group.rules) for group in source.engagement.groups)
    stdout.print(
        f"rules ok: {path} (version {source.version}, {len(source.fit.rules)} fit rules, "
        f"{engagement} engagement rules in {len(source.engagement.groups)} group(s))"
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _plain(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print_report(report: BacktestReport, source: str) -> None:
    columns: list[RulesMetrics] = [report.current]
    if report.candidate is not None:
        columns.append(report.candidate)
    summary = Table(title=f"Backtest as of {report.as_of:%Y-%m-%d} on {source}")
    summary.add_column("metric")
    for label, metrics in zip(("current", "candidate"), columns, strict=False):
        summary.add_column(f"{label} ({metrics.version})", justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("AUC", [_plain(m.auc) for m in columns]),
        ("precision at prospect", [_percent(m.precision) for m in columns]),
        ("recall at prospect", [_percent(m.recall) for m in columns]),
        ("top-decile lift", [_plain(m.top_decile_lift, 2) for m in columns]),
        ("people at prospect or beyond", [str(m.qualified) for m in columns]),
    ]
    for name, cells in rows:
        summary.add_row(name, *cells)
    stdout.print(summary)
    stdout.print(
        f"{report.people} people, {report.labelled} with a known outcome "
        f"({report.positives} converted or closed-won)"
    )
    for label, metrics in zip(("current", "candidate"), columns, strict=False):
        bands = Table(title=f"Conversion by band, {label} rules ({metrics.version})")
        for heading in ("band", "people", "positives", "conversion"):
            bands.add_column(heading, justify="right" if heading != "band" else "left")
        for row in metrics.bands:
            bands.add_row(row.band, str(row.people), str(row.positives), _percent(row.rate))
        stdout.print(bands)
    if report.stage_changes is not None:
        stdout.print(f"{report.stage_changes} people would change stage with the candidate")
        for move, count in sorted(report.moves.items()):
            stdout.print(f"  {move}: {count}")


@rules_app.command("backtest")
def backtest_command(
    ctx: typer.Context,
    candidate: Annotated[
        Path | None,
        typer.Option("--rules", help="Candidate rules file to compare with the current one."),
    ] = None,
    current: Annotated[
        Path | None,
        typer.Option("--current", help="Rules to compare against (default: rules_file)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Evaluate as of this date (default: the data's as-of)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Synthetic data seed.")] = 7,
    people: Annotated[int, typer.Option("--people", help="Synthetic people to replay.")] = 5000,
    from_state: Annotated[
        bool,
        typer.Option("--from-state", help="Replay the people in the state store instead."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Replay the rules over people with a known outcome; compare with a candidate file.

    Reports AUC, conversion by score band, precision and recall at the prospect stage, top-decile lift and how many people the candidate would move.

    By default the people replayed are the sandbox's synthetic population (--seed, --people), whose outcomes are known. With --from-state they are the people crmsync has synced (outcomes from won/lost deals, conversions, disqualifications and stale leads).
    """  # noqa: E501 (typer reflows help text; keep paragraphs on one line)
    from connector.rules.synthetic import synthetic_examples
    from connector.sandbox.seed import DEFAULT_AS_OF

    if people < 1:
        raise ConfigError([Problem(where="--people", message="must be at least 1")])
    current_rules: Rules = load_rules(current or _configured(ctx))
    candidate_rules = load_rules(candidate) if candidate is not None else None
    if from_state:
        from connector.state import StateStore
        from connector.sync.history import state_examples

        when = _as_of(as_of) or datetime.now(UTC)
        context: AppContext = ctx.obj
        with StateStore.from_settings(context.settings()) as store:
            examples = state_examples(store, when)
            report = backtest(examples, current_rules, when, candidate_rules)
        title = "the people in the state store"
    else:
        when = _as_of(as_of) or DEFAULT_AS_OF
        report = backtest(
            synthetic_examples(seed, people, as_of=when), current_rules, when, candidate_rules
        )
        title = f"{people} synthetic people (seed {seed})"
    if as_json:
        stdout.print_json(json.dumps(report.to_dict()))
        return
    _print_report(report, title)


def register(app: typer.Typer) -> None:
    """Attach ``crmsync rules`` to the root command."""
    app.add_typer(rules_app, name="rules")
