"""A HubSpot merge keeps the survivor's own values: HubSpot's rule is that the primary contact's
values win and the merged one's only fill its blanks.

Found by the soak (bench/soak.py, issue 18) and reproduced here without faults or kills: when
contact B is merged into contact A and crmsync joins their two people, it keeps the person it
met first and pushes that person's canonical values over every record of the other. If B's
person is the older one, B's e-mail and name are written over the survivor A and over A's
person's Salesforce record, which is renamed after someone else. Fixed: joining two people
forgets their records' merge baselines, so the joined person's fields follow the records.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sandbox.runner import Sandbox
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import Sdk, Users, next_second, reset
from .test_e2e import settings_for

NEWCOMER = "nora.newcomer@example.org"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=58, people=80) as started:
        yield started


def sync(sandbox: Sandbox, url: str) -> RunReport:
    with connected(settings_for(sandbox, url)) as engine:
        return engine.sync()


def test_a_merge_survivor_and_its_salesforce_record_keep_their_own_email_and_name(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    reset(sandbox)
    sync(sandbox, sqlite_url)  # every seeded person is known from here on
    sdk = Sdk(sandbox)
    hubspot_only = sorted(
        set(sdk.hubspot_people()) - set(sdk.salesforce_people()),
        key=lambda p: sdk.hubspot_contact(sdk.hubspot_people()[p][0], "email")["email"],
    )
    merged = sdk.hubspot_people()[hubspot_only[0]][0]
    # A newer person: a Lead a rep enters now, which crmsync then creates in HubSpot.
    lead = Users(sandbox).salesforce(
        "POST",
        "sobjects/Lead",
        {"LastName": "Newcomer", "Company": "New Co", "Email": NEWCOMER,
         "Funnel_Stage__c": "Prospect"},
    )["id"]  # fmt: skip
    next_second()
    sync(sandbox, sqlite_url)
    (survivor,) = [c for c in sandbox.hubspot.store.records("contacts")
                   if c.props.get("email") == NEWCOMER]  # fmt: skip
    next_second()
    sdk.merge_hubspot(survivor.id, merged)  # the user keeps the newcomer's contact
    next_second()

    report = sync(sandbox, sqlite_url)

    after = sdk.hubspot_contact(survivor.id, "email", "lastname")
    assert (after["email"], after["lastname"]) == (NEWCOMER, "Newcomer"), report.identity_counts
    record = sdk.salesforce_record("Lead", lead)
    assert (record["Email"], record["LastName"]) == (NEWCOMER, "Newcomer")
