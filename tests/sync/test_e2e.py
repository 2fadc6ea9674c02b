"""One sync cycle end to end: the real adapters and SDKs against both emulators, on SQLite and
PostgreSQL state stores. The CRMs are read back through the official SDKs, not our adapters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce.api import Salesforce

from connector.errors import RunLockedError
from connector.sandbox.runner import Sandbox
from connector.settings import Settings, load_settings
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.sync.wiring import connected

from ._support import reset

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("PATCH", "POST /crm/v3/objects/{objectType}/batch/update", "batch/upsert", "batch/create")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=21, people=300) as started:
        yield started


def settings_for(sandbox: Sandbox, state_url: str) -> Settings:
    saved = {k: v for k, v in os.environ.items() if k.startswith("CRMSYNC_")}
    try:
        for name in saved:
            del os.environ[name]
        os.environ.update(sandbox.env())
        os.environ["CRMSYNC_STATE_URL"] = state_url
        os.environ["CRMSYNC_MAPPINGS_DIR"] = str(ROOT / "mappings")
        os.environ["CRMSYNC_RULES_FILE"] = str(ROOT / "config" / "rules.yaml")
        return load_settings(config_file=ROOT / "config" / "crmsync.toml", env_file=None)
    finally:
        for name in [k for k in os.environ if k.startswith("CRMSYNC_")]:
            del os.environ[name]
        os.environ.update(saved)


def stats(sandbox: Sandbox) -> dict[str, int]:
    session = requests.Session()
    session.trust_env = False
    sf = session.get(
        f"{sandbox.salesforce.url}/__sandbox__/stats", verify=str(sandbox.salesforce.ca_file)
    ).json()
    hs = session.get(f"{sandbox.hubspot.url}/__sandbox__/stats").json()
    calls: dict[str, int] = {}
    for system, body in (("salesforce", sf), ("hubspot", hs)):
        for endpoint, count in body["calls"].items():
            calls[f"{system} {endpoint}"] = count
    return calls


def salesforce_writes(calls: dict[str, int]) -> int:
    return sum(
        count
        for endpoint, count in calls.items()
        if endpoint.startswith("salesforce ")
        and endpoint.split()[1] in ("PATCH", "POST", "DELETE")
        and "oauth2" not in endpoint
    )


def modification_stamps(sandbox: Sandbox) -> dict[str, object]:
    """Every record's modification stamp in both emulators: a write moves one."""
    stamps: dict[str, object] = {}
    for object_type in ("Lead", "Contact"):
        for record_id, row in sandbox.salesforce.store.table(object_type).rows.items():
            stamps[record_id] = row.get("SystemModstamp")
    for record in sandbox.hubspot.store.records("contacts"):
        stamps[f"hs{record.id}"] = record.props.get("lastmodifieddate")
    return stamps


def salesforce_stages(sandbox: Sandbox) -> dict[str, str]:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sandbox.salesforce.ca_file)
    client = Salesforce(
        instance_url=sandbox.salesforce.url,
        session_id=sandbox.salesforce.emulator.issue_token(),
        version="66.0",
        session=session,
    )
    found: dict[str, str] = {}
    for object_type in ("Lead", "Contact"):
        where = " AND IsConverted = false" if object_type == "Lead" else ""
        soql = (
            "SELECT Crmsync_Person_Id__c, Funnel_Stage__c FROM "  # noqa: S608 - fixed names
            f"{object_type} WHERE Crmsync_Person_Id__c != null{where}"
        )
        for row in client.query_all_iter(soql):
            found[row["Crmsync_Person_Id__c"]] = str(row["Funnel_Stage__c"]).lower()
    return found


def hubspot_stages(sandbox: Sandbox) -> dict[str, str]:
    client = HubSpot(access_token=sandbox.hubspot.access_token, host=sandbox.hubspot.url)
    found: dict[str, str] = {}
    after: Any = None
    while True:
        page = client.crm.contacts.basic_api.get_page(
            limit=100, after=after, properties=["crmsync_person_id", "crmsync_funnel_stage"]
        )
        for contact in page.results:
            person = contact.properties.get("crmsync_person_id")
            if person:
                found[person] = contact.properties.get("crmsync_funnel_stage") or ""
        if page.paging is None or page.paging.next is None:
            return found
        after = page.paging.next.after


def test_sync_converges_and_a_second_sync_writes_nothing(sandbox: Sandbox, state_url: str) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)

    with connected(settings) as engine:
        first = engine.sync()
    assert first.outcome is RunOutcome.SUCCEEDED, first.to_json()
    assert first.evaluated > 200
    assert first.written_total > 0

    # Every person linked in both CRMs shows the same funnel stage in both (read via the SDKs).
    sf, hs = salesforce_stages(sandbox), hubspot_stages(sandbox)
    both = set(sf) & set(hs)
    assert len(both) > 150
    assert {person for person in both if sf[person] != hs[person]} == set()

    before, stamped = stats(sandbox), modification_stamps(sandbox)
    with connected(settings) as engine:
        second = engine.sync()
    assert second.written_total == 0
    assert salesforce_writes(stats(sandbox)) == salesforce_writes(before)
    assert modification_stamps(sandbox) == stamped, "the second sync changed records"

    with StateStore.from_settings(settings) as store:
        assert store.dirty.count() == 0

    # Stronger than "the dirty people write nothing": re-evaluating everyone plans nothing.
    with connected(settings) as engine:
        engine.mark_everyone("check")
        plan, _ = engine.plan()
    assert [(r.record_id, [c.field for c in r.changes]) for r in plan.records] == []

    with StateStore.from_settings(settings) as store:
        runs = store.runs.recent(limit=2)
        assert [run.outcome for run in runs] == [RunOutcome.SUCCEEDED, RunOutcome.SUCCEEDED]
        assert store.dead_letters.list() == []


def test_a_second_engine_cannot_run_while_the_first_holds_the_lock(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, f"sqlite:///{tmp_path}/state.db")
    with connected(settings) as first, first._locked("first-run"):
        with connected(settings) as second, pytest.raises(RunLockedError) as refused:
            second.sync()
        assert "holds the lock" in str(refused.value)
