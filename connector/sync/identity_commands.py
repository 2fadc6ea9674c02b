"""``crmsync identity list | resolve``: duplicates and merges waiting for an admin."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connector.errors import ConfigError, Problem
from connector.funnel import SourceRef
from connector.state.issues import StoredIssue
from connector.sync.commands import open_store
from connector.sync.identity_decisions import Decision, resolve_issue

__all__ = ["register"]

_out = Console(highlight=False, soft_wrap=True)

identity_app = typer.Typer(
    help="Identity issues: duplicate records and merges crmsync will not resolve alone.",
    no_args_is_help=True,
)


def _json(issue: StoredIssue) -> dict[str, object]:
    return {
        "id": issue.id,
        "kind": issue.kind,
        "record": issue.record,
        "other": issue.other,
        "people": list(issue.people),
        "detail": issue.detail,
        "first_seen_at": issue.first_seen_at.isoformat(),
        "last_seen_at": issue.last_seen_at.isoformat(),
        "times_seen": issue.times_seen,
        "resolved_at": issue.resolved_at.isoformat() if issue.resolved_at else None,
        "resolution": issue.resolution,
        "note": issue.note,
    }


@identity_app.command("list")
def identity_list(
    ctx: typer.Context,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="Resolved issues too, with their resolution.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open identity issues, oldest first (record ids only, no names or addresses)."""
    with open_store(ctx) as store:
        issues = store.issues.list(include_resolved=include_resolved)
    if as_json:
        _out.print_json(json.dumps([_json(issue) for issue in issues]))
        return
    if not issues:
        _out.print("no identity issues" + ("" if include_resolved else " open"))
        return
    table = Table(title=f"{len(issues)} identity issues")
    for column in ("id", "kind", "record", "other", "seen", "since", "status"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        table.add_row(
            str(issue.id),
            issue.kind,
            issue.record,
            issue.other or "",
            str(issue.times_seen),
            f"{issue.first_seen_at:%Y-%m-%d %H:%M}",
            issue.resolution or "open",
        )
    _out.print(table)
    _out.print(
        "resolve with `crmsync identity resolve ID` and one of --ignore, --prefer RECORD "
        "(duplicate e-mail), --keep-apart, --join --survivor RECORD (merge conflict)"
    )


def _record(value: str | None, option: str) -> SourceRef | None:
    if value is None:
        return None
    try:
        return SourceRef.parse(value)
    except ValueError:
        raise ConfigError(
            [
                Problem(
                    where=f"option {option}",
                    message=f"{value!r} is not a record",
                    hint="write it as system/object/id, e.g. salesforce/Lead/00Q5e00000AbCdE",
                )
            ]
        ) from None


@identity_app.command("resolve")
def identity_resolve(
    ctx: typer.Context,
    issue_id: Annotated[int, typer.Argument(help="The issue's id (crmsync identity list).")],
    ignore: Annotated[
        bool, typer.Option("--ignore", help="Duplicate e-mail: keep the unlinked record out.")
    ] = False,
    prefer: Annotated[
        str | None,
        typer.Option("--prefer", help="Duplicate e-mail: make this record the person's."),
    ] = None,
    keep_apart: Annotated[
        bool, typer.Option("--keep-apart", help="Merge conflict: they are two people.")
    ] = False,
    join: Annotated[
        bool, typer.Option("--join", help="Merge conflict: they are one person (--survivor).")
    ] = False,
    survivor: Annotated[
        str | None,
        typer.Option("--survivor", help="With --join: the record that stays in the other CRM."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with the issue).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record a decision on an identity issue and carry it out on the next sync."""
    chosen = [
        decision
        for decision, on in (
            (Decision.IGNORE, ignore),
            (Decision.PREFER, prefer is not None),
            (Decision.KEEP_APART, keep_apart),
            (Decision.JOIN, join),
        )
        if on
    ]
    if len(chosen) != 1:
        raise ConfigError(
            [
                Problem(
                    where="identity resolve",
                    message="choose exactly one of --ignore, --prefer, --keep-apart, --join",
                )
            ]
        )
    (decision,) = chosen
    record = _record(prefer, "--prefer") or _record(survivor, "--survivor")
    with open_store(ctx) as store:
        issue = resolve_issue(store, issue_id, decision, record=record, note=note)
    if as_json:
        _out.print_json(json.dumps(_json(issue)))
        return
    _out.print(f"issue {issue.id} {issue.resolution}; the next sync carries it out")


def register(app: typer.Typer) -> None:
    app.add_typer(identity_app, name="identity")
