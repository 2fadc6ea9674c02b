"""Writes HubSpot refuses as a whole, through the official SDK: e-mail conflicts on create
(409, first conflict only, nothing written) and invalid e-mail addresses (400 INVALID_EMAIL on
create, update and upsert; a batch fails whole)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException

from connector.sandbox.hubspot import HubSpotEmulator

BAD_ADDRESSES = ("not-an-email", "a@@b.c", "jane doe@example.com")


def _refusal(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as refused:
        call()
    body: dict[str, Any] = json.loads(refused.value.body)
    return refused.value.status, body


def _taken(emulator: HubSpotEmulator, index: int) -> tuple[str, str]:
    record = emulator.store.records("contacts")[index]
    return record.props["email"], record.id


def _create_batch(client: HubSpot, emails: list[str]) -> Any:
    inputs = [{"properties": {"email": e, "firstname": "New"}} for e in emails]
    return client.crm.contacts.batch_api.create({"inputs": inputs})


def _invalid(address: str) -> str:
    listed = [
        {
            "isValid": False,
            "message": f"Email address {address} is invalid",
            "error": "INVALID_EMAIL",
            "name": "email",
        }
    ]
    return "Property values were not valid: " + json.dumps(listed, separators=(",", ":"))


def test_batch_create_with_an_existing_email_is_refused_whole(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    taken, owner = _taken(emulator, 3)
    count = emulator.store.count("contacts")

    status, body = _refusal(lambda: _create_batch(client, ["first.new@example.test", taken]))

    assert status == 409
    assert set(body) == {"status", "message", "correlationId", "category"}
    assert body["status"] == "error"
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {owner}"
    assert emulator.store.count("contacts") == count
    assert emulator.store.find("contacts", "email", "first.new@example.test") is None


def test_batch_create_names_only_the_first_conflict(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    (first, first_owner), (second, _) = _taken(emulator, 5), _taken(emulator, 2)

    status, body = _refusal(lambda: _create_batch(client, ["x1@example.test", first, second]))

    assert status == 409
    assert body["message"] == f"Contact already exists. Existing ID: {first_owner}"


def test_the_same_new_email_twice_in_one_batch_writes_nothing(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    count = emulator.store.count("contacts")

    status, body = _refusal(
        lambda: _create_batch(
            client, ["twin@example.test", "other@example.test", "Twin@example.test"]
        )
    )

    assert status == 409
    assert body["category"] == "CONFLICT"
    named = body["message"].removeprefix("Contact already exists. Existing ID: ")
    assert named.isdigit()
    assert emulator.store.count("contacts") == count
    assert emulator.store.find("contacts", "email", "twin@example.test") is None
    # The id the message names was never written, and is not handed to anyone later.
    later = client.crm.contacts.basic_api.create({"properties": {"email": "later@example.test"}})
    assert later.id != named
    status, _ = _refusal(lambda: client.crm.contacts.basic_api.get_by_id(named))
    assert status == 404


def test_single_create_with_an_existing_email_answers_the_same_409(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    taken, owner = _taken(emulator, 0)

    status, body = _refusal(
        lambda: client.crm.contacts.basic_api.create({"properties": {"email": taken.upper()}})
    )

    assert status == 409
    assert set(body) == {"status", "message", "correlationId", "category"}
    assert body["message"] == f"Contact already exists. Existing ID: {owner}"


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_an_invalid_email_is_refused_on_create_and_update(
    client: HubSpot, emulator: HubSpotEmulator, address: str
) -> None:
    contact = emulator.store.records("contacts")[0]
    before = dict(contact.props)
    count = emulator.store.count("contacts")

    created = _refusal(
        lambda: client.crm.contacts.basic_api.create({"properties": {"email": address}})
    )
    updated = _refusal(
        lambda: client.crm.contacts.basic_api.update(
            contact.id, {"properties": {"email": address, "jobtitle": "Changed"}}
        )
    )

    for status, body in (created, updated):
        assert status == 400
        assert body["category"] == "VALIDATION_ERROR"
        assert body["message"] == _invalid(address)
    assert emulator.store.count("contacts") == count
    assert contact.props == before


def test_one_invalid_email_fails_a_whole_batch_create(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    count = emulator.store.count("contacts")

    status, body = _refusal(
        lambda: _create_batch(client, ["fine@example.test", "a@@b.c", "not-an-email"])
    )

    assert status == 400
    assert body["message"] == _invalid("a@@b.c")  # the first bad input, only
    assert emulator.store.count("contacts") == count


def test_one_invalid_email_fails_a_whole_batch_update(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    good, bad = emulator.store.records("contacts")[:2]
    title = good.props.get("jobtitle")

    status, body = _refusal(
        lambda: client.crm.contacts.batch_api.update(
            {
                "inputs": [
                    {"id": good.id, "properties": {"jobtitle": "Head of Everything"}},
                    {"id": bad.id, "properties": {"email": "not-an-email"}},
                ]
            }
        )
    )

    assert status == 400
    assert body["message"] == _invalid("not-an-email")
    assert good.props.get("jobtitle") == title


@pytest.mark.parametrize("id_property", ["crmsync_person_id", "email"])
def test_one_invalid_email_fails_a_whole_batch_upsert(
    client: HubSpot, emulator: HubSpotEmulator, id_property: str
) -> None:
    count = emulator.store.count("contacts")
    if id_property == "email":
        inputs = [
            {"id": "fresh@example.test", "idProperty": "email", "properties": {}},
            {"id": "jane doe@example.com", "idProperty": "email", "properties": {}},
        ]
    else:
        inputs = [
            {"id": "p-1", "idProperty": id_property, "properties": {"email": "p1@example.test"}},
            {
                "id": "p-2",
                "idProperty": id_property,
                "properties": {"email": "jane doe@example.com"},
            },
        ]

    status, body = _refusal(lambda: client.crm.contacts.batch_api.upsert({"inputs": inputs}))

    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"] == _invalid("jane doe@example.com")
    assert emulator.store.count("contacts") == count


def test_email_upsert_still_updates_and_creates(client: HubSpot, emulator: HubSpotEmulator) -> None:
    taken, owner = _taken(emulator, 1)

    answer = client.crm.contacts.batch_api.upsert(
        {
            "inputs": [
                {"id": taken, "idProperty": "email", "properties": {"jobtitle": "Updated"}},
                {"id": "brand.new@example.test", "idProperty": "email", "properties": {}},
            ]
        }
    )

    by_email = {r.properties["email"]: r for r in answer.results}
    assert by_email[taken].id == owner
    assert by_email[taken].new is False
    assert by_email["brand.new@example.test"].new is True
    updated = emulator.store.find("contacts", "email", taken)
    assert updated is not None
    assert updated.props["jobtitle"] == "Updated"


def test_email_upsert_naming_one_address_twice_writes_nothing(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    count = emulator.store.count("contacts")

    status, body = _refusal(
        lambda: client.crm.contacts.batch_api.upsert(
            {
                "inputs": [
                    {"id": "dup@example.test", "idProperty": "email", "properties": {}},
                    {"id": "DUP@example.test", "idProperty": "email", "properties": {}},
                ]
            }
        )
    )

    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert emulator.store.count("contacts") == count
