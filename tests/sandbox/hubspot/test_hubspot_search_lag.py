"""Search trails writes by the fault plan's ``search_lag_ms``, through the official SDK: created,
updated and archived contacts show in search as they were until the lag passes, while reads by
id and batch reads see every write at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest
from pydantic import ValidationError

from connector.sandbox.faults import FaultPlan
from connector.sandbox.hubspot import SANDBOX_ACCESS_TOKEN, HubSpotEmulator, ManualClock, build
from connector.sandbox.seed import World

LAG_SECONDS = 5.0


@pytest.fixture
def lagging(world: World, clock: ManualClock) -> HubSpotEmulator:
    return build(
        world, seed=11, clock=clock, faults=FaultPlan(search_lag_ms=int(LAG_SECONDS * 1000))
    )


@pytest.fixture
def sdk_lagging(lagging: HubSpotEmulator, serve: Callable[[HubSpotEmulator], str]) -> HubSpot:
    return HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=serve(lagging))


def _search(client: HubSpot, prop: str, value: str, **extra: Any) -> Any:
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": prop, "operator": "EQ", "value": value}]}],
        properties=["email", "jobtitle", "lastmodifieddate"],
        **extra,
    )
    return client.crm.contacts.search_api.do_search(public_object_search_request=request)


def _newest(client: HubSpot) -> str:
    request = PublicObjectSearchRequest(
        sorts=[{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}], limit=1
    )
    answer = client.crm.contacts.search_api.do_search(public_object_search_request=request)
    newest: str = answer.results[0].id
    return newest


def test_a_created_contact_is_searchable_only_after_the_lag(
    sdk_lagging: HubSpot, clock: ManualClock
) -> None:
    client = sdk_lagging
    created = client.crm.contacts.basic_api.create({"properties": {"email": "late@example.test"}})

    assert client.crm.contacts.basic_api.get_by_id(created.id).id == created.id
    read = client.crm.contacts.batch_api.read(
        {"inputs": [{"id": "late@example.test"}], "idProperty": "email", "properties": ["email"]}
    )
    assert [r.id for r in read.results] == [created.id]
    assert _search(client, "email", "late@example.test").total == 0

    clock.advance(LAG_SECONDS - 1)
    assert _search(client, "email", "late@example.test").total == 0
    clock.advance(1)
    found = _search(client, "email", "late@example.test")
    assert [r.id for r in found.results] == [created.id]


def test_an_update_reaches_search_and_its_sort_only_after_the_lag(
    sdk_lagging: HubSpot, lagging: HubSpotEmulator, clock: ManualClock
) -> None:
    client = sdk_lagging
    contact = lagging.store.records("contacts")[7]
    before = contact.props["lastmodifieddate"]
    clock.advance(1)

    client.crm.contacts.basic_api.update(contact.id, {"properties": {"jobtitle": "Lag Tester"}})

    fresh = client.crm.contacts.basic_api.get_by_id(contact.id, properties=["jobtitle"])
    assert fresh.properties["jobtitle"] == "Lag Tester"
    assert fresh.properties["lastmodifieddate"] > before
    (stale,) = _search(client, "hs_object_id", contact.id).results
    assert stale.properties["jobtitle"] != "Lag Tester"
    assert stale.properties["lastmodifieddate"] == before
    assert _newest(client) != contact.id

    clock.advance(LAG_SECONDS)
    (seen,) = _search(client, "hs_object_id", contact.id).results
    assert seen.properties["jobtitle"] == "Lag Tester"
    assert seen.properties["lastmodifieddate"] == fresh.properties["lastmodifieddate"]
    assert _newest(client) == contact.id


def test_an_archived_contact_stays_in_search_as_it_was_until_the_lag_passes(
    sdk_lagging: HubSpot, lagging: HubSpotEmulator, clock: ManualClock
) -> None:
    client = sdk_lagging
    contact = lagging.store.records("contacts")[3]
    email = contact.props["email"]

    client.crm.contacts.basic_api.archive(contact.id)

    with pytest.raises(ApiException) as gone:
        client.crm.contacts.basic_api.get_by_id(contact.id)
    assert gone.value.status == 404
    (ghost,) = _search(client, "hs_object_id", contact.id).results
    assert ghost.properties["email"] == email
    assert ghost.archived is False

    clock.advance(LAG_SECONDS)
    assert _search(client, "hs_object_id", contact.id).total == 0


def test_without_a_lag_search_sees_writes_at_once(client: HubSpot) -> None:
    created = client.crm.contacts.basic_api.create({"properties": {"email": "now@example.test"}})
    assert [r.id for r in _search(client, "email", "now@example.test").results] == [created.id]


def test_the_lag_is_a_fault_plan_key(url: str, client: HubSpot, clock: ManualClock) -> None:
    assert FaultPlan().search_lag_ms == 0
    with pytest.raises(ValidationError):
        FaultPlan(search_lag_ms=-1)
    posted = httpx.post(url + "/__sandbox__/faults", json={"search_lag_ms": 2500})
    assert posted.json()["search_lag_ms"] == 2500

    created = client.crm.contacts.basic_api.create({"properties": {"email": "set@example.test"}})
    assert _search(client, "email", "set@example.test").total == 0
    clock.advance(2.5)
    assert [r.id for r in _search(client, "email", "set@example.test").results] == [created.id]
