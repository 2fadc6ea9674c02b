"""Throughput under rate limits: 100 ms latency on every call, HubSpot's burst limit at 190 per
10 s, a write-heavy sync (the full initial sync writes nearly everyone).

    .venv/bin/python bench/bench_limits.py [--people 20000] [--latency-ms 100] [--writes-only]

The connector is configured for the same tier (``burst_limit_per_10s = 190``). This process
hosts the emulators and watches HubSpot's limiter: every quarter second it samples the calls
counted in the rolling 10-second window, and it counts the calls answered 429. Reported:
records/s per system, HubSpot's burst-window use (mean over the phase in which HubSpot is
written to; mean once the window holds nothing but that phase; the fullest it got) and the
429s.

Size matters here. With 100 records per batch write, a full sync makes about one counted
HubSpot call per 40 people in all; at 5,000 people that is ~120 calls, fewer than one window
holds, so no connector could keep the window 85 % full. ``hubspot_limited_calls_per_window``
prints that ceiling. The full-size figure is taken at 20,000 people, where the write phase
outlasts the window.

``--writes-only`` takes the engine out: a child process sends HubSpot batch updates of every
contact (round after round, at least 40,000 records) through crmsync's HubSpot adapter, 2,000
records per call as the engine's chunks would. It shows what the budget and the bounded
concurrency do when HubSpot is the bottleneck.
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
from connector.sandbox.runner import REALISTIC_SEARCH_LAG_MS, Sandbox


class Watcher:
    """Samples HubSpot's limiter and counts 429s, in the process hosting the emulator."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.emulator = sandbox.hubspot.emulator
        self.rejected: dict[str, int] = {}
        # (time, calls in the burst window, records written, calls so far)
        self.samples: list[tuple[float, int, int, int]] = []
        self._stop = threading.Event()
        limiter = self.emulator.limiter
        admit = limiter.admit

        # Calls the ten-second limit counted (admitted, neither search nor exempt).
        self.limited_calls = 0

        def counted(*, search: bool, burst_exempt: bool, oauth: bool) -> dict[str, str]:
            try:
                headers = admit(search=search, burst_exempt=burst_exempt, oauth=oauth)
            except RateLimited as limited:
                policy = limited.policy
                self.rejected[policy] = self.rejected.get(policy, 0) + 1
                raise
            if not search and not burst_exempt:
                self.limited_calls += 1
            return headers

        limiter.admit = counted  # type: ignore[method-assign]
        # Records created or updated: the write phase is when this moves (a batch *read* of
        # engagements shares its endpoint template with the batch writes).
        self.written = 0
        store = self.emulator.store
        for name in ("create", "update"):
            setattr(store, name, self._counting(getattr(store, name)))
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _counting(self, write: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.written += 1
            return write(*args, **kwargs)

        return counted

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            usage = self.emulator.limiter.usage()
            calls = self.emulator.stats.total()
            self.samples.append(
                (time.perf_counter(), usage["burst_in_window"], self.written, calls)
            )

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _rate_use(
    samples: list[tuple[float, int, int, int]], start: int, end: int, limit: float
) -> float | None:
    if end <= start:
        return None
    seconds = samples[end][0] - samples[start][0]
    return round((samples[end][3] - samples[start][3]) / seconds / limit, 3)


def _window_mean(
    samples: list[tuple[float, int, int, int]], start: int, end: int, burst_max: int
) -> float | None:
    window = [sample[1] for sample in samples[start : end + 1]]
    return round(sum(window) / len(window) / burst_max, 3) if window else None


def _steady_start(samples: list[tuple[float, int, int, int]], first: int, last: int) -> int:
    """The first sample whose ten-second window lies wholly inside the write phase."""
    if not samples:
        return 0
    begin = samples[first][0] + 10.0
    return next((i for i in range(first, last + 1) if samples[i][0] >= begin), last + 1)


def _write_phase(samples: list[tuple[float, int, int, int]]) -> tuple[int, int]:
    """The samples of the first and the last record written."""
    first = next((i for i, s in enumerate(samples) if s[2] > samples[0][2]), 0)
    last = max((i for i, s in enumerate(samples) if i and s[2] > samples[i - 1][2]), default=0)
    return first, last


def _window_figures(
    samples: list[tuple[float, int, int, int]], first: int, last: int
) -> dict[str, float | None]:
    """HubSpot's ten-second window: its mean over the write phase, its mean once it holds
    nothing but that phase (None: the phase was shorter than ten seconds), its fullest."""
    return {
        "hubspot_burst_window_peak": round(max((s[1] for s in samples), default=0) / 190, 3),
        "hubspot_burst_window_mean_write_phase": _window_mean(samples, first, last, 190),
        "hubspot_burst_window_mean_steady": _window_mean(
            samples, _steady_start(samples, first, last), last, 190
        ),
    }


def run(people: int, latency_ms: int, seed: int) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    with Sandbox.start(
        seed=seed, people=people, latency_ms=latency_ms, search_lag_ms=REALISTIC_SEARCH_LAG_MS
    ) as sandbox:
        set_hubspot_limits(sandbox, burst_max=190, burst_interval_ms=10_000)
        env = sandbox_env(
            sandbox,
            f"sqlite:///{state_dir}/state.db",
            CRMSYNC_HUBSPOT__BURST_LIMIT_PER_10S="190",
        )
        with Watcher(sandbox) as watcher:
            result = run_child(sandbox, env)
    samples = watcher.samples
    first, last = _write_phase(samples)
    limit = 190 / 10  # calls per second
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
        # HubSpot calls per second over a phase, as a share of the 19/s the burst limit allows.
        "hubspot_rate_use_read_phase": _rate_use(samples, 0, first, limit),
        "hubspot_rate_use_write_phase": _rate_use(samples, first, last, limit),
        "hubspot_rate_use_whole_run": _rate_use(samples, 0, len(samples) - 1, limit),
        # The ten-second limit counts only the calls it applies to: search and the v4
        # association reads are exempt (x-hubspot-rate-limit-exemptions: ten-secondly), so
        # the calls/s figures above overstate how much of *that* limit is in use. These read
        # the emulator's own window.
        **_window_figures(samples, first, last),
        # Every call the limit counted in the whole run, as a share of one window: the window
        # can never be fuller than this, however fast the connector is.
        "hubspot_limited_calls": watcher.limited_calls,
        "hubspot_limited_calls_per_window": round(watcher.limited_calls / 190, 3),
        "read_phase_s": round(samples[first][0] - samples[0][0], 1) if samples else 0,
        "write_phase_s": round(samples[last][0] - samples[first][0], 1) if samples else 0,
    }
    for system in ("salesforce", "hubspot"):
        read = sum(int(n) for k, n in pulled.items() if k.startswith(system))
        wrote = sum(int(n) for k, n in written.items() if k.startswith(system))
        out[f"{system}_records_read_per_s"] = round(read / result.wall, 1)
        out[f"{system}_records_written_per_s"] = round(wrote / result.wall, 1)
    return out


def run_writes(people: int, latency_ms: int, seed: int, *, records: int = 40_000) -> dict[str, Any]:
    """HubSpot batch updates alone, through the connector's HubSpot adapter, at least
    ``records`` of them (every contact of the sandbox, round after round): does the budget
    with bounded concurrency fill the window when HubSpot, not the engine, is the bottleneck?
    """
    state_dir = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    with Sandbox.start(
        seed=seed, people=people, latency_ms=latency_ms, search_lag_ms=REALISTIC_SEARCH_LAG_MS
    ) as sandbox:
        set_hubspot_limits(sandbox, burst_max=190, burst_interval_ms=10_000)
        ids = [record.id for record in sandbox.hubspot.emulator.store.records("contacts")]
        ids_file = state_dir / "ids.txt"
        ids_file.write_text("\n".join(ids), encoding="ascii")
        rounds = max(1, -(-records // len(ids)))
        env = sandbox_env(
            sandbox,
            f"sqlite:///{state_dir}/state.db",
            CRMSYNC_HUBSPOT__BURST_LIMIT_PER_10S="190",
            CRMSYNC_BENCH_IDS_FILE=str(ids_file),
            CRMSYNC_BENCH_ROUNDS=str(rounds),
        )
        with Watcher(sandbox) as watcher:
            result = run_child(sandbox, env, mode="hubspot-writes")
    samples = watcher.samples
    first, last = _write_phase(samples)
    written = int(result.report["written"]["hubspot"])
    return {
        "contacts": len(ids),
        "rounds": rounds,
        "records_written": written,
        "records_failed": int(result.report["failed"]["hubspot"]),
        "latency_ms": latency_ms,
        "wall_s": round(result.wall, 1),
        "calls": result.calls.system("hubspot"),
        "hubspot_429": dict(watcher.rejected),
        **_window_figures(samples, first, last),
        "hubspot_records_written_per_s": round(written / result.wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--writes-only",
        action="store_true",
        help="HubSpot batch updates alone (>= 40,000 records) instead of a full sync",
    )
    args = parser.parse_args(argv)
    if args.writes_only:
        out = run_writes(args.people, args.latency_ms, args.seed)
    else:
        out = run(args.people, args.latency_ms, args.seed)
    for key, value in out.items():
        print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
