from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.crm.budget import (
    HubSpotBudget,
    RollingWindow,
    SalesforceBudget,
    bounded_map,
    parse_limit_info,
)
from connector.errors import QuotaExhaustedError, StopRequested, System
from connector.settings import HubSpotSettings, SalesforceSettings
from connector.stopping import Stop


class FakeClock:
    """A monotonic clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rolling_window_waits_for_the_oldest_token() -> None:
    clock = FakeClock()
    window = RollingWindow(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert window.acquire() == 0.0
    clock.now += 4.0
    assert window.acquire() == pytest.approx(6.0)
    assert clock.slept == [pytest.approx(6.0)]


@given(
    limit=st.integers(min_value=1, max_value=10),
    gaps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=60),
)
def test_rolling_window_never_exceeds_its_limit_in_any_window(
    limit: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    window = RollingWindow(limit, 10.0, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    for gap in gaps:
        clock.now += gap
        window.acquire()
        stamps.append(clock.now)
    for index, start in enumerate(stamps):
        inside = [s for s in stamps[index:] if s < start + 10.0 - 1e-6]
        assert len(inside) <= limit


def test_hubspot_search_uses_its_own_window_and_not_the_burst() -> None:
    clock = FakeClock()
    settings = HubSpotSettings(burst_limit_per_10s=100, search_per_second=4)
    budget = HubSpotBudget(settings, clock=clock, sleep=clock.sleep, margin=0.0)
    for _ in range(8):
        budget.before_call(search=True)
    assert clock.now == pytest.approx(1001.0)  # 4 per second: the fifth waited one second
    assert budget.burst.in_window() == 0
    for _ in range(100):
        budget.before_call()
    assert clock.now == pytest.approx(1001.0)  # 100 burst calls fit one window: no wait
    assert budget.search.in_window() == 4
    assert budget.calls == 108


def test_hubspot_association_reads_skip_the_burst_window_but_count_toward_the_day() -> None:
    clock = FakeClock()
    settings = HubSpotSettings(burst_limit_per_10s=100, daily_limit=1000, max_daily_share=0.2)
    budget = HubSpotBudget(settings, clock=clock, sleep=clock.sleep, margin=0.0)
    for _ in range(150):
        budget.before_call(burst_exempt=True)
    assert clock.now == pytest.approx(1000.0)  # 150 in no time: the ten-second limit is not theirs
    assert budget.burst.in_window() == 0
    for _ in range(50):
        budget.before_call()
    with pytest.raises(QuotaExhaustedError):
        budget.before_call(burst_exempt=True)  # 200 calls: the run's share of the day is spent
    assert budget.calls == 200


def test_hubspot_budget_stops_at_the_runs_share_of_the_daily_limit() -> None:
    clock = FakeClock()
    settings = HubSpotSettings(daily_limit=100, max_daily_share=0.05)
    budget = HubSpotBudget(settings, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        budget.before_call()
    with pytest.raises(QuotaExhaustedError) as caught:
        budget.before_call()
    assert caught.value.code == "RUN_SHARE_SPENT"


def test_parse_limit_info() -> None:
    usage = parse_limit_info("api-usage=18/15000, per-app-api-usage=17/250(appName=sample)")
    assert usage is not None
    assert (usage.used, usage.total) == (18, 15000)
    assert parse_limit_info("api-bursts=1/2") is None
    assert parse_limit_info(None) is None


def test_salesforce_budget_stops_before_spending_more_than_its_share() -> None:
    budget = SalesforceBudget(SalesforceSettings(max_daily_share=0.01))
    budget.before_call()  # nothing known yet: allowed
    budget.observe("api-usage=501/1000")  # this run's first call brought usage to 501
    for _ in range(9):
        budget.before_call()
    assert budget.spent() == 10
    with pytest.raises(QuotaExhaustedError):
        budget.before_call()
    budget.observe("api-usage=510/1000")  # the server confirms: still 10 spent
    with pytest.raises(QuotaExhaustedError):
        budget.before_call()


def test_salesforce_budget_stops_when_the_org_has_nothing_left() -> None:
    budget = SalesforceBudget(SalesforceSettings(max_daily_share=1.0))
    budget.observe("api-usage=1000/1000")
    with pytest.raises(QuotaExhaustedError):
        budget.before_call()


def test_bounded_map_keeps_order_and_bounds_concurrency() -> None:
    lock = threading.Lock()
    active = 0
    peak = 0

    def work(item: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        total = sum(range(20_000))  # a little real work so threads overlap
        with lock:
            active -= 1
        return item * 2 + total * 0

    assert bounded_map(work, range(40), max_workers=3) == [i * 2 for i in range(40)]
    assert peak <= 3


def test_bounded_map_stops_on_the_first_error() -> None:
    started: list[int] = []
    gate = threading.Event()

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            raise QuotaExhaustedError(System.HUBSPOT, "run share spent")
        gate.wait(timeout=5)
        return item

    def release_later() -> None:
        gate.set()

    threading.Timer(0.05, release_later).start()
    with pytest.raises(QuotaExhaustedError):
        bounded_map(work, range(50), max_workers=2)
    assert len(started) < 50


def test_a_stop_wakes_a_window_wait_and_no_token_or_call_is_spent() -> None:
    stop = Stop()
    budget = HubSpotBudget(HubSpotSettings(burst_limit_per_10s=1), sleep=stop.sleeper(), margin=0.0)
    budget.before_call()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        budget.before_call()  # waits ten seconds for the window, unless stopped
    assert time.monotonic() - started < 2
    assert budget.calls == 1, "the call the stop prevented is not counted"
    assert budget.burst.in_window() == 1
