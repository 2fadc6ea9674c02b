from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connector.errors import ExitCode, RunLockedError
from connector.jobs import Alert, AlertOn, JobDefinition, Scheduler, send_alert


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def job(name: str, cron: str, **extra: object) -> JobDefinition:
    return JobDefinition.model_validate(
        {"version": "1", "name": name, "schedule": {"cron": cron}, "action": "sync", **extra}
    )


class Locks:
    """An in-memory stand-in for the state store's lease lock (held by another scheduler)."""

    def __init__(self) -> None:
        self.held_elsewhere: set[str] = set()
        self.held: set[str] = set()

    @contextmanager
    def __call__(self, name: str) -> Iterator[object]:
        if name in self.held_elsewhere or name in self.held:
            raise RunLockedError(name, "scheduler@other-host", "2026-01-01T00:10:00Z")
        self.held.add(name)
        try:
            yield name
        finally:
            self.held.discard(name)


START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def make(
    jobs: list[JobDefinition],
    clock: FakeClock,
    *,
    last: dict[str, datetime] | None = None,
    durations: dict[str, float] | None = None,
    codes: dict[str, ExitCode] | None = None,
    locks: Locks | None = None,
) -> tuple[Scheduler, list[tuple[str, datetime]]]:
    ran: list[tuple[str, datetime]] = []

    def run(definition: JobDefinition, stop: threading.Event) -> ExitCode:
        ran.append((definition.name, clock()))
        clock.advance((durations or {}).get(definition.name, 5))
        return (codes or {}).get(definition.name, ExitCode.OK)

    scheduler = Scheduler(
        jobs=jobs,
        run_job=run,
        lock=locks or Locks(),
        last_run=lambda name: (last or {}).get(name),
        clock=clock,
    )
    return scheduler, ran


def fake_wait(clock: FakeClock, scheduler: Scheduler, until: datetime) -> object:
    def wait(seconds: float) -> bool:
        clock.advance(max(seconds, 1))
        if clock() >= until:
            scheduler.stop.set()
        return scheduler.stop.is_set()

    return wait


def test_due_jobs_run_at_their_fire_times() -> None:
    clock = FakeClock(START)
    scheduler, ran = make([job("q", "*/15 * * * *"), job("h", "0 * * * *")], clock)
    scheduler.serve(wait=fake_wait(clock, scheduler, START + timedelta(hours=1, minutes=1)))  # type: ignore[arg-type]
    names = [name for name, _ in ran]
    assert names.count("q") == 4  # 00:15, 00:30, 00:45, 01:00
    assert names.count("h") == 1  # 01:00
    q_times = [at for name, at in ran if name == "q"]
    assert q_times[0] == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)


def test_a_run_longer_than_the_interval_is_coalesced_not_overlapped() -> None:
    clock = FakeClock(START)
    scheduler, ran = make([job("q", "*/15 * * * *")], clock, durations={"q": 40 * 60})
    scheduler.serve(wait=fake_wait(clock, scheduler, START + timedelta(hours=2)))  # type: ignore[arg-type]
    times = [at for _, at in ran]
    assert all(
        later - earlier >= timedelta(minutes=40) for earlier, later in itertools.pairwise(times)
    )


def test_a_job_locked_by_another_scheduler_is_skipped() -> None:
    clock = FakeClock(datetime(2026, 1, 1, 0, 14, 59, tzinfo=UTC))
    locks = Locks()
    locks.held_elsewhere.add("job:q")
    scheduler, ran = make([job("q", "*/15 * * * *")], clock, locks=locks)
    clock.advance(2)
    (result,) = scheduler.run_due()
    assert result.skipped_locked
    assert result.code is None
    assert ran == []


def test_missed_runs_after_downtime() -> None:
    clock = FakeClock(START + timedelta(hours=5))
    last = {"once": START, "skip": START}
    jobs = [job("once", "0 * * * *"), job("skip", "0 * * * *", missed_runs="skip")]
    scheduler, _ = make(jobs, clock, last=last)
    results = scheduler.run_due()
    assert [r.job for r in results] == ["once"]  # five missed fire times, one catch-up run
    assert scheduler.next_fire_times()["skip"] == datetime(2026, 1, 1, 6, tzinfo=UTC)


def test_stop_event_prevents_further_jobs_and_serve_returns() -> None:
    clock = FakeClock(datetime(2026, 1, 1, 0, 59, 59, tzinfo=UTC))
    scheduler, ran = make([job("a", "0 * * * *"), job("b", "0 * * * *")], clock)

    def stopping_run(definition: JobDefinition, stop: threading.Event) -> ExitCode:
        ran.append((definition.name, clock()))
        stop.set()  # SIGTERM arrives while the first job runs: it checkpoints and returns
        return ExitCode.OK

    scheduler.run_job = stopping_run
    clock.advance(1)
    history = scheduler.serve(wait=lambda seconds: scheduler.stop.is_set())
    assert [r.job for r in history] == ["a"]
    assert scheduler.stop.is_set()


def test_failures_notify() -> None:
    clock = FakeClock(datetime(2026, 1, 1, 0, 59, 59, tzinfo=UTC))
    scheduler, _ = make([job("a", "0 * * * *")], clock, codes={"a": ExitCode.STOPPED_ON_QUOTA})
    notified: list[tuple[str, ExitCode]] = []
    scheduler.notify = lambda definition, code: notified.append((definition.name, code))
    clock.advance(1)
    scheduler.run_due()
    assert notified == [("a", ExitCode.STOPPED_ON_QUOTA)]


HOOK = "https://hooks.example.test/T000/B000"


@respx.mock
def test_alert_posts_slack_compatible_json() -> None:
    route = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alert = Alert.model_validate({"webhook_url": HOOK, "on": ["failure", "quota"]})
    assert send_alert(alert, job="sync", code=ExitCode.STOPPED_ON_QUOTA, summary="stopped at 50%")
    body = route.calls.last.request.read().decode()
    assert (
        '"text": "crmsync job \'sync\': quota (exit 4). stopped at 50%"' in body.replace('\\"', '"')
        or "quota (exit 4)" in body
    )
    assert not send_alert(alert, job="sync", code=ExitCode.FINISHED_WITH_REJECTIONS, summary="")
    assert route.call_count == 1


@respx.mock
def test_alert_delivery_failure_is_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(HOOK).mock(return_value=httpx.Response(500))
    alert = Alert(webhook_url=HOOK, on=(AlertOn.FAILURE,))
    assert not send_alert(alert, job="sync", code=ExitCode.FAILED, summary="boom")
    assert "not delivered" in caplog.text
