"""Every write is counted: the run report, the ``runs`` table and the metrics equal what the CRMs
received, however the run ends (success, a quota stop part-way through the writes, a stop
request). What the CRMs received is read from the emulators' own records (a write moves a
record's modification stamp; a create adds one), never from crmsync's reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.errors import System
from connector.sandbox.faults import FaultPlan
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.stopping import Stop
from connector.sync.engine import EngineOptions
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import reset
from .test_e2e import settings_for

CHUNK = 40


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=44, people=1200) as started:
        yield started


def _stamps(sandbox: Sandbox) -> dict[System, dict[str, object]]:
    salesforce: dict[str, object] = {}
    for object_type in ("Lead", "Contact"):
        for record_id, row in sandbox.salesforce.store.table(object_type).rows.items():
            salesforce[record_id] = row.get("SystemModstamp")
    hubspot: dict[str, object] = {
        record.id: record.props.get("lastmodifieddate")
        for record in sandbox.hubspot.store.records("contacts")
    }
    return {System.SALESFORCE: salesforce, System.HUBSPOT: hubspot}


def _received(
    before: dict[System, dict[str, object]], after: dict[System, dict[str, object]]
) -> dict[System, int]:
    """Records each CRM received a write for: stamps that moved, and records that are new."""
    return {
        system: sum(1 for key, stamp in after[system].items() if before[system].get(key) != stamp)
        for system in after
    }


def _written(report: RunReport) -> dict[System, int]:
    """Records the report says each CRM received a write for (whole or, when a stop fell
    between a clear and its set, partial)."""
    found = dict.fromkeys(System, 0)
    for label, count in (report.written + report.partial).items():
        found[System(label.split(".")[0])] += count
    return found


def _daily_used(sandbox: Sandbox, system: System) -> int:
    if system is System.SALESFORCE:
        return sandbox.salesforce.emulator.api_usage()[0]
    return sandbox.hubspot.emulator.limiter.usage()["daily_used"]


@pytest.mark.parametrize("system", [System.SALESFORCE, System.HUBSPOT])
def test_a_quota_stop_part_way_through_the_writes_reports_every_record_written(
    sandbox: Sandbox, tmp_path: Path, system: System
) -> None:
    # One chunk for everyone: each CRM's writes span several batches of one kind, sent side by
    # side. The daily allowance runs out after the first write batches: some batches of that
    # one call go out, the rest are refused.
    options = EngineOptions(chunk=5000)
    reset(sandbox)
    dry = settings_for(sandbox, f"sqlite:///{tmp_path / 'dry.db'}")
    with connected(dry, options=options) as engine:
        engine.plan()
    reads = _daily_used(sandbox, system)  # what a first run spends before it writes

    reset(sandbox)
    plan = FaultPlan(daily_quota_remaining=reads + 2)
    if system is System.SALESFORCE:
        sandbox.salesforce.emulator.set_faults(plan)
    else:
        sandbox.hubspot.emulator.apply_faults(plan)
    settings = settings_for(sandbox, f"sqlite:///{tmp_path / 'state.db'}")
    before = _stamps(sandbox)
    with connected(settings, options=options) as engine:
        report = engine.sync()
    received = _received(before, _stamps(sandbox))

    assert report.outcome is RunOutcome.STOPPED_ON_QUOTA
    assert 0 < received[system] < len(before[system])
    assert _written(report) == received
    with StateStore.from_settings(settings) as store:
        (run,) = [run for run in store.runs.recent(limit=5) if run.id == report.run_id]
        # What was written is recorded as crmsync's own: the next run writes only the rest.
        assert len(store.provenance.written_by_person(store.people.ids(limit=5000))) > 0
    assert run.counts["written"] + run.counts["written_partially"] == sum(received.values())
    assert run.counts["written"] == report.written_total


def test_a_stop_request_reports_every_record_written(sandbox: Sandbox, sqlite_url: str) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    stop = Stop()

    def progress(stream: str, count: int) -> None:
        if stream == "people":
            stop.set()

    before = _stamps(sandbox)
    with connected(
        settings, options=EngineOptions(chunk=CHUNK), progress=progress, stop=stop
    ) as engine:
        report = engine.sync()
    received = _received(before, _stamps(sandbox))

    assert report.outcome is RunOutcome.INTERRUPTED
    assert sum(received.values()) > 0
    assert _written(report) == received
    with StateStore.from_settings(settings) as store:
        (run,) = [run for run in store.runs.recent(limit=5) if run.id == report.run_id]
    assert run.counts["written"] + run.counts["written_partially"] == sum(received.values())
