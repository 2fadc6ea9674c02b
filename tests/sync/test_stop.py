"""The SIGTERM path: a stop request ends the run after a checkpoint; the next run resumes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.sync.engine import EngineOptions
from connector.sync.wiring import connected

from ._support import reset, stage_disagreements, stamps
from .test_e2e import settings_for

CHUNK = 7


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=31, people=60) as started:
        yield started


def test_a_stop_request_checkpoints_after_the_chunk_and_the_next_run_completes(
    sandbox: Sandbox, state_url: str
) -> None:
    # Each state backend starts from the seeded CRMs, not from what the other one's runs wrote.
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    stop = threading.Event()
    chunks: list[int] = []

    def progress(stream: str, count: int) -> None:
        if stream == "people":  # one call per finished chunk: stop as after a SIGTERM
            chunks.append(count)
            stop.set()

    options = EngineOptions(chunk=CHUNK)
    with connected(settings, options=options, progress=progress) as engine:
        engine.stop = stop
        first = engine.sync()
    assert first.outcome is RunOutcome.INTERRUPTED
    assert first.stopped is not None
    assert "next run resumes" in first.stopped
    # The stop comes as the first chunk's writes are recorded; by then the second chunk is
    # decided and its writes go out behind it: both finish, no third one starts.
    assert chunks == [CHUNK, CHUNK]
    assert first.evaluated == 2 * CHUNK

    with StateStore.from_settings(settings) as store:
        waiting = store.dirty.count()
        people = store.people.count()
        assert store.runs.recent(limit=1)[0].outcome is RunOutcome.INTERRUPTED
    # The people after the checkpoint stay dirty (and any linked to a contact HubSpot named,
    # until it is read).
    assert waiting == people - 2 * CHUNK + first.linked_existing > 0

    with connected(settings, options=options) as engine:
        second = engine.sync()
    assert second.outcome is RunOutcome.SUCCEEDED
    # The waiting people, plus any whose records the first run created or wrote and whose
    # fresh read back adds fields crmsync did not write (they are evaluated, not rewritten).
    assert second.evaluated >= waiting
    with StateStore.from_settings(settings) as store:
        assert store.dirty.count() == 0
    assert stage_disagreements(sandbox) == {}

    before = stamps(sandbox)
    with connected(settings, options=options) as engine:
        third = engine.sync()
    assert third.written_total == 0
    assert stamps(sandbox) == before
