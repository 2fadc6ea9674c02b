"""``crmsync run JOB`` end to end: the shipped jobs against the sandbox, through the real CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ExitCode
from connector.jobs.definition import load_jobs
from connector.jobs.metrics import Metrics
from connector.jobs.runner import JobRunner
from connector.sandbox.runner import Sandbox
from connector.settings import load_settings
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.stopping import Stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=31, people=120) as started:
        yield started


@pytest.fixture
def env_file(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and not name.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(name)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for job in (ROOT / "jobs").glob("*.yaml"):
        (jobs / job.name).write_text(job.read_text())
    (jobs / "preview.yaml").write_text(
        'version: "1"\nname: preview\nschedule: {cron: "@hourly"}\naction: sync\n'
        "options: {dry_run: true}\n"
    )
    values = {
        **sandbox.env(),
        "CRMSYNC_STATE_URL": f"sqlite:///{tmp_path}/state.db",
        "CRMSYNC_MAPPINGS_DIR": str(ROOT / "mappings"),
        "CRMSYNC_RULES_FILE": str(ROOT / "config" / "rules.yaml"),
        "CRMSYNC_JOBS_DIR": str(jobs),
    }
    path = tmp_path / "sandbox.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    monkeypatch.chdir(tmp_path)
    return path


def runs(tmp_path: Path) -> list[tuple[str, RunOutcome | None]]:
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as store:
        return [(run.job, run.outcome) for run in store.runs.recent(limit=10)]


def test_run_jobs_through_the_cli(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(ROOT / "config" / "crmsync.toml"), "--env-file", str(env_file)]
    assert main([*base, "run", "preview"]) == 0  # a dry run: recorded, writes nothing
    assert runs(tmp_path) == [("preview", RunOutcome.SUCCEEDED)]
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as store:
        (preview,) = store.runs.recent(limit=1)
        assert preview.report["dry_run"] is True
        assert preview.counts["written"] == 0
    assert main([*base, "run", "incremental-sync"]) == 0
    assert runs(tmp_path)[0] == ("incremental-sync", RunOutcome.SUCCEEDED)
    assert main([*base, "run", "daily-rescore"]) == 0
    assert runs(tmp_path)[0] == ("daily-rescore", RunOutcome.SUCCEEDED)
    assert main([*base, "run", "nightly-reconcile"]) == 0
    capsys.readouterr()
    assert main([*base, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["drift"]["stage_disagreements"] == 0  # the syncs before left none
    assert status["drift"]["compared"] > 50
    assert status["runs"][0]["job"] == "nightly-reconcile"


def test_unknown_job_is_a_definition_error(
    env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--env-file", str(env_file), "run", "incremental-synk"])
    assert code == 2
    assert "did you mean 'incremental-sync'?" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["incremental-sync", "nightly-reconcile"])
def test_a_job_asked_to_stop_ends_ok_and_is_not_a_failure(
    env_file: Path, tmp_path: Path, name: str
) -> None:
    settings = load_settings(ROOT / "config" / "crmsync.toml", env_file)
    jobs = {job.name: job for job in load_jobs(settings.jobs_dir)}
    metrics = Metrics()
    stop = Stop()
    stop.set()  # SIGTERM came as the job started
    assert JobRunner(settings, metrics=metrics)(jobs[name], stop) is ExitCode.OK
    labels = {"job": name, "outcome": "failed"}
    assert not metrics.registry.get_sample_value("crmsync_runs_total", labels)
    # A sync is a recorded run: interrupted. A reconcile stopped in its drift check records none.
    expected = [(name, RunOutcome.INTERRUPTED)] if name == "incremental-sync" else []
    assert runs(tmp_path) == expected
