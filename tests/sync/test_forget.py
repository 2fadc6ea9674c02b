"""Erasure requests: ``crmsync forget EMAIL --in-crms`` deletes the person's records in both
CRMs through their APIs, then erases the state store; the adapters' ``delete`` batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.crm.connect import connect
from connector.crm.types import DeleteRequest
from connector.errors import System
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.sync.wiring import connected

from ._support import calls, reset, run_cli, write_env_file
from .test_e2e import settings_for

SF_DELETE = "salesforce DELETE /services/data/{version:str}/composite/sobjects"
HS_BATCH = "hubspot POST /crm/v3/objects/{objectType}/batch/{action}"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=51, people=320) as started:
        yield started


def live_emails(sandbox: Sandbox) -> dict[str, list[str]]:
    """Live records by normalised e-mail address, in both CRMs."""
    found: dict[str, list[str]] = {}
    for object_type in ("Lead", "Contact"):
        for record_id, row in sandbox.salesforce.store.table(object_type).rows.items():
            if row.get("Email") and not row.get("IsDeleted"):
                found.setdefault(str(row["Email"]).lower(), []).append(record_id)
    for record in sandbox.hubspot.store.records("contacts"):
        if record.props.get("email"):
            found.setdefault(record.props["email"].lower(), []).append(f"hs{record.id}")
    return found


def test_forget_in_crms_deletes_everywhere_and_a_later_sync_brings_nothing_back(
    sandbox: Sandbox, tmp_path: Path, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()

    # Someone linked in both CRMs whose address no record outside their own carries (crmsync
    # deletes what it linked; a duplicate it left unlinked as ambiguous is not its to delete).
    live = live_emails(sandbox)
    with StateStore.from_settings(settings) as store:
        chosen = None
        for person_id in store.people.ids(limit=400):
            links = store.links.for_person(person_id, include_history=True)
            record = store.people.get(person_id)
            systems = {link.ref.system for link in links}
            if record is None or not record.person.email or len(systems) != 2:
                continue
            active = [link for link in links if link.active]
            if len(live.get(record.person.email, [])) == len(active):
                chosen = (record.person.email, [link.ref for link in links])
                break
    assert chosen is not None
    email, refs = chosen
    assert len(live[email]) >= 2

    env = write_env_file(sandbox, tmp_path / "sync.env", state_url)
    code, output = run_cli(env, "forget", email.upper(), "--in-crms", cwd=tmp_path)
    assert code == 0, output
    assert f"deleted {len(refs)} records in the CRMs" in output
    assert "erased 1 people" in output
    assert email not in output

    assert email not in live_emails(sandbox)
    for ref in refs:
        if ref.system is System.SALESFORCE:
            assert sandbox.salesforce.store.table(ref.object_type).rows[ref.record_id]["IsDeleted"]
        else:
            assert ref.record_id in sandbox.hubspot.store.table("contacts").archived
    with StateStore.from_settings(settings) as store:
        assert store.people.by_email(email) == []
        assert all(store.links.active(ref) is None for ref in refs)

    # The next sync reads the deletions; the erased person must not come back anywhere.
    with connected(settings) as engine:
        engine.sync()
    assert email not in live_emails(sandbox)
    with StateStore.from_settings(settings) as store:
        assert store.people.by_email(email) == []

    # Asking again is harmless: the records are gone, the state store no longer knows them.
    code, output = run_cli(env, "forget", email, "--in-crms", cwd=tmp_path)
    assert code == 1
    assert "no person with that address is stored" in output


def test_the_adapters_delete_in_batches_and_count_gone_records_as_deleted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reset(sandbox)
    adapters = connect(settings_for(sandbox, f"sqlite:///{tmp_path / 'state.db'}"))
    leads = sorted(
        record_id
        for record_id, row in sandbox.salesforce.store.table("Lead").rows.items()
        if not row["IsDeleted"] and not row["IsConverted"]
    )[:220]
    assert len(leads) == 220
    requests = [DeleteRequest(object_type="Lead", record_id=i) for i in leads]
    assert all(r.ok for r in adapters.salesforce.delete(requests[:5]))
    before = calls(sandbox)
    results = adapters.salesforce.delete(requests)  # the first five are already deleted
    assert [r.requested_id for r in results] == leads
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert calls(sandbox)[SF_DELETE] - before[SF_DELETE] == 2  # 220 ids: 200 + 20
    assert all(sandbox.salesforce.store.table("Lead").rows[i]["IsDeleted"] for i in leads)
    refused = adapters.salesforce.delete([DeleteRequest(object_type="Contact", record_id="x")])
    assert not refused[0].ok
    assert refused[0].code == "MALFORMED_ID"

    contacts = sorted(record.id for record in sandbox.hubspot.store.records("contacts"))[:150]
    before = calls(sandbox)
    results = adapters.hubspot.delete(
        [DeleteRequest(object_type="contacts", record_id=i) for i in contacts]
    )
    assert [r.requested_id for r in results] == contacts
    assert all(r.ok for r in results)
    assert calls(sandbox)[HS_BATCH] - before.get(HS_BATCH, 0) == 2  # 100 + 50
    live = {record.id for record in sandbox.hubspot.store.records("contacts")}
    assert live.isdisjoint(contacts)
