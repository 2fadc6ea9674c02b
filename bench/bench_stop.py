"""Stop latency: how long ``crmsync sync`` takes to exit after SIGTERM, phase by phase, with
both CRMs answering at a realistic pace (issue 18: container platforms kill after 10 s).

    .venv/bin/python bench/bench_stop.py [--people 14000] [--latency-ms 200] [--chunk 2000]

For each phase a fresh sync of the seeded sandbox (an empty state store: the full initial
sync, the longest there is) is started in a child process and sent SIGTERM once the emulators'
call counts (or the state store) show it in that phase:

* ``pull``: HubSpot search pages are being read, no association read yet;
* ``activity``: association reads are under way;
* ``decide``: both activity cursors are committed and nothing has been written yet (the first
  chunk is being decided);
* ``write``: Salesforce collections have gone out (a chunk is written while the next is
  decided), HubSpot's ten-second window as the run left it;
* ``write-429``: as ``write``, then every HubSpot call is answered 429 with a ten-second
  window; the signal comes one second after the first such answer (the retry is asleep).

Reported per phase: seconds from the signal to the process's exit, its exit code, the run's
recorded outcome, and what the run recorded (pulled, activities, written).
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _harness import ROOT, sandbox_env

from connector.sandbox.faults import Burst, FaultPlan
from connector.sandbox.runner import Sandbox

CRMSYNC = Path(sys.executable).parent / "crmsync"
SEARCH = "POST /crm/v3/objects/{objectType}/search"
ASSOCIATIONS = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read"
HS_BATCH = "POST /crm/v3/objects/{objectType}/batch/{action}"
SF_PATCH = "PATCH /services/data/{version:str}/composite/sobjects"
PHASES = ("pull", "activity", "decide", "write", "write-429")


def _hubspot(sandbox: Sandbox) -> dict[str, int]:
    return sandbox.hubspot.emulator.stats.snapshot()


def _salesforce(sandbox: Sandbox) -> dict[str, int]:
    return sandbox.salesforce.emulator.stats.snapshot()


def _streams(database: Path) -> set[str]:
    if not database.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute("SELECT stream FROM cursors").fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return set()
    return {str(row[0]) for row in rows}


def _last_run(database: Path) -> tuple[str, str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        outcome, counts = connection.execute(
            "SELECT outcome, counts FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    return str(outcome), str(counts)


def _condition(phase: str, sandbox: Sandbox, database: Path) -> Callable[[], bool]:
    def pull() -> bool:
        calls = _hubspot(sandbox)
        return calls.get(SEARCH, 0) >= 3 and calls.get(ASSOCIATIONS, 0) == 0

    def activity() -> bool:
        return _hubspot(sandbox).get(ASSOCIATIONS, 0) >= 3

    def decide() -> bool:
        done = {"default:salesforce:activity", "default:hubspot:activity"}
        return done <= _streams(database) and _salesforce(sandbox).get(SF_PATCH, 0) == 0

    def write() -> bool:
        return _salesforce(sandbox).get(SF_PATCH, 0) >= 2

    return {"pull": pull, "activity": activity, "decide": decide}.get(phase, write)


def measure(sandbox: Sandbox, phase: str, database: Path, chunk: int, latency_ms: int) -> str:
    sandbox.salesforce.emulator.reset()
    sandbox.hubspot.emulator.reset()
    plan = FaultPlan(latency_ms=latency_ms)
    sandbox.salesforce.emulator.set_faults(plan)
    sandbox.hubspot.emulator.apply_faults(plan)
    folder = database.parent
    env = sandbox_env(sandbox, f"sqlite:///{database}", CRMSYNC_LOG_LEVEL="WARNING")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(CRMSYNC), "--config", str(ROOT / "config" / "crmsync.toml"), "sync", "--json",
         "--chunk", str(chunk)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    ready = _condition(phase, sandbox, database)
    deadline = time.monotonic() + 1800
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            return f"| {phase} | never reached (the run ended first) | | | |"
        time.sleep(0.02)
    window = sandbox.hubspot.emulator.limiter.usage()
    if phase == "write-429":
        sent = _hubspot(sandbox).get(HS_BATCH, 0)
        sandbox.hubspot.emulator.apply_faults(
            FaultPlan(latency_ms=latency_ms, bursts=(Burst(after_calls=0, count=10**6),))
        )
        while _hubspot(sandbox).get(HS_BATCH, 0) <= sent and process.poll() is None:
            time.sleep(0.02)
        time.sleep(1.0)
    sent_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=600)
    took = time.monotonic() - sent_at
    outcome, counts = _last_run(database)
    shown = {key: value for key, value in _counts(counts).items() if key in _SHOWN}
    in_window = f"{window['burst_in_window']}/{window['burst_max']}"
    return (
        f"| {phase} | **{took:.2f} s** | {process.returncode} | {outcome} | {shown} | {in_window} |"
    )


_SHOWN = ("pulled", "activities", "evaluated", "written", "written_partially")


def _counts(text: str) -> dict[str, int]:
    import json

    data = json.loads(text)
    return {str(key): int(value) for key, value in data.items() if isinstance(value, int)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=14_000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--phases", default=",".join(PHASES))
    args = parser.parse_args()
    phases = [phase.strip() for phase in args.phases.split(",")]
    with (
        Sandbox.start(seed=18, people=args.people) as sandbox,
        tempfile.TemporaryDirectory(prefix="crmsync-stop-") as tmp,
    ):
        print(
            f"{args.people} people, {args.latency_ms} ms per call, chunks of {args.chunk}\n\n"
            "| phase | SIGTERM to exit | exit code | run recorded | counts recorded "
            "| HubSpot window at the signal |\n|---|---|---|---|---|---|",
            flush=True,
        )
        for index, phase in enumerate(phases):
            database = Path(tmp) / f"{index}.db"  # a fresh state store: the full initial sync
            line = measure(sandbox, phase, database, args.chunk, args.latency_ms)
            print(line, flush=True)


if __name__ == "__main__":
    main()
