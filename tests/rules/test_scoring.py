"""Scores: fit conditions, engagement decay at a frozen as_of, caps, bands, explanations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from connector.funnel import Activity, ActivityKind, Direction, Outcome, ScoreKind, Seniority
from connector.rules import EXPLANATION_LIMIT, Rules, evaluate, load_rules
from tests.rules._build import AS_OF, activity, default_rules, person, poor_fit, write_rules

DECAY_RULES = """
version: "decay-test"
engagement:
  groups:
    - id: halves
      decay: {mode: half_life, days: 10}
      rules:
        - {id: reply, kind: email, direction: inbound, points: 40}
    - id: straight
      decay: {mode: linear, days: 100}
      rules:
        - {id: view, kind: page_view, points: 10}
    - id: windowed
      decay: {mode: window, days: 30}
      rules:
        - {id: meeting, kind: meeting, outcome: held, points: 20}
    - id: forever
      cap: 15
      rules:
        - {id: click, kind: email, direction: outbound, outcome: clicked, points: 4, cap: 12}
        - {id: form, kind: form_submission, points: 5}
bands:
  fit: [{name: A, min: 0}]
  engagement: [{name: "1", min: 50}, {name: "2", min: 0}]
score: {fit_weight: 0, engagement_weight: 1}
stages:
  prospect: {criteria: [authority], authority_seniority: [vp]}
"""


@pytest.fixture(scope="module")
def decay_rules(tmp_path_factory: pytest.TempPathFactory) -> Rules:
    return load_rules(write_rules(tmp_path_factory.mktemp("decay"), DECAY_RULES))


def _engagement(rules: Rules, *activities: object) -> float:
    return evaluate(person(), list(activities), None, rules, AS_OF).engagement  # type: ignore[arg-type]


def _reply(days: float) -> Activity:
    return activity(ActivityKind.EMAIL, Outcome.REPLIED, direction=Direction.INBOUND,
                    days_ago=days)  # fmt: skip


@pytest.mark.parametrize(("days", "points"), [(0, 40), (10, 20), (20, 10), (30, 5)])
def test_half_life_halves_every_period(decay_rules: Rules, days: float, points: float) -> None:
    assert _engagement(decay_rules, _reply(days)) == pytest.approx(points)


@pytest.mark.parametrize(("days", "points"), [(0, 10), (25, 7.5), (50, 5), (100, 0), (150, 0)])
def test_linear_decay_reaches_zero(decay_rules: Rules, days: float, points: float) -> None:
    view = activity(ActivityKind.PAGE_VIEW, Outcome.VIEWED, direction=Direction.NONE,
                    days_ago=days)  # fmt: skip
    assert _engagement(decay_rules, view) == pytest.approx(points)


@pytest.mark.parametrize(("days", "points"), [(1, 20), (29.9, 20), (30.1, 0)])
def test_window_gives_full_points_then_none(decay_rules: Rules, days: float, points: float) -> None:
    meeting = activity(ActivityKind.MEETING, Outcome.HELD, days_ago=days)
    assert _engagement(decay_rules, meeting) == pytest.approx(points)


def test_the_same_activities_score_less_as_as_of_moves_on(decay_rules: Rules) -> None:
    reply = _reply(0)
    later = [evaluate(person(), [reply], None, decay_rules, AS_OF.replace(day=day)).engagement
             for day in (1, 11, 21)]  # fmt: skip
    # AS_OF is Nov 1st; replaying at Nov 11th and 21st is 10 and 20 days later.
    assert later == pytest.approx([40, 20, 10])


def test_rule_and_group_caps(decay_rules: Rules) -> None:
    clicks = [activity(ActivityKind.EMAIL, Outcome.CLICKED, days_ago=1) for _ in range(10)]
    forms = [activity(ActivityKind.FORM_SUBMISSION, Outcome.SUBMITTED,
                      direction=Direction.INBOUND) for _ in range(3)]  # fmt: skip
    decision = evaluate(person(), clicks + forms, None, decay_rules, AS_OF)

    points = {c.rule_id: c.points for c in decision.contributions}
    assert points == {"click": 12, "form": 15}  # the click rule caps at 12
    assert decision.engagement == 15  # the group caps at 15


def test_first_matching_rule_scores_an_activity_once(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path, DECAY_RULES.replace(
        "        - {id: form, kind: form_submission, points: 5}",
        "        - {id: form, kind: form_submission, points: 5}\n"
        "        - {id: any_email, kind: email, points: 100}",
    )))  # fmt: skip
    clicked = activity(ActivityKind.EMAIL, Outcome.CLICKED)
    assert _engagement(rules, clicked) == 4


def test_fit_contributions_name_each_rule_with_points() -> None:
    decision = evaluate(person(email="ada@gmail.com"), [], None, default_rules(), AS_OF)

    fit = {c.rule_id: c.points for c in decision.contributions if c.kind is ScoreKind.FIT}
    assert fit == {
        "executive": 30,
        "core_industry": 30,
        "enterprise_size": 25,
        "served_country": 5,
        "free_mail": -20,
    }
    assert decision.fit == 70
    assert decision.score.fit == 70
    assert decision.score.rules_version == "2026.11-1"


@pytest.mark.parametrize(
    ("employees", "rule"),
    [(5, "tiny_company"), (10, "tiny_company"), (100, "midmarket_size"), (999, "midmarket_size"),
     (1000, "enterprise_size"), (None, None)],
)  # fmt: skip
def test_numeric_conditions_are_inclusive_and_missing_values_match_nothing(
    employees: int | None, rule: str | None
) -> None:
    decision = evaluate(person(employees=employees), [], None, default_rules(), AS_OF)
    size_rules = {"tiny_company", "midmarket_size", "enterprise_size"}
    fired = {c.rule_id for c in decision.contributions} & size_rules
    assert fired == ({rule} if rule else set())


def test_text_conditions_ignore_case() -> None:
    shouting = person(industry="TECHNOLOGY", title="CHIEF STUDENT", seniority=Seniority.VP)
    fired = {c.rule_id for c in evaluate(shouting, [], None, default_rules(), AS_OF).contributions}
    assert {"core_industry", "student"} <= fired


def test_domain_lists_match_subdomains(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path, DECAY_RULES.replace(
        'version: "decay-test"',
        'version: "decay-test"\nlists: {rivals: [rival.com]}\nfit:\n  rules:\n'
        "    - {id: rival, points: -50, when: [{field: email_domain, in_list: rivals}]}",
    )))  # fmt: skip
    for email, fired in [("a@rival.com", True), ("a@eu.rival.com", True),
                         ("a@notrival.com", False)]:  # fmt: skip
        decision = evaluate(person(email=email), [], None, rules, AS_OF)
        assert any(c.rule_id == "rival" for c in decision.contributions) is fired


def test_total_is_weighted_and_banded() -> None:
    decision = evaluate(person(), [], None, default_rules(), AS_OF)

    assert decision.total == pytest.approx(decision.fit * 0.5 + decision.engagement * 0.5)
    assert decision.band == "A3"
    assert decision.thresholds[:2] == ("fit band A (>= 60)", "engagement band 3 (>= 0)")
    low = evaluate(poor_fit(), [], None, default_rules(), AS_OF)
    assert (low.fit, low.total, low.band) == (0, 0, "C3")


def test_explanation_fits_a_crm_text_field_and_leads_with_the_biggest_reasons() -> None:
    many = [activity(kind, outcome, direction=direction, days_ago=day)
            for day in range(1, 8)
            for kind, outcome, direction in [
                (ActivityKind.MEETING, Outcome.HELD, Direction.OUTBOUND),
                (ActivityKind.EMAIL, Outcome.REPLIED, Direction.INBOUND),
                (ActivityKind.PAGE_VIEW, Outcome.VIEWED, Direction.NONE),
                (ActivityKind.EMAIL, Outcome.OPENED, Direction.OUTBOUND),
                (ActivityKind.CAMPAIGN_RESPONSE, Outcome.RESPONDED, Direction.NONE),
            ]]  # fmt: skip
    decision = evaluate(person(), many, None, default_rules(), AS_OF)
    text = decision.explanation

    assert len(text) <= EXPLANATION_LIMIT
    assert text.startswith("prospect A1 ")
    assert text.endswith(" | rules 2026.11-1")
    assert "+60 meeting_held, +45 inbound_reply, +30 core_industry" in text
    assert "served_country" not in text  # the smallest contribution is counted, not named
    assert ", +1 more | " in text


def test_explanation_counts_what_does_not_fit(tmp_path: Path) -> None:
    rules_text = DECAY_RULES.replace(
        'version: "decay-test"',
        'version: "decay-test"\nfit:\n  rules:\n'
        + "".join(
            f"    - {{id: rule_number_{n:02d}_with_a_long_name, points: 1,"
            " when: [{field: country, exists: true}]}\n"
            for n in range(30)
        ),
    )
    rules = load_rules(write_rules(tmp_path, rules_text))
    text = evaluate(person(), [], None, rules, AS_OF).explanation

    assert len(text) <= EXPLANATION_LIMIT
    assert " more | rules decay-test" in text


def test_half_life_matches_the_formula() -> None:
    reply = _reply(45)
    decision = evaluate(person(), [reply], None, default_rules(), AS_OF)
    expected = 15 * math.pow(0.5, 45 / 60)  # inbound_reply: 15 points, 60-day half-life
    assert decision.engagement == pytest.approx(expected)


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(person(), [], None, default_rules(), AS_OF.replace(tzinfo=None))
