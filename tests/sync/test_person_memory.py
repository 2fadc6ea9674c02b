"""What crmsync remembers on a person between runs, because the CRMs show it only once.

* **A stage a rep set by hand** (``manual_stage: pin``). The CRMs show the edit as an edit
  once; after that run both show the stage crmsync agreed to. The next time the person was
  evaluated for another reason (an edit to another field, new activity, a rescore), the
  evidence ladder moved them straight back and overwrote the rep's decision in both CRMs.
  The pin is remembered (``Person.stage_pinned``).
* **Since when a person is disqualified**, which a recycle rule on engagement
  (``engagement_since_disqualified_min``) counts from. Nothing supplied it, so in a sync the
  rule never fired. It is remembered (``Person.disqualified_at``).
* **What only one CRM supplies.** Found by a random state-machine run: a user deletes a
  person's Salesforce record, the person lives on in HubSpot, and crmsync creates a Lead for
  them. ``salesforce_only`` fields (the employee count) are never written to Salesforce, so
  the new Lead is blank there. Reading it back erased the count, moved the fit score and made
  a run with no edits write to both CRMs. A blank that no user made now keeps the value.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.sync.decide import DeletePolicy
from connector.sync.engine import EngineOptions
from connector.sync.wiring import connected

from ._support import (
    Users,
    funnel_stages,
    hubspot_contact,
    hubspot_people,
    next_second,
    reset,
    salesforce_people,
)
from .test_e2e import settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=23, people=240) as started:
        yield started


def synced(sandbox: Sandbox, state_url: str) -> Settings:
    """A reset sandbox, a fresh state store, and a first full sync: the settings to go on."""
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()
    return settings


def test_a_stage_demoted_by_hand_stays_pinned_on_the_runs_after(
    sandbox: Sandbox, state_url: str
) -> None:
    settings = synced(sandbox, state_url)

    # People the evidence puts at prospect (two-way communication and fit, says the reason
    # crmsync wrote): a demotion by hand goes against the evidence, which would promote them
    # straight back if the pin were forgotten.
    hubspot = hubspot_people(sandbox)
    chosen = sorted(
        person
        for person in set(salesforce_people(sandbox)) & set(hubspot)
        if funnel_stages(sandbox, person) == ("prospect", "prospect")
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
            assert funnel_stages(sandbox, person) == ("lead", "lead")
            record = store.people.get(person)
            assert record is not None
            assert record.person.stage.value == "lead"
            assert record.person.stage_pinned

    # Later runs evaluate them again for reasons that have nothing to do with the stage: an
    # edit to another field, then a rescore of everyone (a rules change, the daily rescore).
    # Nothing in the CRMs says "by hand" any more; the pin must hold all the same.
    first = chosen[0]
    contact = hubspot_contact(sandbox, first)
    users.edit_hubspot(contact, {"jobtitle": "Head of Platform Engineering"})
    next_second()
    with connected(settings) as engine:
        report = engine.sync()
        assert report.evaluated >= 1
    assert [funnel_stages(sandbox, person) for person in chosen] == [("lead", "lead")] * len(chosen)
    next_second()
    with connected(settings) as engine:
        engine.mark_everyone("rescore")
        report = engine.sync(job="rescore")
    assert report.evaluated >= len(chosen)
    assert [funnel_stages(sandbox, person) for person in chosen] == [("lead", "lead")] * len(chosen)
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
    assert funnel_stages(sandbox, first) == ("opportunity", "opportunity")
    next_second()
    with connected(settings) as engine:
        report = engine.sync()
    assert report.written_total == 0, report.to_json()
    assert funnel_stages(sandbox, first) == ("opportunity", "opportunity")


def test_a_disqualified_person_who_engages_again_is_recycled_in_both_crms(
    sandbox: Sandbox, state_url: str
) -> None:
    settings = synced(sandbox, state_url)
    both = set(salesforce_people(sandbox)) & set(hubspot_people(sandbox))
    person = sorted(p for p in both if funnel_stages(sandbox, p) == ("lead", "lead"))[0]
    contact = hubspot_contact(sandbox, person)
    users = Users(sandbox)

    # A rep disqualifies them in HubSpot; crmsync follows in Salesforce and notes when.
    next_second()
    users.edit_hubspot(contact, {"crmsync_funnel_stage": "disqualified"})
    next_second()
    with connected(settings) as engine:
        engine.sync()
    assert funnel_stages(sandbox, person) == ("disqualified", "disqualified")
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
    assert funnel_stages(sandbox, person) == ("disqualified", "disqualified")
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
    sf_stage, hs_stage = funnel_stages(sandbox, person)
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


def test_a_lead_recreated_by_policy_keeps_the_employee_count_and_the_next_run_writes_nothing(
    sandbox: Sandbox, state_url: str
) -> None:
    settings = synced(sandbox, state_url)

    # Prospects or further (the creation policy re-creates them in Salesforce), linked in
    # both CRMs, whose employee count puts them in a fit band.
    hubspot = hubspot_people(sandbox)
    rows = salesforce_people(sandbox)
    chosen = sorted(
        person
        for person, row in rows.items()
        if person in hubspot
        and row.get("NumberOfEmployees")
        and str(row.get("Funnel_Stage__c") or "").lower() in ("prospect", "opportunity")
    )[:3]
    assert chosen, "the seeded world has such people"
    with StateStore.from_settings(settings) as store:
        counts = {p: store.people.get(p).person.company.employee_count for p in chosen}  # type: ignore[union-attr]
    assert all(counts.values())

    users = Users(sandbox)
    next_second()
    for person in chosen:
        users.salesforce("DELETE", f"sobjects/{rows[person]['_type']}/{rows[person]['Id']}")
    next_second()
    # Re-creating a deleted record is opt-in (the default policy never does).
    recreate = EngineOptions(on_delete=DeletePolicy.RECREATE)
    with connected(settings, options=recreate) as engine:
        engine.sync()
    recreated = salesforce_people(sandbox)
    for person in chosen:
        assert recreated[person]["_type"] == "Lead"
        assert recreated[person]["Id"] != rows[person]["Id"]
        assert not recreated[person].get("NumberOfEmployees")

    # The run that reads the new Leads back: nothing was edited, nothing is written.
    next_second()
    with connected(settings, options=recreate) as engine:
        report = engine.sync()
    assert report.written_total == 0, report.to_json()
    with StateStore.from_settings(settings) as store:
        for person in chosen:
            record = store.people.get(person)
            assert record is not None
            assert record.person.company.employee_count == counts[person]
