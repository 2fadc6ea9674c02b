"""Throughput under rate limits: 100 ms latency on every call, HubSpot's burst limit at 190 per
10 s, a write-heavy sync (the full initial sync writes nearly everyone).

    .venv/bin/python bench/bench_limits.py [--people 5000] [--latency-ms 100]

The connector is configured for the same tier (``burst_limit_per_10s = 190``). This process
hosts the emulators and watches HubSpot's limiter: every quarter second it samples the calls
counted in the rolling 10-second window, and it counts the calls answered 429. Reported:
records/s per system, HubSpot's burst-window use (mean over the phase in which HubSpot is
written to, and over the whole run) and the 429s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _harness import run_child, sandbox_env, set_hubspot_limits

from connector.sandbox.hubspot._errors import RateLimited
from connector.sandbox.runner import Sandbox

WRITES = "POST /crm/v3/objects/{objectType}/batch/{action}"


class Watcher:
    """Samples HubSpot's limiter and counts 429s, in the process hosting the emulator."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.emulator = sandbox.hubspot.emulator
        self.rejected: dict[str, int] = {}
        self.samples: list[tuple[float, int, int]] = []  # (time, in burst window, batch calls)
        self._stop = threading.Event()
        limiter = self.emulator.limiter
        admit = limiter.admit

        def counted(*, search: bool, burst_exempt: bool, oauth: bool) -> dict[str, str]:
            try:
                return admit(search=search, burst_exempt=burst_exempt, oauth=oauth)
            except RateLimited as limited:
                policy = limited.policy
                self.rejected[policy] = self.rejected.get(policy, 0) + 1
                raise

        limiter.admit = counted  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            usage = self.emulator.limiter.usage()
            batch = self.emulator.stats.count("POST", "/crm/v3/objects/{objectType}/batch/{action}")
            self.samples.append((time.perf_counter(), usage["burst_in_window"], batch))

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(people: int, latency_ms: int, seed: int) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    with Sandbox.start(seed=seed, people=people, latency_ms=latency_ms) as sandbox:
        set_hubspot_limits(sandbox, burst_max=190, burst_interval_ms=10_000)
        env = sandbox_env(
            sandbox,
            f"sqlite:///{state_dir}/state.db",
            CRMSYNC_HUBSPOT__BURST_LIMIT_PER_10S="190",
        )
        with Watcher(sandbox) as watcher:
            result = run_child(sandbox, env)
    samples = watcher.samples
    first_write = next((i for i, s in enumerate(samples) if s[2] > samples[0][2]), 0)
    last_write = max((i for i, s in enumerate(samples) if s[2] > samples[i - 1][2]), default=0)
    # The rolling window lags a call by up to 10 s: the phase starts 10 s after the first write.
    phase = [
        s for s in samples[first_write : last_write + 1] if s[0] >= samples[first_write][0] + 10
    ]
    report = result.report
    pulled = report.get("pulled", {})
    written = report.get("written", {})
    out: dict[str, Any] = {
        "people": people,
        "latency_ms": latency_ms,
        "wall_s": round(result.wall, 1),
        "calls": {
            "salesforce": result.calls.system("salesforce"),
            "hubspot": result.calls.system("hubspot"),
        },
        "hubspot_429": dict(watcher.rejected),
        "burst_use_write_phase": round(sum(s[1] for s in phase) / (190 * len(phase)), 3)
        if phase
        else None,
        "burst_use_whole_run": round(sum(s[1] for s in samples) / (190 * len(samples)), 3),
        "write_phase_s": round(phase[-1][0] - phase[0][0], 1) if phase else 0,
    }
    for system in ("salesforce", "hubspot"):
        read = sum(int(n) for k, n in pulled.items() if k.startswith(system))
        wrote = sum(int(n) for k, n in written.items() if k.startswith(system))
        out[f"{system}_records_read_per_s"] = round(read / result.wall, 1)
        out[f"{system}_records_written_per_s"] = round(wrote / result.wall, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    out = run(args.people, args.latency_ms, args.seed)
    for key, value in out.items():
        print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
