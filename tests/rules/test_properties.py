"""Invariants of evaluation, checked with hypothesis over people and activity histories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import System
from connector.funnel import (
    ACTIVITY_TYPES,
    Activity,
    ActivityKind,
    Company,
    Direction,
    FunnelStage,
    Outcome,
    Person,
    Seniority,
)
from connector.rules import EXPLANATION_LIMIT, Facts, Rules, evaluate, load_rules
from tests.rules._build import AS_OF, FILES, REF, default_rules

RULE_SETS = {"default": default_rules(), "bad": load_rules(FILES / "bad_rules.yaml")}


def _positive_triples(rules: Rules) -> list[tuple[ActivityKind, Direction, Outcome]]:
    return sorted(
        key for key, (index, _, points, _, _) in zip(
            ACTIVITY_TYPES, rules.compiled.activity_table, strict=True
        )
        if index >= 0 and points > 0
    )  # fmt: skip


people = st.builds(
    Person,
    id=st.just("p1"),
    email=st.sampled_from(["a@acme.com", "b@gmail.com", "c@eu.competitor-example.com", None]),
    title=st.one_of(st.none(), st.sampled_from(["CEO", "Student", "Analyst", "VP Sales", ""])),
    seniority=st.sampled_from(Seniority),
    country=st.one_of(st.none(), st.sampled_from(["Germany", "Brazil", "united states"])),
    company=st.builds(
        Company,
        industry=st.one_of(st.none(), st.sampled_from(["Technology", "Agriculture", "Media"])),
        employee_count=st.one_of(st.none(), st.integers(0, 200_000)),
        annual_revenue=st.one_of(st.none(), st.floats(0, 1e10)),
    ),
)

activities = st.lists(
    st.builds(
        Activity,
        system=st.sampled_from(System),
        id=st.just("a1"),
        person=st.just(REF),
        kind=st.sampled_from(ActivityKind),
        direction=st.sampled_from(Direction),
        outcome=st.sampled_from(Outcome),
        occurred_at=st.floats(-30, 400).map(lambda days: AS_OF - timedelta(days=days)),
    ),
    max_size=40,
)

facts = st.builds(
    Facts,
    open_deal=st.booleans(),
    closed_won=st.booleans(),
    closed_lost=st.booleans(),
    disqualified_reason=st.sampled_from([None, "No budget", "Competitor"]),
    recycle_requested=st.booleans(),
    timeline_days=st.one_of(st.none(), st.integers(0, 400)),
)


@pytest.mark.parametrize("name", RULE_SETS)
@settings(max_examples=150, deadline=None)
@given(person=people, history=activities, known=facts)
def test_scores_stay_in_range(name: str, person: Person, history: list[Activity],
                              known: Facts) -> None:  # fmt: skip
    decision = evaluate(person, history, known, RULE_SETS[name], AS_OF)

    assert 0 <= decision.fit <= 100
    assert 0 <= decision.engagement <= 100
    assert 0 <= decision.total <= 100
    assert len(decision.explanation) <= EXPLANATION_LIMIT
    assert decision.score.total == round(decision.total, 2)  # the pydantic model accepts it
    assert (decision.stage is FunnelStage.DISQUALIFIED) == (decision.disqualified_reason
                                                            is not None)  # fmt: skip


@pytest.mark.parametrize("name", RULE_SETS)
@settings(max_examples=150, deadline=None)
@given(person=people, history=activities, data=st.data())
def test_adding_a_positive_activity_never_lowers_engagement(
    name: str, person: Person, history: list[Activity], data: st.DataObject
) -> None:
    rules = RULE_SETS[name]
    kind, direction, outcome = data.draw(st.sampled_from(_positive_triples(rules)))
    days = data.draw(st.floats(0, 400))
    extra = Activity(system=System.SALESFORCE, id="extra", person=REF, kind=kind,
                     direction=direction, outcome=outcome,
                     occurred_at=AS_OF - timedelta(days=days))  # fmt: skip

    before = evaluate(person, history, None, rules, AS_OF)
    after = evaluate(person, [*history, extra], None, rules, AS_OF)

    assert after.engagement >= before.engagement - 1e-9
    assert after.total >= before.total - 1e-9


@settings(max_examples=150, deadline=None)
@given(person=people, history=activities, known=facts, seed=st.randoms(use_true_random=False))
def test_evaluation_is_deterministic(
    person: Person, history: list[Activity], known: Facts, seed: object
) -> None:
    first = evaluate(person, history, known, default_rules(), AS_OF)
    again = evaluate(person, list(history), known, default_rules(), AS_OF)
    shuffled = list(history)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    reordered = evaluate(person, shuffled, known, default_rules(), AS_OF)

    assert again == first
    assert again.explanation == first.explanation
    # Activity order changes only float rounding, never the outcome.
    assert reordered.stage is first.stage
    assert reordered.total == pytest.approx(first.total, abs=1e-9)
