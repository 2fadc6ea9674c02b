"""The HubSpot adapter: :class:`~connector.crm.types.CrmSource` and ``CrmSink`` over
hubspot-api-client, with the connector's own token handling, retry policy and budgets."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import httpx

from connector.crm._partial import gather
from connector.crm.auth import HubSpotTokenSource
from connector.crm.budget import HubSpotBudget
from connector.crm.hubspot._activity import WindowActivity, pull_activity
from connector.crm.hubspot._client import HubSpotClient
from connector.crm.hubspot._pull import pull_contacts, read_contacts
from connector.crm.hubspot._write import MAX_BATCH, Writer
from connector.crm.retry import DEFAULT_POLICY, Retrier, RetryPolicy
from connector.crm.types import (
    ActivityRecord,
    Cursor,
    DeletedLog,
    DeleteRequest,
    FieldSchema,
    ObjectSchema,
    Page,
    PropertySpec,
    RawRecord,
    UpsertRequest,
    WriteRequest,
    WriteResult,
)
from connector.errors import FatalApiError, System
from connector.funnel import require_utc
from connector.settings import HubSpotSettings
from connector.stopping import Stop

__all__ = ["HubSpotAdapter"]


class HubSpotAdapter:
    """Reads and writes one HubSpot portal for one run (properties cached per run).

    ``stop`` (a run's stop request) ends its reads and writes at the next call or wait with
    :class:`~connector.errors.StopRequested`; a write cut part-way carries what went out.
    ``sleep`` is a test's virtual sleep (default: a real one that a stop wakes)."""

    system = System.HUBSPOT

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        write_concurrency: int = 4,
        read_concurrency: int = 8,
        stop: Stop | None = None,
    ) -> None:
        self.settings = settings
        rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Every wait (retry, rate-limit window, re-send) wakes on a stop and raises, and every
        # call checks it first: a stop ends the adapter's work within a call's time.
        self.stop = stop or Stop()
        sleep = self.stop.sleeper(sleep)
        self.retrier = Retrier(policy, sleep=sleep, rng=rng)
        self.budget = HubSpotBudget(settings, clock=clock, sleep=sleep)
        self.tokens = HubSpotTokenSource(settings, http=http)
        self._client = HubSpotClient(
            settings, self.tokens, self.budget, self.retrier, stop=self.stop
        )
        self._writer = Writer(self._batch, self._read, policy, sleep=sleep, rng=rng)
        self._concurrency = max(1, write_concurrency)
        # Activity reads are mostly v4 association reads, which the ten-second limit leaves
        # out: more of them in flight shortens the read, and the budget still paces the batch
        # reads that the limit does count.
        self._read_concurrency = max(1, read_concurrency)
        self._schemas: dict[str, ObjectSchema] = {}
        self._schema_lock = threading.Lock()
        self._window = WindowActivity()

    # --- calls through the SDK ----------------------------------------------------------------

    def _search(self, object_type: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            return self._client.call_json(
                lambda sdk: sdk.crm.objects.search_api.do_search(
                    object_type,
                    public_object_search_request=body,
                    _request_timeout=self._client.timeout,
                    _preload_content=False,
                ),
                search=True,
                object_type=object_type,
            )

        return run

    def _batch(self, object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        def run(sdk: Any) -> Any:
            api = sdk.crm.objects.batch_api
            body = {"inputs": inputs}
            options = {"_request_timeout": self._client.timeout, "_preload_content": False}
            if action == "update":
                return api.update(object_type, body, **options)
            if action == "archive":
                return api.archive(object_type, body, **options)
            return api.upsert(object_type, body, **options)

        return self._client.call_json(run, object_type=object_type)

    def _list_archived(self, after: str | None, properties: list[str]) -> dict[str, Any]:
        return self._client.call_json(
            lambda sdk: sdk.crm.objects.basic_api.get_page(
                "contacts",
                limit=100,
                after=after,
                properties=properties,
                archived=True,
                _request_timeout=self._client.timeout,
                _preload_content=False,
            ),
            object_type="contacts",
        )

    def _read(self, object_type: str, ids: list[str], properties: list[str]) -> dict[str, Any]:
        body = {"inputs": [{"id": i} for i in ids], "properties": properties}
        return self._client.call_json(
            lambda sdk: sdk.crm.objects.batch_api.read(
                object_type,
                body,
                archived=False,
                _request_timeout=self._client.timeout,
                _preload_content=False,
            ),
            object_type=object_type,
        )

    def _associations(self, to_type: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        return self._client.call_json(
            lambda sdk: sdk.crm.associations.v4.batch_api.get_page(
                "contacts",
                to_type,
                {"inputs": inputs},
                _request_timeout=self._client.timeout,
                _preload_content=False,
            ),
            burst_exempt=True,
            object_type=to_type,
        )

    # --- CrmSource ----------------------------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        """Credential and token values to hand to the log redaction filter."""
        return self.tokens.secrets()

    @property
    def record_resends(self) -> int:
        """Write calls that only re-sent records refused with a transient per-record error
        (lock contention); each is also a call the CRM counts."""
        return self._writer.resends

    def people_objects(self) -> tuple[str, ...]:
        return ("contacts",)

    def pull_people(
        self,
        object_type: str,
        *,
        since: Cursor | None,
        run_start: datetime,
        fields: Sequence[str],
    ) -> Iterator[Page]:
        if object_type != "contacts":
            raise FatalApiError(System.HUBSPOT, f"not a person object: {object_type}")
        lookback = timedelta(seconds=self.settings.lookback)
        start = None if since is None else since.watermark - lookback
        return pull_contacts(
            self._search(object_type),
            fields,
            start,
            require_utc(run_start),
            since,
            archived=self._list_archived,
            watch=self._window.watch(start),
            watch_properties=WindowActivity.properties,
        )

    def read_people(
        self, object_type: str, ids: Sequence[str], *, fields: Sequence[str]
    ) -> list[RawRecord]:
        if object_type != "contacts":
            raise FatalApiError(System.HUBSPOT, f"not a person object: {object_type}")
        return read_contacts(self._read, ids, fields)

    def pull_activity(
        self,
        person_ids: Sequence[str],
        *,
        since: datetime | None,
        run_start: datetime,
    ) -> Iterator[ActivityRecord]:
        start = None
        if since is not None:
            start = require_utc(since) - timedelta(seconds=self.settings.lookback)
        return pull_activity(
            self._associations,
            self._read,
            self._window.wanted(person_ids),
            start,
            require_utc(run_start),
            self._window.conversions,
            concurrency=self._read_concurrency,
            fresh=frozenset(person_ids),
        )

    def create_property(self, object_type: str, spec: PropertySpec) -> FieldSchema:
        """Create a custom property (the connector's own); returns it as described afterwards."""
        from hubspot.crm.properties import OptionInput, PropertyCreate

        body = PropertyCreate(
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type,
            group_name=spec.group,
            description=spec.description or None,
            has_unique_value=spec.unique,
            options=[
                OptionInput(label=option, value=option, display_order=index, hidden=False)
                for index, option in enumerate(spec.options)
            ],
        )
        self._client.call(
            lambda sdk: sdk.crm.properties.core_api.create(
                object_type, body, _request_timeout=self._client.timeout
            ),
            object_type=object_type,
        )
        with self._schema_lock:
            self._schemas.pop(object_type, None)
        created = self.describe(object_type).field(spec.name)
        if created is None:
            raise FatalApiError(
                System.HUBSPOT, f"property {spec.name} was created but cannot be read back"
            )
        return created

    def pull_deleted(
        self, object_type: str, *, since: datetime, run_start: datetime
    ) -> DeletedLog | None:
        """HubSpot has no delete log: archived contacts come with :meth:`pull_people`, and a
        contact deleted for good (GDPR) is found missing when crmsync next writes or reads it."""
        return None

    def describe(self, object_type: str) -> ObjectSchema:
        with self._schema_lock:
            cached = self._schemas.get(object_type)
        if cached is not None:
            return cached
        answer = self._client.call_json(
            lambda sdk: sdk.crm.properties.core_api.get_all(
                object_type,
                archived=False,
                _request_timeout=self._client.timeout,
                _preload_content=False,
            ),
            object_type=object_type,
        )
        fields: dict[str, FieldSchema] = {}
        for prop in answer.get("results") or ():
            meta = prop.get("modificationMetadata") or {}
            writable = not meta.get("readOnlyValue", False) and not prop.get("calculated", False)
            options = prop.get("options") or ()
            fields[prop["name"]] = FieldSchema(
                name=prop["name"],
                label=prop.get("label") or "",
                type=prop.get("type") or "string",
                updateable=writable,
                createable=writable,
                unique=bool(prop.get("hasUniqueValue")),
                external_id=bool(prop.get("hasUniqueValue")),
                picklist_values=tuple(
                    str(o["value"]) for o in options if not o.get("hidden", False)
                ),
                restricted_picklist=prop.get("type") == "enumeration",
                multiple=prop.get("fieldType") == "checkbox",
            )
        schema = ObjectSchema(system=System.HUBSPOT, object_type=object_type, fields=fields)
        with self._schema_lock:
            self._schemas[object_type] = schema
        return schema

    # --- CrmSink ------------------------------------------------------------------------------

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return self._grouped(requests, lambda _, chunk: self._writer.update(chunk))

    def upsert(self, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        return self._grouped(requests, self._writer.upsert)

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        return self._grouped(requests, self._writer.delete)

    def _grouped(
        self,
        requests: Sequence[Any],
        run: Callable[[str, list[Any]], list[WriteResult]],
    ) -> list[WriteResult]:
        # Batches hold one object type; ids must be unique within a batch, so a record asked
        # for twice goes in separate batches. Results come back in request order.
        order = sorted(range(len(requests)), key=lambda i: requests[i].object_type)
        calls: list[tuple[str, list[int]]] = []
        for object_type, group in groupby(order, key=lambda i: requests[i].object_type):
            current: list[int] = []
            keys: set[str] = set()
            for index in group:
                key = _key(requests[index])
                if len(current) == MAX_BATCH or key in keys:
                    calls.append((object_type, current))
                    current, keys = [], set()
                current.append(index)
                keys.add(key)
            if current:
                calls.append((object_type, current))

        def send(call: tuple[str, list[int]]) -> list[WriteResult]:
            object_type, indices = call
            return run(object_type, [requests[i] for i in indices])

        # A stop part-way (quota) is raised with the results of the batches that went out.
        return gather(send, [(call, call[1]) for call in calls], len(requests), self._concurrency)


def _key(request: WriteRequest | UpsertRequest | DeleteRequest) -> str:
    return request.external_id if isinstance(request, UpsertRequest) else request.record_id
