"""The whole benchmark suite at a size that finishes in a few minutes (``make bench``).

    .venv/bin/python bench/run_all.py [--people 3000] [--json out.json]

Prints one table: each measurement of issue 10, its target and whether it was met. The
full-size figures (20,000 and 200,000 people) and the commands that produce them are in
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import bench_limits
import bench_memory
import bench_sync

HERE = Path(__file__).resolve().parent


def _rules(people: int) -> float:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "bench_rules.py"), "--people", str(people), "--repeat", "2"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    match = re.search(r"([\d,]+) people per CPU second", done.stdout)
    return float(match.group(1).replace(",", "")) if match else 0.0


def _line(item: str, measured: str, target: str, met: bool | None) -> tuple[str, str, str, str]:
    return item, measured, target, "-" if met is None else ("yes" if met else "NO")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    people = args.people
    edits = max(50, people // 40)

    print(f"# 1-3, 7: sync efficiency at {people:,} people", flush=True)
    runs = {row["run"]: row for row in bench_sync.run(people, edits, seed=10, naive=True)}
    print(f"# 4: rate limits at {people // 2:,} people, 100 ms latency", flush=True)
    limits = bench_limits.run(people // 2, 100, seed=12)
    print("# 4: HubSpot batch updates alone (40,000 records), 100 ms latency", flush=True)
    writes = bench_limits.run_writes(people // 2, 100, seed=12)
    print(f"# 5: memory at {people:,} and {people * 4:,} people", flush=True)
    small, large = bench_memory.measure(people, 14), bench_memory.measure(people * 4, 14)
    print("# 6: rules", flush=True)
    rules = _rules(20_000)

    full, steady = runs["full sync"], runs["no-change sync"]
    echo = runs["next sync (echo of own writes)"]
    edited = runs[f"{edits} people edited"]
    naive = runs["naive per-record baseline"]
    burst = limits["hubspot_burst_window_mean_write_phase"]
    ceiling = limits["hubspot_limited_calls_per_window"]
    rss = large["peak_rss_mib"] / small["peak_rss_mib"]
    lines = [
        _line(
            "1 full sync calls / minimum",
            f"{full['calls']:,} / {full['minimum']:,} = {full['ratio']:.3f}",
            "<= 1.10",
            full["ratio"] <= 1.10,
        ),
        _line(
            "2 no-change sync calls",
            f"{steady['calls']} calls, {steady['wall_s']:.2f} s",
            "<= 10",
            steady["calls"] <= 10,
        ),
        _line(
            "2' sync right after the full sync",
            f"{echo['calls']:,} calls, {echo['wall_s']:.1f} s",
            "<= 10",
            echo["calls"] <= 10,
        ),
        _line(
            f"3 {edits} edited: calls / minimum",
            f"{edited['calls']} / {edited['minimum']} = {edited['ratio']:.3f}",
            "<= 1.10",
            edited["ratio"] <= 1.10,
        ),
        _line(
            "4 HubSpot 10 s window used (writes)",
            "-"
            if burst is None
            else f"{burst:.0%}, 429s {sum(limits['hubspot_429'].values())}"
            # At this size the whole run has fewer counted calls than one window holds.
            + f" (all counted calls: {ceiling:.0%} of one window)",
            ">= 85%, few 429s",
            None if burst is None else burst >= 0.85,
        ),
        _line(
            "4 window used, HubSpot writes alone",
            "-"
            if writes["hubspot_burst_window_mean_steady"] is None
            else f"{writes['hubspot_burst_window_mean_steady']:.0%} steady, "
            f"429s {sum(writes['hubspot_429'].values())}, "
            f"{writes['hubspot_records_written_per_s']:,.0f} records/s",
            ">= 85%, few 429s",
            None
            if writes["hubspot_burst_window_mean_steady"] is None
            else writes["hubspot_burst_window_mean_steady"] >= 0.85,
        ),
        _line(
            "4 records/s (SF, HS written)",
            f"{limits['salesforce_records_written_per_s']:,.0f}, "
            f"{limits['hubspot_records_written_per_s']:,.0f}",
            "report",
            None,
        ),
        _line(
            "5 peak RSS large / small",
            f"{large['peak_rss_mib']} / {small['peak_rss_mib']} MiB = {rss:.2f}x",
            "<= 1.5x",
            rss <= 1.5,
        ),
        _line("6 rules people/CPU-s", f"{rules:,.0f}", ">= 50,000", rules >= 50_000),
        _line(
            "7 ours / naive (calls, wall)",
            f"{naive['calls_ratio_ours_to_naive']:.4f}, {naive['wall_ratio_ours_to_naive']:.3f}",
            "report",
            None,
        ),
    ]
    widths = [max(len(row[i]) for row in lines) for i in range(4)]
    print()
    for row in [("measurement", "measured", "target", "met"), *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if args.json is not None:
        figures: dict[str, Any] = {
            "sync": list(runs.values()),
            "limits": limits,
            "hubspot_writes": writes,
            "memory": [small, large],
            "rules_people_per_cpu_s": rules,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
