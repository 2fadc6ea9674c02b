"""The Salesforce adapter against the Salesforce emulator over TLS (simple-salesforce, real
sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.crm import CrmSink, CrmSource, Cursor, UpsertRequest, WriteRequest
from connector.crm.salesforce import SalesforceAdapter
from connector.crm.types import RawRecord
from connector.errors import QuotaExhaustedError
from connector.sandbox.faults import FaultPlan
from connector.sandbox.runner import Sandbox

from .conftest import reset, set_faults, settings_for, stats

FIELDS = ["FirstName", "Status", "Funnel_Stage__c", "Lead_Score__c"]
QUERY_ALL = "GET /services/data/{version:str}/queryAll"
COLLECTIONS = "PATCH /services/data/{version:str}/composite/sobjects"
TOKEN = "POST /services/oauth2/token"


@pytest.fixture
def sf(sandbox: Sandbox, tmp_path: Path) -> Iterator[SalesforceAdapter]:
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)
    settings = settings_for(sandbox, tmp_path)
    yield SalesforceAdapter(settings.salesforce, sleep=lambda _: None)
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)


def sf_stats(sandbox: Sandbox) -> dict[str, int]:
    return stats(sandbox.salesforce.url, sandbox.salesforce.ca_file)


def pull_all(
    adapter: SalesforceAdapter,
    object_type: str,
    run_start: datetime,
    since: Cursor | None = None,
    fields: list[str] | None = None,
) -> list[RawRecord]:
    records: list[RawRecord] = []
    pages = list(
        adapter.pull_people(
            object_type,
            since=since,
            run_start=run_start,
            fields=fields if fields is not None else FIELDS,
        )
    )
    assert pages[-1].done
    assert pages[-1].cursor.watermark == run_start
    for page in pages:
        records.extend(page.records)
    return records


def test_the_adapter_satisfies_both_protocols(sf: SalesforceAdapter) -> None:
    assert isinstance(sf, CrmSource)
    assert isinstance(sf, CrmSink)


def test_pull_is_complete_ordered_and_each_id_once(sf: SalesforceAdapter, sandbox: Sandbox) -> None:
    run_start = datetime.now(UTC)
    leads = pull_all(sf, "Lead", run_start)
    counts = sandbox.salesforce.store.counts()["Lead"]
    assert len(leads) == counts["live"] + counts["deleted"]
    assert len({r.id for r in leads}) == len(leads)
    keys = [(r.modified_at, r.id) for r in leads]
    assert keys == sorted(keys)
    assert all(r.modified_at < run_start for r in leads)
    assert set(leads[0].fields) == {"Email", *FIELDS}
    assert any(r.converted and r.converted_contact_id for r in leads)


def test_incremental_pull_reads_only_the_window(sf: SalesforceAdapter, sandbox: Sandbox) -> None:
    run_start = datetime.now(UTC)
    everything = pull_all(sf, "Contact", run_start, fields=["Title"])
    newest = max(r.modified_at for r in everything)
    since = Cursor(watermark=newest + timedelta(seconds=sf.settings.lookback_seconds))
    changed = pull_all(sf, "Contact", run_start, since=since, fields=["Title"])
    assert [r.id for r in changed] == [r.id for r in everything if r.modified_at >= newest]


def test_large_backfills_use_bulk_api_2(sandbox: Sandbox, tmp_path: Path) -> None:
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)
    settings = settings_for(sandbox, tmp_path, salesforce={"bulk_threshold": 10})
    adapter = SalesforceAdapter(settings.salesforce, sleep=lambda _: None)
    # Values CSV must quote or carry as they are; both readings must agree on them exactly.
    hostile = ("Ada\x00Lovelace", 'O\'Brien, "Q"', "line one\r\nline two\rthree", "😀 𝔘", " x ")
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    for index, first_name in enumerate(hostile):
        sandbox.salesforce.store.put(
            "Lead",
            {"FirstName": first_name, "LastName": f"H{index}", "Company": "Acme"},
            stamp=earlier,
            created=earlier,
        )
    run_start = datetime.now(UTC)
    via_bulk = pull_all(adapter, "Lead", run_start)
    assert set(hostile) <= {r.fields.get("FirstName") for r in via_bulk}
    calls = sf_stats(sandbox)
    assert calls.get("POST /services/data/{version:str}/jobs/query", 0) == 1
    assert calls[QUERY_ALL] == 1  # only the COUNT() went through REST
    rest = SalesforceAdapter(settings_for(sandbox, tmp_path).salesforce, sleep=lambda _: None)
    via_rest = pull_all(rest, "Lead", run_start)
    assert sorted(r.id for r in via_bulk) == sorted(r.id for r in via_rest)
    by_id = {r.id: r for r in via_rest}
    for record in via_bulk:
        assert record.fields == by_id[record.id].fields
        assert record.converted == by_id[record.id].converted


def test_activity_for_people(sf: SalesforceAdapter) -> None:
    run_start = datetime.now(UTC)
    contacts = pull_all(sf, "Contact", run_start, fields=[])
    leads = pull_all(sf, "Lead", run_start, fields=[])
    ids = [r.id for r in contacts + leads]
    activity = list(sf.pull_activity(ids, since=None, run_start=run_start))
    kinds = {a.object_type for a in activity}
    assert {"Task", "CampaignMember"} <= kinds
    assert all(set(a.person_ids) & set(ids) for a in activity)
    assert len({(a.object_type, a.id) for a in activity}) == len(activity)


def test_describe_is_cached_per_run(sf: SalesforceAdapter, sandbox: Sandbox) -> None:
    first = sf.describe("Lead")
    assert sf.describe("Lead") is first
    status = first.fields["Status"]
    assert status.restricted_picklist
    assert "Working - Contacted" in status.picklist_values
    assert not first.fields["IsConverted"].updateable
    assert first.fields["Crmsync_Person_Id__c"].external_id
    assert (
        sf_stats(sandbox)["GET /services/data/{version:str}/sobjects/{sobject:str}/describe"] == 1
    )


def test_writes_classify_each_record(sf: SalesforceAdapter) -> None:
    run_start = datetime.now(UTC)
    contacts = pull_all(sf, "Contact", run_start, fields=[])[:3]
    results = sf.write(
        [
            WriteRequest(
                object_type="Contact", record_id=contacts[0].id, fields={"Lead_Score__c": 42}
            ),
            WriteRequest(
                object_type="Contact",
                record_id=contacts[1].id,
                fields={"Funnel_Stage__c": "Not a stage"},
            ),
            WriteRequest(
                object_type="Contact",
                record_id=contacts[2].id,
                fields={"Score_Reason__c": "x" * 300},
            ),
        ]
    )
    assert [r.status.value for r in results] == ["written", "rejected", "rejected"]
    assert results[1].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[2].code == "STRING_TOO_LONG"


def test_a_write_to_a_converted_lead_goes_to_its_contact(
    sf: SalesforceAdapter, sandbox: Sandbox
) -> None:
    run_start = datetime.now(UTC)
    converted = next(r for r in pull_all(sf, "Lead", run_start) if r.converted)
    before = sf_stats(sandbox).get(COLLECTIONS, 0)
    [result] = sf.write(
        [WriteRequest(object_type="Lead", record_id=converted.id, fields={"Lead_Score__c": 77})]
    )
    assert result.ok
    assert result.requested_id == converted.id
    assert (result.written_object_type, result.record_id) == (
        "Contact",
        converted.converted_contact_id,
    )
    # One call refused for the Lead, one for the Contact: the Lead is never retried.
    assert sf_stats(sandbox)[COLLECTIONS] - before == 2
    contact = sandbox.salesforce.store.get(converted.converted_contact_id or "")
    assert contact is not None
    assert contact["Lead_Score__c"] == 77


def test_upsert_on_the_external_id_never_duplicates(
    sf: SalesforceAdapter, sandbox: Sandbox
) -> None:
    requests = [
        UpsertRequest(
            object_type="Lead",
            external_id=f"crm-{n}",
            fields={"LastName": f"Person {n}", "Company": "Acme"},
        )
        for n in range(3)
    ]
    first = sf.upsert(requests)
    again = sf.upsert(requests)
    assert [r.created for r in first] == [True, True, True]
    assert [r.created for r in again] == [False, False, False]
    assert [r.record_id for r in first] == [r.record_id for r in again]


def test_an_expired_session_is_renewed_once(sf: SalesforceAdapter, sandbox: Sandbox) -> None:
    set_faults(
        sandbox.salesforce.url, FaultPlan(expire_session_after_calls=2), sandbox.salesforce.ca_file
    )
    run_start = datetime.now(UTC)
    for _ in range(3):
        pull_all(sf, "Contact", run_start, fields=[])
    assert sf_stats(sandbox)[TOKEN] >= 2


def test_the_daily_quota_stops_the_run_without_retrying(
    sf: SalesforceAdapter, sandbox: Sandbox
) -> None:
    set_faults(
        sandbox.salesforce.url, FaultPlan(daily_quota_remaining=0), sandbox.salesforce.ca_file
    )
    with pytest.raises(QuotaExhaustedError) as caught:
        pull_all(sf, "Lead", datetime.now(UTC))
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert sum(v for k, v in sf_stats(sandbox).items() if "/services/data/" in k) == 1


def test_the_run_stops_at_its_share_of_the_allowance(sandbox: Sandbox, tmp_path: Path) -> None:
    reset(sandbox.salesforce.url, sandbox.salesforce.ca_file)
    # 15,000 a day at 0.0002 is 3 calls for this run.
    settings = settings_for(sandbox, tmp_path, salesforce={"max_daily_share": 0.0002})
    adapter = SalesforceAdapter(settings.salesforce, sleep=lambda _: None)
    run_start = datetime.now(UTC)
    pull_all(adapter, "Contact", run_start, fields=[])  # COUNT() and one page: 2 calls
    adapter.describe("Contact")  # the third
    with pytest.raises(QuotaExhaustedError, match="this run has spent 3 of the 3"):
        pull_all(adapter, "Contact", run_start, fields=[])
    assert sum(v for k, v in sf_stats(sandbox).items() if "/services/data/" in k) == 3


def test_records_seen_for_the_first_time_bring_all_their_activity(
    sf: SalesforceAdapter,
) -> None:
    """In an incremental run the window queries return only recent activity; a Lead or Contact
    linked for the first time (ambiguous until now, say) needs its older activity too."""
    run_start = datetime.now(UTC)
    people = pull_all(sf, "Contact", run_start, fields=[]) + pull_all(
        sf, "Lead", run_start, fields=[]
    )
    first = {r.id for r in people[:250]}  # more than one IN list of 200
    everything = {
        (a.object_type, a.id)
        for a in sf.pull_activity(sorted(first), since=None, run_start=run_start)
        if set(a.person_ids) & first
    }
    later = datetime.now(UTC)
    windowed = {
        (a.object_type, a.id) for a in sf.pull_activity(sorted(first), since=later, run_start=later)
    }
    assert {kind for kind, _ in everything} >= {"Task", "CampaignMember"}
    assert everything <= windowed


def test_people_are_read_by_id(sf: SalesforceAdapter, sandbox: Sandbox) -> None:
    run_start = datetime.now(UTC)
    leads = {r.id: r for r in pull_all(sf, "Lead", run_start, fields=["Status", "Email"])}
    wanted = [*sorted(leads)[:250], "00Q000000000000AAA"]
    got = sf.read_people("Lead", wanted, fields=["Status", "Email"])
    assert sorted(r.id for r in got) == wanted[:250]
    assert all(r == leads[r.id] for r in got)


def test_records_created_inside_the_window_need_no_history_read(
    sf: SalesforceAdapter, sandbox: Sandbox
) -> None:
    """A Lead created since the last run cannot have activity older than itself: the window
    queries already hold all of it, so it costs no ``IN``-list queries; an older record does."""
    old = pull_all(sf, "Lead", datetime.now(UTC), fields=[])[0].id
    before = datetime.now(UTC).replace(microsecond=0)
    lookback = timedelta(seconds=sf.settings.lookback_seconds)
    (created,) = sf.upsert(
        [
            UpsertRequest(
                object_type="Lead",
                external_id="p-window-new",
                fields={"LastName": "Okafor", "Company": "Harbourline", "Email": "io@hl.example"},
            )
        ]
    )
    assert created.ok
    run_start = datetime.now(UTC) + timedelta(seconds=1)
    changed = pull_all(sf, "Lead", run_start, since=Cursor(watermark=before + lookback), fields=[])
    new = next(r for r in changed if r.id == created.record_id)
    assert new.created_at is not None
    assert new.created_at >= before

    def queries(ids: list[str]) -> int:
        start = sf_stats(sandbox).get(QUERY_ALL, 0)
        list(sf.pull_activity(ids, since=before + lookback, run_start=run_start))
        return sf_stats(sandbox)[QUERY_ALL] - start

    window = queries([new.id])
    assert window == 4  # Task, Event, CampaignMember, opportunity roles: the window only
    assert queries([new.id, old]) == window + 3  # the old Lead's history: Task, Event, members
