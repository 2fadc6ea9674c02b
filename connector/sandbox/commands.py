"""``crmsync sandbox serve``: run both emulators until interrupted."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console

from connector.errors import ConfigError, Problem
from connector.sandbox.faults import REALISTIC_SEARCH_LAG_MS, FaultPlan, load_fault_plan

if TYPE_CHECKING:
    from connector.sandbox.runner import SalesforceAuth

__all__ = ["register"]

_AUTH_MODES = ("client_credentials", "jwt", "refresh_token")

_console = Console(highlight=False, soft_wrap=True)


def serve(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world and of the faults.")] = 7,
    people: Annotated[int, typer.Option(min=0, help="How many people to generate.")] = 1000,
    latency_ms: Annotated[int, typer.Option(min=0, help="Latency added to every call.")] = 0,
    faults: Annotated[
        Path | None, typer.Option(help="Fault plan (JSON or YAML) applied to both emulators.")
    ] = None,
    salesforce_port: Annotated[
        int, typer.Option(min=0, max=65535, help="The org's instance; 0 = free port.")
    ] = 0,
    salesforce_login_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Its login host; 0 = free port.")
    ] = 0,
    hubspot_port: Annotated[int, typer.Option(min=0, max=65535, help="0 = free port.")] = 0,
    salesforce_auth: Annotated[
        str,
        typer.Option(help="How crmsync logs in: client_credentials, jwt or refresh_token."),
    ] = "client_credentials",
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
    clients_env_file: Annotated[
        Path | None,
        typer.Option(
            "--clients-env-file",
            help="Also write the SALESFORCE_* credentials other clients use here.",
        ),
    ] = None,
) -> None:
    """Start the Salesforce and HubSpot emulators on 127.0.0.1 and print their settings.

    Prints crmsync's CRMSYNC_* settings, then every credential another Salesforce client may
    log in with (SALESFORCE_*: username, password and security token for the username-password
    flow and SOAP login(), client id and secret, refresh token, JWT key).
    """
    from pydantic import ValidationError

    from connector.sandbox.runner import Sandbox

    if salesforce_auth not in _AUTH_MODES:
        raise ConfigError(
            [
                Problem(
                    where="--salesforce-auth",
                    message=f"unknown mode {salesforce_auth!r}",
                    hint="use one of " + ", ".join(_AUTH_MODES),
                )
            ]
        )
    auth = cast("SalesforceAuth", salesforce_auth)

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
            salesforce_login_port=salesforce_login_port,
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
        for key, value in sandbox.env(salesforce_auth=auth).items():
            _console.print(f"{key}={value}", markup=False)
        if env_file is not None:
            sandbox.write_env_file(env_file, salesforce_auth=auth)
            _console.print(f"# written to {env_file}", markup=False)
        _console.print("# Salesforce, for any client (docs/sandbox.md):", markup=False)
        for key, value in sandbox.client_env().items():
            _console.print(f"{key}={value}", markup=False)
        if clients_env_file is not None:
            sandbox.write_client_env_file(clients_env_file)
            _console.print(f"# written to {clients_env_file}", markup=False)
        _console.print(
            f"# salesforce {sandbox.salesforce.url} (login {sandbox.salesforce.login_url})  "
            f"hubspot {sandbox.hubspot.url}  people {people}  seed {seed}  "
            f"search lag {lag} ms; Ctrl-C to stop",
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
