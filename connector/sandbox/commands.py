"""``crmsync sandbox serve``: run both emulators until interrupted."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from connector.errors import ConfigError, Problem
from connector.sandbox.faults import REALISTIC_SEARCH_LAG_MS, FaultPlan, load_fault_plan

__all__ = ["register"]

_console = Console(highlight=False, soft_wrap=True)


def serve(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world and of the faults.")] = 7,
    people: Annotated[int, typer.Option(min=0, help="How many people to generate.")] = 1000,
    latency_ms: Annotated[int, typer.Option(min=0, help="Latency added to every call.")] = 0,
    faults: Annotated[
        Path | None, typer.Option(help="Fault plan (JSON or YAML) applied to both emulators.")
    ] = None,
    salesforce_port: Annotated[int, typer.Option(min=0, max=65535, help="0 = free port.")] = 0,
    hubspot_port: Annotated[int, typer.Option(min=0, max=65535, help="0 = free port.")] = 0,
    search_lag_ms: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=600_000,
            help="How far HubSpot search trails writes "
            f"[default: the fault plan's, else {REALISTIC_SEARCH_LAG_MS}].",
            show_default=False,
        ),
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="Also write the CRMSYNC_* settings here.")
    ] = None,
) -> None:
    """Start the Salesforce and HubSpot emulators on 127.0.0.1 and print their settings."""
    from pydantic import ValidationError

    from connector.sandbox.runner import Sandbox

    if faults is not None and not faults.is_file():
        raise ConfigError([Problem(where=str(faults), message="fault plan file not found")])
    try:
        plan = load_fault_plan(faults) if faults is not None else None
        lag = serve_search_lag(search_lag_ms, plan)
        sandbox = Sandbox.start(
            seed=seed,
            people=people,
            latency_ms=latency_ms,
            faults=plan,
            salesforce_port=salesforce_port,
            hubspot_port=hubspot_port,
            search_lag_ms=lag,
        )
    except (ValidationError, ValueError) as exc:
        raise ConfigError([Problem(where=str(faults or "--faults"), message=str(exc))]) from exc
    except OSError as exc:
        raise ConfigError(
            [Problem(where="ports", message=f"cannot listen: {exc.strerror}")]
        ) from exc
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for key, value in sandbox.env().items():
            _console.print(f"{key}={value}", markup=False)
        if env_file is not None:
            sandbox.write_env_file(env_file)
            _console.print(f"# written to {env_file}", markup=False)
        _console.print(
            f"# salesforce {sandbox.salesforce.url}  hubspot {sandbox.hubspot.url}  "
            f"people {people}  seed {seed}  search lag {lag} ms; Ctrl-C to stop",
            markup=False,
        )
        while not stop.wait(0.5):
            continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()


def serve_search_lag(flag: int | None, plan: FaultPlan | None) -> int:
    """The search lag ``serve`` runs with: the flag, else the plan's own, else a realistic one
    (a hand-run sandbox should behave like a portal; tests that want none say so)."""
    if flag is not None:
        return flag
    if plan is not None and "search_lag_ms" in plan.model_fields_set:
        return plan.search_lag_ms
    return REALISTIC_SEARCH_LAG_MS


def register(app: typer.Typer) -> None:
    """Add the ``sandbox`` command group to the root CLI."""
    sandbox_app = typer.Typer(help="Local Salesforce and HubSpot emulators.", no_args_is_help=True)
    sandbox_app.command("serve")(serve)
    app.add_typer(sandbox_app, name="sandbox")
