"""``crmsync mappings ...``: validate, show and edit the field mappings.

Errors are raised (``MappingError`` exits 2 with every problem listed); this module only prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from connector.errors import MappingError, System
from connector.funnel import FunnelStage
from connector.mapping.canonical import CANONICAL_FIELDS
from connector.mapping.catalogue import HUBSPOT_OBJECT, SALESFORCE_OBJECTS, describe_connector_field
from connector.mapping.connect import LiveSchema, describe_live
from connector.mapping.edit import add_inbound_value, set_sync_rule
from connector.mapping.live import validate_live
from connector.mapping.loader import load_mappings
from connector.mapping.model import FieldMapping, MappingSet
from connector.mapping.rules import TRANSFORMS_FOR_TYPE, SyncRule
from connector.mapping.snapshot import load_schema_snapshot

__all__ = ["register"]

mappings_app = typer.Typer(help="Validate, show and edit field mappings.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Mappings directory or one file (default: settings mappings_dir)."),
]


def register(app: typer.Typer) -> None:
    """Attach ``crmsync mappings`` to the root app."""
    app.add_typer(mappings_app, name="mappings")
    app.command("setup")(setup_command)


def _directory(ctx: typer.Context, given: Path | None) -> Path:
    if given is not None:
        return given
    settings = ctx.obj.settings() if ctx.obj is not None else None
    return Path(settings.mappings_dir) if settings is not None else Path("mappings")


def _summary(mappings: MappingSet) -> str:
    files = len(mappings.files)
    return f"{len(mappings)} mappings in {files} file{'s' if files != 1 else ''}"


@mappings_app.command("validate")
def validate(
    ctx: typer.Context,
    directory: DirOption = None,
    live: Annotated[
        bool,
        typer.Option("--live", help="Also check against the CRMs' schema, described live."),
    ] = False,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="Check against a saved schema snapshot (describe / properties JSON) instead "
            "of connecting.",
        ),
    ] = None,
) -> None:
    """Check the mappings (with --live or --schema, against the CRM schema too); exit 2 on error."""
    mappings = load_mappings(_directory(ctx, directory))
    if schema is not None:
        salesforce, hubspot = load_schema_snapshot(schema)
        missing = [] if salesforce else ["Salesforce: not in the snapshot"]
        missing += [] if hubspot else ["HubSpot: not in the snapshot"]
        described = LiveSchema(salesforce, hubspot, tuple(missing))
    elif live:
        described = describe_live(ctx.obj.settings())
    else:
        _out.print(f"{_summary(mappings)}: ok")
        return
    problems = validate_live(mappings, described.salesforce, described.hubspot)
    if problems:
        raise MappingError(problems)
    _out.print(f"{_summary(mappings)}: ok (checked against {', '.join(described.checked())})")
    for reason in described.unchecked:
        _out.print(f"[yellow]not checked[/] {reason}")


def _row(mapping: FieldMapping) -> dict[str, Any]:
    maps = {system.value: vm.name for system, vm in mapping.value_maps.items()}
    return {
        "mapping": mapping.name,
        "canonical": mapping.canonical.name,
        "type": mapping.canonical.type.value,
        "sync": mapping.sync.value,
        "salesforce": dict(mapping.salesforce),
        "hubspot": mapping.hubspot,
        "transforms": [t.value for t in mapping.transforms],
        "value_maps": maps,
        "reads": [s.value for s in System if mapping.reads_from(s)],
        "writes": [s.value for s in System if mapping.writes_to(s)],
        "defined_at": str(mapping.origin),
    }


@mappings_app.command("show")
def show(
    ctx: typer.Context,
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Print the effective mapping: every canonical field, its targets, rule and transforms."""
    mappings = load_mappings(_directory(ctx, directory))
    rows = [_row(mapping) for mapping in mappings]
    if as_json:
        value_maps = {
            name: {"outbound": dict(vm.outbound), "inbound": dict(vm.inbound)}
            for name, vm in mappings.value_maps.items()
        }
        _out.print_json(json.dumps({"mappings": rows, "value_maps": value_maps}))
        return
    table = Table(title=f"Field mappings ({_summary(mappings)})")
    for column in ("mapping", "Lead", "Contact", "HubSpot", "sync", "transforms"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = row["mapping"]
        if name != row["canonical"]:
            name += f" ({row['canonical']})"
        table.add_row(
            name,
            row["salesforce"].get("Lead", ""),
            row["salesforce"].get("Contact", ""),
            row["hubspot"] or "",
            row["sync"],
            ", ".join(row["transforms"]),
        )
    _out.print(table)
    _out.print(_value_map_table(mappings))


def _value_map_table(mappings: MappingSet) -> Table:
    stages = [stage.value for stage in FunnelStage]
    table = Table(title="Value maps: what crmsync writes for each stage (- leaves it unchanged)")
    table.add_column("value map", overflow="fold")
    table.add_column("used by", overflow="fold")
    for stage in stages:
        table.add_column(stage, overflow="fold")
    for name, value_map in mappings.value_maps.items():
        users = [
            f"{m.name} ({system.value})"
            for m in mappings
            for system, used in m.value_maps.items()
            if used.name == name
        ]
        cells = [value_map.outbound.get(stage) or "-" for stage in stages]
        table.add_row(name, ", ".join(users), *cells)
    return table


@mappings_app.command("fields")
def fields() -> None:
    """List the canonical fields a mapping can name, with their types and transforms."""
    table = Table(title="Canonical fields")
    for column in ("field", "type", "transforms", "meaning"):
        table.add_column(column)
    for field in CANONICAL_FIELDS.values():
        allowed = ", ".join(sorted(TRANSFORMS_FOR_TYPE[field.type]))
        table.add_row(field.name, field.type.value, allowed, field.description)
    _out.print(table)


@mappings_app.command("set")
def set_rule(
    ctx: typer.Context,
    mapping: Annotated[str, typer.Argument(help="The mapping's name, e.g. phone.")],
    sync: Annotated[SyncRule, typer.Option("--sync", help="The new sync rule.")],
    directory: DirOption = None,
) -> None:
    """Change a mapping's sync rule in place, keeping comments; refused if it breaks the set."""
    set_sync_rule(_directory(ctx, directory), mapping, sync)
    _out.print(f"mapping {mapping!r}: sync is now {sync.value}")


@mappings_app.command("add-value")
def add_value(
    ctx: typer.Context,
    value_map: Annotated[str, typer.Argument(help="The value map, e.g. hubspot_lead_status.")],
    value: Annotated[str, typer.Argument(help="The CRM value, e.g. IN_PROGRESS.")],
    stage: Annotated[
        str, typer.Argument(help="The funnel stage it means, or 'none' if it means nothing.")
    ],
    directory: DirOption = None,
) -> None:
    """Teach a value map what a CRM value means when read (an inbound entry), keeping comments."""
    meaning = None if stage.lower() in ("none", "null") else _stage(stage)
    add_inbound_value(_directory(ctx, directory), value_map, value, meaning)
    _out.print(f"value map {value_map!r}: {value!r} now reads as {stage}")


def _stage(text: str) -> FunnelStage:
    try:
        return FunnelStage(text.lower())
    except ValueError:
        choices = ", ".join(stage.value for stage in FunnelStage)
        raise typer.BadParameter(f"{text!r} is not a funnel stage ({choices}, none)") from None


def setup_command(
    ctx: typer.Context,
    live: Annotated[
        bool,
        typer.Option("--live", help="Check the CRMs and create the missing HubSpot properties."),
    ] = False,
) -> None:
    """The custom fields crmsync's mappings write: create HubSpot's, list Salesforce's.

    Without --live, lists what the mappings need. With --live, describes both CRMs, creates the
    missing HubSpot contact properties, and lists the Salesforce custom fields an admin must
    create (with their types); exits 2 while any are missing.
    """
    from connector.crm.connect import connect
    from connector.errors import ConfigError, Problem
    from connector.mapping.setup import needed_fields, plan_setup, property_spec
    from connector.sync.wiring import require_credentials

    settings = ctx.obj.settings()
    mappings = load_mappings(Path(settings.mappings_dir))
    if not live:
        salesforce, hubspot = needed_fields(mappings)
        for obj, needed in salesforce:
            _out.print(f"Salesforce {obj}: {describe_connector_field(needed)}")
        for needed in hubspot:
            _out.print(f"HubSpot contacts: {describe_connector_field(needed)}")
        return
    require_credentials(settings)
    adapters = connect(settings)
    schemas = {obj: adapters.salesforce.describe(obj) for obj in SALESFORCE_OBJECTS}
    plan = plan_setup(mappings, schemas, adapters.hubspot.describe(HUBSPOT_OBJECT))
    for needed in plan.hubspot:
        adapters.hubspot.create_property(HUBSPOT_OBJECT, property_spec(needed))
        _out.print(f"HubSpot: created contact property {needed.name}")
    if plan.salesforce:
        raise ConfigError(
            [
                Problem(
                    where="salesforce",
                    field=f"{obj}.{needed.name}",
                    message="custom field missing",
                    hint="create it in Setup: " + describe_connector_field(needed),
                )
                for obj, needed in plan.salesforce
            ]
        )
    _out.print("setup complete: every field crmsync writes exists")
