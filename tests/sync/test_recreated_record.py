"""A record crmsync re-creates does not erase what only its CRM supplied.

Found by a random state-machine run. A user deletes a person's Salesforce record; the person
lives on in HubSpot, so crmsync creates a Lead for them. ``salesforce_only`` fields (the
employee count) are never written to Salesforce, so the new Lead is blank there. Reading it
back used to erase the count, move the fit score and make a run with no edits write scores to
both CRMs. A blank that no user made now keeps the value.
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
    with Sandbox.start(seed=31, people=200) as started:
        yield started


def test_a_recreated_lead_keeps_the_employee_count_and_the_next_run_writes_nothing(
    sandbox: Sandbox, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()

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
    with connected(settings) as engine:
        engine.sync()
    recreated = salesforce_people(sandbox)
    for person in chosen:
        assert recreated[person]["_type"] == "Lead"
        assert recreated[person]["Id"] != rows[person]["Id"]
        assert not recreated[person].get("NumberOfEmployees")

    # The run that reads the new Leads back: nothing was edited, nothing is written.
    next_second()
    with connected(settings) as engine:
        report = engine.sync()
    assert report.written_total == 0, report.to_json()
    with StateStore.from_settings(settings) as store:
        for person in chosen:
            record = store.people.get(person)
            assert record is not None
            assert record.person.company.employee_count == counts[person]
