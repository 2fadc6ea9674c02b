"""Recycling on engagement (``recycle: engagement_since_disqualified_min``) in a real sync.

The rule counts engagement since the person was disqualified. Nothing used to tell the rules
when that was, so in a sync the rule never fired; crmsync now remembers when it first found
the person disqualified (``Person.disqualified_at``).
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
    with Sandbox.start(seed=29, people=200) as started:
        yield started


def stages(sandbox: Sandbox, person: str) -> tuple[str, str]:
    sf = str(salesforce_people(sandbox)[person].get("Funnel_Stage__c") or "").lower()
    return sf, hubspot_people(sandbox)[person].get("crmsync_funnel_stage", "")


def test_a_disqualified_person_who_engages_again_is_recycled_in_both_crms(
    sandbox: Sandbox, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()
    hubspot = hubspot_people(sandbox)
    person = sorted(
        p for p in set(salesforce_people(sandbox)) & set(hubspot) if stages(sandbox, p)[1] == "lead"
    )[0]
    (contact,) = [
        record.id
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_person_id") == person
    ]
    users = Users(sandbox)

    # A rep disqualifies them in HubSpot; crmsync follows in Salesforce and notes when.
    next_second()
    users.edit_hubspot(contact, {"crmsync_funnel_stage": "disqualified"})
    next_second()
    with connected(settings) as engine:
        engine.sync()
    assert stages(sandbox, person) == ("disqualified", "disqualified")
    with StateStore.from_settings(settings) as store:
        record = store.people.get(person)
        assert record is not None
        found_at = record.person.disqualified_at
        assert found_at is not None

    # Runs that find nothing new keep them out, and keep the date.
    next_second()
    with connected(settings) as engine:
        engine.mark_everyone("rescore")
        engine.sync(job="rescore")
    assert stages(sandbox, person) == ("disqualified", "disqualified")
    with StateStore.from_settings(settings) as store:
        record = store.people.get(person)
        assert record is not None
        assert record.person.disqualified_at == found_at

    # Then they write back, again and again: enough engagement since to recycle them.
    for _ in range(4):
        users.hubspot_reply(contact)
    next_second()
    with connected(settings) as engine:
        engine.sync()
    sf_stage, hs_stage = stages(sandbox, person)
    assert sf_stage == hs_stage
    assert hs_stage != "disqualified"
    with StateStore.from_settings(settings) as store:
        record = store.people.get(person)
        assert record is not None
        assert record.person.disqualified_at is None
        last = store.transitions.for_person(person)[-1].change
    assert last.from_stage is not None
    assert last.from_stage.value == "disqualified"
    assert any("recycled to lead by rule" in reason for reason in last.reasons), last.reasons
