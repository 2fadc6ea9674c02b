"""A stop request, and the one SIGTERM/SIGINT handler every command that runs the engine installs.

Container platforms send SIGTERM and kill about ten seconds later, so a stop must be honoured
wherever a run spends time:

* every API call checks :meth:`Stop.check` before it starts, so a call in flight finishes and
  the next one is not made (a write cut part-way carries what went out, as a quota stop does);
* every wait (retry backoff, ``Retry-After``, a rate-limit window, a Bulk API poll, a re-send
  of records refused with lock contention) is :meth:`Stop.sleep`, which wakes at once;
* the engine checks between pages, activity batches and chunks.

Each raises :class:`~connector.errors.StopRequested`; the engine records the run as
interrupted with its counts, and the next run resumes from the checkpoints.

A second signal while stopping ends the process at once (the state store's transactions keep
it consistent; the next run confirms writes that were in flight).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from connector.errors import StopRequested

__all__ = ["Sleep", "Stop", "stop_on_signals"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stop(threading.Event):
    """A stop request shared by the engine, the adapters and the signal handler.

    It is an event (the scheduler waits on it between jobs; ``set`` asks for the stop) with
    the two things every wait and call in a run needs: a sleep that wakes on it and a check.
    """

    def check(self) -> None:
        """Raise :class:`StopRequested` if a stop was asked for."""
        if self.is_set():
            raise StopRequested()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less: a stop wakes it and raises :class:`StopRequested`."""
        if self.wait(max(0.0, seconds)):
            raise StopRequested()

    def sleeper(self, sleep: Sleep | None = None) -> Sleep:
        """The sleep for the adapters: :meth:`sleep`, or ``sleep`` (a test's virtual one),
        which cannot be woken, checked before and after."""
        if sleep is None:
            return self.sleep
        inner = sleep

        def checked(seconds: float) -> None:
            self.check()
            inner(seconds)
            self.check()

        return checked


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[Stop]:
    """Set ``stop`` on SIGTERM or SIGINT while the block runs; a second one ends the process
    at once. The previous handlers are restored afterwards.

    Signals reach only the main thread: elsewhere (a test runner's worker) this installs
    nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, _: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            # os.write, not logging: this may interrupt a thread holding a log handler's lock.
            os.write(
                2,
                f"crmsync: {name} again: stopping now, without a checkpoint; the next run "
                "resumes and confirms the writes that were in flight\n".encode(),
            )
            # Die of the signal itself, as the platform expects of a process it signals.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        log.warning(
            "%s: stopping after the calls in flight (within seconds); send it again to stop "
            "at once",
            name,
        )
        stop.set()

    previous = {number: signal.signal(number, handle) for number in _SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
