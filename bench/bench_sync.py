"""API-call efficiency of crmsync against the sandbox, and a naive per-record baseline.

    .venv/bin/python bench/bench_sync.py [--people 20000] [--edits 500] [--json out.json]

One sandbox (both emulators in this process); every sync runs in its own interpreter, so wall
time and peak RSS are the connector's alone. In order:

1. full initial sync: calls per system and endpoint against the batching minimum;
2. the next sync (re-reads the records the full sync wrote: the "echo" run), then a sync with
   no change at all (the steady state);
3. ``--edits`` people edited (half in each CRM, last name) and a sync;
4. the naive baseline on the same sandbox: for each person record, one read and one write.

Runs are spaced past the lookback window, as scheduled runs are: the lookback is set to 2 s
(instead of 300 s) so the bench does not wait five minutes between runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _harness import Calls, ChildResult, run_child, sandbox_env, set_hubspot_limits
from _minimum import Minimum, full_sync_minimum, holdings, minimum

from connector.sandbox.runner import REALISTIC_SEARCH_LAG_MS, Sandbox

LOOKBACK = 2
# Between runs: past the lookback, and past HubSpot's search lag, so each run sees the last.
SETTLE = max(LOOKBACK + 1, REALISTIC_SEARCH_LAG_MS / 1000)
EDIT_FIELD = {"salesforce": "LastName", "hubspot": "lastname"}


def _row(label: str, calls: Calls, minimum: Minimum | None, result: ChildResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run": label,
        "salesforce_calls": calls.system("salesforce"),
        "hubspot_calls": calls.system("hubspot"),
        "calls": calls.total,
        "wall_s": round(result.wall, 2),
        "peak_rss_mib": round(result.rss_mib),
        "written": result.written,
        "evaluated": result.report.get("counts", {}).get("evaluated", 0),
        "endpoints": dict(sorted(calls.by_endpoint.items())),
    }
    if minimum is not None:
        row |= {
            "min_salesforce": minimum.salesforce,
            "min_hubspot": minimum.hubspot,
            "minimum": minimum.total,
            "ratio": round(calls.total / minimum.total, 3),
            "ratio_salesforce": round(calls.system("salesforce") / minimum.salesforce, 3),
            "ratio_hubspot": round(calls.system("hubspot") / minimum.hubspot, 3),
            "minimum_detail": minimum.detail,
        }
    return row


def _edit(sandbox: Sandbox, count: int) -> tuple[dict[str, int], list[str]]:
    """Edit ``count`` people's last names, half in each CRM; answer the Salesforce rows edited
    per object and the HubSpot contact ids edited."""
    sf_store, hs_store = sandbox.salesforce.store, sandbox.hubspot.store
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sandbox.salesforce.ca_file)
    session.headers["Authorization"] = f"Bearer {sandbox.salesforce.emulator.issue_token()}"
    rows: dict[str, int] = {"Lead": 0, "Contact": 0}
    half = count // 2
    done = 0
    for object_type in ("Contact", "Lead"):
        for record_id, row in list(sf_store.table(object_type).rows.items()):
            if done == half:
                break
            if row.get("IsDeleted") or row.get("IsConverted") or not row.get("Email"):
                continue
            url = f"{sandbox.salesforce.url}/services/data/v66.0/sobjects/{object_type}/{record_id}"
            answer = session.patch(url, json={"LastName": f"{row.get('LastName') or 'X'}-e"})
            answer.raise_for_status()
            rows[object_type] += 1
            done += 1
    plain = requests.Session()
    plain.trust_env = False
    edited: list[str] = []
    for record in hs_store.records("contacts")[: count - half]:
        answer = plain.post(
            f"{sandbox.hubspot.url}/__sandbox__/edit",
            json={
                "objectType": "contacts",
                "id": record.id,
                "properties": {"lastname": f"{record.props.get('lastname') or 'X'}-e"},
            },
        )
        answer.raise_for_status()
        edited.append(record.id)
    return rows, edited


def _written(result: ChildResult, system: str) -> int:
    return sum(int(n) for k, n in result.report.get("written", {}).items() if k.startswith(system))


class Rows(list[dict[str, Any]]):
    """Rows that are printed (and saved) as soon as each run is measured."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self._path = path

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        summary = {k: v for k, v in row.items() if k not in ("endpoints", "minimum_detail")}
        print(f"# {json.dumps(summary)}", flush=True)
        if self._path is not None:
            self._path.write_text(json.dumps(list(self), indent=2) + "\n", encoding="utf-8")


def run(
    people: int, edits: int, seed: int, naive: bool, path: Path | None = None
) -> list[dict[str, Any]]:
    rows = Rows(path)
    state_dir = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    started = time.perf_counter()
    with Sandbox.start(seed=seed, people=people, search_lag_ms=REALISTIC_SEARCH_LAG_MS) as sandbox:
        print(f"# sandbox of {people:,} people up in {time.perf_counter() - started:.1f} s")
        env = sandbox_env(
            sandbox,
            f"sqlite:///{state_dir}/state.db",
            CRMSYNC_SALESFORCE__LOOKBACK_SECONDS=str(LOOKBACK),
            CRMSYNC_HUBSPOT__LOOKBACK_SECONDS=str(LOOKBACK),
        )
        held = holdings(sandbox)
        full = run_child(sandbox, env)
        wanted = full_sync_minimum(sandbox, held, full.report)
        rows.append(_row("full sync", full.calls, wanted, full))
        for label in ("next sync (echo of own writes)", "no-change sync"):
            time.sleep(SETTLE)
            result = run_child(sandbox, env)
            rows.append(_row(label, result.calls, None, result))
        time.sleep(SETTLE)
        sf_rows, hs_edited = _edit(sandbox, edits)
        # HubSpot's search index trails writes (as a portal's does): the edits are searchable
        # only once it has caught up; a run any sooner would leave them to the next run.
        time.sleep(REALISTIC_SEARCH_LAG_MS / 1000)
        edited = run_child(sandbox, env)
        hs_pulled = int(edited.report.get("pulled", {}).get("hubspot.contacts", 0))
        wanted = minimum(
            salesforce_rows=sf_rows
            | {"Task": 0, "Event": 0, "CampaignMember": 0, "OpportunityContactRole": 0},
            salesforce_writes=_written(edited, "salesforce"),
            contacts_searched=hs_pulled,
            contacts_with_activity=hs_edited,
            sandbox=sandbox,
            hubspot_writes=_written(edited, "hubspot"),
        )
        rows.append(_row(f"{edits} people edited", edited.calls, wanted, edited))
        if naive:
            # The naive flow is measured without HubSpot's burst limit (it would need
            # calls / 19 seconds at 190 per 10 s): its wall time is a best case.
            set_hubspot_limits(sandbox, burst_max=1_000_000)
            # Nor would it fit the emulated org's daily allocation (15,000 calls): lift it.
            daily = sandbox.salesforce.emulator.daily_limit
            sandbox.salesforce.emulator.daily_limit = 100_000_000
            baseline = run_child(sandbox, env, mode="naive")
            row = _row("naive per-record baseline", baseline.calls, None, baseline)
            row["hubspot_floor_at_190_per_10s_s"] = round(baseline.calls.system("hubspot") / 19)
            row["calls_ratio_ours_to_naive"] = round(full.calls.total / baseline.calls.total, 4)
            row["wall_ratio_ours_to_naive"] = round(full.wall / baseline.wall, 3)
            row["naive_failed"] = baseline.report.get("failed", {})
            row["salesforce_daily_allocation"] = daily
            rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'run':34} {'SF calls':>9} {'HS calls':>9} {'total':>7} {'minimum':>8} {'ratio':>6}"
        f" {'wall s':>8} {'RSS MiB':>8} {'written':>8}"
    )
    for row in rows:
        ratio = f"{row['ratio']:.3f}" if "ratio" in row else "-"
        print(
            f"{row['run']:34} {row['salesforce_calls']:>9,} {row['hubspot_calls']:>9,}"
            f" {row['calls']:>7,} {row.get('minimum', '-'):>8} {ratio:>6} {row['wall_s']:>8.1f}"
            f" {row['peak_rss_mib']:>8} {row['written']:>8,}"
        )
    naive = next((r for r in rows if r["run"].startswith("naive")), None)
    if naive is not None:
        print(
            f"ours / naive: calls {naive['calls_ratio_ours_to_naive']:.4f}, wall"
            f" {naive['wall_ratio_ours_to_naive']:.3f} (naive HubSpot floor at 190/10 s:"
            f" {naive['hubspot_floor_at_190_per_10s_s']:,} s)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    rows = run(args.people, args.edits, args.seed, not args.no_naive, args.json)
    print_table(rows)
    for row in rows:
        print(f"\n## {row['run']}")
        for endpoint, count in row["endpoints"].items():
            print(f"  {count:>7,}  {endpoint}")
        for key, count in row.get("minimum_detail", {}).items():
            print(f"  min {count:>5,}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
