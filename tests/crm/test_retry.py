from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.crm.retry import Retrier, RetryPolicy
from connector.errors import FatalApiError, QuotaExhaustedError, RetryableApiError, System


class Flaky:
    """Fails with the given errors, in order, then returns ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def transient(retry_after: float | None = None) -> RetryableApiError:
    return RetryableApiError(System.HUBSPOT, "busy", status=503, retry_after=retry_after)


def make(policy: RetryPolicy) -> tuple[Retrier, list[float]]:
    slept: list[float] = []
    return Retrier(policy, sleep=slept.append, rng=random.Random(1)), slept


def test_retries_transient_errors_then_succeeds() -> None:
    retrier, slept = make(RetryPolicy(base=1.0, jitter=0.0))
    flaky = Flaky(transient(), transient())
    assert retrier.call(flaky) == "ok"
    assert flaky.calls == 3
    assert slept == [1.0, 2.0]


@pytest.mark.parametrize(
    "error",
    [
        QuotaExhaustedError(System.SALESFORCE, "daily limit", code="REQUEST_LIMIT_EXCEEDED"),
        FatalApiError(System.SALESFORCE, "bad query", code="MALFORMED_QUERY"),
        ValueError("a bug"),
    ],
)
def test_never_retries_anything_but_retryable_errors(error: Exception) -> None:
    retrier, slept = make(RetryPolicy())
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        retrier.call(flaky)
    assert flaky.calls == 1
    assert slept == []


def test_stops_after_max_attempts_and_reraises_the_last_error() -> None:
    retrier, slept = make(RetryPolicy(max_attempts=3, base=0.1))
    last = transient()
    flaky = Flaky(transient(), transient(), last, transient())
    with pytest.raises(RetryableApiError) as caught:
        retrier.call(flaky)
    assert caught.value is last
    assert flaky.calls == 3
    assert len(slept) == 2


def test_stops_when_the_next_wait_would_exceed_the_total_delay() -> None:
    retrier, slept = make(RetryPolicy(max_attempts=10, max_total_delay=25.0, jitter=0.0))
    flaky = Flaky(*(transient(retry_after=10.0) for _ in range(10)))
    with pytest.raises(RetryableApiError):
        retrier.call(flaky)
    assert slept == [10.0, 10.0]  # a third wait would reach 30 s
    assert flaky.calls == 3


def test_honours_the_wait_the_server_asked_for() -> None:
    retrier, slept = make(RetryPolicy(base=0.5, jitter=0.0))
    assert retrier.call(Flaky(transient(retry_after=7.0))) == "ok"
    assert slept == [7.0]


def test_on_retry_sees_each_retry() -> None:
    seen: list[tuple[str, float]] = []
    retrier = Retrier(
        RetryPolicy(jitter=0.0, base=1.0),
        sleep=lambda _: None,
        on_retry=lambda error, delay: seen.append((error.code, delay)),
    )
    retrier.call(Flaky(RetryableApiError(System.SALESFORCE, "lock", code="UNABLE_TO_LOCK_ROW")))
    assert seen == [("UNABLE_TO_LOCK_ROW", 1.0)]


@given(
    attempts=st.integers(min_value=1, max_value=8),
    total=st.floats(min_value=0, max_value=200),
    base=st.floats(min_value=0, max_value=5),
    cap=st.floats(min_value=0, max_value=60),
    jitter=st.floats(min_value=0, max_value=1),
    hints=st.lists(st.none() | st.floats(min_value=0, max_value=30), min_size=10, max_size=10),
    seed=st.integers(),
)
def test_waits_stay_within_the_policy(
    attempts: int,
    total: float,
    base: float,
    cap: float,
    jitter: float,
    hints: list[float | None],
    seed: int,
) -> None:
    policy = RetryPolicy(
        max_attempts=attempts, max_total_delay=total, base=base, cap=cap, jitter=jitter
    )
    slept: list[float] = []
    retrier = Retrier(policy, sleep=slept.append, rng=random.Random(seed))
    flaky = Flaky(*(transient(hint) for hint in hints))
    with pytest.raises(RetryableApiError):
        retrier.call(flaky)
    assert flaky.calls <= attempts
    assert sum(slept) <= total + 1e-9
    for number, (delay, hint) in enumerate(zip(slept, hints, strict=False), start=1):
        floor = min(cap, base * 2.0 ** (number - 1))
        assert delay >= max(floor, hint or 0.0) - 1e-9
        assert delay <= max(floor * (1 + jitter), (hint or 0.0) * (1 + jitter)) + 1e-9
