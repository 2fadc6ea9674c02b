"""Loading rules files: the shipped default is valid; broken files name every problem with its
line, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ExitCode, RulesError, display_path
from connector.rules import evaluate, load_rules
from tests.rules._build import AS_OF, DEFAULT_RULES, FILES, person, write_rules


def _problems(path: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert caught.value.exit_code is ExitCode.INVALID_DEFINITION
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_rules_file_is_valid_and_its_version_goes_with_every_decision() -> None:
    rules = load_rules(DEFAULT_RULES)

    assert rules.version == "2026.11-1"
    decision = evaluate(person(), [], None, rules, AS_OF)
    assert decision.rules_version == "2026.11-1"
    assert decision.score.rules_version == "2026.11-1"
    assert decision.explanation.endswith("rules 2026.11-1")


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    name = display_path(FILES / "many_problems.yaml")
    assert _problems(FILES / "many_problems.yaml") == [
        f"{name}:10:11: fit.rules.senior.when.0.field: unknown field 'titel'; "
        "did you mean 'title'?",
        f"{name}:13:7: fit.rules.size.points: Input should be less than or equal to 100",
        f"{name}:17:7: fit.rules.senior.id: duplicate id 'senior' (first used on line 7) "
        "(rule and group ids must be unique across fit and engagement)",
        f"{name}:21:11: fit.rules.senior.when.0.in_list: unknown list 'freemail'; "
        "did you mean 'free_mail'?",
        f"{name}:25:7: engagement.groups.talk.decay: decay mode 'half_life' needs days "
        "(a positive number)",
        f"{name}:28:11: engagement.groups.talk.rules.reply.kind: unknown kind value 'emial' "
        "(did you mean 'email'?)",
        f"{name}:31:3: bands.fit: fit bands must be listed from the highest min to the lowest, "
        "each min strictly lower than the one before (got [30.0, 60.0, 0.0])",
        f"{name}:40:5: stages.prospect.treshold: unknown key 'treshold' (allowed keys: "
        "authority_seniority, criteria, fit_score_min, require, total_score_min)",
    ]


def test_condition_problems_name_the_rule_and_line() -> None:
    name = display_path(FILES / "bad_conditions.yaml")
    problems = _problems(FILES / "bad_conditions.yaml")

    assert problems[0].startswith(
        f"{name}:7:11: fit.rules.two_operators.when.0: a condition needs exactly one operator, "
        "found equals, in"
    )
    assert problems[1].startswith(
        f"{name}:13:11: fit.rules.range_on_text.when.0: operator 'gte' does not apply to text "
        "field 'title'"
    )
    assert problems[2].startswith(
        f"{name}:18:11: fit.rules.bad_seniority.when.0: unknown seniority 'boss'"
    )
    assert problems[3] == (
        f"{name}:24:11: fit.rules.reversed_range.when.0.between: between needs the low number "
        "first, got 1000000 then 10"
    )
    assert problems[4] == (
        f"{name}:29:3: stages.prospect: criterion total_score needs total_score_min"
    )
    assert len(problems) == 5


def test_yaml_syntax_errors_have_a_line() -> None:
    [problem] = _problems(FILES / "syntax_error.yaml")
    name = display_path(FILES / "syntax_error.yaml")
    assert problem.startswith(f"{name}:6:6: not valid YAML")


def test_an_unquoted_version_gets_a_quoting_hint() -> None:
    [problem] = _problems(FILES / "unquoted_version.yaml")
    name = display_path(FILES / "unquoted_version.yaml")
    assert problem == (
        f'{name}:1:1: version: Input should be a valid string (quote it, e.g. version: "2026.11-1")'
    )


def test_version_is_required(tmp_path: Path) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace('version: "2026.11-1"\n', "")
    problems = _problems(write_rules(tmp_path, text))
    assert any("required key 'version' is missing" in problem for problem in problems)


def test_thresholds_out_of_range_are_refused(tmp_path: Path) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace(
        "fit_score_min: 40", "fit_score_min: 140"
    )
    [problem] = _problems(write_rules(tmp_path, text))
    assert "stages.prospect.fit_score_min: Input should be less than or equal to 100" in problem


def test_a_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path / "nope.yaml")
    assert problem.endswith("nope.yaml: file not found")


def test_the_deliberately_bad_rules_file_is_valid() -> None:
    assert load_rules(FILES / "bad_rules.yaml").version == "bad-1"
