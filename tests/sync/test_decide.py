from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.errors import System
from connector.funnel import FunnelStage, Person, SourceRef
from connector.mapping import load_mappings
from connector.mapping.model import MappingSet
from connector.rules import Rules, load_rules
from connector.state import JsonValue, Observed, StoredActivity
from connector.state.models import PersonRecord
from connector.sync.decide import CreatePolicy, PersonInputs, PersonResult, decide
from connector.sync.plan import WriteKind

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
LEAD = SourceRef(system=System.SALESFORCE, object_type="Lead", record_id="00Q000000000001AAA")
HUB = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="501")


@pytest.fixture(scope="module")
def mappings() -> MappingSet:
    return load_mappings(ROOT / "mappings")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(ROOT / "config" / "rules.yaml")


def observed(
    ref: SourceRef, values: dict[str, object], merged: dict[str, object] | None = None
) -> Observed:
    return Observed(ref, "p1", AS_OF - timedelta(days=1), values, merged, False)  # type: ignore[arg-type]


def call(ref: SourceRef, days_ago: int = 3) -> StoredActivity:
    return StoredActivity(
        system=ref.system,
        activity_id=f"call-{days_ago}",
        record=ref,
        category="activity",
        kind="call",
        direction="outbound",
        outcome="connected",
        occurred_at=AS_OF - timedelta(days=days_ago),
    )


SF_VALUES: dict[str, object] = {
    "email": "ada@acme-robotics.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "title": "VP Engineering",
    "company.name": "Acme Robotics",
    "company.employee_count": 800,
    "company.industry": "Technology",
    "stage": "prospect",
    "lead_status": "prospect",
}
HS_VALUES: dict[str, object] = {
    "email": "ada@acme-robotics.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "title": "VP Engineering",
    "stage": "lead",
    "lead_status": "lead",
    "lifecycle_stage": "lead",
}


def first_run(mappings: MappingSet, rules: Rules) -> PersonResult:
    record = PersonRecord(Person(id="p1", email="ada@acme-robotics.com"), AS_OF, AS_OF)
    inputs = PersonInputs(
        record=record,
        observed=[observed(LEAD, SF_VALUES), observed(HUB, HS_VALUES)],
        written={},
        activities=[call(LEAD)],
    )
    return decide(inputs, mappings, rules, AS_OF)


def test_first_sync_never_moves_anyone_backwards(mappings: MappingSet, rules: Rules) -> None:
    result = first_run(mappings, rules)
    assert result.decision.stage in (FunnelStage.PROSPECT, FunnelStage.OPPORTUNITY)
    by_system = {record.system: record for record in result.records}
    hub = {change.mapping: change for change in by_system[System.HUBSPOT].changes}
    assert hub["lifecycle_stage"].new != "lead"
    assert hub["stage"].value == result.decision.stage.value
    assert "score.total" in hub
    sf = {change.mapping: change for change in by_system[System.SALESFORCE].changes}
    assert "person_id" in sf
    assert sf["person_id"].new == "p1"


def test_applying_the_plan_reaches_a_fixed_point(mappings: MappingSet, rules: Rules) -> None:
    """After the writes land, deciding again with the CRMs as written plans nothing."""
    first = first_run(mappings, rules)
    after: list[Observed] = []
    written: dict[tuple[str, System], JsonValue] = {}
    for ref, values in ((LEAD, SF_VALUES), (HUB, HS_VALUES)):
        now = dict(values)
        for record in first.records:
            if record.record_id == ref.record_id:
                for change in record.changes:
                    now[change.mapping] = change.value
                    written[(change.mapping, ref.system)] = change.value
        after.append(observed(ref, now, now))
    stored = PersonRecord(first.person, AS_OF, AS_OF)
    second = decide(PersonInputs(stored, after, written, [call(LEAD)]), mappings, rules, AS_OF)
    assert second.records == []
    assert second.decision.stage is first.decision.stage


def test_a_rep_editing_the_stage_by_hand_is_respected(mappings: MappingSet, rules: Rules) -> None:
    first = first_run(mappings, rules)
    settled_sf = dict(SF_VALUES, stage=first.decision.stage.value)
    edited = dict(settled_sf, stage="disqualified", lead_status="disqualified")
    stored = PersonRecord(first.person, AS_OF, AS_OF)
    result = decide(
        PersonInputs(stored, [observed(LEAD, edited, settled_sf)], {}, [call(LEAD)]),
        mappings,
        rules,
        AS_OF,
    )
    assert result.decision.stage is FunnelStage.DISQUALIFIED
    assert result.decision.disqualified_reason


def test_person_only_in_salesforce_is_created_in_hubspot(
    mappings: MappingSet, rules: Rules
) -> None:
    record = PersonRecord(Person(id="p1", email="ada@acme-robotics.com"), AS_OF, AS_OF)
    inputs = PersonInputs(record, [observed(LEAD, SF_VALUES)], {}, [])
    result = decide(inputs, mappings, rules, AS_OF)
    (create,) = [r for r in result.records if r.kind is WriteKind.CREATE]
    assert create.system is System.HUBSPOT
    assert create.record_id == "p1"
    assert {c.field for c in create.changes} >= {"email", "crmsync_person_id"}
    never = decide(inputs, mappings, rules, AS_OF, create=CreatePolicy(in_hubspot=None))
    assert [r for r in never.records if r.kind is WriteKind.CREATE] == []


def test_hubspot_only_lead_is_not_created_in_salesforce(mappings: MappingSet, rules: Rules) -> None:
    record = PersonRecord(Person(id="p1", email="ada@acme-robotics.com"), AS_OF, AS_OF)
    inputs = PersonInputs(record, [observed(HUB, HS_VALUES)], {}, [])
    result = decide(inputs, mappings, rules, AS_OF)
    assert result.decision.stage is FunnelStage.LEAD
    assert [r for r in result.records if r.kind is WriteKind.CREATE] == []


def test_no_create_where_the_person_is_linked_but_not_yet_observed(
    mappings: MappingSet, rules: Rules
) -> None:
    """A converted Lead's Contact is linked before it is pulled: never create a duplicate."""
    record = PersonRecord(Person(id="p1", email="ada@acme-robotics.com"), AS_OF, AS_OF)
    inputs = PersonInputs(
        record,
        [observed(HUB, HS_VALUES)],
        {},
        [],
        linked=frozenset({System.SALESFORCE, System.HUBSPOT}),
    )
    result = decide(
        inputs, mappings, rules, AS_OF, create=CreatePolicy(in_salesforce=FunnelStage.LEAD)
    )
    assert [r for r in result.records if r.kind is WriteKind.CREATE] == []


def test_a_disqualified_person_who_engages_again_is_recycled(
    mappings: MappingSet, rules: Rules
) -> None:
    """``recycle: engagement_since_disqualified_min`` counts engagement since crmsync first
    found the person disqualified (``Person.disqualified_at``); before, nothing supplied that
    date and the rule never fired in a sync."""
    found_at = AS_OF - timedelta(days=30)
    settled = first_run(mappings, rules).person
    shows = dict(SF_VALUES, stage="disqualified", lead_status="disqualified")

    # The run that finds them disqualified (a CRM status here) starts the clock.
    found = decide(
        PersonInputs(
            PersonRecord(settled, AS_OF, AS_OF),
            [observed(LEAD, shows, dict(SF_VALUES))],
            {},
            [],
        ),
        mappings,
        rules,
        AS_OF,
        now=found_at,
    )
    assert found.person.stage is FunnelStage.DISQUALIFIED
    assert found.person.disqualified_at == found_at

    def later(activities: list[StoredActivity]) -> PersonResult:
        inputs = PersonInputs(
            PersonRecord(found.person, AS_OF, AS_OF), [observed(LEAD, shows, shows)], {}, activities
        )
        return decide(inputs, mappings, rules, AS_OF)

    # Conversations before it do not count; the same ones after it recycle the person.
    before = [call(LEAD, days_ago=days) for days in (31, 32, 33, 34)]
    after = [call(LEAD, days_ago=days) for days in (1, 2, 3, 4)]
    kept = later(before)
    assert kept.decision.stage is FunnelStage.DISQUALIFIED
    assert kept.person.disqualified_at == found_at  # still counted from the first finding
    recycled = later(after)
    assert recycled.decision.stage is not FunnelStage.DISQUALIFIED
    assert any("recycled to lead" in reason for reason in recycled.decision.reasons)
    assert recycled.person.disqualified_at is None
    (update,) = [r for r in recycled.records if r.kind is WriteKind.UPDATE]
    stage = {change.mapping: change.value for change in update.changes}["stage"]
    assert stage == recycled.decision.stage.value
