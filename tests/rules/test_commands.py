"""``crmsync rules validate`` and ``crmsync rules backtest`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from tests.rules._build import DEFAULT_RULES, FILES


def test_validate_accepts_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate", "--rules", str(DEFAULT_RULES)]) == 0
    out = capsys.readouterr().out
    assert "rules ok" in out
    assert "version 2026.11-1, 13 fit rules, 11 engagement rules in 3 group(s)" in out


def test_validate_uses_the_rules_file_setting(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMSYNC_RULES_FILE", str(FILES / "many_problems.yaml"))
    assert main(["rules", "validate"]) == 2
    err = capsys.readouterr().err
    assert "rules error: 8 problems" in err
    assert "many_problems.yaml:10:11" in err


def test_validate_lists_every_problem_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate", "--rules", str(FILES / "bad_conditions.yaml")]) == 2
    err = capsys.readouterr().err
    assert "5 problems" in err
    assert "unknown seniority 'boss'" in err


def test_backtest_prints_both_rule_sets_side_by_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([
        "rules", "backtest", "--current", str(DEFAULT_RULES),
        "--rules", str(FILES / "bad_rules.yaml"), "--people", "400", "--seed", "3",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "current (2026.11-1)" in out
    assert "candidate (bad-1)" in out
    assert "AUC" in out
    assert "would change stage with the candidate" in out


def test_backtest_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([
        "rules", "backtest", "--current", str(DEFAULT_RULES), "--people", "300",
        "--as-of", "2026-10-01", "--json",
    ])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["as_of"] == "2026-10-01T00:00:00+00:00"
    assert report["people"] == 300
    assert report["candidate"] is None
    assert report["current"]["auc"] > 0.6
    assert {"band", "people", "positives", "conversion_rate"} <= set(report["current"]["bands"][0])


def test_backtest_refuses_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rules", "backtest", "--current", str(DEFAULT_RULES), "--as-of", "yesterday"])
    assert code == 2
    assert "--as-of: not a date (use an ISO date, e.g. 2026-11-01)" in capsys.readouterr().err


def test_backtest_refuses_zero_people(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "backtest", "--people", "0", "--current", str(DEFAULT_RULES)]) == 2
    assert "--people: must be at least 1" in capsys.readouterr().err
