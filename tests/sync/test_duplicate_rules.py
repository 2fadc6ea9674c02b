"""Salesforce duplicate rules: a create refused with DUPLICATES_DETECTED is dead-lettered with
the reason, the person is reported as an identity issue, and the create is not retried blindly
every run: it waits for an admin's decision, or settles by itself once the record Salesforce
matched is read and linked. Read back through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.errors import System
from connector.funnel import SourceRef
from connector.sandbox.faults import FaultPlan
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.sync.identity_decisions import Decision, resolve_issue
from connector.sync.wiring import connected

from ._support import Sdk, Users, next_second, reset
from .test_e2e import settings_for

ADDRESS = "grace.twin@example-rules.com"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=77, people=40) as started:
        yield started


def _prospect_in_hubspot(sandbox: Sandbox) -> str:
    """A HubSpot-only person far enough along that crmsync creates them in Salesforce."""
    contact = Users(sandbox).hubspot(
        "POST",
        "/__sandbox__/edit",
        {
            "objectType": "contacts",
            "properties": {
                "email": ADDRESS,
                "firstname": "Grace",
                "lastname": "Twin",
                "crmsync_funnel_stage": "prospect",
                "lifecyclestage": "salesqualifiedlead",
            },
        },
    )
    return str(contact["id"])


@pytest.mark.parametrize("decision", ["settles", "ignore"])
def test_a_create_a_duplicate_rule_refuses_waits_for_a_decision(
    sandbox: Sandbox, sqlite_url: str, decision: str
) -> None:
    reset(sandbox)
    sandbox.salesforce.emulator.set_faults(FaultPlan(duplicate_rules=("Lead",)))
    settings = settings_for(sandbox, sqlite_url)
    with connected(settings) as engine:
        engine.sync()
    next_second()
    _prospect_in_hubspot(sandbox)
    next_second()
    made: list[str] = []

    def progress(stream: str, count: int) -> None:
        # Once this run has read its Leads (Contacts come after them), before the writes: a rep
        # enters the same person in Salesforce by hand. The run cannot see that Lead; its
        # create meets the rule.
        if stream == "salesforce.Contact" and not made:
            answer = Users(sandbox).salesforce(
                "POST",
                "sobjects/Lead",
                {"LastName": "Twin", "Company": "Twin Co", "Email": ADDRESS},
            )
            made.append(str(answer["id"]))

    with connected(settings, progress=progress) as engine:
        first = engine.sync()
    assert made
    assert first.rejected["salesforce.create"] == 1, first.to_json()
    assert first.rejections[0]["code"] == "DUPLICATES_DETECTED"
    with StateStore.from_settings(settings) as store:
        (issue,) = [i for i in store.issues.list() if i.kind == "duplicate_rule"]
        (letter,) = [d for d in store.dead_letters.list() if d.code == "DUPLICATES_DETECTED"]
    assert letter.waiting
    person = issue.people[0]
    sdk = Sdk(sandbox)
    assert [lead for lead in sdk.salesforce_people().get(person, [])] == []

    if decision == "ignore":
        # The rep's Lead goes before crmsync reads it (emptied from the recycle bin): the
        # person still has no Salesforce record, and the create still waits for a decision.
        sandbox.salesforce.store.table("Lead").rows.pop(made[0])
        next_second()
        with connected(settings) as engine:
            waiting = engine.sync()
        assert waiting.rejected_total == 0
        assert waiting.written.get("salesforce.create", 0) == 0  # not retried blindly
        with StateStore.from_settings(settings) as store:
            assert [i.id for i in store.issues.list() if i.kind == "duplicate_rule"] == [issue.id]
            resolve_issue(store, issue.id, Decision.IGNORE, note="a test person")
    next_second()
    with connected(settings) as engine:
        second = engine.sync()
    # Never retried blindly: no second create was sent.
    assert second.rejected_total == 0
    assert second.written.get("salesforce.create", 0) == 0
    with StateStore.from_settings(settings) as store:
        open_issues = [i for i in store.issues.list() if i.kind == "duplicate_rule"]
        letters = [d for d in store.dead_letters.list() if d.code == "DUPLICATES_DETECTED"]
        lead = SourceRef(system=System.SALESFORCE, object_type="Lead", record_id=made[0])
        link = store.links.active(lead)
    assert open_issues == []
    assert letters == []
    if decision == "settles":
        # The rep's Lead was read and linked by its address: the person is in both CRMs.
        assert link is not None
        assert link.person_id == person
    else:
        assert second.not_recreated == {"salesforce": 1}
        assert person not in sdk.salesforce_people()
