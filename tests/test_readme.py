"""Every ``crmsync`` command the README shows exists and parses, options and arguments included.

The commands themselves run in the tests of their packages (sync, rules, mappings, jobs, the
demo); this test keeps the README from drifting away from the CLI.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from connector.cli import _register_groups, app

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("crmsync "):
                commands.append(line)
    return commands


def _parse(argv: list[str]) -> Any:
    """Parse like the CLI does, down to the leaf command, without invoking anything."""
    _register_groups()
    command: Any = typer.main.get_command(app)
    context = command.make_context("crmsync", argv)
    while hasattr(command, "resolve_command"):
        rest = [*getattr(context, "_protected_args", []), *context.args]
        if not rest:
            return context
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
    return context


COMMANDS = _readme_commands()


def test_the_readme_shows_the_main_commands() -> None:
    shown = {" ".join(c.split()[:2]) for c in COMMANDS}
    for expected in ("crmsync sync", "crmsync plan", "crmsync status", "crmsync schedule"):
        assert expected in shown


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_parses(line: str) -> None:
    context = _parse(shlex.split(line)[1:])
    assert context is not None
