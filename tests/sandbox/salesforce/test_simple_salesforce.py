"""simple-salesforce itself (not crmsync's wrappers) against the emulator over HTTPS."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql

from connector.sandbox.faults import FaultPlan
from tests.sandbox.salesforce.conftest import SalesforceApi, Served, error_body

BATCH_200 = {"Sforce-Query-Options": "batchSize=200"}


def _live_leads(served: Served) -> list[str]:
    rows = served.emulator.store.table("Lead").rows.values()
    return [row["Id"] for row in rows if not row["IsDeleted"]]


def test_query_all_iter_pages_with_a_small_batch_size(sf: SalesforceApi, served: Served) -> None:
    leads = _live_leads(served)
    assert len(leads) > 400  # several pages of 200
    records = list(sf.query_all_iter("SELECT Id, Email FROM Lead", headers=BATCH_200))
    assert [record["Id"] for record in records] == leads
    query_more = served.emulator.stats.count(
        "GET", "/services/data/{version:str}/query/{locator:str}"
    )
    assert query_more == -(-len(leads) // 200) - 1
    assert sf.api_usage["api-usage"].used == query_more + 1


def test_first_page_holds_batch_size_records_and_a_relative_next_url(sf: SalesforceApi) -> None:
    page = sf.query(
        "SELECT Id FROM Lead ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=250"}
    )
    assert len(page["records"]) == 250
    assert page["done"] is False
    assert page["nextRecordsUrl"].startswith("/services/data/v66.0/query/")
    assert page["records"][0]["attributes"]["type"] == "Lead"
    too_small = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(too_small["records"]) == 200  # Salesforce's minimum batch size


def test_query_all_returns_a_deleted_row_and_query_does_not(
    sf: SalesforceApi, served: Served
) -> None:
    victim = _live_leads(served)[3]
    sf.Lead.delete(victim)
    soql = format_soql("SELECT Id, IsDeleted FROM Lead WHERE Id = {}", victim)
    assert sf.query(soql)["totalSize"] == 0
    found = sf.query_all(soql, include_deleted=True)
    assert found["records"][0]["IsDeleted"] is True
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Lead.get(victim)
    assert error_body(raised.value)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_count_query_answers_total_size(sf: SalesforceApi, served: Served) -> None:
    result = sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = false")
    expected = sum(
        1
        for row in served.emulator.store.table("Lead").rows.values()
        if not row["IsConverted"] and not row["IsDeleted"]
    )
    assert result["totalSize"] == expected
    assert result["records"] == []


def test_describe_reports_custom_fields_and_restricted_picklists(sf: SalesforceApi) -> None:
    described = sf.Lead.describe()
    fields = {field["name"]: field for field in described["fields"]}
    assert described["keyPrefix"] == "00Q"
    stage = fields["Funnel_Stage__c"]
    assert stage["custom"] is True
    assert stage["restrictedPicklist"] is True
    assert [value["value"] for value in stage["picklistValues"]] == [
        "Lead", "Prospect", "Opportunity", "Customer", "Disqualified",
    ]  # fmt: skip
    assert fields["Crmsync_Person_Id__c"]["externalId"] is True
    assert fields["AnnualRevenue"]["type"] == "currency"
    assert fields["SystemModstamp"]["updateable"] is False
    status_default = [v["value"] for v in fields["Status"]["picklistValues"] if v["defaultValue"]]
    assert status_default == ["Open - Not Contacted"]


def test_collection_patch_mixes_success_and_failure_with_http_200(
    sf: SalesforceApi, served: Served
) -> None:
    good, converted = (
        _live_leads(served)[0],
        next(
            row["Id"]
            for row in served.emulator.store.table("Lead").rows.values()
            if row["IsConverted"]
        ),
    )
    before = served.emulator.store.table("Lead").rows[good]["SystemModstamp"]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Lead"}, "id": good, "Funnel_Stage__c": "Prospect"},
                {"attributes": {"type": "Lead"}, "id": good, "Funnel_Stage__c": "Hot"},
                {"attributes": {"type": "Lead"}, "id": converted, "Lead_Score__c": 50},
                {"attributes": {"type": "Lead"}, "id": good, "Lead_Score__c": 140},
                {"attributes": {"type": "Lead"}, "id": good, "Title": "x" * 129},
            ],
        },
    )
    assert results[0] == {"id": good, "success": True, "errors": []}
    codes = [result["errors"][0]["statusCode"] for result in results[1:]]
    assert codes == [
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "STRING_TOO_LONG",
    ]
    assert results[1]["errors"][0]["fields"] == ["Funnel_Stage__c"]
    row = served.emulator.store.table("Lead").rows[good]
    assert row["Funnel_Stage__c"] == "Prospect"
    assert row["SystemModstamp"] > before


def test_all_or_none_rolls_every_record_back(sf: SalesforceApi, served: Served) -> None:
    first, second = _live_leads(served)[:2]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Lead"}, "id": first, "Funnel_Stage__c": "Customer"},
                {"attributes": {"type": "Lead"}, "id": second, "Funnel_Stage__c": "Nope"},
            ],
        },
    )
    assert [r["success"] for r in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert served.emulator.store.table("Lead").rows[first]["Funnel_Stage__c"] != "Customer"


def test_201_records_in_one_collection_call_are_refused(sf: SalesforceApi, served: Served) -> None:
    lead = _live_leads(served)[0]
    records = [{"attributes": {"type": "Lead"}, "id": lead, "Lead_Score__c": 1}] * 201
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert error_body(raised.value)[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert served.emulator.store.table("Lead").rows[lead].get("Lead_Score__c") is None
    accepted = sf.restful("composite/sobjects", method="PATCH", json={"records": records[:200]})
    assert len(accepted) == 200
    assert all(result["success"] for result in accepted)


def test_upsert_by_external_id_reports_created(sf: SalesforceApi) -> None:
    body: dict[str, Any] = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Lead"}, "Crmsync_Person_Id__c": "person-1",
             "LastName": "Okafor", "Company": "Acme", "Funnel_Stage__c": "Lead"},
        ],
    }  # fmt: skip
    created = sf.restful("composite/sobjects/Lead/Crmsync_Person_Id__c", method="PATCH", json=body)
    assert created[0]["created"] is True
    assert created[0]["success"] is True
    body["records"][0]["Funnel_Stage__c"] = "Prospect"
    updated = sf.restful("composite/sobjects/Lead/Crmsync_Person_Id__c", method="PATCH", json=body)
    assert updated[0] == {"id": created[0]["id"], "success": True, "errors": [], "created": False}
    assert sf.Lead.get(created[0]["id"])["Funnel_Stage__c"] == "Prospect"


def test_bulk2_query_returns_every_row_as_csv(sf: SalesforceApi, served: Served) -> None:
    pages = list(
        sf.bulk2.Lead.query("SELECT Id, Email, SystemModstamp FROM Lead", max_records=150, wait=0)
    )
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(pages) > 2
    assert [row["Id"] for row in rows] == _live_leads(served)
    assert rows[0]["SystemModstamp"].endswith(".000Z")


def test_bulk2_query_all_includes_deleted_rows(sf: SalesforceApi, served: Served) -> None:
    victim = _live_leads(served)[0]
    sf.Lead.delete(victim)
    pages = list(
        sf.bulk2.Lead.query_all(
            format_soql("SELECT Id, IsDeleted FROM Lead WHERE Id = {}", victim), wait=0
        )
    )
    rows = list(csv.DictReader(io.StringIO(pages[0])))
    assert rows == [{"Id": victim, "IsDeleted": "true"}]


def test_expired_session_is_a_401_simple_salesforce_understands(served: Served) -> None:
    sf = served.client()
    served.emulator.sessions.revoke_all()
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert raised.value.status == 401
    assert error_body(raised.value) == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_spent_daily_allocation_is_a_403_request_limit_exceeded(served: Served) -> None:
    served.emulator.set_faults(FaultPlan(daily_quota_remaining=1))
    sf = served.client()
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.api_usage["api-usage"].used == sf.api_usage["api-usage"].total
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert error_body(raised.value)[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert error_body(raised.value)[0]["message"] == "TotalRequests Limit exceeded."


def test_soql_errors_surface_as_malformed_requests(sf: SalesforceApi) -> None:
    cases = {
        "SELECT Id FROM Lead WHERE": "MALFORMED_QUERY",
        "SELECT Nope__c FROM Lead": "INVALID_FIELD",
        "SELECT Id FROM Leed": "INVALID_TYPE",
        "SELECT Id FROM Lead WHERE CreatedDate > '2026-01-01'": "INVALID_FIELD",
    }
    for soql, code in cases.items():
        with pytest.raises(SalesforceMalformedRequest) as raised:
            sf.query(soql)
        assert error_body(raised.value)[0]["errorCode"] == code, soql


def test_injected_503_is_server_unavailable(served: Served) -> None:
    served.emulator.set_faults(FaultPlan(error_rates={503: 1.0}))
    with pytest.raises(SalesforceGeneralError) as raised:
        served.client().query("SELECT Id FROM Lead LIMIT 1")
    assert raised.value.status == 503
    assert error_body(raised.value)[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_updated_and_deleted_windows(sf: SalesforceApi, served: Served) -> None:
    from datetime import UTC, datetime, timedelta

    lead = _live_leads(served)[5]
    other = _live_leads(served)[6]
    sf.Lead.update(lead, {"Funnel_Stage__c": "Prospect"})
    sf.Lead.delete(other)
    now = datetime.now(UTC)
    window = (now - timedelta(minutes=5), now + timedelta(minutes=2))
    assert lead in sf.Lead.updated(*window)["ids"]
    deleted = sf.Lead.deleted(*window)["deletedRecords"]
    assert [entry["id"] for entry in deleted] == [other]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.deleted(now - timedelta(days=16), now)
    assert error_body(raised.value)[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_single_record_crud_and_upsert(sf: SalesforceApi, served: Served) -> None:
    created = sf.Lead.create({"LastName": "Mensah", "Company": "Beacon", "Email": "k@beacon.io"})
    assert created["success"] is True
    lead = sf.Lead.get(created["id"])
    assert lead["Status"] == "Open - Not Contacted"
    assert lead["CreatedDate"] == lead["SystemModstamp"]
    assert sf.Lead.update(created["id"], {"Title": "CTO"}) == 204
    assert sf.Lead.upsert("Crmsync_Person_Id__c/p-77", {"LastName": "Obi", "Company": "X"}) == 201
    assert sf.Lead.upsert("Crmsync_Person_Id__c/P-77", {"Title": "VP Sales"}) == 200
    fetched = sf.Lead.get_by_custom_id("Crmsync_Person_Id__c", "p-77")
    assert fetched["Title"] == "VP Sales"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "NoCompany"})
    assert error_body(raised.value)[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.delete(created["id"])


def test_bulk2_jobs_can_be_aborted_and_deleted(sf: SalesforceApi, served: Served) -> None:
    session = served.session()
    session.headers["Authorization"] = f"Bearer {served.emulator.issue_token()}"
    base = f"{served.url}/services/data/v66.0/jobs/query"
    job = session.post(base, json={"operation": "query", "query": "SELECT Id FROM Lead"}).json()
    assert job["state"] == "UploadComplete"
    assert job["object"] == "Lead"
    aborted = session.patch(f"{base}/{job['id']}", json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    assert session.get(f"{base}/{job['id']}/results").status_code == 400
    assert session.delete(f"{base}/{job['id']}").status_code == 204
    assert session.get(f"{base}/{job['id']}").status_code == 404
    refused = session.post(base, json={"operation": "query", "query": "SELECT COUNT() FROM Lead"})
    assert refused.status_code == 400
