"""``propertiesWithHistory`` records who wrote each value and when, through the official SDK:
the calling app for API writes (``INTEGRATION``), the user for UI edits (``CRM_UI``), each at
the moment of its own write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from hubspot import HubSpot

from connector.sandbox.hubspot import (
    SANDBOX_APP_ID,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_OAUTH_APP_ID,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_USER_ID,
    HubSpotEmulator,
    ManualClock,
)

ENTRY_KEYS = {"value", "timestamp", "sourceType", "sourceId", "sourceLabel", "updatedByUserId"}


def _history(client: HubSpot, contact_id: str, *names: str) -> Any:
    return client.crm.contacts.basic_api.get_by_id(
        contact_id, properties=list(names), properties_with_history=list(names)
    )


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_api_writes_name_the_app_and_the_moment_of_each_write(
    client: HubSpot, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    contact = emulator.store.records("contacts")[4]
    seeded_title = contact.props["jobtitle"]
    clock.advance(1)
    first_write = _ms(clock.now())
    client.crm.contacts.basic_api.update(contact.id, {"properties": {"jobtitle": "Buyer"}})
    clock.advance(60)
    client.crm.contacts.basic_api.update(contact.id, {"properties": {"firstname": "Later"}})

    answer = _history(client, contact.id, "jobtitle", "firstname")

    latest, seeded = answer.properties_with_history["jobtitle"]
    assert (latest.value, latest.source_type, latest.source_id) == (
        "Buyer",
        "INTEGRATION",
        SANDBOX_APP_ID,
    )
    assert latest.updated_by_user_id is None
    assert latest.timestamp == first_write
    assert answer.updated_at > first_write  # the record moved on; the value's time did not
    assert seeded.value == seeded_title
    assert seeded.timestamp < first_write
    assert answer.properties_with_history["firstname"][0].timestamp == answer.updated_at


def test_batch_writes_are_recorded_too(
    client: HubSpot, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    contact = emulator.store.records("contacts")[9]
    clock.advance(3)
    client.crm.contacts.batch_api.update(
        {"inputs": [{"id": contact.id, "properties": {"jobtitle": "Batch Buyer"}}]}
    )
    (entry, *_) = _history(client, contact.id, "jobtitle").properties_with_history["jobtitle"]
    assert (entry.value, entry.source_type, entry.source_id) == (
        "Batch Buyer",
        "INTEGRATION",
        SANDBOX_APP_ID,
    )
    assert entry.timestamp == _ms(clock.now())


def test_a_created_contact_keeps_the_time_its_values_were_written(
    client: HubSpot, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    created = client.crm.contacts.basic_api.create(
        {"properties": {"email": "hist@example.test", "jobtitle": "Founder"}}
    )
    clock.advance(30)
    email = emulator.store.records("emails")[0].id
    client.crm.associations.v4.batch_api.create(  # logged activity moves lastmodifieddate
        "emails",
        "contacts",
        {
            "inputs": [
                {
                    "from": {"id": email},
                    "to": {"id": created.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}],
                }
            ]
        },
    )

    answer = _history(client, created.id, "jobtitle")

    (entry,) = answer.properties_with_history["jobtitle"]
    assert (entry.value, entry.source_type, entry.source_id) == (
        "Founder",
        "INTEGRATION",
        SANDBOX_APP_ID,
    )
    assert answer.updated_at > created.created_at
    assert entry.timestamp == created.created_at  # not the record's last-modified time


def test_ui_edits_name_the_user(
    client: HubSpot, url: str, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    contact = emulator.store.records("contacts")[2]
    clock.advance(5)
    edited = httpx.post(
        url + "/__sandbox__/edit",
        json={"objectType": "contacts", "id": contact.id, "properties": {"jobtitle": "By hand"}},
    )
    assert edited.status_code == 200

    (entry, *_) = _history(client, contact.id, "jobtitle").properties_with_history["jobtitle"]

    assert entry.value == "By hand"
    assert entry.source_type == "CRM_UI"
    assert entry.source_id == f"userId:{SANDBOX_USER_ID}"
    assert entry.updated_by_user_id == SANDBOX_USER_ID
    assert entry.timestamp == _ms(clock.now())


def test_an_oauth_app_writes_under_its_own_id(
    url: str, emulator: HubSpotEmulator, http: httpx.Client
) -> None:
    token = httpx.post(
        url + "/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "refresh_token": SANDBOX_REFRESH_TOKEN,
        },
    ).json()["access_token"]
    contact = emulator.store.records("contacts")[6]
    HubSpot(access_token=token, host=url).crm.contacts.basic_api.update(
        contact.id, {"properties": {"jobtitle": "Via OAuth"}}
    )

    raw = http.get(
        f"/crm/v3/objects/contacts/{contact.id}", params={"propertiesWithHistory": "jobtitle"}
    ).json()["propertiesWithHistory"]["jobtitle"]

    assert raw[0]["sourceId"] == SANDBOX_OAUTH_APP_ID
    assert all(set(entry) <= ENTRY_KEYS for entry in raw)
