"""Flat memory: the peak RSS of a full initial sync at two sizes, each in its own process.

    .venv/bin/python bench/bench_memory.py [--sizes 20000 200000]

For each size a fresh sandbox is seeded in this process and one full sync runs in a child
interpreter whose peak RSS (``VmHWM``) is the connector's alone. The emulator's burst limit
is lifted and the connector's budget set to its highest (1,000 per 10 s): memory does not
depend on how long the run waits, and the large run is not hours of throttling. Target: the
largest run peaks at most 1.5x the smallest.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import run_child, sandbox_env, set_hubspot_limits

from connector.sandbox.runner import REALISTIC_SEARCH_LAG_MS, Sandbox


def measure(people: int, seed: int) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    started = time.perf_counter()
    with Sandbox.start(seed=seed, people=people, search_lag_ms=REALISTIC_SEARCH_LAG_MS) as sandbox:
        seeded = time.perf_counter() - started
        set_hubspot_limits(sandbox, burst_max=1_000_000)
        env = sandbox_env(
            sandbox,
            f"sqlite:///{state_dir}/state.db",
            CRMSYNC_HUBSPOT__BURST_LIMIT_PER_10S="1000",  # the highest the settings allow
            CRMSYNC_HUBSPOT__SEARCH_PER_SECOND="5",
        )
        result = run_child(sandbox, env)
    gc.collect()
    counts = result.report.get("counts", {})
    return {
        "people": people,
        "seed_s": round(seeded, 1),
        "wall_s": round(result.wall, 1),
        "peak_rss_mib": round(result.rss_mib),
        "evaluated": counts.get("evaluated", 0),
        "pulled": counts.get("pulled", 0),
        "activities": counts.get("activities", 0),
        "written": result.written,
        "calls": result.calls.total,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    rows = []
    for people in args.sizes:
        row = measure(people, args.seed)
        rows.append(row)
        print("  ".join(f"{key} {value:,}" for key, value in row.items()), flush=True)
    ratio = rows[-1]["peak_rss_mib"] / rows[0]["peak_rss_mib"]
    print(
        f"peak RSS {rows[-1]['people']:,} / {rows[0]['people']:,} people: {ratio:.2f}x"
        " (target <= 1.5x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
