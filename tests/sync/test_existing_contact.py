"""A create HubSpot refuses because the e-mail address belongs to a contact crmsync never read.

The contact last changed long before the pull's window, so the run does not see it, plans a
create for the Salesforce Lead's person, and HubSpot answers 409 "Contact already exists.
Existing ID: …". The run links that contact, reads it and its whole history by id, and syncs
the person in the same run; the next run writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce

from connector.errors import System
from connector.funnel import SourceRef
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.sync.wiring import connected

from ._support import next_second, reset, stamps
from .test_e2e import hubspot_stages, salesforce_stages, settings_for

LONG_AGO = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
EMAIL = "ines.okafor@harbourline.example"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=33, people=60) as started:
        yield started


def salesforce(sandbox: Sandbox) -> Any:  # simple-salesforce types sf.Lead as a union
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sandbox.salesforce.ca_file)
    return Salesforce(
        instance_url=sandbox.salesforce.url,
        session_id=sandbox.salesforce.emulator.issue_token(),
        version="66.0",
        session=session,
    )


def test_a_contact_named_by_a_refused_create_is_read_and_synced_in_the_same_run(
    sandbox: Sandbox, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        assert engine.sync().outcome is RunOutcome.SUCCEEDED

    # HubSpot holds a contact untouched since 2024, with an e-mail logged back then; nobody
    # has it in Salesforce yet.
    store = sandbox.hubspot.store
    contact = store.insert_seeded(
        "contacts",
        {"email": EMAIL, "firstname": "Ines", "lastname": "Okafor", "lifecyclestage": "lead"},
        LONG_AGO,
        LONG_AGO,
    )
    email = store.insert_seeded(
        "emails",
        {
            "hs_timestamp": str(int(LONG_AGO.timestamp() * 1000)),
            "hs_email_direction": "INCOMING_EMAIL",
        },
        LONG_AGO,
        LONG_AGO,
    )
    store.associate("emails", email.id, "contacts", contact.id, logged=False)
    next_second()  # past the full sync's last second (Salesforce compares to the second)
    lead = salesforce(sandbox).Lead.create(
        {"FirstName": "Ines", "LastName": "Okafor", "Company": "Harbourline", "Email": EMAIL}
    )["id"]
    next_second()

    with connected(settings) as engine:
        report = engine.sync()
    assert report.outcome is RunOutcome.SUCCEEDED, report.to_json()
    assert report.linked_existing == 1
    assert report.rejected_total == 0

    with StateStore.from_settings(settings) as state:
        person = state.links.active(
            SourceRef(system=System.SALESFORCE, object_type="Lead", record_id=lead)
        )
        assert person is not None
        hubspot = state.links.active(
            SourceRef(system=System.HUBSPOT, object_type="contacts", record_id=contact.id)
        )
        assert hubspot is not None
        assert hubspot.person_id == person.person_id
        activities = state.activities.for_people([person.person_id])[person.person_id]
        assert any(email.id in a.activity_id for a in activities), "older e-mail not read"
        assert state.dirty.count() == 0
    # The contact now carries the person id and the same funnel stage as the Lead.
    linked = store.get("contacts", contact.id)
    assert linked is not None
    assert linked.props.get("crmsync_person_id") == person.person_id
    assert hubspot_stages(sandbox)[person.person_id] == salesforce_stages(sandbox)[person.person_id]
    assert len(store.records("contacts")) == len(
        {r.props.get("email") for r in store.records("contacts")}
    )

    stamped = stamps(sandbox)
    with connected(settings) as engine:
        again = engine.sync()
    assert again.written_total == 0, again.to_json()
    assert stamps(sandbox) == stamped
