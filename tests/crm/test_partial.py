"""A write that stops part-way raises its error carrying every result obtained before it."""

from __future__ import annotations

import threading

import pytest

from connector.crm._partial import carry, done_before, gather, settled_map
from connector.crm.types import WriteResult, WriteStatus
from connector.errors import QuotaExhaustedError, System


def _written(key: str) -> WriteResult:
    return WriteResult(
        object_type="Lead", requested_id=key, status=WriteStatus.WRITTEN, record_id=key
    )


@pytest.mark.parametrize("workers", [1, 3])
def test_gather_raises_the_stop_with_whole_calls_and_the_failing_calls_part(workers: int) -> None:
    calls = [(["a", "b"], [0, 1]), (["c", "d"], [2, 3]), (["e"], [4])]
    failed_once = threading.Event()

    def run(keys: list[str]) -> list[WriteResult]:
        if keys[0] == "c":
            failed_once.set()
            error = QuotaExhaustedError(System.SALESFORCE, "daily limit")
            raise carry(error, {1: _written("d")})  # "d" went out, "c" did not
        return [_written(key) for key in keys]

    with pytest.raises(QuotaExhaustedError) as stopped:
        gather(run, calls, 5, workers)
    carried = done_before(stopped.value)
    assert failed_once.is_set()
    assert carried[3].requested_id == "d"  # re-keyed to the request's own index
    assert 2 not in carried
    assert carried[0].requested_id == "a"
    assert carried[1].requested_id == "b"
    if workers == 1:
        assert 4 not in carried  # never started after the stop


def test_settled_map_keeps_the_values_of_calls_that_finished() -> None:
    def run(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n * 10

    settled = settled_map(run, [1, 2, 3], 1)
    assert settled[0].value == 10
    assert isinstance(settled[1].error, ValueError)
    assert not settled[2].ran
