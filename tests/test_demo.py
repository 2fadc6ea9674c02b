"""``crmsync demo`` end to end at a small size: drift before, drift 0 after, edits synced."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from connector.demo import run_demo
from connector.state.models import RunOutcome

ROOT = Path(__file__).resolve().parents[1]


def test_demo_ends_with_no_drift(tmp_path: Path) -> None:
    for folder in ("mappings", "config", "jobs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    console = Console(file=(tmp_path / "demo.log").open("w"), width=120)
    result = run_demo(people=200, seed=5, project=tmp_path, console=console)

    assert result.drift_before.drift > 0
    assert result.full.outcome is RunOutcome.SUCCEEDED
    assert result.full.written_total > 0
    assert len(result.edits) == 4
    assert result.incremental.outcome is RunOutcome.SUCCEEDED
    assert result.incremental.written_total >= 2  # the edits went to the other CRM
    assert result.drift_after.drift == 0
    assert sum(result.drift_after.fields.values()) == 0
    state = tmp_path / ".crmsync"
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    assert oct((state / "demo" / "demo.env").stat().st_mode & 0o777) == "0o600"
    assert result.explain_email is not None
    assert "rules explain" in (tmp_path / "demo.log").read_text()
