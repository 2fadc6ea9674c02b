"""Client-side rate-limit budgets, so that the connector rarely meets a 429 at all.

* :class:`RollingWindow` — at most ``limit`` acquisitions in any ``window`` seconds. It is a
  token bucket whose tokens come back exactly one window after they were spent, which is what
  HubSpot's rolling ten-second limit and its per-second search limit count.
* :class:`HubSpotBudget` — one window for the app's burst limit, one for search, and a cap on
  the calls one run may make against the account's daily limit.
* :class:`SalesforceBudget` — reads ``Sforce-Limit-Info: api-usage=N/M`` from every response
  and stops the run (:class:`~connector.errors.QuotaExhaustedError`) before it spends more than
  its configured share of the org's daily allowance.
* :func:`bounded_map` — runs calls on a bounded thread pool, results in input order.

Clocks and sleeps are injectable; tests never sleep. The adapters pass a sleep that a stop
request wakes (:meth:`connector.stopping.Stop.sleep`): a wait for a window ends at once then,
raising :class:`~connector.errors.StopRequested`, and the call it waited for is not made.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from connector.errors import QuotaExhaustedError, System
from connector.settings import HubSpotSettings, SalesforceSettings

__all__ = [
    "ApiUsage",
    "HubSpotBudget",
    "RollingWindow",
    "SalesforceBudget",
    "bounded_map",
    "parse_limit_info",
]

T = TypeVar("T")
R = TypeVar("R")

Clock = Callable[[], float]

_EPSILON = 1e-6
Sleep = Callable[[float], None]


class RollingWindow:
    """At most ``limit`` acquisitions in any span of ``window`` seconds (thread-safe).

    ``margin`` widens the window a little so that network jitter between our clock and the
    server's cannot make the server count one call too many.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be positive and window longer than zero")
        self.limit = limit
        self.window = window + margin
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Take one token, sleeping until one is free; returns the time slept. Whatever the
        sleep raises (a stop) is raised with no token taken."""
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                # A token is free again one window after it was spent; the epsilon keeps float
                # rounding from leaving a token stuck a hair short of its return time.
                while self._spent and self._spent[0] + self.window <= now + _EPSILON:
                    self._spent.popleft()
                if len(self._spent) < self.limit:
                    self._spent.append(now)
                    self.waited += slept
                    return slept
                delay = max(self._spent[0] + self.window - now, _EPSILON)
            self._sleep(delay)
            slept += delay

    def in_window(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for stamp in self._spent if stamp + self.window > now + _EPSILON)


class HubSpotBudget:
    """Budgets for one HubSpot app: the ten-second burst, search per second, and this run's
    share of the account's daily limit.

    Search is exempt from the ten-second limit (HubSpot marks it so) and has its own; the v4
    association batch reads are exempt too (``x-hubspot-rate-limit-exemptions: ["ten-secondly"]``)
    and count only toward the daily limit.
    """

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        margin: float = 0.25,
    ) -> None:
        self.burst = RollingWindow(
            settings.burst_limit_per_10s, 10.0, margin=margin, clock=clock, sleep=sleep
        )
        self.search = RollingWindow(
            settings.search_per_second, 1.0, margin=margin / 5, clock=clock, sleep=sleep
        )
        self.max_calls = int(settings.daily_limit * settings.max_daily_share)
        self._calls = 0
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return self._calls

    def before_call(self, *, search: bool = False, burst_exempt: bool = False) -> None:
        """Wait for the right window (none for a ``burst_exempt`` call) and count the call;
        raises when the run's share of the daily limit is spent."""
        with self._lock:
            if self._calls >= self.max_calls:
                raise QuotaExhaustedError(
                    System.HUBSPOT,
                    f"this run has made {self._calls} calls, its share of the daily limit; "
                    "stopping until the next run",
                    code="RUN_SHARE_SPENT",
                )
            self._calls += 1
        try:
            if search:
                self.search.acquire()
            elif not burst_exempt:
                self.burst.acquire()
        except BaseException:  # a stop woke the wait: this call is never made
            with self._lock:
                self._calls -= 1
            raise


@dataclass(frozen=True, slots=True)
class ApiUsage:
    used: int
    total: int


_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """``Sforce-Limit-Info: api-usage=18/15000[, per-app-api-usage=...]`` → ``ApiUsage``."""
    if not header:
        return None
    match = _LIMIT_INFO.search(header)
    if match is None:
        return None
    return ApiUsage(int(match.group(1)), int(match.group(2)))


class SalesforceBudget:
    """Stops a run before it spends more than ``max_daily_share`` of the org's daily allowance.

    Feed every response's ``Sforce-Limit-Info`` header to :meth:`observe`; call
    :meth:`before_call` before each request. Until the first response the allowance is unknown
    and calls pass. The allowance is a rolling 24 h, so the run's spend is measured from the
    first usage figure it saw.
    """

    def __init__(self, settings: SalesforceSettings) -> None:
        self.max_share = settings.max_daily_share
        self._first: ApiUsage | None = None
        self._latest: ApiUsage | None = None
        self._calls_since = 0
        self._lock = threading.Lock()

    @property
    def latest(self) -> ApiUsage | None:
        return self._latest

    def observe(self, header: str | None) -> None:
        usage = parse_limit_info(header)
        if usage is None:
            return
        with self._lock:
            if self._first is None:
                # The call that reported this figure is included in it.
                self._first = ApiUsage(usage.used - 1, usage.total)
            self._latest = usage
            self._calls_since = 0

    def spent(self) -> int:
        """Calls this run has spent, as far as the server has told us."""
        with self._lock:
            if self._first is None or self._latest is None:
                return 0
            return self._latest.used - self._first.used + self._calls_since

    def before_call(self, cost: int = 1) -> None:
        with self._lock:
            if self._first is None or self._latest is None:
                return
            allowance = int(self._latest.total * self.max_share)
            spent = self._latest.used - self._first.used + self._calls_since
            remaining = self._latest.total - self._latest.used - self._calls_since
            if spent + cost > allowance or remaining < cost:
                raise QuotaExhaustedError(
                    System.SALESFORCE,
                    f"this run has spent {spent} of the {allowance} API calls it may use "
                    f"(org usage {self._latest.used}/{self._latest.total}); stopping until "
                    "the next run",
                    code="RUN_SHARE_SPENT",
                )
            # Counted until the next header arrives, so concurrent calls cannot overshoot.
            self._calls_since += cost


def bounded_map(fn: Callable[[T], R], items: Iterable[T], max_workers: int) -> list[R]:
    """``[fn(item) for item in items]`` on at most ``max_workers`` threads, in input order.

    The first exception cancels the calls not yet started and is re-raised once the running
    ones finish, so a quota stop does not leave work racing on behind it.
    """
    pending: Sequence[T] = list(items)
    if max_workers <= 1 or len(pending) <= 1:
        return [fn(item) for item in pending]
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="crm-write") as pool:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in pending]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            wait(futures)
            error = failed.exception()
            assert error is not None
            raise error
        return [future.result() for future in futures]
