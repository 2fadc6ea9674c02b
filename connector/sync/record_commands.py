"""Commands about single records and people: dead letters (list, retry, drop) and erasure
(``forget``). The run commands (sync, plan, apply, reconcile, status) are in commands.py."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connector.crm.connect import connect
from connector.crm.types import CrmSink
from connector.errors import ConfigError, ExitCode, Problem, System
from connector.funnel import SourceRef, normalise_email
from connector.logs import add_secrets
from connector.sync.commands import open_store, settings_of
from connector.sync.erase import delete_in_crms, linked_records
from connector.sync.wiring import require_credentials

__all__ = ["register"]

_out = Console(highlight=False, soft_wrap=True)


deadletter_app = typer.Typer(
    help="Writes a CRM refused: list, retry now, or drop.", no_args_is_help=True
)


@deadletter_app.command("list")
def deadletter_list(
    ctx: typer.Context,
    system: Annotated[System | None, typer.Option(help="Only this system.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every dead letter with its reason, attempts and next retry."""
    with open_store(ctx) as store:
        letters = store.dead_letters.list(system=system)
    if as_json:
        rows = [
            {
                "id": d.id,
                "record": str(d.ref),
                "fields": list(d.fields),
                "code": d.code,
                "message": d.message,
                "attempts": d.attempts,
                "waits_for": "a change of the record, the mapping or the schema"
                if d.waiting
                else "its retry time",
                "next_retry_at": None if d.waiting else d.next_retry_at.isoformat(),
            }
            for d in letters
        ]
        _out.print_json(json.dumps(rows))
        return
    table = Table(title=f"{len(letters)} dead letters")
    for column in ("id", "record", "fields", "code", "message", "attempts", "next retry"):
        table.add_column(column, overflow="fold")
    for d in letters:
        table.add_row(
            str(d.id),
            str(d.ref),
            ", ".join(d.fields),
            d.code,
            d.message,
            str(d.attempts),
            "when the record, mapping or schema changes"
            if d.waiting
            else d.next_retry_at.isoformat(timespec="minutes"),
        )
    _out.print(table)


@deadletter_app.command("retry")
def deadletter_retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="Dead letter ids; none means all.")
    ] = None,
) -> None:
    """Plan these records again on the next sync (now, not at their backoff time)."""
    with open_store(ctx) as store:
        letters = [d for d in store.dead_letters.list() if not ids or d.id in ids]
        people = {d.person_id for d in letters if d.person_id}
        store.dead_letters.retry_now([d.id for d in letters])
        store.dirty.mark(people, "retry")
    _out.print(f"{len(letters)} dead letters will be retried by the next sync")


@deadletter_app.command("drop")
def deadletter_drop(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="Dead letter ids to forget about.")],
) -> None:
    """Stop retrying these writes."""
    with open_store(ctx) as store:
        dropped = store.dead_letters.drop(ids)
    _out.print(f"dropped {dropped} dead letters")


def forget(
    ctx: typer.Context,
    email: Annotated[
        str,
        typer.Argument(
            help="The person's e-mail address, or one of their CRM records as "
            "system/object/id (a tombstone has no address left)."
        ),
    ],
    in_crms: Annotated[
        bool,
        typer.Option(
            "--in-crms",
            help="Also delete the person's records in both CRMs through their APIs, first.",
        ),
    ] = False,
) -> None:
    """Erase a person from the state store (an erasure request). With --in-crms, first ask
    both CRMs to delete every record crmsync linked to the person (Salesforce: recycle bin;
    HubSpot: archive); if a CRM refuses, the state store is kept so the request can be
    repeated."""
    if "/" in email and "@" not in email:
        _forget_by_record(ctx, email)
        return
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise ConfigError([Problem(where="argument EMAIL", message=str(exc))]) from None
    settings = settings_of(ctx)
    if in_crms:
        require_credentials(settings)
    with open_store(ctx) as store:
        if in_crms:
            refs = linked_records(store, address)
            adapters = connect(settings)
            add_secrets(adapters.secrets())
            sinks: dict[System, CrmSink] = {
                System.SALESFORCE: adapters.salesforce,
                System.HUBSPOT: adapters.hubspot,
            }
            erasure = delete_in_crms(refs, sinks)
            _out.print(f"deleted {len(erasure.deleted)} records in the CRMs")
            if erasure.refused:
                for ref, reason in erasure.refused:
                    _out.print(f"refused {ref}: {reason}")
                _out.print("the state store is kept: run the same command again to retry")
                raise typer.Exit(int(ExitCode.FINISHED_WITH_REJECTIONS))
        result = store.forget(address)
    if not result.people:
        _out.print("no person with that address is stored")
        raise typer.Exit(int(ExitCode.FAILED))
    _out.print(f"erased {result.people} people and {result.total - result.people} rows about them")


def _forget_by_record(ctx: typer.Context, text: str) -> None:
    """Erase the person a CRM record belongs (or belonged) to, tombstones included."""
    try:
        ref = SourceRef.parse(text)
    except ValueError:
        raise ConfigError(
            [
                Problem(
                    where="argument EMAIL",
                    message="neither an e-mail address nor a record",
                    hint="write a record as system/object/id, e.g. hubspot/contacts/1234",
                )
            ]
        ) from None
    with open_store(ctx) as store:
        history = store.links.history(ref)
        if not history:
            _out.print("no person is stored for that record")
            raise typer.Exit(int(ExitCode.FAILED))
        result = store.forget_person(history[-1].person_id)
    _out.print(f"erased {result.people} people and {result.total - result.people} rows about them")


def register(app: typer.Typer) -> None:
    app.command("forget")(forget)
    app.add_typer(deadletter_app, name="deadletter")
