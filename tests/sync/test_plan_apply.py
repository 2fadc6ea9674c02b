"""``crmsync plan --out`` then ``crmsync apply``: stale records refused, the rest written."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connector.cli import main
from connector.errors import ExitCode, System
from connector.sandbox.runner import Sandbox
from connector.sync.plan import read_plan

ROOT = Path(__file__).resolve().parents[2]


def _env_file(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A .env pointing the real CLI at the sandbox, run from an empty directory."""
    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and not name.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    values = {
        **sandbox.env(),
        "CRMSYNC_STATE_URL": f"sqlite:///{tmp_path}/state.db",
        "CRMSYNC_MAPPINGS_DIR": str(ROOT / "mappings"),
        "CRMSYNC_RULES_FILE": str(ROOT / "config" / "rules.yaml"),
    }
    path = tmp_path / "sandbox.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_apply_refuses_records_changed_since_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=41, people=60) as sandbox:
        env_file = _env_file(sandbox, tmp_path, monkeypatch)
        base = ["--config", str(ROOT / "config" / "crmsync.toml"), "--env-file", str(env_file)]

        assert main([*base, "plan", "--out", "plan.json"]) == 0
        plan = read_plan(tmp_path / "plan.json")
        assert oct((tmp_path / "plan.json").stat().st_mode & 0o777) == "0o600"
        updates = [
            r for r in plan.records if r.system is System.HUBSPOT and r.kind.value == "update"
        ]
        assert len(updates) > 5
        edited = updates[0].record_id

        # A marketer edits one of the planned contacts after the plan was made (a title no
        # synthetic person has: an edit that changes no mapped value is not a conflict).
        session = requests.Session()
        session.trust_env = False
        session.post(
            f"{sandbox.hubspot.url}/__sandbox__/edit",
            json={
                "objectType": "contacts",
                "id": edited,
                "properties": {"jobtitle": "Chief Edit Officer"},
            },
        ).raise_for_status()
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1_000_000)  # past the second
        capsys.readouterr()

        code = main([*base, "apply", "plan.json", "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == ExitCode.FINISHED_WITH_REJECTIONS
        assert report["stale"] == [f"hubspot/contacts/{edited}"]
        assert report["counts"]["written"] == len(plan.records) - 1
        contact = sandbox.hubspot.store.get("contacts", edited)
        assert contact is not None
        assert contact.props.get("jobtitle") == "Chief Edit Officer"
        assert not contact.props.get("crmsync_person_id")  # the stale record was not written


def test_sync_writes_its_report_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=43, people=40) as sandbox:
        env_file = _env_file(sandbox, tmp_path, monkeypatch)
        args = ["--env-file", str(env_file), "sync", "--report", "reports/run.json"]
        assert main(args) == 0
    report = json.loads((tmp_path / "reports" / "run.json").read_text())
    assert report["outcome"] == "succeeded"
    assert report["counts"]["written"] > 0
    assert oct((tmp_path / "reports" / "run.json").stat().st_mode & 0o777) == "0o600"
    assert "@" not in json.dumps(report)  # no e-mail addresses in a report


def test_a_quota_stop_during_plan_is_recorded_and_leaves_no_plan_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from connector.sandbox.faults import FaultPlan
    from connector.state import StateStore
    from connector.state.models import RunOutcome

    with Sandbox.start(seed=45, people=30) as sandbox:
        env_file = _env_file(sandbox, tmp_path, monkeypatch)
        sandbox.salesforce.emulator.set_faults(FaultPlan(daily_quota_remaining=1))
        code = main(["--env-file", str(env_file), "plan", "--out", "plan.json"])
    assert code == ExitCode.STOPPED_ON_QUOTA
    assert "plan incomplete" in capsys.readouterr().out
    assert not (tmp_path / "plan.json").exists()
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as store:
        (run,) = store.runs.recent(limit=1)
    assert run.outcome is RunOutcome.STOPPED_ON_QUOTA
