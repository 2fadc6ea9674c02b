"""Must-show: with faults on (latency, 10% 503s, lock errors, expiring sessions, 429 bursts) a
pull and a write of 5,000 people complete against both emulators; every record is written or
rejected with a reason, nothing is silently dropped, and the calls each endpoint received (from
``/__sandbox__/stats``) are what the work needs plus one per retry."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connector.crm import RetryPolicy, WriteRequest
from connector.crm.hubspot import HubSpotAdapter
from connector.crm.salesforce import SalesforceAdapter
from connector.crm.types import RawRecord, WriteResult
from connector.errors import RetryableApiError
from connector.sandbox.faults import Burst, FaultPlan
from connector.sandbox.hubspot import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
)
from connector.sandbox.runner import Sandbox
from connector.settings import HubSpotOAuth

from .conftest import VirtualTime, settings_for, stats

PEOPLE = 5_000
FAULTS = FaultPlan(
    latency_ms=1,
    error_rates={503: 0.10},
    lock_error_rate=0.05,
    expire_session_after_calls=25,
    bursts=(Burst(after_calls=3, count=3, status=429), Burst(after_calls=40, count=2)),
    seed=5,
)
POLICY = RetryPolicy(max_attempts=8, max_total_delay=600.0)
WRITERS = 4  # the adapters' default write concurrency


@pytest.fixture(scope="module")
def faulty() -> Iterator[Sandbox]:
    with Sandbox.start(seed=5, people=7_000, faults=FAULTS) as started:
        yield started


def check_results(requests: list[WriteRequest], results: list[WriteResult]) -> int:
    """Every request has exactly one result, in order, written or rejected with a reason."""
    assert len(results) == len(requests)
    for request, result in zip(requests, results, strict=True):
        assert result.requested_id == request.record_id
        if not result.ok:
            assert result.code
            assert result.message
    return sum(result.ok for result in results)


def count_retries(adapter: SalesforceAdapter | HubSpotAdapter) -> list[str]:
    seen: list[str] = []

    def record(error: RetryableApiError, delay: float) -> None:
        seen.append(error.code or str(error.status))

    adapter.retrier.on_retry = record
    return seen


def no_secret_logged(caplog: pytest.LogCaptureFixture, secrets: tuple[str, ...]) -> None:
    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert caplog.records  # retries and renewals were logged
    for secret in secrets:
        assert secret not in text


def test_salesforce_pull_and_write_5000_people_with_faults(
    faulty: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    time = VirtualTime()
    settings = settings_for(faulty, tmp_path).salesforce
    adapter = SalesforceAdapter(settings, policy=POLICY, sleep=time.sleep, rng=random.Random(1))
    retries = count_retries(adapter)
    run_start = datetime.now(UTC)
    people: list[RawRecord] = []
    pages = 0
    for object_type in ("Lead", "Contact"):
        for page in adapter.pull_people(
            object_type, since=None, run_start=run_start, fields=["Lead_Score__c"]
        ):
            people.extend(page.records)
            pages += 1
    store = faulty.salesforce.store.counts()
    assert len(people) == sum(
        c["live"] + c["deleted"] for k, c in store.items() if k in ("Lead", "Contact")
    )
    assert len({p.id for p in people}) == len(people) >= PEOPLE

    requests = [
        WriteRequest(
            object_type=p.object_type,
            record_id=p.id,
            fields={"Lead_Score__c": n % 97, "Funnel_Stage__c": "Prospect"},
        )
        for n, p in enumerate(people[:PEOPLE])
    ]
    results = adapter.write(requests)
    written = check_results(requests, results)
    redirected = [r for r in results if r.written_object_type == "Contact"]
    assert written >= PEOPLE - 5
    assert redirected  # converted Leads were written through their Contacts
    for request, result in zip(requests, results, strict=True):
        if result.ok:
            row = faulty.salesforce.store.get(result.record_id)
            assert row is not None
            assert row["Lead_Score__c"] == request.fields["Lead_Score__c"]

    calls = stats(faulty.salesforce.url, faulty.salesforce.ca_file)
    collections = calls["PATCH /services/data/{version:str}/composite/sobjects"]
    # queryAll's first page, then nextRecordsUrl pages (served under /query/{locator}).
    pulls = calls["GET /services/data/{version:str}/queryAll"] + calls.get(
        "GET /services/data/{version:str}/query/{locator:str}", 0
    )
    renewals = calls["POST /services/oauth2/token"] - 1
    # One call per chunk of 200, one more per chunk holding converted Leads (their Contacts),
    # one per re-send of locked records; beyond that only retries and renewed sessions.
    redirect_calls = len({i // 200 for i, r in enumerate(results) if r.written_object_type})
    needed = -(-PEOPLE // 200) + redirect_calls + adapter.record_resends
    # A renewed session repeats the calls that met the expired one: at most one per writer.
    assert needed <= collections <= needed + len(retries) + renewals * WRITERS
    assert renewals >= 1  # sessions expired and were renewed
    data_pages = pages - 2  # each pull ends with an empty, call-free "done" page
    assert data_pages <= pulls <= data_pages + len(retries) + renewals
    assert {"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"} & set(retries)
    no_secret_logged(caplog, adapter.secrets())


def test_hubspot_pull_and_write_5000_people_with_faults(
    faulty: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    time = VirtualTime()
    oauth = HubSpotOAuth(
        mode="oauth",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SecretStr(SANDBOX_CLIENT_SECRET),
        refresh_token=SecretStr(SANDBOX_REFRESH_TOKEN),
    )
    settings = settings_for(faulty, tmp_path).hubspot.model_copy(update={"auth": oauth})
    adapter = HubSpotAdapter(
        settings, policy=POLICY, sleep=time.sleep, clock=time.clock, rng=random.Random(2)
    )
    retries = count_retries(adapter)
    # The emulator's own per-second search limit runs on wall time, the budget here on virtual
    # time: lift the former (injected 429 bursts still hit search and batch calls alike).
    httpx.post(
        f"{faulty.hubspot.url}/__sandbox__/limits", json={"search_per_second": 10_000}
    ).raise_for_status()
    run_start = datetime.now(UTC)
    people = [
        record
        for page in adapter.pull_people(
            "contacts", since=None, run_start=run_start, fields=["lifecyclestage"]
        )
        for record in page.records
    ]
    assert len({p.id for p in people}) == len(people) == faulty.hubspot.store.count("contacts")
    assert len(people) >= PEOPLE

    requests = [
        WriteRequest(
            object_type="contacts",
            record_id=p.id,
            fields={"crmsync_lead_score": n % 97, "crmsync_funnel_stage": "prospect"},
        )
        for n, p in enumerate(people[:PEOPLE])
    ]
    results = adapter.write(requests)
    written = check_results(requests, results)
    assert written == PEOPLE
    for request, result in zip(requests, results, strict=True):
        record = faulty.hubspot.store.get("contacts", result.record_id)
        assert record is not None
        assert record.props["crmsync_lead_score"] == str(request.fields["crmsync_lead_score"])

    calls = stats(faulty.hubspot.url)
    searches = calls["POST /crm/v3/objects/{objectType}/search"]
    batches = calls["POST /crm/v3/objects/{objectType}/batch/{action}"]
    refreshes = calls["POST /oauth/v1/token"] - 1
    assert refreshes >= 1  # tokens expired and were refreshed on 401
    pages = -(-len(people) // 200)
    assert pages <= searches <= pages + 1 + len(retries) + refreshes
    needed = PEOPLE // 100 + adapter.record_resends
    # A refreshed token repeats the calls that met the expired one: at most one per writer.
    assert needed <= batches <= needed + len(retries) + refreshes * WRITERS
    assert {"TEN_SECONDLY_ROLLING", "SECONDLY"} & set(retries)
    no_secret_logged(caplog, adapter.secrets())
