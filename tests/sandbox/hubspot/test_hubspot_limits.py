"""The 10,000-result cap, the search per-second limit, the burst and daily limits, and the
rate-limit headers, with the documented 400/429 bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

from connector.sandbox.hubspot import (
    SANDBOX_ACCESS_TOKEN,
    HubSpotEmulator,
    LimitConfig,
    ManualClock,
    build,
)
from connector.sandbox.seed import World, generate

RATE_HEADERS = (
    "x-hubspot-ratelimit-max",
    "x-hubspot-ratelimit-remaining",
    "x-hubspot-ratelimit-interval-milliseconds",
    "x-hubspot-ratelimit-daily",
    "x-hubspot-ratelimit-daily-remaining",
)
SEARCH = "/crm/v3/objects/contacts/search"


def _error_shape(body: dict[str, object]) -> None:
    assert body["status"] == "error"
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["correlationId"], str)
    assert len(body["correlationId"]) == 36
    assert isinstance(body["category"], str)


def test_search_refuses_to_page_past_ten_thousand_results(
    clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    emulator = build(generate(seed=3, people=0), seed=3, clock=clock)
    start = clock.now() - timedelta(days=30)
    for index in range(10_050):
        moment = start + timedelta(seconds=index)
        emulator.store.insert_seeded(
            "contacts", {"email": f"bulk{index}@example.test"}, moment, moment
        )
    client = HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=serve(emulator))
    request = PublicObjectSearchRequest(
        sorts=["hs_object_id"], properties=["email"], limit=200, after="9800"
    )

    last = client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert last.total == 10_050
    assert len(last.results) == 200
    assert last.paging.next.after == "10000"

    clock.advance(1)
    request.after = last.paging.next.after
    with pytest.raises(ApiException) as refused:
        client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert refused.value.status == 400
    body = json.loads(refused.value.body)
    _error_shape(body)
    assert body["category"] == "VALIDATION_ERROR"
    assert "10000" in body["message"]
    assert refused.value.headers["x-hubspot-correlation-id"] == body["correlationId"]
    assert not any(h in refused.value.headers for h in RATE_HEADERS)


def test_search_allows_five_requests_a_second(
    http: httpx.Client, clock: ManualClock, emulator: HubSpotEmulator
) -> None:
    for _ in range(5):
        ok = http.post(SEARCH, json={"limit": 1})
        assert ok.status_code == 200
        assert "x-hubspot-correlation-id" in ok.headers
        assert not any(h in ok.headers for h in RATE_HEADERS)

    limited = http.post(SEARCH, json={"limit": 1})

    assert limited.status_code == 429
    body = limited.json()
    _error_shape(body)
    assert body["policyName"] == "SECONDLY"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your secondly limit."
    assert not any(h in limited.headers for h in RATE_HEADERS)
    clock.advance(1.0)
    assert http.post(SEARCH, json={"limit": 1}).status_code == 200


def test_burst_limit_answers_ten_secondly_rolling_with_headers(
    world: World, clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    emulator = build(world, seed=11, clock=clock, limits=LimitConfig(burst_max=10))
    headers = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
    with httpx.Client(base_url=serve(emulator), headers=headers) as http:
        remaining = []
        for _ in range(10):
            ok = http.get("/crm/v3/objects/contacts", params={"limit": 1})
            assert ok.status_code == 200
            assert ok.headers["x-hubspot-ratelimit-max"] == "10"
            assert ok.headers["x-hubspot-ratelimit-interval-milliseconds"] == "10000"
            remaining.append(int(ok.headers["x-hubspot-ratelimit-remaining"]))
        assert remaining == list(range(9, -1, -1))

        limited = http.get("/crm/v3/objects/contacts", params={"limit": 1})
        assert limited.status_code == 429
        body = limited.json()
        _error_shape(body)
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["errorType"] == "RATE_LIMIT"
        assert limited.headers["x-hubspot-ratelimit-remaining"] == "0"
        assert limited.headers["x-hubspot-correlation-id"] == body["correlationId"]

        # Search has its own limit and does not spend the burst budget.
        assert http.post(SEARCH, json={"limit": 1}).status_code == 200
        clock.advance(9.9)
        assert http.get("/crm/v3/objects/contacts").status_code == 429
        clock.advance(0.2)
        assert http.get("/crm/v3/objects/contacts").status_code == 200


def test_default_burst_limit_is_190(http: httpx.Client) -> None:
    statuses = [http.get("/crm/v3/objects/contacts/0").status_code for _ in range(191)]
    assert statuses[:190] == [404] * 190
    assert statuses[190] == 429


def test_daily_limit_answers_daily_and_resets_at_midnight(
    world: World, clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    emulator = build(world, seed=11, clock=clock, limits=LimitConfig(daily_max=3))
    headers = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
    with httpx.Client(base_url=serve(emulator), headers=headers) as http:
        daily = [http.get("/crm/v3/objects/contacts").headers for _ in range(3)]
        assert [h["x-hubspot-ratelimit-daily-remaining"] for h in daily] == ["2", "1", "0"]
        assert all(h["x-hubspot-ratelimit-daily"] == "3" for h in daily)

        limited = http.get("/crm/v3/objects/contacts")
        assert limited.status_code == 429
        assert limited.json()["policyName"] == "DAILY"
        assert limited.json()["message"] == "You have reached your daily limit."
        searched = http.post(SEARCH, json={})
        assert searched.json()["policyName"] == "DAILY"

        clock.advance(86_400)
        assert http.get("/crm/v3/objects/contacts").status_code == 200


def test_every_non_search_answer_carries_the_rate_limit_headers(http: httpx.Client) -> None:
    for response in (
        http.get("/crm/v3/objects/contacts"),
        http.get("/crm/v3/properties/contacts/lifecyclestage"),
        http.get("/crm/v3/objects/contacts/does-not-exist"),
        http.post("/crm/v3/objects/contacts/batch/read", json={"inputs": [{"id": "1"}]}),
    ):
        for header in (*RATE_HEADERS, "x-hubspot-correlation-id"):
            assert header in response.headers, (response.url, header)
