"""The ``crmsync`` command line: a thin shell over the library.

Library code raises :class:`~connector.errors.CrmsyncError` subclasses; this module catches the
root once and maps it to the documented exit codes. Sub-command groups live beside the code they
drive (``connector/<package>/commands.py``) and are registered here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import AnyUrl, SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from connector import __version__
from connector.errors import ConfigError, CrmsyncError, ExitCode, StopRequested
from connector.logs import configure_logging
from connector.masking import mask_url, mask_urls_in, url_secrets
from connector.runtime import tune_collector
from connector.settings import (
    DEFAULT_CONFIG_FILE,
    DEFAULT_ENV_FILE,
    Settings,
    check_settings,
    explain_sources,
    load_settings,
    url_credential_warnings,
)

__all__ = ["AppContext", "app", "main"]

app = typer.Typer(
    name="crmsync",
    help="Keep Salesforce and HubSpot in agreement about the sales funnel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show and check settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class AppContext:
    """What every command gets: where settings come from, loaded lazily once."""

    config_file: Path
    env_file: Path | None
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file, self.env_file)
            # Every command that reads settings logs as they say (level, text or JSON), through
            # the redacting filter, with the configured secrets scrubbed.
            configure_logging(
                self._settings.log_level,
                self._settings.log_format,
                secrets=_secret_values(self._settings.model_dump()),
            )
        return self._settings


def _secret_values(data: Any) -> list[str]:
    if isinstance(data, SecretStr):
        return [data.get_secret_value()]
    if isinstance(data, dict):
        return [secret for value in data.values() for secret in _secret_values(value)]
    if isinstance(data, str | AnyUrl):
        # A password or token written into a URL setting is scrubbed like any other secret.
        return url_secrets(str(data))
    return []


def _version(value: bool) -> None:
    if value:
        stdout.print(f"crmsync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            envvar="CRMSYNC_CONFIG_FILE",
            help="TOML settings file (lowest precedence above defaults).",
        ),
    ] = DEFAULT_CONFIG_FILE,
    env_file: Annotated[
        Path,
        typer.Option(
            "--env-file", help="dotenv file (above the TOML file, below the environment)."
        ),
    ] = DEFAULT_ENV_FILE,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = AppContext(config_file=config, env_file=env_file)


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, str | AnyUrl):
        # Any URL setting (the state store's, a CRM's) may carry a password or token.
        return mask_url(str(value))
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Print the effective settings, secrets masked, and where each value came from."""
    context: AppContext = ctx.obj
    settings = context.settings()
    values = _flat(_masked(settings.model_dump(mode="python")))
    sources = explain_sources(settings, context.config_file, context.env_file)
    if as_json:
        rows = {
            key: {"value": value, "source": str(sources.get(key, "default"))}
            for key, value in values.items()
        }
        stdout.print_json(json.dumps(rows))
        return
    table = Table(title="Effective settings", show_lines=False)
    table.add_column("setting")
    table.add_column("value")
    table.add_column("source")
    for key, value in values.items():
        table.add_row(key, "" if value is None else str(value), str(sources.get(key, "default")))
    stdout.print(table)


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Check settings and the files they name; list every problem at once (exit 2)."""
    context: AppContext = ctx.obj
    settings = context.settings()
    sources = explain_sources(settings, context.config_file, context.env_file)
    for warning in url_credential_warnings(settings, sources):
        stderr.print(f"[bold yellow]warning:[/] {escape(str(warning))}")
    problems = check_settings(settings)
    if problems:
        raise ConfigError(problems)
    stdout.print("configuration ok")


_registered: list[bool] = []


def _register_groups() -> None:
    """Attach the command groups that live beside the code they drive (once per process)."""
    from importlib import import_module

    if _registered:
        return
    _registered.append(True)
    for module_name, attribute in _COMMAND_GROUPS:
        module = import_module(module_name)
        getattr(module, attribute)(app)


# (module, function taking the root Typer app) — each package registers its own commands.
_COMMAND_GROUPS: tuple[tuple[str, str], ...] = (
    ("connector.mapping.commands", "register"),
    ("connector.sandbox.commands", "register"),
    ("connector.rules.commands", "register"),
    ("connector.sync.commands", "register"),
    ("connector.sync.record_commands", "register"),
    ("connector.sync.identity_commands", "register"),
    ("connector.jobs.commands", "register"),
    ("connector.demo", "register"),
)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of exiting (the console script exits)."""
    _register_groups()
    command = typer.main.get_command(app)
    try:
        # Standalone mode: typer/click report usage errors themselves (exit 2) whichever click
        # they bundle; our own errors pass through to be mapped to the documented codes.
        command.main(args=argv, prog_name="crmsync", standalone_mode=True)
    except StopRequested as stopped:
        # A stop outside a recorded run (a drift check, the demo): nothing was left half-done.
        stderr.print(f"{stopped}; run the command again to finish")
        return int(stopped.exit_code)
    except CrmsyncError as error:
        # Escaped: error texts may hold brackets (``[400 INVALID_FIELD]``) rich would eat.
        # Masked: whatever URL a message names reaches the terminal without its credentials.
        stderr.print(f"[bold red]error:[/] {escape(mask_urls_in(str(error)))}")
        return int(error.exit_code)
    except SystemExit as done:
        code = done.code
        if code is None:
            return int(ExitCode.OK)
        return code if isinstance(code, int) else int(ExitCode.FAILED)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)


def entrypoint() -> None:
    tune_collector()
    sys.exit(main())
