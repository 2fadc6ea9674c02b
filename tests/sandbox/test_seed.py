"""The synthetic world: deterministic, realistic proportions, outcomes that a score can predict."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import System
from connector.funnel import FunnelStage, Seniority, is_two_way, normalise_email
from connector.sandbox.seed import DEFAULT_AS_OF, SyntheticPerson, generate, iter_people


@pytest.fixture(scope="module")
def world_people() -> tuple[SyntheticPerson, ...]:
    return generate(seed=11, people=4000).people


def test_same_seed_gives_the_same_world() -> None:
    assert generate(seed=3, people=300) == generate(seed=3, people=300)
    assert tuple(iter_people(3, 300)) == generate(seed=3, people=300).people


def test_different_seeds_differ() -> None:
    assert generate(seed=3, people=200).people != generate(seed=4, people=200).people


def test_keys_are_stable_and_emails_unique_and_normalised(
    world_people: tuple[SyntheticPerson, ...],
) -> None:
    assert [p.key for p in world_people[:3]] == ["p000000", "p000001", "p000002"]
    emails = [p.email for p in world_people]
    assert len(set(emails)) == len(emails)
    assert all(normalise_email(email) == email for email in emails)
    activity_keys = [a.key for p in world_people for a in p.activities]
    assert len(set(activity_keys)) == len(activity_keys)


def test_funnel_proportions_are_realistic(world_people: tuple[SyntheticPerson, ...]) -> None:
    stages = Counter(p.salesforce_stage or p.hubspot_stage for p in world_people)
    share = {stage: stages[stage] / len(world_people) for stage in FunnelStage}
    assert share[FunnelStage.LEAD] > share[FunnelStage.PROSPECT]
    assert share[FunnelStage.PROSPECT] > share[FunnelStage.OPPORTUNITY]
    assert share[FunnelStage.OPPORTUNITY] > share[FunnelStage.CUSTOMER] > 0.02
    assert 0.06 < share[FunnelStage.DISQUALIFIED] < 0.14


def test_overlap_drift_and_duplicates(world_people: tuple[SyntheticPerson, ...]) -> None:
    both = [p for p in world_people if p.in_salesforce and p.in_hubspot]
    assert 0.55 < len(both) / len(world_people) < 0.65
    assert any(p.in_salesforce and not p.in_hubspot for p in world_people)
    assert any(p.in_hubspot and not p.in_salesforce for p in world_people)
    assert all(p.in_salesforce or p.in_hubspot for p in world_people)
    drift = sum(p.salesforce_stage != p.hubspot_stage for p in both) / len(both)
    assert 0.12 < drift < 0.22
    in_sf = [p for p in world_people if p.in_salesforce]
    assert 0.01 < sum(p.salesforce_duplicate for p in in_sf) / len(in_sf) < 0.04
    for person in world_people:
        assert (person.salesforce_stage is None) != person.in_salesforce
        assert (person.hubspot_stage is None) != person.in_hubspot
        disqualified = FunnelStage.DISQUALIFIED in (person.salesforce_stage, person.hubspot_stage)
        assert (person.disqualified_reason is not None) == disqualified
        assert not person.lead_converted or person.salesforce_object == "Contact"


def test_activities_lie_in_the_window_and_in_the_right_system(
    world_people: tuple[SyntheticPerson, ...],
) -> None:
    for person in world_people:
        times = [a.occurred_at for a in person.activities]
        assert times == sorted(times)
        assert all(DEFAULT_AS_OF - timedelta(days=180) <= t < DEFAULT_AS_OF for t in times)
        assert person.created_at <= person.modified_at <= DEFAULT_AS_OF
        for activity in person.activities:
            assert activity.system is not System.SALESFORCE or person.in_salesforce
            assert activity.system is not System.HUBSPOT or person.in_hubspot
    two_way = sum(
        is_two_way(a.kind, a.direction, a.outcome) for p in world_people for a in p.activities
    )
    assert 0 < two_way < sum(len(p.activities) for p in world_people)


def _naive_score(person: SyntheticPerson) -> float:
    senior = {Seniority.EXECUTIVE: 3, Seniority.VP: 3, Seniority.DIRECTOR: 2, Seniority.MANAGER: 1}
    talks = sum(is_two_way(a.kind, a.direction, a.outcome) for a in person.activities)
    return senior.get(person.seniority, 0) + 2 * talks + (person.company.employees > 200)


def test_outcomes_are_predictable_from_fit_and_engagement(
    world_people: tuple[SyntheticPerson, ...],
) -> None:
    won = [_naive_score(p) for p in world_people if p.outcome in ("converted", "closed_won")]
    lost = [_naive_score(p) for p in world_people if p.outcome not in ("converted", "closed_won")]
    rng = random.Random(0)
    pairs = [(rng.choice(won), rng.choice(lost)) for _ in range(20000)]
    auc = sum((a > b) + 0.5 * (a == b) for a, b in pairs) / len(pairs)
    assert auc > 0.7


def test_as_of_moves_every_timestamp_and_bad_arguments_are_refused() -> None:
    later = datetime(2027, 1, 1, tzinfo=UTC)
    shifted = generate(seed=5, people=50, as_of=later)
    assert all(
        a.occurred_at > later - timedelta(days=180) for p in shifted.people for a in p.activities
    )
    with pytest.raises(ValueError, match="overlap"):
        generate(people=10, overlap=1.5)
    with pytest.raises(ValueError, match="timezone"):
        generate(people=10, as_of=datetime(2026, 1, 1))
    assert generate(people=0).people == ()
