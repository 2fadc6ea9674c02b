"""A stage a rep sets by hand is pinned (``manual_stage: pin``) for good, not for one run.

The CRMs show the edit as an edit once. After that run both show the stage crmsync agreed to,
and nothing in them says "by hand" any more; the next time the person is evaluated for
another reason (an edit to another field, new activity, a rescore) the evidence ladder would
move them straight back and overwrite the rep's decision in both CRMs. The pin is remembered
on the person (``Person.stage_pinned``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.sync.wiring import connected

from ._support import Users, hubspot_people, next_second, reset, salesforce_people
from .test_e2e import settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=23, people=240) as started:
        yield started


def stages(sandbox: Sandbox, person: str) -> tuple[str, str]:
    sf = str(salesforce_people(sandbox)[person].get("Funnel_Stage__c") or "").lower()
    return sf, hubspot_people(sandbox)[person].get("crmsync_funnel_stage", "")


def test_a_stage_demoted_by_hand_stays_pinned_on_the_runs_after(
    sandbox: Sandbox, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()

    # People the evidence puts at prospect (two-way communication and fit, says the reason
    # crmsync wrote): a demotion by hand goes against the evidence, which would promote them
    # straight back if the pin were forgotten.
    hubspot = hubspot_people(sandbox)
    chosen = sorted(
        person
        for person in set(salesforce_people(sandbox)) & set(hubspot)
        if stages(sandbox, person) == ("prospect", "prospect")
        and "): two-way + " in hubspot[person].get("crmsync_score_reason", "")
    )[:6]
    assert len(chosen) >= 3, "the seeded world has prospects linked in both CRMs"
    users = Users(sandbox)
    next_second()
    for person in chosen:
        row = salesforce_people(sandbox)[person]
        path = f"sobjects/{row['_type']}/{row['Id']}"
        users.salesforce("PATCH", path, {"Funnel_Stage__c": "Lead"})
    next_second()
    with connected(settings) as engine:
        engine.sync()
    with StateStore.from_settings(settings) as store:
        for person in chosen:
            assert stages(sandbox, person) == ("lead", "lead")
            record = store.people.get(person)
            assert record is not None
            assert record.person.stage.value == "lead"
            assert record.person.stage_pinned

    # Later runs evaluate them again for reasons that have nothing to do with the stage: an
    # edit to another field, then a rescore of everyone (a rules change, the daily rescore).
    # Nothing in the CRMs says "by hand" any more; the pin must hold all the same.
    first = chosen[0]
    (contact,) = [
        record.id
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_person_id") == first
    ]
    users.edit_hubspot(contact, {"jobtitle": "Head of Platform Engineering"})
    next_second()
    with connected(settings) as engine:
        report = engine.sync()
        assert report.evaluated >= 1
    assert [stages(sandbox, person) for person in chosen] == [("lead", "lead")] * len(chosen)
    next_second()
    with connected(settings) as engine:
        engine.mark_everyone("rescore")
        report = engine.sync(job="rescore")
    assert report.evaluated >= len(chosen)
    assert [stages(sandbox, person) for person in chosen] == [("lead", "lead")] * len(chosen)
    with StateStore.from_settings(settings) as store:
        for person in chosen:
            record = store.people.get(person)
            assert record is not None
            assert record.person.stage_pinned

    # Another stage set by hand (in HubSpot this time) moves the pin there.
    users.edit_hubspot(contact, {"crmsync_funnel_stage": "opportunity"})
    next_second()
    with connected(settings) as engine:
        engine.sync()
    assert stages(sandbox, first) == ("opportunity", "opportunity")
    next_second()
    with connected(settings) as engine:
        report = engine.sync()
    assert report.written_total == 0, report.to_json()
    assert stages(sandbox, first) == ("opportunity", "opportunity")
