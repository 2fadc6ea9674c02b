"""Bulk API 2.0 query jobs: create, poll, page through CSV results, abort, delete.

A job runs when it is created (the result rows are fixed then) and reports ``UploadComplete`` in
the creation response, then ``InProgress`` until ``processing_seconds`` (the fault plan's
``bulk_processing_seconds``) have passed, then ``JobComplete``, the states simple-salesforce's
``JobState`` and the query walkthrough name
(https://developer.salesforce.com/docs/atlas.en-us.244.0.api_asynch.meta/api_asynch/query_walkthrough.htm).
With the default 0 the first poll sees ``JobComplete``, like a quick real job. Results are
streamed as CSV pages of at most ``maxRecords`` rows, with ``Sforce-NumberOfRecords`` and
``Sforce-Locator`` (the string ``null`` on the last page). Values follow Bulk's CSV conventions:
every value a string, null as an empty field, datetimes as ``2026-01-05T10:11:12.000Z``.
"""

from __future__ import annotations

import base64
import csv
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce._values import format_datetime
from connector.sandbox.salesforce.engine import CompiledQuery, SoqlError, compile_query
from connector.sandbox.salesforce.store import Row, SalesforceStore

__all__ = ["BulkJobs", "QueryJob", "csv_value"]

_DELIMITERS: Final = {
    "COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`",
}  # fmt: skip
_LINE_ENDINGS: Final = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_PAGE: Final = 50_000
MAX_JOBS: Final = 64
_CHUNK_ROWS: Final = 2_000


@dataclass
class QueryJob:
    """One query job and the rows it found."""

    id: str
    operation: str
    compiled: CompiledQuery
    rows: list[Row]
    version: str
    created: datetime
    column_delimiter: str
    line_ending: str
    user_id: str
    ready_at: float = 0.0  # time.monotonic() when the job completes
    state: str = "UploadComplete"

    def advance(self) -> None:
        """Move an unfinished job on by the clock: ``InProgress`` until ``ready_at``."""
        if self.state in ("UploadComplete", "InProgress"):
            self.state = "JobComplete" if time.monotonic() >= self.ready_at else "InProgress"

    def info(self) -> dict[str, Any]:
        """The job info resource."""
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.compiled.spec.name,
            "createdById": self.user_id,
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.rows) if self.state == "JobComplete" else 0,
            "retries": 0,
            "totalProcessingTime": 0,
        }


def csv_value(value: Any) -> str:
    """One value as Bulk CSV writes it: null empty, booleans lower-case, UTC ``...Z``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value).replace("+0000", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
    except ValueError as exc:
        raise SfError("INVALIDLOCATOR", f"Invalid locator: {locator}") from exc


class BulkJobs:
    """The query jobs of one emulator (thread-safe registry)."""

    def __init__(self, store: SalesforceStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._jobs: dict[str, QueryJob] = {}

    def create(self, body: Any, version: str, processing_seconds: float = 0.0) -> QueryJob:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise SfError("API_ERROR", "query is required")
        operation = body.get("operation", "query")
        if operation not in ("query", "queryAll"):
            raise SfError("API_ERROR", f"Invalid operation: {operation}")
        delimiter = body.get("columnDelimiter", "COMMA")
        line_ending = body.get("lineEnding", "LF")
        if delimiter not in _DELIMITERS or line_ending not in _LINE_ENDINGS:
            raise SfError("API_ERROR", "Invalid columnDelimiter or lineEnding")
        try:
            compiled = compile_query(body["query"], self.store)
        except SoqlError as exc:
            raise SfError(exc.error_code, exc.message) from exc
        if compiled.query.is_count:
            raise SfError("API_ERROR", "Aggregate Relationships not supported in Bulk Query")
        rows = compiled.run(include_deleted=operation == "queryAll")
        job = QueryJob(
            id=self.store.ids.new("750"),
            operation=operation,
            compiled=compiled,
            rows=rows,
            version=version,
            created=datetime.now(UTC),
            column_delimiter=delimiter,
            line_ending=line_ending,
            user_id=self.store.integration_user_id,
            ready_at=time.monotonic() + processing_seconds,
        )
        with self._lock:
            self._jobs[job.id] = job
            # Jobs hold their result rows; like Salesforce's 7-day clean-up, drop the oldest.
            while len(self._jobs) > MAX_JOBS:
                del self._jobs[next(iter(self._jobs))]
        return job

    def count(self) -> int:
        with self._lock:
            return len(self._jobs)

    def get(self, job_id: str) -> QueryJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", http_status=404)
        job.advance()
        return job

    def abort(self, job_id: str) -> QueryJob:
        job = self.get(job_id)
        job.state = "Aborted"
        return job

    def delete(self, job_id: str) -> None:
        self.get(job_id)
        with self._lock:
            del self._jobs[job_id]

    def page(
        self, job: QueryJob, locator: str | None, max_records: int | None
    ) -> tuple[Iterator[bytes], int, str]:
        """``(csv_chunks, number_of_records, next_locator)`` for one results page."""
        if job.state != "JobComplete":
            raise SfError("API_ERROR", f"Job is not complete: {job.state}", http_status=400)
        start = _offset(locator) if locator else 0
        size = max_records if max_records and max_records > 0 else DEFAULT_PAGE
        end = min(start + size, len(job.rows))
        next_locator = _locator(end) if end < len(job.rows) else "null"
        return self._csv(job, start, end), max(end - start, 0), next_locator

    def _csv(self, job: QueryJob, start: int, end: int) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=_DELIMITERS[job.column_delimiter],
            lineterminator=_LINE_ENDINGS[job.line_ending],
            quoting=csv.QUOTE_MINIMAL,
        )
        writer.writerow(path.text for path in job.compiled.paths)
        for index in range(start, end):
            values = job.compiled.flat_values(job.rows[index])
            writer.writerow(csv_value(value) for value in values)
            if (index - start) % _CHUNK_ROWS == _CHUNK_ROWS - 1:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
