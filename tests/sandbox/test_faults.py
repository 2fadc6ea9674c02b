"""Fault plans from files, seeded decisions, and the call counter."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from connector.sandbox.faults import Burst, FaultInjector, FaultPlan, load_fault_plan
from connector.sandbox.stats import CallStats


def test_plans_load_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "faults.yaml"
    yaml_file.write_text(
        "latency_ms: 25\nerror_rates:\n  503: 0.1\nbursts:\n  - {after_calls: 3, count: 2}\n"
    )
    json_file = tmp_path / "faults.json"
    json_file.write_text('{"latency_ms": 25, "error_rates": {"503": 0.1}, '
                         '"bursts": [{"after_calls": 3, "count": 2}]}')  # fmt: skip
    expected = FaultPlan(
        latency_ms=25, error_rates={503: 0.1}, bursts=(Burst(after_calls=3, count=2),)
    )
    assert load_fault_plan(yaml_file) == expected
    assert load_fault_plan(json_file) == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"error_rates": {"200": 0.1}},
        {"error_rates": {"503": 0.7, "500": 0.6}},
        {"lock_error_rate": 2},
        {"latency_ms": -1},
        {"surprise": True},
    ],
)
def test_bad_plans_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaultPlan.model_validate(bad)


def test_same_seed_same_decisions_and_bursts_come_first() -> None:
    plan = FaultPlan(error_rates={503: 0.2, 500: 0.1}, bursts=(Burst(after_calls=2, count=3),))
    first = FaultInjector(plan, seed=4)
    second = FaultInjector(plan, seed=4)
    decisions = [first.on_call() for _ in range(50)]
    assert decisions == [second.on_call() for _ in range(50)]
    assert decisions[2:5] == [429, 429, 429]
    assert {503, 500, None} <= set(decisions)
    other = FaultInjector(plan, seed=5)
    assert decisions != [other.on_call() for _ in range(50)]


def test_session_expiry_repeats_every_n_calls_and_configure_restarts() -> None:
    injector = FaultInjector(FaultPlan(expire_session_after_calls=3))
    assert [injector.session_should_expire() for _ in range(8)] == [
        False, False, False, True, False, False, False, True,
    ]  # fmt: skip
    injector.configure(FaultPlan(latency_ms=10))
    assert not any(injector.session_should_expire() for _ in range(10))
    assert injector.latency_seconds() == 0.01


def test_call_stats_are_thread_safe() -> None:
    stats = CallStats()

    def hammer() -> None:
        for _ in range(1000):
            stats.record("get", "/query")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.snapshot() == {"GET /query": 4000}
    assert stats.total() == 4000
    stats.reset()
    assert stats.snapshot() == {}
