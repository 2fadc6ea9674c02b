"""Writes that stop part-way: what went out before the error travels with it.

A quota stop, an expired credential or a fatal answer can end a sink's work after some of its
batches were written. Those records *were* written: the run report must count them and their
provenance must be recorded, or the next run would mistake crmsync's own writes for user
edits. So the error that stops a write carries, keyed by request index, the results obtained
before it; each layer that re-groups requests (a writer's batches, an adapter's calls)
re-keys them to its caller's indices. The error itself is raised unchanged: every caller keeps
catching the types it catches today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from connector.crm.types import WriteResult

__all__ = ["Settled", "carry", "done_before", "gather", "settled_map"]

T = TypeVar("T")
R = TypeVar("R")

_ATTRIBUTE = "_crmsync_done_before_stop"


def done_before(error: BaseException) -> dict[int, WriteResult]:
    """The results, by request index, obtained before ``error`` stopped the write."""
    found = getattr(error, _ATTRIBUTE, None)
    return dict(found) if isinstance(found, dict) else {}


def carry(error: BaseException, results: Mapping[int, WriteResult]) -> BaseException:
    """Make ``results`` (by the raising layer's request index) travel with ``error``,
    replacing what a lower layer attached (the caller re-keys it first)."""
    setattr(error, _ATTRIBUTE, dict(results))
    return error


@dataclass(frozen=True, slots=True)
class Settled(Generic[R]):
    """One call's fate: its value, its error, or neither (never started)."""

    value: R | None = None
    error: BaseException | None = None
    ran: bool = False


def settled_map(fn: Callable[[T], R], items: Sequence[T], max_workers: int) -> list[Settled[R]]:
    """Every call's fate, in input order, on at most ``max_workers`` threads.

    As :func:`~connector.crm.budget.bounded_map`, the first error cancels the calls not yet
    started (a quota stop does not leave work racing on behind it), but the calls that
    finished keep their values instead of being thrown away.
    """
    if max_workers <= 1 or len(items) <= 1:
        out: list[Settled[R]] = []
        for item in items:
            if any(done.error is not None for done in out):
                out.append(Settled())
                continue
            try:
                out.append(Settled(value=fn(item), ran=True))
            except Exception as error:  # the caller raises it, with what went out
                out.append(Settled(error=error, ran=True))
        return out
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="crm-write") as pool:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(future.exception() is not None for future in done):
            for future in futures:
                future.cancel()
            wait(futures)
    return [_settled(future) for future in futures]


def _settled(future: Future[R]) -> Settled[R]:
    if future.cancelled():
        return Settled()
    error = future.exception()
    if error is not None:
        return Settled(error=error, ran=True)
    return Settled(value=future.result(), ran=True)


def gather(
    run: Callable[[T], list[WriteResult]],
    calls: Sequence[tuple[T, Sequence[int]]],
    total: int,
    max_workers: int,
) -> list[WriteResult]:
    """Run each call (an argument and the request indices it covers) and put the results
    back in request order. If a call fails, its error is raised once the others settle,
    carrying every result obtained: whole calls that finished, and whatever part of the
    failing calls went out (re-keyed to request indices)."""
    outcomes = settled_map(lambda call: run(call[0]), calls, max_workers)
    results: dict[int, WriteResult] = {}
    error: BaseException | None = None
    for (_, indices), outcome in zip(calls, outcomes, strict=True):
        if outcome.error is not None:
            error = error or outcome.error
            for inner, result in done_before(outcome.error).items():
                results[indices[inner]] = result
        elif outcome.value is not None:
            for index, result in zip(indices, outcome.value, strict=True):
                results[index] = result
    if error is not None:
        raise carry(error, results)
    return [results[index] for index in range(total)]
