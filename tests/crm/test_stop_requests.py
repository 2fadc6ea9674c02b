"""A stop request reaches the adapters: the call in flight finishes, no other is made, a write
cut part-way carries what went out, and a wait (a 429's window, a backoff) ends at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.crm import WriteRequest
from connector.crm._partial import done_before
from connector.crm.hubspot import HubSpotAdapter
from connector.crm.retry import RetryPolicy
from connector.crm.salesforce import SalesforceAdapter
from connector.errors import StopRequested
from connector.sandbox.faults import Burst, FaultPlan
from connector.sandbox.runner import Sandbox
from connector.sandbox.stats import CallStats
from connector.stopping import Stop

from .conftest import reset, set_faults, settings_for, stats

HS_BATCH = "POST /crm/v3/objects/{objectType}/batch/{action}"
HS_PROPERTIES = "GET /crm/v3/properties/{objectType}"
SF_COLLECTIONS = "PATCH /services/data/{version:str}/composite/sobjects"
SF_DESCRIBE = "GET /services/data/{version:str}/sobjects/{sobject:str}/describe"


@pytest.fixture(autouse=True)
def _fresh(sandbox: Sandbox) -> Iterator[None]:
    reset(sandbox.hubspot.url)
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)
    yield
    reset(sandbox.hubspot.url)
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)


@pytest.fixture
def stop_at_first(sandbox: Sandbox) -> Iterator[Callable[[CallStats, str, Stop], None]]:
    """Set a stop when an emulator receives its first call to an endpoint (that call is
    already on its way: it is answered)."""
    hooked: list[tuple[CallStats, Any]] = []

    def install(stats: CallStats, endpoint: str, stop: Stop) -> None:
        record = stats.record

        def recording(method: str, route_template: str) -> None:
            record(method, route_template)
            if f"{method.upper()} {route_template}" == endpoint:
                stop.set()

        hooked.append((stats, record))
        stats.record = recording  # type: ignore[method-assign]

    yield install
    for stats_, record in hooked:
        stats_.record = record  # type: ignore[method-assign]


def test_a_hubspot_write_stops_after_the_batch_in_flight_and_carries_it(
    sandbox: Sandbox, tmp_path: Path, stop_at_first: Callable[[CallStats, str, Stop], None]
) -> None:
    stop = Stop()
    adapter = HubSpotAdapter(
        settings_for(sandbox, tmp_path).hubspot, stop=stop, write_concurrency=1
    )
    contacts = [record.id for record in sandbox.hubspot.store.records("contacts")][:350]
    stop_at_first(sandbox.hubspot.emulator.stats, HS_BATCH, stop)
    with pytest.raises(StopRequested) as stopped:
        adapter.write(
            [
                WriteRequest(
                    object_type="contacts", record_id=contact, fields={"crmsync_lead_score": 77}
                )
                for contact in contacts
            ]
        )
    went_out = done_before(stopped.value)
    assert len(went_out) == 100, "the batch in flight, and nothing after it"
    assert all(result.ok for result in went_out.values())
    changed = {
        record.id
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_lead_score") == "77"
    }
    assert changed == {contacts[index] for index in went_out}
    assert stats(sandbox.hubspot.url)[HS_BATCH] == 1


def test_a_salesforce_write_stops_after_the_collection_in_flight_and_carries_it(
    sandbox: Sandbox, tmp_path: Path, stop_at_first: Callable[[CallStats, str, Stop], None]
) -> None:
    stop = Stop()
    adapter = SalesforceAdapter(
        settings_for(sandbox, tmp_path).salesforce, stop=stop, write_concurrency=1
    )
    store = sandbox.salesforce.store
    targets = [
        (object_type, record_id)
        for object_type in ("Lead", "Contact")
        for record_id, row in store.table(object_type).rows.items()
        if not row.get("IsDeleted") and not row.get("IsConverted")
    ][:450]
    assert len(targets) > 200, "more than one collection"
    stop_at_first(sandbox.salesforce.emulator.stats, SF_COLLECTIONS, stop)
    with pytest.raises(StopRequested) as stopped:
        adapter.write(
            [
                WriteRequest(
                    object_type=object_type, record_id=record_id, fields={"Lead_Score__c": 77}
                )
                for object_type, record_id in targets
            ]
        )
    went_out = done_before(stopped.value)
    assert sorted(went_out) == list(range(200)), "the collection in flight, nothing after it"
    changed = {
        record_id
        for object_type in ("Lead", "Contact")
        for record_id, row in store.table(object_type).rows.items()
        if row.get("Lead_Score__c") == 77
    }
    assert changed == {targets[index][1] for index in went_out}


def test_a_stop_wakes_a_hubspot_retry_waiting_out_a_429_window(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stop = Stop()
    adapter = HubSpotAdapter(settings_for(sandbox, tmp_path).hubspot, stop=stop)
    # Every call answered 429 with HubSpot's ten-second window: each retry waits 10 s.
    set_faults(sandbox.hubspot.url, FaultPlan(bursts=(Burst(after_calls=0, count=1000),)))
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        adapter.describe("contacts")
    assert time.monotonic() - started < 2
    assert stats(sandbox.hubspot.url)[HS_PROPERTIES] == 1, "no retry after the stop"


def test_a_stop_wakes_a_salesforce_backoff(sandbox: Sandbox, tmp_path: Path) -> None:
    stop = Stop()
    adapter = SalesforceAdapter(
        settings_for(sandbox, tmp_path).salesforce,
        stop=stop,
        policy=RetryPolicy(base=10.0, jitter=0.0),
    )
    set_faults(
        sandbox.salesforce.url,
        FaultPlan(bursts=(Burst(after_calls=0, count=1000, status=503),)),
        sandbox.salesforce.ca_file,
    )
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        adapter.describe("Lead")
    assert time.monotonic() - started < 2
    assert stats(sandbox.salesforce.url, sandbox.salesforce.ca_file)[SF_DESCRIBE] == 1


def test_a_stopped_adapter_makes_no_call(sandbox: Sandbox, tmp_path: Path) -> None:
    stop = Stop()
    stop.set()
    adapter = HubSpotAdapter(settings_for(sandbox, tmp_path).hubspot, stop=stop)
    with pytest.raises(StopRequested):
        list(adapter.pull_people("contacts", since=None, run_start=datetime.now(UTC), fields=[]))
    assert stats(sandbox.hubspot.url).get("POST /crm/v3/objects/{objectType}/search", 0) == 0
