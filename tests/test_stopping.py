"""The stop request: a sleep it wakes, the check, and the one SIGTERM/SIGINT handler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from connector.errors import ExitCode, StopRequested
from connector.stopping import Stop, stop_on_signals

ROOT = Path(__file__).resolve().parents[1]


def _set_after(stop: Stop, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    return timer


def test_a_stop_wakes_a_long_sleep_at_once_and_raises() -> None:
    stop = Stop()
    _set_after(stop, 0.1)
    started = time.monotonic()
    with pytest.raises(StopRequested):
        stop.sleep(30)
    assert time.monotonic() - started < 2


def test_without_a_stop_the_sleep_is_a_sleep() -> None:
    stop = Stop()
    started = time.monotonic()
    stop.sleep(0.05)
    assert time.monotonic() - started >= 0.05
    stop.check()  # nothing asked for: no error


def test_a_virtual_sleep_is_checked_before_and_after() -> None:
    stop = Stop()
    slept: list[float] = []

    def virtual(seconds: float) -> None:
        slept.append(seconds)
        stop.set()  # the signal arrives while "sleeping"

    sleep = stop.sleeper(virtual)
    with pytest.raises(StopRequested):
        sleep(10)
    assert slept == [10]
    with pytest.raises(StopRequested):
        sleep(10)
    assert slept == [10], "a stopped run does not sleep again"


def test_a_stop_request_is_an_orderly_end_exit_0() -> None:
    assert StopRequested().exit_code is ExitCode.OK
    assert "stopped on request" in str(StopRequested())


def test_sigterm_and_sigint_set_the_stop_and_the_old_handlers_come_back() -> None:
    before = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in (signal.SIGTERM, signal.SIGINT):
        with stop_on_signals(Stop()) as stop:
            os.kill(os.getpid(), number)
            assert stop.wait(5), f"{number} did not set the stop"
    after = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    assert after == before


def test_off_the_main_thread_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def worker() -> None:
        with stop_on_signals(Stop()):
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before]


_STOPPING = """
import time
from connector.stopping import Stop, stop_on_signals

with stop_on_signals(Stop()) as stop:
    print("ready", flush=True)
    stop.wait(30)
    print("stopping", flush=True)
    time.sleep(30)  # a stop that takes too long for the operator
print("finished", flush=True)
"""


def test_a_second_sigterm_while_stopping_ends_the_process_at_once_with_a_message() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _STOPPING],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        assert process.stdout.readline().strip() == "stopping"
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - sent < 5
    assert process.returncode == -signal.SIGTERM
    assert "finished" not in out
    assert "SIGTERM: stopping after the calls in flight" in err
    assert "SIGTERM again: stopping now, without a checkpoint" in err
