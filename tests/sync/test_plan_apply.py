"""``crmsync plan --out`` then ``crmsync apply``: stale records refused, the rest written."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import main
from connector.errors import ExitCode, System
from connector.sandbox.runner import Sandbox
from connector.sync.plan import MAX_PLAN_BYTES, PlanFormatError, read_plan

from ._support import calls, stamps

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ["--config", str(ROOT / "config" / "crmsync.toml")]


def _env_file(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    state: str = "state.db",
    definitions: Path = ROOT,
    name: str = "sandbox.env",
) -> Path:
    """A .env pointing the real CLI at the sandbox, run from an empty directory."""
    for variable in list(os.environ):
        if variable.startswith("CRMSYNC_") and not variable.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    values = {
        **sandbox.env(),
        "CRMSYNC_STATE_URL": f"sqlite:///{tmp_path}/{state}",
        "CRMSYNC_MAPPINGS_DIR": str(definitions / "mappings"),
        "CRMSYNC_RULES_FILE": str(definitions / "config" / "rules.yaml"),
    }
    path = tmp_path / name
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def _own_definitions(tmp_path: Path) -> Path:
    """A copy of the shipped mappings and rules that a test may edit."""
    copy = tmp_path / "definitions"
    shutil.copytree(ROOT / "mappings", copy / "mappings")
    (copy / "config").mkdir()
    shutil.copy(ROOT / "config" / "rules.yaml", copy / "config" / "rules.yaml")
    return copy


def _crm_writes(sandbox: Sandbox) -> tuple[dict[str, object], int]:
    """What any write to either CRM would move: every person record's modification stamp,
    and the number of Salesforce write calls."""
    salesforce = sum(
        count
        for endpoint, count in calls(sandbox).items()
        if endpoint.startswith("salesforce ")
        and endpoint.split()[1] in ("PATCH", "POST", "PUT", "DELETE")
        and "oauth2" not in endpoint
    )
    return stamps(sandbox), salesforce


def _apply_refused(
    base: list[str], sandbox: Sandbox, capsys: pytest.CaptureFixture[str], plan: str = "plan.json"
) -> str:
    """``crmsync apply`` on ``plan``: exit 2, nothing written to either CRM; its message."""
    before = _crm_writes(sandbox)
    capsys.readouterr()
    code = main([*base, "apply", plan])
    captured = capsys.readouterr()
    assert code == ExitCode.INVALID_DEFINITION, captured.out + captured.err
    assert _crm_writes(sandbox) == before
    return " ".join(captured.err.split())


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


def _salesforce_update(plan: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A planned Salesforce update and its text change (the score's explanation)."""
    for record in plan["records"]:
        if record["system"] == "salesforce" and record["kind"] == "update":
            for change in record["changes"]:
                if isinstance(change["new"], str) and change["field"] == "Score_Reason__c":
                    return record, change
    raise AssertionError("the plan has no Salesforce update with a text change")


def test_a_hand_edited_value_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=47, people=30) as sandbox:
        base = [*CONFIG, "--env-file", str(_env_file(sandbox, tmp_path, monkeypatch))]
        assert main([*base, "plan", "--out", "plan.json"]) == 0
        plan = json.loads((tmp_path / "plan.json").read_text())
        record, change = _salesforce_update(plan)
        change["new"] = change["value"] = "edited by hand"
        (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))

        message = _apply_refused(base, sandbox, capsys)
        assert "plan.json" in message
        assert "changed after it was made" in message
        assert "crmsync plan --out" in message
        row = sandbox.salesforce.store.table(record["object_type"]).rows[record["record_id"]]
        assert row.get(change["field"]) != "edited by hand"


@pytest.mark.parametrize(
    ("edited", "named"),
    [("mappings/contact.yaml", "contact.yaml"), ("config/rules.yaml", "rules.yaml")],
)
def test_a_plan_made_under_other_mappings_or_rules_is_refused_naming_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    edited: str,
    named: str,
) -> None:
    definitions = _own_definitions(tmp_path)
    with Sandbox.start(seed=48, people=30) as sandbox:
        env_file = _env_file(sandbox, tmp_path, monkeypatch, definitions=definitions)
        base = [*CONFIG, "--env-file", str(env_file)]
        assert main([*base, "plan", "--out", "plan.json"]) == 0
        # An admin edits the file after the plan was made (a comment: still valid YAML).
        with (definitions / edited).open("a", encoding="utf-8") as file:
            file.write("# reviewed on Friday\n")

        message = _apply_refused(base, sandbox, capsys)
        assert "plan.json" in message
        assert f"{named} has changed since the plan was made" in message
        others = {"contact.yaml", "funnel.yaml", "rules.yaml"} - {named}
        assert not any(f"{other} has changed" in message for other in others)


def test_a_plan_made_against_another_state_store_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=49, people=30) as sandbox:
        staging = _env_file(sandbox, tmp_path, monkeypatch, state="staging.db", name="a.env")
        production = _env_file(sandbox, tmp_path, monkeypatch, state="production.db", name="b.env")
        # Both stores have made plans before: each has its own key.
        assert main([*CONFIG, "--env-file", str(production), "plan", "--out", "mine.json"]) == 0
        assert main([*CONFIG, "--env-file", str(staging), "plan", "--out", "plan.json"]) == 0

        message = _apply_refused([*CONFIG, "--env-file", str(production)], sandbox, capsys)
        assert "plan.json" in message
        assert "made against another state store" in message


def test_a_plan_from_a_store_that_never_made_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=50, people=20) as sandbox:
        made = _env_file(sandbox, tmp_path, monkeypatch, state="made.db", name="a.env")
        fresh = _env_file(sandbox, tmp_path, monkeypatch, state="fresh.db", name="b.env")
        assert main([*CONFIG, "--env-file", str(made), "plan", "--out", "plan.json"]) == 0

        message = _apply_refused([*CONFIG, "--env-file", str(fresh)], sandbox, capsys)
        assert "made against another state store" in message


def test_a_format_1_plan_is_refused_with_a_hint_to_plan_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=51, people=20) as sandbox:
        base = [*CONFIG, "--env-file", str(_env_file(sandbox, tmp_path, monkeypatch))]
        assert main([*base, "plan", "--out", "plan.json"]) == 0
        plan = json.loads((tmp_path / "plan.json").read_text())
        # What crmsync wrote before plans carried a digest.
        old = {key: plan[key] for key in ("created_at", "run_id", "rules_version", "records")}
        old |= {"format": 1, "mappings_digest": "mappings/contact.yaml,mappings/funnel.yaml"}
        (tmp_path / "plan.json").write_text(json.dumps(old))

        message = _apply_refused(base, sandbox, capsys)
        assert "plan.json" in message
        assert "format 1" in message
        assert "crmsync plan --out" in message


def test_an_untouched_plan_applies_and_writes_exactly_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.start(seed=52, people=30) as sandbox:
        base = [*CONFIG, "--env-file", str(_env_file(sandbox, tmp_path, monkeypatch))]
        assert main([*base, "plan", "--out", "plan.json"]) == 0
        shown = json.loads((tmp_path / "plan.json").read_text())
        assert shown["format"] == 2
        assert len(shown["digest"]) == 64
        plan = read_plan(tmp_path / "plan.json")
        planned = {record.record_id for record in plan.records}
        before = stamps(sandbox)
        capsys.readouterr()

        assert main([*base, "apply", "plan.json", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["counts"]["written"] == len(plan.records)
        updates = [r for r in plan.records if r.kind.value == "update"]
        assert updates
        for record in updates:
            if record.system is System.SALESFORCE:
                row = sandbox.salesforce.store.table(record.object_type).rows[record.record_id]
                assert {c.field: row.get(c.field) for c in record.changes} == record.values()
            else:
                contact = sandbox.hubspot.store.get("contacts", record.record_id)
                assert contact is not None
                assert {c.field: contact.props.get(c.field) for c in record.changes} == {
                    c.field: "" if c.new is None else str(c.new) for c in record.changes
                }
        # ... and nothing else: every record the plan does not name is as it was.
        after = stamps(sandbox)
        untouched = {key for key in before if key.removeprefix("hs") not in planned}
        assert len(untouched) < len(before)
        assert {key: after[key] for key in untouched} == {key: before[key] for key in untouched}


_HEADER = '"created_at": "2026-12-04T10:00:00Z", "run_id": "r1", "rules_version": "1"'
_HOSTILE = {
    "not JSON": (b"\x00\x01\x02 plan", "not valid JSON"),
    "not UTF-8": (b'\xff\xfe{"format": 2}', "not UTF-8 text"),
    "NUL bytes in a string": (b'{"format": 2, "run_id": "a\x00b"}', "not valid JSON"),
    "not an object": (b"[1, 2, 3]", "expected a JSON object"),
    "nested too deeply": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "a huge integer": (b'{"format": 2, "n": 1' + b"0" * 5000 + b"}", "number too large"),
    "a long integer": (b'{"format": 2, "n": 1' + b"0" * 40 + b"}", "number too large"),
    "an infinite number": (b'{"format": 2, "n": 1e999}', "not a finite number"),
    "NaN": (b'{"format": 2, "n": NaN}', "not a finite number"),
    "format 1": (b'{"format": 1, "records": []}', "format 1"),
    "a newer format": (b'{"format": 3}', "newer crmsync"),
    "no format": (b'{"records": []}', "no plan format"),
    "wrong types": (
        ('{"format": 2, ' + _HEADER + ', "records": "everyone", "digest": 7}').encode(),
        "records",
    ),
}


@pytest.mark.parametrize("content", list(_HOSTILE.values()), ids=list(_HOSTILE))
def test_a_malformed_or_hostile_plan_file_is_refused_clearly(
    tmp_path: Path, content: tuple[bytes, str]
) -> None:
    data, expected = content
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    with pytest.raises(PlanFormatError) as refused:
        read_plan(path)
    message = str(refused.value)
    assert expected in message
    assert "plan.json" in message
    assert len(message) < 2000


def test_a_plan_file_over_the_size_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with path.open("wb") as file:  # sparse: no disk or memory spent
        file.truncate(MAX_PLAN_BYTES + 1)
    with pytest.raises(PlanFormatError, match="larger than"):
        read_plan(path)


def test_a_plan_larger_than_apply_reads_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.sync import plan as plan_module

    plan = plan_module.Plan(created_at=datetime.now(UTC), run_id="r1", rules_version="1")
    monkeypatch.setattr(plan_module, "MAX_PLAN_BYTES", 100)
    with pytest.raises(PlanFormatError, match="more than `crmsync apply` reads"):
        plan.write(tmp_path / "plan.json")
    assert list(tmp_path.iterdir()) == []


def test_every_problem_of_a_broken_plan_is_not_listed_when_there_are_thousands(
    tmp_path: Path,
) -> None:
    records = ",".join('{"system": "nowhere"}' for _ in range(5000))
    path = tmp_path / "plan.json"
    path.write_text('{"format": 2, ' + _HEADER + ', "records": [' + records + "]}")
    with pytest.raises(PlanFormatError) as refused:
        read_plan(path)
    assert len(refused.value.problems) <= 21
    assert "more problems" in str(refused.value)


def test_the_cli_refuses_a_hostile_plan_with_exit_2_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_bytes(b'{"format": 2, "n": ' + b"[" * 100_000)
    assert main(["apply", "plan.json"]) == ExitCode.INVALID_DEFINITION
    assert "plan.json" in capsys.readouterr().err
