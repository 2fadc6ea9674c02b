"""The HubSpot batch writer against strict fakes of the batch endpoints (the seam below it)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from connector.crm._partial import done_before
from connector.crm.hubspot._write import Writer, to_property
from connector.crm.retry import RetryPolicy
from connector.crm.types import UpsertRequest, WriteRequest, WriteStatus
from connector.errors import FatalApiError, QuotaExhaustedError, System


class Portal:
    """Batch update/upsert/read over a dict of contacts; one 'bad' value refuses a whole batch
    with 400 VALIDATION_ERROR (as HubSpot does for some inputs), 'locked' once answers a
    retryable per-input error, and a backward lifecyclestage set is silently ignored."""

    ORDER = ("subscriber", "lead", "opportunity", "customer")

    def __init__(self) -> None:
        self.props: dict[str, dict[str, str]] = {
            str(n): {"lifecyclestage": "customer"} for n in range(1, 400)
        }
        self.calls: list[tuple[str, int]] = []
        self.locked_once: set[str] = set()

    def batch(self, object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        assert object_type == "contacts"
        assert len(inputs) <= 100
        self.calls.append((action, len(inputs)))
        if any("bad" in item["properties"].values() for item in inputs):
            raise FatalApiError(
                System.HUBSPOT,
                "Property values were not valid",
                status=400,
                code="VALIDATION_ERROR",
            )
        results, errors = [], []
        for item in inputs:
            key, trace = item["id"], item["objectWriteTraceId"]
            if item["properties"].get("note") == "locked" and key not in self.locked_once:
                self.locked_once.add(key)
                errors.append(
                    {
                        "category": "INTERNAL_ERROR",
                        "message": "busy",
                        "context": {"objectWriteTraceId": [trace]},
                    }
                )
                continue
            if action == "upsert":
                new = key not in self.props
                record = self.props.setdefault(key, {})
            elif key not in self.props:
                errors.append(
                    {
                        "category": "OBJECT_NOT_FOUND",
                        "message": "not found",
                        "context": {"ids": [key]},
                    }
                )
                continue
            else:
                new, record = False, self.props[key]
            for name, value in item["properties"].items():
                old = record.get(name, "")
                if (
                    name == "lifecyclestage"
                    and old
                    and value
                    and (self.ORDER.index(value) < self.ORDER.index(old))
                ):
                    continue  # HubSpot ignores a backward move with a 2xx
                record[name] = value
            results.append({"id": key, "objectWriteTraceId": trace, "new": new})
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body["errors"], body["numErrors"] = errors, len(errors)
        return body

    def read(self, object_type: str, ids: list[str], names: list[str]) -> dict[str, Any]:
        self.calls.append(("read", len(ids)))
        return {
            "results": [
                {"id": i, "properties": {n: self.props[i].get(n) for n in names}}
                for i in ids
                if i in self.props
            ]
        }


def writer(portal: Portal) -> Writer:
    return Writer(
        portal.batch,
        portal.read,
        RetryPolicy(jitter=0.0),
        sleep=lambda _: None,
        rng=random.Random(0),
    )


def update(key: str, **fields: Any) -> WriteRequest:
    return WriteRequest(object_type="contacts", record_id=key, fields=fields)


def test_a_batch_refused_for_one_input_is_split_until_it_stands_alone() -> None:
    portal = Portal()
    requests = [update(str(n), note="ok") for n in range(1, 65)]
    requests[37] = update("38", note="bad")
    results = writer(portal).update(requests)
    assert [r.ok for r in results] == [n != 37 for n in range(64)]
    assert (results[37].code, results[37].requested_id) == ("VALIDATION_ERROR", "38")
    assert len(portal.calls) <= 2 * 7 + 1  # a binary search, not one call per input


def test_207_errors_map_to_their_inputs_and_transient_ones_are_resent() -> None:
    portal = Portal()
    requests = [update("1", note="locked"), update("999", note="x"), update("2", note="y")]
    results = writer(portal).update(requests)
    assert [(r.status.value, r.code) for r in results] == [
        ("written", ""),
        ("rejected", "OBJECT_NOT_FOUND"),
        ("written", ""),
    ]
    assert portal.calls == [("update", 3), ("update", 1)]


def test_backward_lifecycle_is_cleared_set_and_verified() -> None:
    portal = Portal()
    results = writer(portal).update(
        [
            WriteRequest(
                object_type="contacts",
                record_id="5",
                fields={"lifecyclestage": "lead"},
                clear_first=("lifecyclestage",),
            )
        ]
    )
    assert results[0].ok
    assert portal.props["5"]["lifecyclestage"] == "lead"
    assert [action for action, _ in portal.calls] == ["update", "update", "read"]


def test_a_backward_move_without_clearing_is_caught_by_verification() -> None:
    portal = Portal()
    # Clearing to "" is refused here, so the set is ignored as a backward move.

    def no_clear(object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        kept = [
            {**i, "properties": {k: v for k, v in i["properties"].items() if v}} for i in inputs
        ]
        return Portal.batch(portal, object_type, action, kept)

    w = Writer(no_clear, portal.read, RetryPolicy(), sleep=lambda _: None, rng=random.Random(0))
    [result] = w.update(
        [
            WriteRequest(
                object_type="contacts",
                record_id="6",
                fields={"lifecyclestage": "lead"},
                clear_first=("lifecyclestage",),
            )
        ]
    )
    assert (result.ok, result.code, result.fields) == (False, "NOT_APPLIED", ("lifecyclestage",))


def test_upsert_reports_creation_per_input() -> None:
    portal = Portal()
    requests = [
        UpsertRequest(object_type="contacts", external_id=k, fields={"firstname": "A"})
        for k in ("new-1", "3")
    ]
    results = writer(portal).upsert("contacts", requests)
    assert [(r.ok, r.created) for r in results] == [(True, True), (True, False)]


def test_an_input_the_answer_never_mentions_is_not_assumed_written() -> None:
    def silent(object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"status": "COMPLETE", "results": []}

    portal = Portal()
    w = Writer(silent, portal.read, RetryPolicy(), sleep=lambda _: None, rng=random.Random(0))
    [result] = w.update([update("1", note="x")])
    assert (result.ok, result.code) == (False, "UNCONFIRMED")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (42.0, "42"),
        (4.5, "4.5"),
        (7, "7"),
        ("x", "x"),
    ],
)
def test_values_travel_as_strings(value: Any, text: str) -> None:
    assert to_property(value) == text


class QuotaAfter(Portal):
    """The portal's daily allowance runs out after ``calls`` batch calls."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls

    def batch(self, object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if self.left == 0:
            raise QuotaExhaustedError(System.HUBSPOT, "daily limit reached")
        self.left -= 1
        return super().batch(object_type, action, inputs)


def test_a_stop_between_a_clear_and_its_set_says_the_record_was_changed_part_way() -> None:
    portal = QuotaAfter(calls=1)  # the clear goes out, the set does not
    request = WriteRequest(
        object_type="contacts",
        record_id="5",
        fields={"lifecyclestage": "lead"},
        clear_first=("lifecyclestage",),
    )
    with pytest.raises(QuotaExhaustedError) as stopped:
        writer(portal).update([request, update("6", note="plain")])
    carried = done_before(stopped.value)
    assert portal.props["5"]["lifecyclestage"] == ""  # HubSpot did receive the clear
    assert carried[0].status is WriteStatus.PARTIAL
    assert carried[0].fields == ("lifecyclestage",)
    assert 1 not in carried  # record 6 was never sent


def test_a_stop_during_a_split_batch_carries_the_half_that_was_written() -> None:
    portal = QuotaAfter(calls=2)  # the whole batch (refused), then its first half
    requests = [update(str(n), note="ok") for n in range(1, 9)]
    requests[6] = update("7", note="bad")
    with pytest.raises(QuotaExhaustedError) as stopped:
        writer(portal).update(requests)
    carried = done_before(stopped.value)
    assert sorted(carried) == [0, 1, 2, 3]
    assert all(result.ok for result in carried.values())
    assert {portal.props[str(n)].get("note") for n in range(1, 5)} == {"ok"}
    assert "note" not in portal.props["5"]


class StrictPortal(Portal):
    """Refuses a whole batch with HubSpot's 409 when an input's e-mail is another contact's
    (naming only the first conflict, writing nothing), as batch create does."""

    def __init__(self) -> None:
        super().__init__()
        self.props["77"] = {"email": "taken@example.com", "lifecyclestage": "lead"}
        self.props["78"] = {"email": "also.taken@example.com", "lifecyclestage": "lead"}

    def batch(self, object_type: str, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        owners = {p.get("email"): key for key, p in self.props.items() if p.get("email")}
        for item in inputs:
            owner = owners.get(item["properties"].get("email"))
            if owner is not None and owner != item["id"]:
                self.calls.append((action, len(inputs)))
                raise FatalApiError(
                    System.HUBSPOT,
                    f"Contact already exists. Existing ID: {owner}",
                    status=409,
                    code="CONFLICT",
                )
        return super().batch(object_type, action, inputs)


def test_a_batch_refused_whole_for_a_taken_address_names_the_conflict_and_writes_the_rest() -> None:
    portal = StrictPortal()
    requests = [
        UpsertRequest(object_type="contacts", external_id=f"p{n}", fields={"email": f"n{n}@x.io"})
        for n in range(30)
    ]
    requests[4] = UpsertRequest(
        object_type="contacts", external_id="p4", fields={"email": "taken@example.com"}
    )
    requests[21] = UpsertRequest(
        object_type="contacts", external_id="p21", fields={"email": "also.taken@example.com"}
    )
    results = writer(portal).upsert("contacts", requests)
    assert [r.ok for r in results] == [n not in (4, 21) for n in range(30)]
    assert (results[4].code, results[21].code) == ("CONFLICT", "CONFLICT")
    assert "Existing ID: 77" in results[4].message
    assert "Existing ID: 78" in results[21].message
    assert all(
        portal.props[f"p{n}"]["email"] == f"n{n}@x.io" for n in range(30) if n not in (4, 21)
    )
    # Two calls per conflict (the refused batch, the read of the named contact) and one that
    # goes through: not one call per input.
    assert len(portal.calls) == 5
