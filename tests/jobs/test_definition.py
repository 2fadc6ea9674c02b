from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.errors import JobDefinitionError
from connector.jobs import Action, MissedRuns, load_jobs

SHIPPED = Path(__file__).resolve().parents[2] / "jobs"


def test_shipped_examples_load() -> None:
    jobs = {job.name: job for job in load_jobs(SHIPPED)}
    assert set(jobs) == {"incremental-sync", "nightly-reconcile", "daily-rescore"}
    assert jobs["incremental-sync"].action is Action.SYNC
    assert jobs["incremental-sync"].schedule.cron == "*/15 * * * *"
    assert jobs["nightly-reconcile"].schedule.timezone == "Europe/Berlin"
    assert jobs["daily-rescore"].missed_runs is MissedRuns.SKIP


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_every_problem_in_every_file_is_reported_with_lines(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.yaml",
        'version: "1"\nname: a\nschedule:\n  cron: "*/15 * * *"\naction: sink\n',
    )
    _write(
        tmp_path,
        "b.yaml",
        'version: "1"\nname: b\nschedule:\n  cron: "@daily"\n  timezon: UTC\naction: sync\n'
        "options:\n  objects: [Leads]\n",
    )
    valid = 'version: "1"\nname: c\nschedule: {cron: "@daily"}\naction: sync\n'
    _write(tmp_path, "c.yaml", valid)
    _write(tmp_path, "d.yaml", valid)
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs(tmp_path)
    text = str(caught.value)
    assert "a.yaml:4:3: schedule.cron: expected 5 fields" in text
    assert (
        "a.yaml:5:1: action: Input should be 'sync', 'reconcile', 'rescore' or 'backfill'" in text
    )
    assert "b.yaml:5:3: schedule.timezon: unknown key 'timezon' (did you mean 'timezone'?)" in text
    assert "b.yaml:8:3: options.objects: unknown object 'Leads'" in text
    assert "d.yaml:2:1: name: job name 'c' is already used by c.yaml" in text


def test_version_and_name_rules(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "x.yaml",
        'version: "2"\nname: Hourly Sync\nschedule: {cron: "@hourly"}\n'
        "action: reconcile\noptions: {apply: true}\n",
    )
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs(tmp_path)
    text = str(caught.value)
    assert "unsupported version '2'" in text
    assert "use lowercase letters" in text


def test_apply_only_for_reconcile(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "incremental-sync.yaml", tmp_path / "s.yaml")
    path = tmp_path / "s.yaml"
    path.write_text(path.read_text().replace("dry_run: false", "apply: true"))
    with pytest.raises(JobDefinitionError, match=r"options\.apply only applies to action"):
        load_jobs(tmp_path)
