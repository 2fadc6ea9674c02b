"""Writes: batch update (≤100 inputs) and batch upsert on ``crmsync_person_id``, each 207 error
mapped back to its input; backward ``lifecyclestage`` moves as clear-then-set, verified; batch
archive (deletion) for erasure requests.

A batch the API refuses as a whole for one input's data (400 ``VALIDATION_ERROR``) is split in
halves until the offending input stands alone and is rejected by itself.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.crm._partial import carry, done_before
from connector.crm.dispositions import (
    HUBSPOT_CATEGORIES,
    Disposition,
    classify_hubspot,
    parse_hubspot_error,
)
from connector.crm.hubspot._pull import MAX_BATCH, parse_instant
from connector.crm.retry import RetryPolicy
from connector.crm.types import (
    DeleteRequest,
    FieldValue,
    UpsertRequest,
    WriteRequest,
    WriteResult,
    WriteStatus,
)
from connector.errors import FatalApiError

__all__ = ["EXTERNAL_ID_PROPERTY", "MAX_BATCH", "Writer", "to_property"]

EXTERNAL_ID_PROPERTY = "crmsync_person_id"

Batch = Callable[[str, str, list[dict[str, Any]]], dict[str, Any]]
"""``(object_type, action, inputs) -> response body`` (200 or 207)."""
Read = Callable[[str, list[str], list[str]], dict[str, Any]]

_RECORD_CATEGORIES = frozenset(
    c for c, d in HUBSPOT_CATEGORIES.items() if d is Disposition.REJECT_RECORD
)


def to_property(value: FieldValue) -> str:
    """HubSpot takes every property value as a string; ``""`` clears one."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


class Writer:
    def __init__(
        self,
        batch: Batch,
        read: Read,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self._batch = batch
        self._read = read
        self._policy = policy
        self._sleep = sleep
        self._rng = rng
        self._lock = threading.Lock()
        self.resends = 0
        """Calls that re-sent inputs refused with a transient per-input error."""

    def update(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        """≤100 updates of one object type, with clear-then-set for ``clear_first`` fields.

        A stop (quota, auth) part-way is raised carrying the results obtained: written
        records, and records whose clear went out without their set (``PARTIAL``).
        """
        results: list[WriteResult | None] = [None] * len(requests)
        live = list(range(len(requests)))
        clearing = [i for i in live if requests[i].clear_first]
        cleared: set[int] = set()
        if clearing:
            try:
                answers = self._send(
                    requests[0].object_type,
                    "update",
                    [
                        (i, requests[i].record_id, {f: "" for f in requests[i].clear_first}, None)
                        for i in clearing
                    ],
                )
            except Exception as error:
                carry(error, _cleared_only(requests, done_before(error)))
                raise
            for index, result in answers.items():
                if result.ok:
                    cleared.add(index)
                else:
                    results[index] = result
            live = [i for i in live if results[i] is None]
        try:
            written = self._send(
                requests[0].object_type,
                "update",
                [
                    (
                        i,
                        requests[i].record_id,
                        {k: to_property(v) for k, v in requests[i].fields.items()},
                        None,
                    )
                    for i in live
                ],
            )
        except Exception as error:
            sent = done_before(error)
            unset = {i: r for i, r in _cleared_only(requests, dict.fromkeys(cleared)).items()}
            carry(error, {**_known(results), **unset, **sent})
            raise
        for index, result in written.items():
            results[index] = result
        try:
            self._verify(requests, results, [i for i in clearing if i in written])
        except Exception as error:  # the re-read failed: what was written still was
            carry(error, _known(results))
            raise
        return [r for r in results if r is not None]

    def upsert(self, object_type: str, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        sent = self._send(
            object_type,
            "upsert",
            [
                (
                    i,
                    r.external_id,
                    {k: to_property(v) for k, v in r.fields.items()},
                    EXTERNAL_ID_PROPERTY,
                )
                for i, r in enumerate(requests)
            ],
        )
        return [sent[i] for i in range(len(requests))]

    def delete(self, object_type: str, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        """≤100 archives of one object type. HubSpot answers 204 for the whole batch, ids it
        does not know (already archived, merged away) included: every input is gone after it."""
        if len(requests) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} inputs per batch")
        if requests:
            self._batch(object_type, "archive", [{"id": r.record_id} for r in requests])
        return [
            WriteResult(
                object_type=object_type,
                requested_id=r.record_id,
                status=WriteStatus.WRITTEN,
                record_id=r.record_id,
            )
            for r in requests
        ]

    def _conflicted(
        self,
        object_type: str,
        action: str,
        items: list[tuple[int, str, dict[str, str], str | None]],
        refused: FatalApiError,
    ) -> list[tuple[Any, Any]]:
        """A whole batch refused with 409 ``Contact already exists. Existing ID: N``: only the
        first conflict is named, and nothing was written. Read contact N, find the input that
        holds its address (that input is the conflict: apply links the person to N instead of
        creating), and send the rest again: two calls per conflict. When no input can be told
        (a duplicate inside the batch), halve until the conflict stands alone."""
        conflict = (Disposition.REJECT_RECORD, "CONFLICT", refused.message, ())
        holders: set[int] = set()
        match = _EXISTING_ID.search(refused.message)
        if match is not None:
            answer = self._read(object_type, [match.group(1)], ["email"])
            taken = {
                address.strip().lower()
                for row in answer.get("results") or ()
                if (address := str((row.get("properties") or {}).get("email") or ""))
            }
            holders = {
                item[0] for item in items if item[2].get("email", "").strip().lower() in taken
            }
        if not holders:
            if len(items) == 1:
                return [(items[0], conflict)]
            half = len(items) // 2
            return self._halves(object_type, action, items[:half], items[half:])
        named = [(item, conflict) for item in items if item[0] in holders]
        rest = [item for item in items if item[0] not in holders]
        # Nothing of ``named`` was written, so a stop in the re-send carries only its own.
        return [*named, *self._attempt(object_type, action, rest)] if rest else named

    def _halves(
        self,
        object_type: str,
        action: str,
        first_half: list[tuple[int, str, dict[str, str], str | None]],
        second_half: list[tuple[int, str, dict[str, str], str | None]],
    ) -> list[tuple[Any, Any]]:
        first = self._attempt(object_type, action, first_half)
        try:
            second = self._attempt(object_type, action, second_half)
        except Exception as stopped:  # the first half's writes went out: they travel too
            written = {item[0]: o for item, o in first if isinstance(o, WriteResult)}
            carry(stopped, {**written, **done_before(stopped)})
            raise
        return [*first, *second]

    def _verify(
        self,
        requests: Sequence[WriteRequest],
        results: list[WriteResult | None],
        indices: list[int],
    ) -> None:
        """HubSpot may ignore a backward stage move with a 2xx: re-read and check."""
        check = [i for i in indices if (r := results[i]) is not None and r.ok]
        if not check:
            return
        names = sorted({name for i in check for name in requests[i].clear_first})
        answer = self._read(requests[0].object_type, [requests[i].record_id for i in check], names)
        current = {
            str(row["id"]): row.get("properties") or {} for row in answer.get("results") or ()
        }
        for index in check:
            request = requests[index]
            props = current.get(request.record_id, {})
            wrong = [
                name
                for name in request.clear_first
                if (props.get(name) or "") != to_property(request.fields.get(name))
            ]
            if wrong:
                results[index] = _rejected(
                    request.object_type,
                    request.record_id,
                    "NOT_APPLIED",
                    "HubSpot kept the old value after clear-then-set",
                    wrong,
                )

    def _send(
        self,
        object_type: str,
        action: str,
        items: list[tuple[int, str, dict[str, str], str | None]],
    ) -> dict[int, WriteResult]:
        """Send ``(index, id, properties, idProperty)`` items; classify each outcome."""
        out: dict[int, WriteResult] = {}
        pending = items
        attempt = 1
        while pending:
            retry: list[tuple[int, str, dict[str, str], str | None]] = []
            try:
                attempted = self._attempt(object_type, action, pending)
            except Exception as error:  # a stop: raised with every input written so far
                carry(error, {**out, **done_before(error)})
                raise
            for item, outcome in attempted:
                index, key, _, _ = item
                if isinstance(outcome, WriteResult):
                    out[index] = outcome
                    continue
                disposition, code, message, fields = outcome
                if disposition is Disposition.RETRY and attempt < self._policy.max_attempts:
                    retry.append(item)
                else:
                    out[index] = _rejected(object_type, key, code, message, fields)
            if retry:
                with self._lock:
                    self.resends += 1
                try:
                    self._sleep(self._policy.backoff(attempt, None, self._rng))
                except Exception as error:  # a stop woke the wait: the re-send is not made
                    carry(error, out)
                    raise
            pending = retry
            attempt += 1
        return out

    def _attempt(
        self,
        object_type: str,
        action: str,
        items: list[tuple[int, str, dict[str, str], str | None]],
    ) -> list[tuple[Any, Any]]:
        inputs: list[dict[str, Any]] = []
        for index, key, properties, id_property in items:
            entry: dict[str, Any] = {
                "id": key,
                "properties": properties,
                "objectWriteTraceId": str(index),
            }
            if id_property:
                entry["idProperty"] = id_property
            inputs.append(entry)
        try:
            answer = self._batch(object_type, action, inputs)
        except FatalApiError as exc:
            if exc.status == 409 and exc.code == "CONFLICT":
                return self._conflicted(object_type, action, items, exc)
            if exc.status != 400 or exc.code not in _RECORD_CATEGORIES:
                raise
            if len(items) == 1:
                return [(items[0], (Disposition.REJECT_RECORD, exc.code, exc.message, ()))]
            half = len(items) // 2
            return self._halves(object_type, action, items[:half], items[half:])
        by_trace = {str(i): item for i, item in ((it[0], it) for it in items)}
        by_key = {item[1]: item for item in items}
        outcomes: dict[int, tuple[Any, Any]] = {}
        for row in answer.get("results") or ():
            item = by_trace.get(str(row.get("objectWriteTraceId"))) or by_key.get(
                str((row.get("properties") or {}).get(EXTERNAL_ID_PROPERTY) or row.get("id"))
            )
            if item is not None:
                outcomes[item[0]] = (
                    item,
                    WriteResult(
                        object_type=object_type,
                        requested_id=item[1],
                        status=WriteStatus.WRITTEN,
                        record_id=str(row.get("id")),
                        created=bool(row.get("new")),
                        modified_at=_updated_at(row),
                    ),
                )
        for error in answer.get("errors") or ():
            context = error.get("context") or {}
            traces = context.get("objectWriteTraceId") or []
            ids = context.get("ids") or []
            matched = [by_trace[t] for t in traces if t in by_trace] or [
                by_key[i] for i in ids if i in by_key
            ]
            facts = parse_hubspot_error(error)
            disposition = classify_hubspot(None, facts.code, per_record=True)
            for item in matched:
                outcomes[item[0]] = (item, (disposition, facts.code, facts.message, facts.fields))
        for item in items:
            if item[0] not in outcomes:
                # Neither a result nor an error names it: never assume it was written.
                outcomes[item[0]] = (
                    item,
                    (
                        Disposition.REJECT_RECORD,
                        "UNCONFIRMED",
                        "the batch answer did not mention this input",
                        (),
                    ),
                )
        return [outcomes[item[0]] for item in items]


_EXISTING_ID = re.compile(r"Existing ID: (\d+)")


def _rejected(
    object_type: str, requested: str, code: str, message: str, fields: Sequence[str]
) -> WriteResult:
    return WriteResult(
        object_type=object_type,
        requested_id=requested,
        status=WriteStatus.REJECTED,
        code=code or "UNKNOWN",
        message=message or "rejected",
        fields=tuple(fields),
    )


def _known(results: Sequence[WriteResult | None]) -> dict[int, WriteResult]:
    """The results obtained so far, by request index."""
    return {index: result for index, result in enumerate(results) if result is not None}


def _cleared_only(
    requests: Sequence[WriteRequest], cleared: Mapping[int, object]
) -> dict[int, WriteResult]:
    """Records whose clear went out but whose set did not: changed, but not as planned."""
    return {
        index: WriteResult(
            object_type=requests[index].object_type,
            requested_id=requests[index].record_id,
            status=WriteStatus.PARTIAL,
            record_id=requests[index].record_id,
            message="cleared before the run stopped; the next run sets it",
            fields=requests[index].clear_first,
        )
        for index in cleared
    }


def _updated_at(row: dict[str, Any]) -> datetime | None:
    """The record's ``updatedAt`` after the write (``lastmodifieddate`` if the answer has it)."""
    stamp = row.get("updatedAt") or (row.get("properties") or {}).get("lastmodifieddate")
    if not stamp:
        return None
    try:
        return parse_instant(stamp)
    except ValueError:
        return None
