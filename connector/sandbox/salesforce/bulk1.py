"""Bulk API 1.0 query jobs under ``/services/async/{version}/``: jobs, batches, result files.

What widely used readers send, emulated as they send it. tap-salesforce's BULK mode
(singer-io/tap-salesforce ``tap_salesforce/salesforce/bulk.py``) creates a CSV job with a JSON
body (``{"operation": "queryAll", "object": ..., "contentType": "CSV"}``, answered in JSON),
posts the SOQL as a ``text/csv`` batch, closes the job with ``{"state": "Closed"}``, polls the
batch (XML ``batchInfo``), lists result ids (XML ``result-list``) and downloads each as CSV.
simple-salesforce's ``sf.bulk.Lead.query()`` uses a JSON job, whose batch and result answers are
JSON. The job's content type picks the format of batch answers and results (CSV and XML jobs
answer XML, JSON jobs JSON); job answers follow the request's ``Content-Type``. Auth is the
``X-SFDC-Session`` header; a bad session is HTTP 400 ``InvalidSessionId``, the answer
jsforce's ``isSessionExpired`` looks for. Shapes: "Get Information for a Batch", "Get Batch
Results", "Get Job Details" and "Errors" in the Bulk API Developer Guide
(https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/).

A batch runs when it is added (rows fixed then), is ``Queued`` in that answer, ``InProgress``
until the fault plan's ``bulk_processing_seconds`` have passed, then ``Completed`` - or
``Failed`` with ``InvalidBatch : Failed to process query: <code>: <message>`` when the SOQL is
refused. Result files hold at most :data:`RESULT_ROWS` rows each (Salesforce splits at 1 GB);
small files make clients' multi-file loops run against the emulator. Only ``query`` and
``queryAll`` jobs are emulated.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from starlette.responses import Response

from connector.sandbox.salesforce._values import format_datetime, json_value
from connector.sandbox.salesforce.bulk import csv_value
from connector.sandbox.salesforce.engine import CompiledQuery, SoqlError, compile_query
from connector.sandbox.salesforce.schema import object_spec
from connector.sandbox.salesforce.store import Row, SalesforceStore

__all__ = [
    "RESULT_ROWS",
    "Bulk1Error",
    "Bulk1Jobs",
    "Job",
    "error_response",
    "render",
    "render_list",
]

RESULT_ROWS: Final = 10_000
MAX_JOBS: Final = 64
NAMESPACE: Final = "http://www.force.com/2009/06/asyncapi/dataload"
_MAX_BODY: Final = 64 * 1024
_PROLOGUE: Final = '<?xml version="1.0" encoding="UTF-8"?>'


class Bulk1Error(Exception):
    """A refused Bulk 1.0 request: ``exceptionCode`` and message, HTTP 400 unless told."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def error_response(error: Bulk1Error, as_json: bool) -> Response:
    """The Bulk API error body, JSON or XML like the request."""
    if as_json:
        body = {"exceptionCode": error.code, "exceptionMessage": error.message}
        return Response(json.dumps(body), error.status, media_type="application/json")
    xml = (
        f'{_PROLOGUE}<error xmlns="{NAMESPACE}">'
        f"<exceptionCode>{error.code}</exceptionCode>"
        f"<exceptionMessage>{escape(error.message)}</exceptionMessage></error>"
    )
    return Response(xml, error.status, media_type="application/xml")


def render(root: str, info: dict[str, Any], as_json: bool, status: int = 200) -> Response:
    """``info`` as a JSON object or as ``<root xmlns=...>`` with one element per key."""
    if as_json:
        return Response(json.dumps(info), status, media_type="application/json")
    body = f'{_PROLOGUE}<{root} xmlns="{NAMESPACE}">{_elements(info)}</{root}>'
    return Response(body, status, media_type="application/xml")


def render_list(root: str, item: str, values: list[Any], as_json: bool) -> Response:
    """A list answer: ``batchInfoList`` (``{"batchInfo": [...]}`` in JSON) or ``result-list``
    (a bare JSON array), each value an ``item`` element in XML."""
    if as_json:
        shown: Any = {item: values} if root == "batchInfoList" else values
        return Response(json.dumps(shown), media_type="application/json")
    inner = "".join(
        f"<{item}>{_elements(value) if isinstance(value, dict) else escape(str(value))}</{item}>"
        for value in values
    )
    body = f'{_PROLOGUE}<{root} xmlns="{NAMESPACE}">{inner}</{root}>'
    return Response(body, media_type="application/xml")


def _elements(info: dict[str, Any]) -> str:
    parts = []
    for key, value in info.items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"<{key}>{escape(text)}</{key}>")
    return "".join(parts)


def _stamp(when: datetime, as_json: bool) -> str:
    # The guide's examples: "2009-04-14T18:15:59.000Z" in XML, "...49.000+0000" in JSON.
    text = format_datetime(when)
    return text if as_json else text.replace("+0000", "Z")


@dataclass
class Batch:
    """One query batch: its rows, or why it failed."""

    id: str
    job_id: str
    created: datetime
    ready_at: float
    compiled: CompiledQuery | None
    rows: list[Row]
    failure: str | None = None
    state: str = "Queued"

    def advance(self) -> None:
        if self.state in ("Queued", "InProgress"):
            if time.monotonic() < self.ready_at:
                self.state = "InProgress"
            else:
                self.state = "Failed" if self.failure else "Completed"

    def result_ids(self) -> list[str]:
        count = max(1, -(-len(self.rows) // RESULT_ROWS))
        return [f"752{self.id[3:15]}{index:03d}" for index in range(count)]

    def info(self, as_json: bool) -> dict[str, Any]:
        done = self.state == "Completed"
        return {
            "id": self.id,
            "jobId": self.job_id,
            "state": self.state,
            "stateMessage": self.failure if self.state == "Failed" else None,
            "createdDate": _stamp(self.created, as_json),
            "systemModstamp": _stamp(self.created, as_json),
            "numberRecordsProcessed": len(self.rows) if done else 0,
            "numberRecordsFailed": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }


@dataclass
class Job:
    """One Bulk 1.0 query job and its batches."""

    id: str
    operation: str
    sobject: str
    content_type: str
    version: str
    created: datetime
    user_id: str
    state: str = "Open"
    batches: dict[str, Batch] = field(default_factory=dict)

    @property
    def answers_json(self) -> bool:
        return self.content_type == "JSON"

    def info(self, as_json: bool) -> dict[str, Any]:
        for batch in self.batches.values():
            batch.advance()
        states = [batch.state for batch in self.batches.values()]
        completed = [b for b in self.batches.values() if b.state == "Completed"]
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.user_id,
            "createdDate": _stamp(self.created, as_json),
            "systemModstamp": _stamp(self.created, as_json),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": self.content_type,
            "numberBatchesQueued": states.count("Queued"),
            "numberBatchesInProgress": states.count("InProgress"),
            "numberBatchesCompleted": len(completed),
            "numberBatchesFailed": states.count("Failed"),
            "numberBatchesTotal": len(states),
            "numberRecordsProcessed": sum(len(b.rows) for b in completed),
            "numberRetries": 0,
            "apiVersion": self.version,
            "numberRecordsFailed": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }


def _job_request(body: bytes, as_json: bool) -> dict[str, str]:
    if len(body) > _MAX_BODY:
        raise Bulk1Error("ClientInputError", "request too large")
    if as_json:
        try:
            data = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Bulk1Error("InvalidJob", "Unable to parse the JSON job information") from exc
        if not isinstance(data, dict):
            raise Bulk1Error("InvalidJob", "The job information must be a JSON object")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    # No DTDs (entity expansion) and a size cap: defusedxml is not a dependency.
    if b"<!DOCTYPE" in body.upper():
        raise Bulk1Error("InvalidJob", "DOCTYPE is not allowed")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - DTDs refused and size capped above
    except ElementTree.ParseError as exc:
        raise Bulk1Error("InvalidJob", "Unable to parse the XML job information") from exc
    return {el.tag.rpartition("}")[2]: (el.text or "").strip() for el in root}


class Bulk1Jobs:
    """The Bulk 1.0 query jobs of one emulator (thread-safe registry)."""

    def __init__(self, store: SalesforceStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self.batches_created = 0

    def create(self, body: bytes, version: str, as_json: bool) -> Job:
        request = _job_request(body, as_json)
        operation = request.get("operation", "")
        if operation not in ("query", "queryAll"):
            raise Bulk1Error(
                "InvalidJob", f"The emulator serves query and queryAll jobs, not '{operation}'"
            )
        spec = object_spec(request.get("object", ""))
        if spec is None:
            raise Bulk1Error("InvalidJob", f"Unable to find object: {request.get('object', '')}")
        content_type = request.get("contentType", "CSV").upper()
        if content_type not in ("CSV", "JSON", "XML"):
            raise Bulk1Error("InvalidJob", f"Invalid content type: {content_type}")
        job = Job(
            id=self.store.ids.new("750"),
            operation=operation,
            sobject=spec.name,
            content_type=content_type,
            version=version,
            created=datetime.now(UTC),
            user_id=self.store.integration_user_id,
        )
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_JOBS:  # jobs hold rows: keep few, oldest go first
                del self._jobs[next(iter(self._jobs))]
        return job

    def job(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise Bulk1Error("InvalidJob", f"Invalid job id: {job_id}")
        return job

    def set_state(self, job_id: str, body: bytes, as_json: bool) -> Job:
        job = self.job(job_id)
        wanted = _job_request(body, as_json).get("state", "")
        if wanted not in ("Closed", "Aborted"):
            raise Bulk1Error("InvalidJob", f"Invalid state: {wanted}")
        if job.state != "Open":
            raise Bulk1Error("InvalidJobState", f"Job {job.state.lower()}: {job_id}")
        job.state = wanted
        return job

    def add_batch(self, job_id: str, soql: bytes, processing_seconds: float) -> Batch:
        job = self.job(job_id)
        if job.state != "Open":
            raise Bulk1Error("InvalidJobState", f"Job not open: {job_id}")
        compiled: CompiledQuery | None = None
        rows: list[Row] = []
        failure: str | None = None
        try:
            compiled = compile_query(soql.decode("utf-8", "replace").strip(), self.store)
            if compiled.spec.name != job.sobject:
                raise SoqlError(
                    "INVALID_TYPE", f"The query must be on the job's object, {job.sobject}"
                )
            if compiled.query.is_count:
                raise SoqlError("MALFORMED_QUERY", "Aggregate queries are not supported")
            rows = compiled.run(include_deleted=job.operation == "queryAll")
        except SoqlError as exc:
            compiled, failure = None, f"InvalidBatch : Failed to process query: {exc.error_code}"
            failure += f": {exc.message.strip()}"
        batch = Batch(
            id=self.store.ids.new("751"),
            job_id=job.id,
            created=datetime.now(UTC),
            ready_at=time.monotonic() + processing_seconds,
            compiled=compiled,
            rows=rows,
            failure=failure,
        )
        with self._lock:
            job.batches[batch.id] = batch
            self.batches_created += 1
        return batch

    def batch(self, job_id: str, batch_id: str) -> Batch:
        found = self.job(job_id).batches.get(batch_id)
        if found is None:
            raise Bulk1Error("InvalidBatch", f"Invalid batch id: {batch_id}")
        found.advance()
        return found

    def result_file(self, job: Job, batch: Batch, result_id: str) -> Response:
        ids = batch.result_ids()
        if batch.state != "Completed" or result_id not in ids or batch.compiled is None:
            raise Bulk1Error("InvalidBatch", f"Invalid result id: {result_id}")
        index = ids.index(result_id)
        rows = batch.rows[index * RESULT_ROWS : (index + 1) * RESULT_ROWS]
        compiled = batch.compiled
        if job.content_type == "JSON":
            records = [compiled.project(row, job.version) for row in rows]
            return Response(json.dumps(records), media_type="application/json")
        if job.content_type == "XML":
            return Response(_xml_records(compiled, rows), media_type="application/xml")
        buffer = io.StringIO()
        # Bulk 1.0 quotes every value ("Id","Name"), unlike Bulk 2.0.
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(path.text for path in compiled.paths)
        for row in rows:
            writer.writerow(csv_value(value) for value in compiled.flat_values(row))
        return Response(buffer.getvalue(), media_type="text/csv")

    def count_batches(self) -> int:
        with self._lock:
            return self.batches_created


def _xml_records(compiled: CompiledQuery, rows: list[Row]) -> str:
    parts = [
        f'{_PROLOGUE}<queryResult xmlns="{NAMESPACE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    ]
    for row in rows:
        parts.append(f"<records><type>{compiled.spec.name}</type>")
        for path, value in zip(compiled.paths, compiled.flat_values(row), strict=True):
            shown = json_value(value)
            if shown is None:
                parts.append(f'<{path.text} xsi:nil="true"/>')
            else:
                parts.append(f"<{path.text}>{escape(csv_value(value))}</{path.text}>")
        parts.append("</records>")
    parts.append("</queryResult>")
    return "".join(parts)
