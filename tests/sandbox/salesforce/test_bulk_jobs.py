"""Bulk API 2.0 job states, and Bulk API 1.0 query jobs as tap-salesforce and simple-salesforce
drive them (tap-salesforce's calls replayed with requests and its exact headers)."""

from __future__ import annotations

import csv
import io
import json
import time
from xml.etree import ElementTree

import pytest
import requests

from connector.sandbox.faults import FaultPlan
from connector.sandbox.salesforce import bulk1
from tests.sandbox.salesforce.conftest import API_VERSION, SalesforceApi, Served

NS = {"sf": "http://www.force.com/2009/06/asyncapi/dataload"}


def _live(served: Served, sobject: str) -> list[str]:
    rows = served.emulator.store.table(sobject).rows.values()
    return [row["Id"] for row in rows if not row["IsDeleted"]]


def test_bulk2_jobs_pass_through_in_progress(sf: SalesforceApi, served: Served) -> None:
    served.emulator.set_faults(FaultPlan(bulk_processing_seconds=0.4))
    session = served.session()
    session.headers["Authorization"] = f"Bearer {served.emulator.issue_token()}"
    base = f"{served.url}/services/data/v{API_VERSION}/jobs/query"
    job = session.post(base, json={"operation": "query", "query": "SELECT Id FROM Lead"}).json()
    assert job["state"] == "UploadComplete"
    polled = session.get(f"{base}/{job['id']}").json()
    assert polled["state"] == "InProgress"
    assert polled["numberRecordsProcessed"] == 0
    assert session.get(f"{base}/{job['id']}/results").status_code == 400
    time.sleep(0.45)
    assert session.get(f"{base}/{job['id']}").json()["state"] == "JobComplete"
    # simple-salesforce's own polling waits it out.
    pages = list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0.1))
    assert sum(len(page.splitlines()) - 1 for page in pages) == len(_live(served, "Lead"))


def _xml(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)  # noqa: S314 - the test's own emulator answered


class TapBulk:
    """The requests tap-salesforce's ``Bulk`` class makes (tap_salesforce/salesforce/bulk.py)."""

    def __init__(self, served: Served) -> None:
        self.http = served.session()
        self.token = served.emulator.issue_token()
        self.base = f"{served.url}/services/async/{API_VERSION}"

    def headers(self, content_type: str = "application/json") -> dict[str, str]:
        return {"X-SFDC-Session": self.token, "Content-Type": content_type}

    def create_job(self, sobject: str) -> requests.Response:
        body = {"operation": "queryAll", "object": sobject, "contentType": "CSV"}
        headers = self.headers() | {"Sforce-Disable-Batch-Retry": "true"}
        return self.http.post(f"{self.base}/job", headers=headers, data=json.dumps(body))

    def add_batch(self, job_id: str, soql: str) -> ElementTree.Element:
        answer = self.http.post(
            f"{self.base}/job/{job_id}/batch", headers=self.headers("text/csv"), data=soql
        )
        assert answer.status_code == 201, answer.text
        return _xml(answer.content)

    def close_job(self, job_id: str) -> None:
        answer = self.http.post(
            f"{self.base}/job/{job_id}",
            headers=self.headers(),
            data=json.dumps({"state": "Closed"}),
        )
        answer.raise_for_status()
        assert answer.json()["state"] == "Closed"

    def batch_state(self, job_id: str, batch_id: str) -> ElementTree.Element:
        answer = self.http.get(f"{self.base}/job/{job_id}/batch/{batch_id}", headers=self.headers())
        answer.raise_for_status()
        return _xml(answer.content)

    def results(self, job_id: str, batch_id: str) -> list[dict[str, str]]:
        url = f"{self.base}/job/{job_id}/batch/{batch_id}/result"
        listing = _xml(self.http.get(url, headers=self.headers()).content)
        rows: list[dict[str, str]] = []
        for result in listing.findall("sf:result", NS):
            text = self.http.get(f"{url}/{result.text}", headers=self.headers("text/csv")).text
            assert text.startswith('"')  # Bulk 1.0 quotes every value
            rows.extend(csv.DictReader(io.StringIO(text)))
        return rows


def _state(info: ElementTree.Element) -> str:
    return info.findtext("sf:state", namespaces=NS) or ""


def test_tap_salesforce_bulk_mode_reads_every_row(
    served: Served, sf: SalesforceApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk1, "RESULT_ROWS", 150)  # several result files
    served.emulator.set_faults(FaultPlan(bulk_processing_seconds=0.3))
    deleted = _live(served, "Lead")[0]
    sf.Lead.delete(deleted)
    tap = TapBulk(served)
    created = tap.create_job("Lead")
    assert created.status_code == 201
    job = created.json()
    assert (job["state"], job["contentType"], job["operation"]) == ("Open", "CSV", "queryAll")
    soql = (
        "SELECT Id,Email,IsDeleted,SystemModstamp FROM Lead "
        "WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp ASC"
    )
    batch = tap.add_batch(job["id"], soql)
    assert batch.tag == f"{{{NS['sf']}}}batchInfo"
    assert _state(batch) == "Queued"
    batch_id = batch.findtext("sf:id", namespaces=NS) or ""
    tap.close_job(job["id"])
    assert _state(tap.batch_state(job["id"], batch_id)) == "InProgress"
    time.sleep(0.35)
    done = tap.batch_state(job["id"], batch_id)
    assert _state(done) == "Completed"
    rows = tap.results(job["id"], batch_id)
    assert int(done.findtext("sf:numberRecordsProcessed", namespaces=NS) or 0) == len(rows)
    assert sorted(row["Id"] for row in rows) == sorted([*_live(served, "Lead"), deleted])
    assert {row["IsDeleted"] for row in rows if row["Id"] == deleted} == {"true"}
    assert rows[0]["SystemModstamp"].endswith("Z")
    limits = sf.limits()["DailyBulkApiBatches"]
    assert limits["Remaining"] == limits["Max"] - 1


def test_bulk1_refusals_use_its_error_shapes(served: Served) -> None:
    tap = TapBulk(served)
    job = tap.create_job("Lead").json()
    failed = tap.add_batch(job["id"], "SELECT Id, Nope__c FROM Lead")
    failed_id = failed.findtext("sf:id", namespaces=NS) or ""
    info = tap.batch_state(job["id"], failed_id)
    assert _state(info) == "Failed"
    message = info.findtext("sf:stateMessage", namespaces=NS) or ""
    assert message.startswith("InvalidBatch : Failed to process query: INVALID_FIELD: ")
    tap.token = "00D!expired"
    refused = tap.http.get(f"{tap.base}/job/{job['id']}", headers=tap.headers("application/xml"))
    assert refused.status_code == 400
    error = _xml(refused.content)
    assert error.findtext("sf:exceptionCode", namespaces=NS) == "InvalidSessionId"
    as_json = tap.http.get(f"{tap.base}/job/{job['id']}", headers=tap.headers())
    assert as_json.json() == {
        "exceptionCode": "InvalidSessionId",
        "exceptionMessage": "Invalid session id",
    }
    tap.token = served.emulator.issue_token()
    missing = tap.http.get(f"{tap.base}/job/750Dn0000000zzzAAA", headers=tap.headers())
    assert missing.json()["exceptionCode"] == "InvalidJob"


def test_simple_salesforce_bulk_query_uses_json_jobs(sf: SalesforceApi, served: Served) -> None:
    records = sf.bulk.Contact.query(
        "SELECT Id, Email, Account.Name FROM Contact", lazy_operation=False
    )
    assert sorted(record["Id"] for record in records) == sorted(_live(served, "Contact"))
    assert records[0]["attributes"]["type"] == "Contact"
    assert records[0]["Account"]["Name"]


def test_an_xml_job_answers_and_returns_records_in_xml(served: Served) -> None:
    tap = TapBulk(served)
    job_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<jobInfo xmlns="{NS["sf"]}"><operation>query</operation><object>Account</object>'
        "<contentType>XML</contentType></jobInfo>"
    )
    created = tap.http.post(f"{tap.base}/job", headers=tap.headers("application/xml"), data=job_xml)
    assert created.status_code == 201
    job = _xml(created.content)
    assert job.findtext("sf:contentType", namespaces=NS) == "XML"
    assert (job.findtext("sf:createdDate", namespaces=NS) or "").endswith("Z")
    job_id = job.findtext("sf:id", namespaces=NS) or ""
    batch = tap.add_batch(job_id, "SELECT Id, Name FROM Account")
    batch_id = batch.findtext("sf:id", namespaces=NS) or ""
    listing = _xml(
        tap.http.get(
            f"{tap.base}/job/{job_id}/batch/{batch_id}/result", headers=tap.headers()
        ).content
    )
    [result_id] = [result.text for result in listing.findall("sf:result", NS)]
    records = _xml(
        tap.http.get(
            f"{tap.base}/job/{job_id}/batch/{batch_id}/result/{result_id}", headers=tap.headers()
        ).content
    ).findall("sf:records", NS)
    assert len(records) == len(_live(served, "Account"))
    assert records[0].findtext("sf:type", namespaces=NS) == "Account"
    assert records[0].findtext("sf:Name", namespaces=NS)
