"""Reading several CRMs at once: every item once, each stream in order, errors and early exits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import StopRequested
from connector.stopping import Stop
from connector.sync._overlap import interleaved


def _numbers(prefix: str, count: int, pause: float = 0.0) -> Iterator[str]:
    for n in range(count):
        if pause:
            time.sleep(pause)
        yield f"{prefix}{n}"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=4), st.integers(1, 3))
def test_every_item_once_and_each_stream_in_its_own_order(sizes: list[int], depth: int) -> None:
    streams = {
        f"s{i}": (lambda i=i, size=size: _numbers(f"s{i}-", size)) for i, size in enumerate(sizes)
    }
    got: dict[str, list[str]] = {}
    for key, item in interleaved(streams, depth=depth):
        got.setdefault(key, []).append(item)
    for i, size in enumerate(sizes):
        assert got.get(f"s{i}", []) == [f"s{i}-{n}" for n in range(size)]


def test_the_streams_are_read_at_the_same_time() -> None:
    """Stream a cannot finish its first read until stream b has started reading: read one
    after the other, this would never end."""
    b_reading = threading.Event()

    def a() -> Iterator[str]:
        assert b_reading.wait(5), "b was not read while a was"
        yield "a"

    def b() -> Iterator[str]:
        b_reading.set()
        yield "b"

    assert sorted(item for _, item in interleaved({"a": a, "b": b})) == ["a", "b"]


def test_a_stream_reads_at_most_depth_items_ahead() -> None:
    produced: list[int] = []

    def counting() -> Iterator[int]:
        for n in range(100):
            produced.append(n)
            yield n

    items = interleaved({"a": counting, "b": lambda: iter(())}, depth=2)
    first = next(items)
    time.sleep(0.3)  # the producer runs on while the consumer waits
    assert first == ("a", 0) or first[0] == "b"
    assert len(produced) <= 4  # the one handed over, two waiting, one held at the gate
    items.close()


def test_an_error_in_one_stream_is_raised_to_the_caller_and_stops_the_others() -> None:
    stopped = threading.Event()

    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("quota spent")

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            stopped.set()

    with pytest.raises(RuntimeError, match="quota spent"):
        list(interleaved({"a": failing, "b": endless}, depth=1))
    assert stopped.wait(2), "the other stream's producer did not stop"


def test_one_stream_is_read_on_the_callers_thread() -> None:
    threads: set[str] = set()

    def recording() -> Iterator[int]:
        threads.add(threading.current_thread().name)
        yield 1

    assert list(interleaved({"only": recording})) == [("only", 1)]
    assert threads == {threading.current_thread().name}


def test_a_stop_ends_the_read_at_once_even_while_every_producer_is_inside_a_read() -> None:
    stop = Stop()
    reading = threading.Barrier(3)
    released = threading.Event()
    stopped_at: list[float] = []

    def slow() -> Iterator[int]:
        yield 1
        reading.wait(5)
        released.wait(30)  # a read that takes long: its answer must not be waited for
        yield 2

    got: list[int] = []

    def consume() -> None:
        for _, item in interleaved({"a": slow, "b": slow}, stop=stop):
            got.append(item)
            if len(got) == 2:
                reading.wait(5)  # both producers are inside their second read
                stop.set()
                stopped_at.append(time.monotonic())

    with pytest.raises(StopRequested):
        consume()
    assert time.monotonic() - stopped_at[0] < 1
    assert got == [1, 1], "nothing read after the stop is handed over"
    released.set()


def test_a_stop_ends_a_single_stream_between_items() -> None:
    stop = Stop()
    got: list[int] = []

    def consume() -> None:
        for _, item in interleaved({"only": lambda: iter(range(10))}, stop=stop):
            got.append(item)
            stop.set()

    with pytest.raises(StopRequested):
        consume()
    assert got == [0]
