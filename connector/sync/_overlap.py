"""Reading both CRMs at once while the engine's thread stores what arrives.

A pull is mostly waiting on the network: a search page, a query page, an association read.
Each CRM's reads run on a thread of their own, so one CRM's waits overlap the other's and
both overlap the engine storing the pages already read. The state store stays with the
engine's thread: producers only read from their CRM and hand items over.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Generic, TypeVar, cast

from connector.stopping import Stop

__all__ = ["interleaved"]

K = TypeVar("K")
T = TypeVar("T")

_POLL = 0.1  # seconds a blocked producer (or the consumer) waits before looking for a stop


class _Done:
    """A stream's end."""


class _Failed:
    """A stream's error, raised on the consumer's thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Stream(Generic[K, T]):
    def __init__(
        self,
        key: K,
        items: Callable[[], Iterator[T]],
        out: queue.Queue[tuple[K, object]],
        depth: int,
        stop: threading.Event,
    ) -> None:
        self.key = key
        self.slots = threading.Semaphore(depth)
        self._items = items
        self._out = out
        self._stop = stop
        self.thread = threading.Thread(target=self._run, name=f"crm-read-{key}", daemon=True)

    def _run(self) -> None:
        try:
            for item in self._items():
                while not self.slots.acquire(timeout=_POLL):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                self._out.put((self.key, item))
            self._out.put((self.key, _Done()))
        except BaseException as error:  # handed to the consumer, raised there
            self._out.put((self.key, _Failed(error)))


def interleaved(
    streams: Mapping[K, Callable[[], Iterator[T]]],
    *,
    depth: int = 2,
    stop: Stop | None = None,
) -> Generator[tuple[K, T], None, None]:
    """``(key, item)`` for every item of every stream, in the order they arrive; each stream
    keeps its own order. Each stream's iterator runs on its own thread, at most ``depth``
    items ahead of the caller. The first error of any stream is raised here; leaving early
    (an error, ``close()``) tells the producers to stop after the read they are in.

    Once ``stop`` is set no further item is handed over:
    :class:`~connector.errors.StopRequested` is raised here within a fraction of a second,
    even while every producer is still inside a read (what such a read returns is dropped)."""
    if len(streams) == 1:  # nothing to overlap with: read on the caller's thread
        ((only, items),) = streams.items()
        for value in items():
            if stop is not None:
                stop.check()
            yield only, value
        return
    out: queue.Queue[tuple[K, object]] = queue.Queue()
    leave = threading.Event()
    producers = {key: _Stream(key, items, out, depth, leave) for key, items in streams.items()}
    for producer in producers.values():
        producer.thread.start()
    running = len(producers)
    try:
        while running:
            try:
                key, got = out.get(timeout=_POLL)
            except queue.Empty:
                if stop is not None:
                    stop.check()
                continue
            if stop is not None and not isinstance(got, _Failed):
                stop.check()
            if isinstance(got, _Done):
                running -= 1
            elif isinstance(got, _Failed):
                raise got.error
            else:
                producers[key].slots.release()
                yield key, cast(T, got)  # the producers put only their streams' items
    finally:
        leave.set()
