"""The SIGTERM path: a stop request ends the run after a checkpoint; the next run resumes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.errors import System
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.stopping import Stop
from connector.sync.engine import EngineOptions
from connector.sync.pull import stream_name
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
    stop = Stop()
    chunks: list[int] = []

    def progress(stream: str, count: int) -> None:
        if stream == "people":  # one call per finished chunk: stop as after a SIGTERM
            chunks.append(count)
            stop.set()

    options = EngineOptions(chunk=CHUNK)
    with connected(settings, options=options, progress=progress, stop=stop) as engine:
        first = engine.sync()
    assert first.outcome is RunOutcome.INTERRUPTED
    assert first.stopped is not None
    assert "next run resumes" in first.stopped
    # The stop comes as the first chunk's writes are recorded; by then the second chunk is
    # decided and its writes are going out. They end at the next API call: the second chunk
    # is done only if its calls were all made by then, and no third chunk is decided.
    assert chunks in ([CHUNK], [CHUNK, CHUNK])
    assert first.evaluated == 2 * CHUNK

    with StateStore.from_settings(settings) as store:
        waiting = store.dirty.count()
        people = store.people.count()
        assert store.runs.recent(limit=1)[0].outcome is RunOutcome.INTERRUPTED
    # The people after the checkpoint stay dirty, those of a chunk cut part-way included (and
    # any linked to a contact HubSpot named, until it is read).
    done = CHUNK * len(chunks)
    assert people - done <= waiting <= people - done + first.linked_existing
    assert waiting > 0

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


def _activities(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM activities").fetchone()
    return int(count)


def test_a_stop_in_the_activity_pull_keeps_what_was_stored_and_the_next_run_completes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    options = EngineOptions(chunk=CHUNK)
    reset(sandbox)
    reference = settings_for(sandbox, f"sqlite:///{tmp_path / 'reference.db'}")
    with connected(reference, options=options) as engine:
        assert engine.sync().outcome is RunOutcome.SUCCEEDED
    expected = _activities(tmp_path / "reference.db")

    reset(sandbox)
    database = tmp_path / "state.db"
    settings = settings_for(sandbox, f"sqlite:///{database}")
    stop = Stop()
    stored: list[str] = []

    def progress(stream: str, count: int) -> None:
        if stream.endswith(".activity"):  # one source's activity is stored: SIGTERM now
            stored.append(stream)
            stop.set()

    with connected(settings, options=options, progress=progress, stop=stop) as engine:
        first = engine.sync()
    assert first.outcome is RunOutcome.INTERRUPTED
    assert len(stored) == 1, "no activity is stored after the stop"
    assert sum(first.activities.values()) > 0, "what was stored is counted"
    assert first.evaluated == 0
    assert first.written_total == 0
    with StateStore.from_settings(settings) as store:
        run = store.runs.recent(limit=1)[0]
        # Neither source's activity cursor moved: one was not stored whole, the other not
        # at all. The people pulled wait, dirty, for the next run.
        cursors = [
            store.cursors.get(stream_name("default", system, "activity")) for system in System
        ]
        assert store.dirty.count() > 0
    assert run.outcome is RunOutcome.INTERRUPTED
    assert run.counts["activities"] == sum(first.activities.values())
    assert cursors == [None, None]

    with connected(settings, options=options) as engine:
        second = engine.sync()
    assert second.outcome is RunOutcome.SUCCEEDED
    assert _activities(database) == expected, "no activity was lost or stored twice"
    assert stage_disagreements(sandbox) == {}
