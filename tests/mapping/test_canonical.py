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
