"""The one retry policy, declared as data and built once with tenacity.

Only :class:`~connector.errors.RetryableApiError` is retried. Quota, auth, fatal and rejection
errors pass straight through; a daily quota in particular is never retried, the run stops.

Waits grow exponentially (``base * 2**(attempt - 1)``, capped at ``cap``) with jitter, except
that a wait the server asked for (``RetryableApiError.retry_after``: ``Retry-After`` or a
documented rate-limit window) is honoured as a floor. Retrying stops after ``max_attempts``
attempts or when the next wait would take the total time slept past ``max_total_delay``,
whichever comes first; the last error is then re-raised unchanged.

Sleeping and randomness are injected, so tests never sleep and are deterministic.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from connector.errors import RetryableApiError

__all__ = ["DEFAULT_POLICY", "Retrier", "RetryPolicy"]

T = TypeVar("T")

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried.

    ``jitter`` is the largest fraction added at random to each computed wait (0 disables it).
    """

    max_attempts: int = 6
    max_total_delay: float = 120.0
    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_total_delay < 0 or self.jitter < 0:
            raise ValueError("delays and jitter must not be negative")

    def backoff(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        computed = min(self.cap, self.base * 2.0 ** (attempt - 1))
        computed *= 1 + self.jitter * rng.random()
        if retry_after is not None:
            # Spread concurrent workers a little past the window the server named.
            return float(max(retry_after * (1 + self.jitter * rng.random() / 4), computed))
        return float(computed)


DEFAULT_POLICY = RetryPolicy()


@dataclass(slots=True)
class Retrier:
    """Runs calls under a :class:`RetryPolicy`. Build one per adapter; it is thread-safe.

    ``sleep`` and ``rng`` are injectable; ``on_retry`` observes each retry (for metrics).
    """

    policy: RetryPolicy = DEFAULT_POLICY
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    on_retry: Callable[[RetryableApiError, float], None] | None = None
    _retrying: Retrying = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retrying = Retrying(
            retry=retry_if_exception_type(RetryableApiError),
            wait=self._wait,
            stop=self._stop,
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``, retried on :class:`RetryableApiError` per the policy."""
        return self._retrying(fn)

    def _wait(self, state: RetryCallState) -> float:
        error = _error_of(state)
        retry_after = error.retry_after if error is not None else None
        return self.policy.backoff(state.attempt_number, retry_after, self.rng)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        return state.idle_for + (state.upcoming_sleep or 0.0) > self.policy.max_total_delay

    def _before_sleep(self, state: RetryCallState) -> None:
        error = _error_of(state)
        delay = state.upcoming_sleep or 0.0
        if error is None:
            return
        # str(error) is built to be user-safe: system, object, id, status, code; no payload.
        logger.info(
            "retrying after %s (attempt %d of %d, waiting %.2f s)",
            error,
            state.attempt_number,
            self.policy.max_attempts,
            delay,
        )
        if self.on_retry is not None:
            self.on_retry(error, delay)


def _error_of(state: RetryCallState) -> RetryableApiError | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    error = outcome.exception()
    return error if isinstance(error, RetryableApiError) else None
