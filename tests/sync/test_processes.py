"""The real CLI in subprocesses against the sandbox running in this process.

* Kill-and-resume: ``crmsync sync`` is SIGKILLed while pulling activity (people pulled and
  their cursors committed, activity not yet), (a) between two chunks (one chunk written and
  recorded, the next not started) and (b) inside a chunk's writes (Salesforce has applied its
  batch, the HubSpot batch is in flight, nothing is recorded yet); the next run completes the
  job with no duplicate records, both CRMs agree, and a further sync writes nothing.
* Run lock: a second ``crmsync sync`` while the first holds the lock exits 1 with a clear
  message, having called neither CRM.

The moment of the kill is chosen by freezing an emulator at a write call (as a breakpoint
would), so the test never races the process under test.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import System
from connector.sandbox.runner import Sandbox
from connector.sandbox.stats import CallStats

from ._support import (
    calls,
    person_id_counts,
    reset,
    run_cli,
    stage_disagreements,
    stamps,
    start_cli,
    write_env_file,
)

CHUNK = "10"
_SF_WRITE = "composite/sobjects"
_HS_BATCH = "/crm/v3/objects/{objectType}/batch/{action}"
Ready = Callable[[System, int], bool]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=41, people=60) as started:
        yield started


def is_write(system: System, method: str, template: str) -> bool:
    if system is System.SALESFORCE:
        return method == "PATCH" and _SF_WRITE in template
    return method == "POST" and template == _HS_BATCH


class Gate:
    """Freezes both emulators at the first write call ``ready(system, dirty)`` accepts, until
    released; ``dirty`` is how many people the state store still has waiting. The frozen call
    is then dropped: the client is gone, so it is never applied."""

    def __init__(self, sandbox: Sandbox, database: Path, ready: Ready) -> None:
        self.database = database
        self.ready = ready
        self.reached = threading.Event()
        self.release = threading.Event()
        self.frozen: tuple[System, str] | None = None
        self.salesforce_writes: list[int] = []  # the dirty count at each Salesforce write
        self._lock = threading.Lock()
        self._stats: list[tuple[CallStats, Any]] = []
        for system, emulator in (
            (System.SALESFORCE, sandbox.salesforce.emulator),
            (System.HUBSPOT, sandbox.hubspot.emulator),
        ):
            stats = emulator.stats
            self._stats.append((stats, stats.record))
            stats.record = self._hook(system, stats.record)  # type: ignore[method-assign]

    def _hook(self, system: System, record: Callable[[str, str], None]) -> Any:
        def gated(method: str, template: str) -> None:
            record(method, template)
            if not is_write(system, method, template):
                return
            with self._lock:
                if self.reached.is_set():
                    return
                dirty = dirty_count(self.database) if self.database.exists() else 0
                if not self.ready(system, dirty):
                    if system is System.SALESFORCE:
                        self.salesforce_writes.append(dirty)
                    return
                self.frozen = (system, template)
                self.reached.set()
            self.release.wait(timeout=60)
            raise RuntimeError("dropped by the test: this call is never applied")

        return gated

    def close(self) -> None:
        self.release.set()
        for stats, record in self._stats:
            stats.record = record  # type: ignore[method-assign]


def dirty_count(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        try:
            (count,) = connection.execute("SELECT count(*) FROM dirty_people").fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return 0
    return int(count)


def between_chunks() -> Ready:
    """The first write after a chunk was written and recorded (the dirty set shrank)."""
    most = [0]

    def ready(system: System, dirty: int) -> bool:
        most[0] = max(most[0], dirty)
        return dirty < most[0]

    return ready


def inside_a_batch(gate: Callable[[], Gate]) -> Ready:
    """A HubSpot call of the chunk whose Salesforce writes were just applied (not recorded)."""

    def ready(system: System, dirty: int) -> bool:
        return system is System.HUBSPOT and dirty in gate().salesforce_writes

    return ready


def snapshot(sandbox: Sandbox) -> tuple[dict[str, int], dict[str, int]]:
    """Both emulators' call counts, read in process (an emulator may be frozen)."""
    return (
        sandbox.salesforce.emulator.stats.snapshot(),
        sandbox.hubspot.emulator.stats.snapshot(),
    )


def quiet_snapshot(
    sandbox: Sandbox, *, still: float = 0.5, limit: float = 30
) -> tuple[dict[str, int], dict[str, int]]:
    """:func:`snapshot` once the counts stop moving. The gate holds one write; the run's
    other calls already on their way (the other CRM's batches) finish meanwhile."""
    deadline = time.monotonic() + limit
    before = snapshot(sandbox)
    while time.monotonic() < deadline:
        time.sleep(still)
        now = snapshot(sandbox)
        if now == before:
            return now
        before = now
    raise AssertionError(f"the emulators' call counts kept moving for {limit} s")


def stored_activities(database: Path) -> dict[str, int]:
    """Activity crmsync stored, per system (what scores are computed from)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT system, count(*) FROM activities WHERE NOT deleted GROUP BY system"
        ).fetchall()
    return {f"activity:{system}": int(count) for system, count in rows}


def record_counts(sandbox: Sandbox) -> dict[str, int]:
    counts = sandbox.salesforce.store.counts()
    return {
        "Lead": counts["Lead"]["live"],
        "Contact": counts["Contact"]["live"],
        "contacts": len(sandbox.hubspot.store.records("contacts")),
    }


@pytest.fixture(scope="module")
def reference(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Record counts in the CRMs, and activity in the state store, after one uninterrupted
    sync of the seeded sandbox."""
    reset(sandbox)
    folder = tmp_path_factory.mktemp("reference")
    env = write_env_file(sandbox, folder / "sync.env", f"sqlite:///{folder / 'state.db'}")
    code, output = run_cli(env, "sync", "--chunk", CHUNK, cwd=folder)
    assert code == 0, output
    return record_counts(sandbox) | stored_activities(folder / "state.db")


@pytest.mark.parametrize("where", ["while pulling activity", "between chunks", "inside a batch"])
def test_a_killed_sync_resumes_without_duplicates(
    sandbox: Sandbox, reference: dict[str, int], tmp_path: Path, where: str
) -> None:
    reset(sandbox)
    database = tmp_path / "state.db"
    env = write_env_file(sandbox, tmp_path / "sync.env", f"sqlite:///{database}")
    gates: list[Gate] = []
    ready = {
        "while pulling activity": lambda system, dirty: system is System.HUBSPOT and dirty > 0,
        "between chunks": between_chunks(),
        "inside a batch": inside_a_batch(lambda: gates[0]),
    }[where]
    gate = Gate(sandbox, database, ready)
    gates.append(gate)
    try:
        process = start_cli(env, "sync", "--chunk", CHUNK, cwd=tmp_path)
        assert gate.reached.wait(timeout=90), process.communicate(timeout=5)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
    finally:
        gate.close()
    assert gate.frozen is not None
    if where == "inside a batch":
        assert gate.frozen[0] is System.HUBSPOT
        assert gate.salesforce_writes
    if where == "while pulling activity":
        assert gate.salesforce_writes == [], "killed before any write"
    left = dirty_count(database)
    assert left > 0, "the kill left people to sync"

    code, output = run_cli(env, "sync", "--chunk", CHUNK, cwd=tmp_path)
    assert code == 0, output
    assert dirty_count(database) == 0

    sf, hs = person_id_counts(sandbox)
    assert [key for key, n in sf.items() if n > 1] == []
    assert [key for key, n in hs.items() if n > 1] == []
    assert record_counts(sandbox) | stored_activities(database) == reference, (
        "no record was created twice, no activity was lost"
    )
    assert stage_disagreements(sandbox) == {}

    before, writes = stamps(sandbox), calls(sandbox)
    code, output = run_cli(env, "sync", "--json", cwd=tmp_path)
    assert code == 0, output
    assert stamps(sandbox) == before, "the sync after the resumed one wrote something"
    after = calls(sandbox)
    assert {k: v for k, v in after.items() if _SF_WRITE in k and "PATCH" in k} == {
        k: v for k, v in writes.items() if _SF_WRITE in k and "PATCH" in k
    }


def test_two_concurrent_syncs_one_runs_the_other_exits_with_a_clear_message(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reset(sandbox)
    env = write_env_file(sandbox, tmp_path / "sync.env", f"sqlite:///{tmp_path / 'state.db'}")
    # Hold the first run at its first write, the lock held.
    gate = Gate(sandbox, tmp_path / "state.db", lambda system, dirty: True)
    try:
        first = start_cli(env, "sync", cwd=tmp_path)
        assert gate.reached.wait(timeout=90), first.communicate(timeout=5)
        frozen_at = quiet_snapshot(sandbox)
        code, output = run_cli(env, "sync", cwd=tmp_path, timeout=60)
        assert code == 1, output
        assert "holds the lock for pair:default" in output
        assert "wait for it to finish" in output
        assert snapshot(sandbox) == frozen_at, "the refused run called a CRM"
        gate.release.set()
        out, err = first.communicate(timeout=120)
    finally:
        gate.close()
    assert first.returncode == 0, out + err
    assert stage_disagreements(sandbox) == {}


def test_a_killed_runs_writes_are_counted_and_recognised_as_crmsyncs_own(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Killed inside a chunk's writes (Salesforce applied its batch, nothing recorded), the
    run's write intents stay behind. The next run confirms them against what it pulls: the
    dead run's row counts the writes the CRMs received, and their echo is crmsync's own (no
    stage it wrote is taken for one set by hand and pinned)."""
    reset(sandbox)
    database = tmp_path / "state.db"
    env = write_env_file(sandbox, tmp_path / "sync.env", f"sqlite:///{database}")
    gates: list[Gate] = []
    gate = Gate(sandbox, database, inside_a_batch(lambda: gates[0]))
    gates.append(gate)
    before = stamps(sandbox)
    try:
        process = start_cli(env, "sync", "--chunk", CHUNK, cwd=tmp_path)
        assert gate.reached.wait(timeout=90), process.communicate(timeout=5)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        gate.close()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (left,) = connection.execute("SELECT count(*) FROM write_intents").fetchone()
    assert left > 0, "the chunk in flight left its intents"

    code, output = run_cli(env, "sync", "--chunk", CHUNK, "--json", cwd=tmp_path)
    assert code == 0, output
    after = stamps(sandbox)
    received = sum(1 for key, stamp in after.items() if before.get(key) != stamp)

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        runs = connection.execute("SELECT outcome, counts FROM runs ORDER BY started_at").fetchall()
        (intents,) = connection.execute("SELECT count(*) FROM write_intents").fetchone()
        pinned = connection.execute(
            "SELECT count(*) FROM people WHERE data LIKE '%\"stage_pinned\": true%' "
            "OR data LIKE '%\"stage_pinned\":true%'"
        ).fetchone()[0]
    (killed, killed_counts), (resumed, resumed_counts) = [
        (outcome, json.loads(counts)) for outcome, counts in runs
    ]
    assert killed == "interrupted"
    assert resumed == "succeeded"
    assert killed_counts["confirmed_after_interruption"] > 0
    assert (
        resumed_counts["earlier_writes_confirmed"] == killed_counts["confirmed_after_interruption"]
    )
    assert killed_counts["written"] + resumed_counts["written"] == received
    assert intents == 0
    assert pinned == 0, "crmsync's own stage writes were taken for stages set by hand"
