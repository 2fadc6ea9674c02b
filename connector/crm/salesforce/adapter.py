"""The Salesforce adapter: :class:`~connector.crm.types.CrmSource` and ``CrmSink`` over
simple-salesforce, with the connector's own OAuth, retry policy and API budget."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import TypeVar

import httpx

from connector.crm._partial import gather
from connector.crm.auth import SalesforceAuthenticator
from connector.crm.budget import SalesforceBudget
from connector.crm.retry import DEFAULT_POLICY, Retrier, RetryPolicy
from connector.crm.salesforce._client import SalesforceClient
from connector.crm.salesforce._read import pull_activity, pull_deleted, pull_people, read_people
from connector.crm.salesforce._records import object_schema
from connector.crm.salesforce._write import MAX_COLLECTION, Writer
from connector.crm.types import (
    ActivityRecord,
    Cursor,
    DeletedLog,
    DeleteRequest,
    ObjectSchema,
    Page,
    RawRecord,
    UpsertRequest,
    WriteRequest,
    WriteResult,
)
from connector.errors import FatalApiError, System
from connector.funnel import require_utc
from connector.settings import SalesforceSettings
from connector.stopping import Stop

__all__ = ["SalesforceAdapter"]

R = TypeVar("R")


class SalesforceAdapter:
    """Reads and writes one Salesforce org for one run.

    Build one per run: describe results are cached for its lifetime, and its budget measures
    this run's share of the daily API allowance. ``sleep`` and ``rng`` are injectable so tests
    never wait. ``stop`` (a run's stop request) ends its reads and writes at the next call or
    wait with :class:`~connector.errors.StopRequested`; a write cut part-way carries what went
    out.
    """

    system = System.SALESFORCE

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        write_concurrency: int = 4,
        stop: Stop | None = None,
    ) -> None:
        self.settings = settings
        rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Every wait (retry, Bulk API poll, re-send) wakes on a stop and raises, and every
        # call checks it first: a stop ends the adapter's work within a call's time.
        self.stop = stop or Stop()
        sleep = self.stop.sleeper(sleep)
        self.retrier = Retrier(policy, sleep=sleep, rng=rng)
        self.budget = SalesforceBudget(settings)
        self.authenticator = SalesforceAuthenticator(settings, http=http)
        self._client = SalesforceClient(
            settings, self.authenticator, self.budget, self.retrier, stop=self.stop
        )
        self._writer = Writer(self._client, policy, self.describe, sleep=sleep, rng=rng)
        self._sleep = sleep
        self._concurrency = max(1, write_concurrency)
        self._lookback = timedelta(seconds=settings.lookback_seconds)
        # Records created inside this run's incremental windows, and when (one run per adapter).
        self._created: dict[str, datetime] = {}
        self._schemas: dict[str, ObjectSchema] = {}
        self._schema_lock = threading.Lock()

    def secrets(self) -> tuple[str, ...]:
        """Credential and token values to hand to the log redaction filter."""
        return self.authenticator.secrets()

    @property
    def record_resends(self) -> int:
        """Write calls that only re-sent records refused with a transient per-record error
        (lock contention); each is also a call the CRM counts."""
        return self._writer.resends

    def people_objects(self) -> tuple[str, ...]:
        return ("Lead", "Contact")

    def pull_people(
        self,
        object_type: str,
        *,
        since: Cursor | None,
        run_start: datetime,
        fields: Sequence[str],
    ) -> Iterator[Page]:
        pages = pull_people(
            self._client,
            object_type,
            fields,
            since,
            require_utc(run_start),
            lookback=timedelta(seconds=self.settings.lookback_seconds),
            bulk_threshold=self.settings.bulk_threshold,
            schema=lambda: self.describe(object_type),
            sleep=self._sleep,
        )
        if since is None:
            return pages
        return self._noting_created(pages, since.watermark - self._lookback)

    def _noting_created(self, pages: Iterator[Page], start: datetime) -> Iterator[Page]:
        """Remember when the records created inside an incremental window were created: their
        activity cannot be older than they are (see :meth:`pull_activity`)."""
        for page in pages:
            for record in page.records:
                if record.created_at is not None and record.created_at >= start:
                    self._created[record.id] = record.created_at
            yield page

    def read_people(
        self, object_type: str, ids: Sequence[str], *, fields: Sequence[str]
    ) -> list[RawRecord]:
        return read_people(self._client, object_type, fields, ids)

    def pull_activity(
        self,
        person_ids: Sequence[str],
        *,
        since: datetime | None,
        run_start: datetime,
    ) -> Iterator[ActivityRecord]:
        start = None
        if since is not None:
            start = require_utc(since) - self._lookback
        # A record created inside the activity window has all its activity inside it too (a
        # Task needs its Lead to exist first): only older records need their history by id.
        created = self._created
        older = [
            record_id
            for record_id in person_ids
            if start is None or record_id not in created or created[record_id] < start
        ]
        return pull_activity(self._client, older, start, require_utc(run_start))

    def pull_deleted(
        self, object_type: str, *, since: datetime, run_start: datetime
    ) -> DeletedLog | None:
        start = require_utc(since) - self._lookback
        return pull_deleted(self._client, object_type, start, require_utc(run_start))

    def describe(self, object_type: str) -> ObjectSchema:
        with self._schema_lock:
            cached = self._schemas.get(object_type)
        if cached is not None:
            return cached
        answer = self._client.call(
            lambda sf: sf.restful(f"sobjects/{object_type}/describe"), object_type=object_type
        )
        if not isinstance(answer, dict):
            raise FatalApiError(
                System.SALESFORCE, "describe answered nothing", object_type=object_type
            )
        schema = object_schema(object_type, answer)
        with self._schema_lock:
            self._schemas[object_type] = schema
        return schema

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return gather(self._writer.update, _chunked(requests), len(requests), self._concurrency)

    def upsert(self, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        # Upsert collections take one object type per call; results go back in request order.
        order = sorted(range(len(requests)), key=lambda i: requests[i].object_type)
        calls: list[tuple[tuple[str, list[UpsertRequest]], list[int]]] = []
        for object_type, group in groupby(order, key=lambda i: requests[i].object_type):
            indices = list(group)
            for start in range(0, len(indices), MAX_COLLECTION):
                part = indices[start : start + MAX_COLLECTION]
                calls.append(((object_type, [requests[i] for i in part]), part))
        return gather(
            lambda call: self._writer.upsert(*call), calls, len(requests), self._concurrency
        )

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        return gather(self._writer.delete, _chunked(requests), len(requests), self._concurrency)


def _chunked(requests: Sequence[R]) -> list[tuple[list[R], list[int]]]:
    """Collections of at most 200 requests, each with the request indices it covers."""
    return [
        (
            list(requests[i : i + MAX_COLLECTION]),
            list(range(i, min(i + MAX_COLLECTION, len(requests)))),
        )
        for i in range(0, len(requests), MAX_COLLECTION)
    ]
