from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from connector.funnel import (
    ACTIVITY_TYPES,
    Activity,
    ActivityKind,
    Company,
    Direction,
    FunnelStage,
    Outcome,
    Person,
    Score,
    SourceRef,
    System,
    Timeline,
)

LEAD_REF = SourceRef(system=System.SALESFORCE, object_type="Lead", record_id="00Q000000000001AAA")


def _activity(**overrides: object) -> Activity:
    values: dict[str, object] = {
        "system": System.HUBSPOT,
        "id": "1001",
        "person": LEAD_REF,
        "kind": ActivityKind.EMAIL,
        "direction": Direction.INBOUND,
        "occurred_at": datetime(2026, 5, 1, 12, tzinfo=UTC),
        "outcome": Outcome.REPLIED,
    }
    values.update(overrides)
    return Activity.model_validate(values)


def test_naive_datetime_is_rejected_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as caught:
        _activity(occurred_at=datetime(2026, 5, 1, 12))
    (error,) = caught.value.errors()
    assert error["loc"] == ("occurred_at",)
    assert "naive datetime" in error["msg"]


def test_aware_datetimes_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    activity = _activity(occurred_at=datetime(2026, 5, 1, 14, tzinfo=plus_two))
    assert activity.occurred_at == datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert activity.occurred_at.tzinfo is UTC


def test_emails_are_trimmed_and_lowercased() -> None:
    person = Person(id="p1", email="  Ada.Lovelace@Example.COM ")
    assert person.email == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    "bad", ["not-an-email", "a@b", "two@@example.com", "spa ce@example.com", "a..b@example.com"]
)
def test_bad_email_is_rejected_naming_the_field_not_the_value(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Person(id="p1", email=bad)
    (error,) = caught.value.errors(include_input=False)
    assert error["loc"] == ("email",)
    assert "not a valid e-mail address" in error["msg"]
    assert bad not in error["msg"]


def test_bad_other_email_names_its_position() -> None:
    with pytest.raises(ValidationError) as caught:
        Person(id="p1", email="a@example.com", other_emails=("b@example.com", "broken"))
    assert caught.value.errors()[0]["loc"] == ("other_emails", 1)


def test_disqualified_needs_a_reason_and_keeps_it() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        Person(id="p1", stage=FunnelStage.DISQUALIFIED)
    person = Person(id="p1", stage=FunnelStage.DISQUALIFIED, disqualified_reason="competitor")
    assert person.disqualified_reason == "competitor"
    with pytest.raises(ValidationError, match="only a disqualified person"):
        Person(id="p1", stage=FunnelStage.LEAD, disqualified_reason="competitor")


def test_models_are_frozen() -> None:
    person = Person(id="p1")
    with pytest.raises(ValidationError):
        person.stage = FunnelStage.CUSTOMER


@pytest.mark.parametrize(
    ("kind", "direction", "outcome", "two_way"),
    [
        (ActivityKind.EMAIL, Direction.INBOUND, Outcome.REPLIED, True),
        (ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.OPENED, False),
        (ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.CLICKED, False),
        (ActivityKind.CALL, Direction.OUTBOUND, Outcome.CONNECTED, True),
        (ActivityKind.CALL, Direction.OUTBOUND, Outcome.NO_ANSWER, False),
        (ActivityKind.MEETING, Direction.OUTBOUND, Outcome.HELD, True),
        (ActivityKind.MEETING, Direction.OUTBOUND, Outcome.NO_SHOW, False),
        (ActivityKind.FORM_SUBMISSION, Direction.INBOUND, Outcome.SUBMITTED, False),
        (ActivityKind.FORM_SUBMISSION, Direction.INBOUND, Outcome.DEMO_REQUESTED, True),
        (ActivityKind.PAGE_VIEW, Direction.NONE, Outcome.VIEWED, False),
    ],
)
def test_two_way_flag_is_derived(
    kind: ActivityKind, direction: Direction, outcome: Outcome, two_way: bool
) -> None:
    activity = _activity(kind=kind, direction=direction, outcome=outcome)
    assert activity.two_way is two_way
    assert activity.model_dump()["two_way"] is two_way


def test_company_domain_is_normalised() -> None:
    assert Company(domain="WWW.Example.com").domain == "example.com"


def test_score_total_is_bounded() -> None:
    with pytest.raises(ValidationError):
        Score(fit=10, engagement=10, total=101)


def test_source_refs_per_system() -> None:
    hub = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="51")
    person = Person(id="p1", sources=(LEAD_REF, hub))
    assert person.refs(System.HUBSPOT) == (hub,)
    assert str(hub) == "hubspot/contacts/51"
    with pytest.raises(ValidationError):
        SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="bad id; drop")


def test_a_timeline_codes_each_activity_type_once_from_models_or_stored_values() -> None:
    when = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    ref = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="1")
    models = [
        Activity(
            system=System.HUBSPOT, id=f"a{i}", person=ref, kind=kind, direction=direction,
            outcome=outcome, occurred_at=when,
        )
        for i, (kind, direction, outcome) in enumerate(ACTIVITY_TYPES)
    ]  # fmt: skip
    timeline = Timeline.of(models)
    stored = Timeline.from_values(
        (kind.value, direction.value, outcome.value, when)
        for kind, direction, outcome in ACTIVITY_TYPES
    )
    assert timeline == stored
    assert [code for code, _ in timeline.items] == list(range(len(ACTIVITY_TYPES)))
    assert {at for _, at in timeline.items} == {when.timestamp()}


def test_a_timeline_refuses_unknown_types_and_naive_times() -> None:
    when = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="outcome='telepathy'"):
        Timeline.from_values([("email", "inbound", "telepathy", when)])
    with pytest.raises(ValueError, match="timezone-aware"):
        Timeline.from_values([("email", "inbound", "replied", when.replace(tzinfo=None))])
