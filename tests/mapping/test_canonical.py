from __future__ import annotations

from connector.funnel import (
    Company,
    Contribution,
    Criterion,
    FunnelStage,
    Person,
    Qualification,
    Score,
    ScoreKind,
)
from connector.mapping import CANONICAL_FIELDS, ValueType
from connector.mapping.rules import TRANSFORMS_FOR_TYPE, Transform


def test_every_canonical_field_reads_its_value_from_a_person() -> None:
    person = Person(
        id="p-1",
        email="ada@example.com",
        title="CTO",
        company=Company(name="Acme", employee_count=40, annual_revenue=1.5e6),
        qualification=Qualification(budget=Criterion(met=True), need=Criterion(met=False)),
        stage=FunnelStage.PROSPECT,
        score=Score(
            fit=40,
            engagement=22.5,
            total=62.5,
            contributions=(
                Contribution(rule_id="size", kind=ScoreKind.FIT, points=40, reason="50-200 staff"),
                Contribution(rule_id="demo", kind=ScoreKind.ENGAGEMENT, points=22.5),
            ),
        ),
    )
    values = {name: field.read(person) for name, field in CANONICAL_FIELDS.items()}
    assert values["person_id"] == "p-1"
    assert values["email"] == "ada@example.com"
    assert values["company.employee_count"] == 40
    assert values["qualification.budget"] is True
    assert values["qualification.need"] is False
    assert values["qualification.timeline"] is None
    assert values["stage"] is FunnelStage.PROSPECT
    assert values["score.total"] == 62.5
    assert values["score.reason"] == "50-200 staff (+40); demo (+22.5)"
    assert values["first_name"] is None


def test_each_value_type_has_transforms_and_stage_fields_need_value_maps() -> None:
    assert set(TRANSFORMS_FOR_TYPE) == set(ValueType)
    assert TRANSFORMS_FOR_TYPE[ValueType.STAGE] == {Transform.MAP_VALUES}
    used = set().union(*TRANSFORMS_FOR_TYPE.values())
    assert used == set(Transform)


def test_free_text_fields_hold_whatever_a_crm_field_holds() -> None:
    # A value the canonical record refused used to be dropped from the person; the next
    # evaluation then copied Salesforce's truncated copy over HubSpot's original (issue 18).
    # HubSpot string properties hold 65,536 characters, Salesforce's Long Text Area 131,072.
    longest = "T" * 131_072
    person = Person(
        id="p-1",
        first_name=longest,
        last_name=longest,
        title=longest,
        phone=longest,
        country=longest,
        company=Company(name=longest, industry=longest),
    )
    for name in ("first_name", "last_name", "title", "phone", "country"):
        assert CANONICAL_FIELDS[name].read(person) == longest
        assert CANONICAL_FIELDS[name].max_length == len(longest)
    for name in ("company.name", "company.industry"):
        assert CANONICAL_FIELDS[name].read(person) == longest
        assert CANONICAL_FIELDS[name].max_length == len(longest)
