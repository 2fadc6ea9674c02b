"""Writes through sObject Collections: PATCH updates (≤200 per call, ``allOrNone=false``),
upserts on the connector's external id and DELETEs, each result classified per record.

Per-record lock errors (``UNABLE_TO_LOCK_ROW``) are re-sent under the retry policy's backoff;
``CANNOT_UPDATE_CONVERTED_LEAD`` is redirected once to the Lead's ``ConvertedContactId`` and
never re-sent to the Lead; everything else is a classified rejection.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from connector.crm._partial import carry
from connector.crm.dispositions import Disposition, classify_salesforce, parse_salesforce_error
from connector.crm.retry import RetryPolicy
from connector.crm.salesforce import _soql
from connector.crm.salesforce._client import SalesforceClient
from connector.crm.types import (
    DeleteRequest,
    ObjectSchema,
    UpsertRequest,
    WriteRequest,
    WriteResult,
    WriteStatus,
)
from connector.errors import FatalApiError, System

__all__ = ["EXTERNAL_ID_FIELD", "MAX_COLLECTION", "Writer"]

MAX_COLLECTION = 200
EXTERNAL_ID_FIELD = "Crmsync_Person_Id__c"
_CONVERTED = "CANNOT_UPDATE_CONVERTED_LEAD"
_GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"})

Send = Callable[[list[int]], list[dict[str, Any]]]


class Writer:
    def __init__(
        self,
        client: SalesforceClient,
        policy: RetryPolicy,
        describe: Callable[[str], ObjectSchema],
        *,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self._client = client
        self._policy = policy
        self._describe = describe
        self._sleep = sleep
        self._rng = rng
        self._lock = threading.Lock()
        self.resends = 0
        """Calls that re-sent records refused with a transient per-record error."""

    def update(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        """One collections PATCH (≤200 requests) plus per-record retries and redirects."""
        if len(requests) > MAX_COLLECTION:
            raise ValueError(f"at most {MAX_COLLECTION} records per collections call")

        def send(indices: list[int]) -> list[dict[str, Any]]:
            records = [
                {
                    "attributes": {"type": requests[i].object_type},
                    "id": requests[i].record_id,
                    **requests[i].fields,
                }
                for i in indices
            ]
            return self._patch("composite/sobjects", records, len(indices))

        results, converted = self._run(
            [(r.object_type, r.record_id) for r in requests], send, redirectable=True
        )
        if converted:
            try:
                redirected = self._redirect([requests[i] for i in converted])
            except Exception as error:  # raised with the records already written
                carry(error, _known(results))
                raise
            for index, result in redirected.items():
                results[converted[index]] = result
        return [r for r in results if r is not None]

    def upsert(self, object_type: str, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        """One upsert call keyed on ``Crmsync_Person_Id__c`` (one object type, ≤200)."""
        path = f"composite/sobjects/{object_type}/{EXTERNAL_ID_FIELD}"

        def send(indices: list[int]) -> list[dict[str, Any]]:
            records = [
                {
                    "attributes": {"type": object_type},
                    EXTERNAL_ID_FIELD: requests[i].external_id,
                    **requests[i].fields,
                }
                for i in indices
            ]
            return self._patch(path, records, len(indices))

        results, _ = self._run(
            [(object_type, r.external_id) for r in requests], send, redirectable=False
        )
        return [r for r in results if r is not None]

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        """One collections DELETE (≤200 ids, ``allOrNone=false``). A record already deleted
        (or never there) counts as deleted: the caller wants it gone, and it is."""
        if len(requests) > MAX_COLLECTION:
            raise ValueError(f"at most {MAX_COLLECTION} records per collections call")
        if not requests:
            return []
        params = {"ids": ",".join(r.record_id for r in requests), "allOrNone": "false"}
        answer = self._client.call(
            lambda sf: sf.restful("composite/sobjects", params=params, method="DELETE"),
            object_type=requests[0].object_type,
        )
        if not isinstance(answer, list) or len(answer) != len(requests):
            raise FatalApiError(System.SALESFORCE, "collections answer does not match the request")
        results: list[WriteResult] = []
        for request, item in zip(requests, answer, strict=True):
            facts = parse_salesforce_error((item.get("errors") or [{}])[0]) if item else None
            if (item and item.get("success")) or (facts is not None and facts.code in _GONE):
                results.append(
                    WriteResult(
                        object_type=request.object_type,
                        requested_id=request.record_id,
                        status=WriteStatus.WRITTEN,
                        record_id=request.record_id,
                    )
                )
                continue
            code, message = (facts.code, facts.message) if facts else ("", "")
            results.append(
                _rejected(request.object_type, request.record_id, code, message or "rejected", ())
            )
        return results

    def _patch(
        self, path: str, records: list[dict[str, Any]], expected: int
    ) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        answer = self._client.call(
            lambda sf: sf.restful(path, method="PATCH", json=body),
            object_type=str(records[0]["attributes"]["type"]),
        )
        if not isinstance(answer, list) or len(answer) != expected:
            raise FatalApiError(System.SALESFORCE, "collections answer does not match the request")
        return [item if isinstance(item, dict) else {} for item in answer]

    def _run(
        self, keys: list[tuple[str, str]], send: Send, *, redirectable: bool
    ) -> tuple[list[WriteResult | None], list[int]]:
        """Send, classify, re-send the retryable ones; returns results and converted Leads."""
        results: list[WriteResult | None] = [None] * len(keys)
        converted: list[int] = []
        pending = list(range(len(keys)))
        attempt = 1
        while pending:
            retry: list[int] = []
            try:
                answer = send(pending)
            except Exception as error:  # a stop (quota, auth): raised with what went out
                carry(error, _known(results))
                raise
            for index, item in zip(pending, answer, strict=True):
                object_type, requested = keys[index]
                if item.get("success"):
                    results[index] = WriteResult(
                        object_type=object_type,
                        requested_id=requested,
                        status=WriteStatus.WRITTEN,
                        record_id=str(item.get("id") or requested),
                        created=bool(item.get("created")),
                    )
                    continue
                facts = parse_salesforce_error((item.get("errors") or [{}])[0])
                disposition = classify_salesforce(None, facts.code, facts.message, per_record=True)
                if facts.code == _CONVERTED and redirectable and object_type == "Lead":
                    converted.append(index)
                elif disposition is Disposition.RETRY and attempt < self._policy.max_attempts:
                    retry.append(index)
                else:
                    message = facts.message or "rejected"
                    if disposition is Disposition.RETRY:
                        message = f"still failing after {attempt} attempts: {message}"
                    results[index] = _rejected(
                        object_type, requested, facts.code, message, facts.fields
                    )
            if retry:
                with self._lock:
                    self.resends += 1
                try:
                    self._sleep(self._policy.backoff(attempt, None, self._rng))
                except Exception as error:  # a stop woke the wait: the re-send is not made
                    carry(error, _known(results))
                    raise
            pending = retry
            attempt += 1
        return results, converted

    def _redirect(self, leads: list[WriteRequest]) -> dict[int, WriteResult]:
        """Write converted Leads' changes to their Contacts (fields the Contact has)."""
        soql = _soql.converted_query([lead.record_id for lead in leads])
        answer = self._client.call(lambda sf: sf.query(soql), object_type="Lead")
        contact_of = {
            str(row["Id"]): str(row["ConvertedContactId"])
            for row in answer.get("records") or ()
            if row.get("ConvertedContactId")
        }
        contact = self._describe("Contact")
        out: dict[int, WriteResult] = {}
        targets: list[tuple[int, WriteRequest]] = []
        for index, lead in enumerate(leads):
            contact_id = contact_of.get(lead.record_id)
            fields = {
                name: value
                for name, value in lead.fields.items()
                if (spec := contact.field(name)) is not None and spec.updateable
            }
            if contact_id is None or not fields:
                out[index] = _rejected(
                    "Lead",
                    lead.record_id,
                    _CONVERTED,
                    "converted Lead has no Contact to write to",
                    (),
                )
                continue
            targets.append(
                (index, WriteRequest(object_type="Contact", record_id=contact_id, fields=fields))
            )
        if targets:
            written = self.update([request for _, request in targets])
            for (index, _), result in zip(targets, written, strict=True):
                out[index] = result.model_copy(
                    update={
                        "object_type": "Lead",
                        "requested_id": leads[index].record_id,
                        "written_object_type": "Contact",
                    }
                )
        return out


def _rejected(
    object_type: str, requested: str, code: str, message: str, fields: Sequence[str]
) -> WriteResult:
    return WriteResult(
        object_type=object_type,
        requested_id=requested,
        status=WriteStatus.REJECTED,
        code=code or "UNKNOWN",
        message=message,
        fields=tuple(fields),
    )


def _known(results: Sequence[WriteResult | None]) -> dict[int, WriteResult]:
    """The results obtained so far, by request index."""
    return {index: result for index, result in enumerate(results) if result is not None}
