"""Auth (private-app token, OAuth refresh grant, 401 bodies), fault injection and the
``/__sandbox__/`` controls."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException
from hubspot.crm.contacts.exceptions import UnauthorizedException

from connector.sandbox.faults import Burst, FaultPlan
from connector.sandbox.hubspot import (
    OAUTH_TOKEN_LIFETIME_SECONDS,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    HubSpotEmulator,
    ManualClock,
    build,
)
from connector.sandbox.seed import World

CONTACTS = "/crm/v3/objects/contacts"
GRANT = {
    "grant_type": "refresh_token",
    "client_id": SANDBOX_CLIENT_ID,
    "client_secret": SANDBOX_CLIENT_SECRET,
    "refresh_token": SANDBOX_REFRESH_TOKEN,
}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_missing_or_bad_tokens_answer_401(url: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(url + CONTACTS, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.")
    assert body["correlationId"] == response.headers["x-hubspot-correlation-id"]
    assert "x-hubspot-ratelimit-max" not in response.headers


def test_sdk_raises_its_unauthorized_exception(url: str) -> None:
    client = HubSpot(access_token="pat-na1-wrong", host=url)
    with pytest.raises(UnauthorizedException):
        client.crm.contacts.basic_api.get_page()


def test_oauth_refresh_grant_issues_tokens_that_expire(url: str, clock: ManualClock) -> None:
    client = HubSpot(host=url)
    tokens = client.oauth.tokens_api.create(**GRANT)
    assert tokens.expires_in == OAUTH_TOKEN_LIFETIME_SECONDS
    assert tokens.refresh_token == SANDBOX_REFRESH_TOKEN

    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    ok = httpx.get(url + CONTACTS, headers=headers)
    assert ok.status_code == 200
    # OAuth calls get no daily headers (reference §3.3).
    assert "x-hubspot-ratelimit-max" in ok.headers
    assert "x-hubspot-ratelimit-daily" not in ok.headers

    clock.advance(OAUTH_TOKEN_LIFETIME_SECONDS + 5)
    expired = httpx.get(url + CONTACTS, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert "expired 5 second(s) ago" in expired.json()["message"]


@pytest.mark.parametrize(
    ("field", "status"),
    [
        ("refresh_token", "BAD_REFRESH_TOKEN"),
        ("client_id", "BAD_CLIENT_ID"),
        ("client_secret", "BAD_CLIENT_SECRET"),
        ("grant_type", "BAD_GRANT_TYPE"),
    ],
)
def test_oauth_grant_refuses_wrong_credentials(url: str, field: str, status: str) -> None:
    response = httpx.post(url + "/oauth/v1/token", data={**GRANT, field: "wrong"})
    assert response.status_code == 400
    assert response.json()["status"] == status


def test_injected_faults_follow_the_plan_and_repeat_for_a_seed(
    world: World, clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    plan = FaultPlan(error_rates={502: 0.2, 503: 0.2}, bursts=(Burst(after_calls=2, count=2),))

    def statuses() -> list[int]:
        emulator = build(world, seed=11, clock=clock, faults=plan)
        headers = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
        with httpx.Client(base_url=serve(emulator), headers=headers) as http:
            answers = [http.get(CONTACTS, params={"limit": 1}) for _ in range(20)]
        for answer in answers:
            if answer.status_code == 429:
                assert answer.json()["policyName"] == "TEN_SECONDLY_ROLLING"
            if answer.status_code in (502, 503):
                assert answer.headers["content-type"].startswith("text/html")
        return [a.status_code for a in answers]

    first = statuses()
    assert first[2:4] == [429, 429]
    assert {502, 503} <= set(first)
    assert 200 in first
    assert statuses() == first


def test_expired_token_fault_forces_a_401_then_recovers(
    world: World, clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    emulator = build(world, seed=11, clock=clock, faults=FaultPlan(expire_session_after_calls=3))
    client = HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=serve(emulator))
    for _ in range(3):
        client.crm.contacts.basic_api.get_page(limit=1)
    with pytest.raises(UnauthorizedException) as expired:
        client.crm.contacts.basic_api.get_page(limit=1)
    assert '"EXPIRED_AUTHENTICATION"' in expired.value.body
    client.crm.contacts.basic_api.get_page(limit=1)


def test_daily_quota_fault_and_control_endpoints(
    url: str, http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    set_plan = httpx.post(url + "/__sandbox__/faults", json={"daily_quota_remaining": 1})
    assert set_plan.json()["daily_quota_remaining"] == 1
    assert http.get(CONTACTS).status_code == 200
    quota = http.get(CONTACTS)
    assert quota.status_code == 429
    assert quota.json()["policyName"] == "DAILY"

    stats = httpx.get(url + "/__sandbox__/stats").json()
    assert stats["calls"]["GET /crm/v3/objects/{objectType}"] == 2
    assert stats["objects"]["contacts"] == emulator.store.count("contacts")
    assert httpx.post(url + "/__sandbox__/faults", json={"bogus": 1}).status_code == 400

    contact = emulator.store.records("contacts")[0]
    httpx.post(url + "/__sandbox__/reset")
    assert http.get(CONTACTS).status_code == 200
    assert httpx.get(url + "/__sandbox__/stats").json()["calls"] == {
        "GET /crm/v3/objects/{objectType}": 1
    }
    assert emulator.store.get("contacts", contact.id) is not None


def test_edit_control_simulates_a_user_edit(
    url: str, http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = next(
        r for r in emulator.store.records("contacts") if r.props["lifecyclestage"] == "customer"
    )
    before = contact.props["lastmodifieddate"]
    edited = httpx.post(
        url + "/__sandbox__/edit",
        json={
            "objectType": "contacts",
            "id": contact.id,
            "properties": {"lifecyclestage": "lead", "hs_analytics_num_page_views": "99"},
        },
    )
    assert edited.status_code == 200
    current = http.get(
        f"{CONTACTS}/{contact.id}",
        params={"properties": "lifecyclestage", "propertiesWithHistory": "lifecyclestage"},
    ).json()
    assert current["properties"]["lifecyclestage"] == "lead"  # a user may move it backwards
    assert current["properties"]["lastmodifieddate"] > before
    history = current["propertiesWithHistory"]["lifecyclestage"]
    assert [h["value"] for h in history] == ["lead", "customer"]
    assert history[0]["sourceType"] == "CRM_UI"
    created = httpx.post(
        url + "/__sandbox__/edit", json={"properties": {"email": "walk.in@example.test"}}
    )
    assert emulator.store.find("contacts", "email", "walk.in@example.test") is not None
    assert created.json()["properties"]["email"] == "walk.in@example.test"


def test_limits_control_changes_the_burst_limit(url: str, http: httpx.Client) -> None:
    httpx.post(url + "/__sandbox__/limits", json={"burst_max": 2})
    assert [http.get(CONTACTS).status_code for _ in range(3)] == [200, 200, 429]
    assert httpx.post(url + "/__sandbox__/limits", json={"burst_max": 0}).status_code == 400


def test_errors_from_the_sdk_carry_the_documented_body(client: HubSpot) -> None:
    with pytest.raises(ApiException) as missing:
        client.crm.contacts.basic_api.get_by_id("424242")
    assert missing.value.status == 404
    assert '"OBJECT_NOT_FOUND"' in missing.value.body
