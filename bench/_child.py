"""One measured run in its own interpreter; prints one JSON line (wall, peak RSS, report).

_child.py sync     one crmsync sync with the settings in the environment
_child.py naive    the per-record baseline: list the people, then for each person record
                   one read and one write call, one record at a time (as a simple script or
                   a Zapier-style flow does)
_child.py hubspot-writes
                   HubSpot batch updates alone, through crmsync's HubSpot adapter (its budget
                   and bounded concurrency): every contact id in CRMSYNC_BENCH_IDS_FILE,
                   CRMSYNC_BENCH_ROUNDS times, 2,000 records per adapter call as the engine's
                   chunks hand them over
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from connector.crm.hubspot import HubSpotAdapter
from connector.crm.types import WriteRequest
from connector.runtime import tune_collector
from connector.settings import load_settings
from connector.sync.wiring import connected


def _sync() -> dict[str, Any]:
    settings = load_settings(config_file=None, env_file=None)
    with connected(settings) as engine:
        report = engine.sync()
    return report.to_json()


def _salesforce_ids(session: requests.Session, base: str, object_type: str) -> Iterator[str]:
    url = f"{base}/services/data/v66.0/query"
    answer = session.get(url, params={"q": f"SELECT Id FROM {object_type}"}).json()  # noqa: S608
    while True:
        yield from (row["Id"] for row in answer["records"])
        if answer.get("done", True):
            return
        answer = session.get(base + answer["nextRecordsUrl"]).json()


def _hubspot_ids(session: requests.Session, base: str) -> Iterator[str]:
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if after:
            params["after"] = after
        answer = session.get(f"{base}/crm/v3/objects/contacts", params=params).json()
        yield from (row["id"] for row in answer["results"])
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


def _naive() -> dict[str, Any]:
    env = os.environ
    sf = requests.Session()
    sf.trust_env = False
    sf.verify = env["CRMSYNC_SALESFORCE__CA_BUNDLE"]
    base = env["CRMSYNC_SALESFORCE__INSTANCE_URL"].rstrip("/")
    token = sf.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["CRMSYNC_SALESFORCE__AUTH__CLIENT_ID"],
            "client_secret": env["CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET"],
        },
    ).json()["access_token"]
    sf.headers["Authorization"] = f"Bearer {token}"
    written = {"salesforce": 0, "hubspot": 0}
    failed = {"salesforce": 0, "hubspot": 0}
    for object_type in ("Lead", "Contact"):
        for record_id in list(_salesforce_ids(sf, base, object_type)):
            url = f"{base}/services/data/v66.0/sobjects/{object_type}/{record_id}"
            read = sf.get(url)
            stage = (read.json() if read.ok else {}).get("Funnel_Stage__c") or "Lead"
            answer = sf.patch(url, json={"Funnel_Stage__c": stage})
            written["salesforce"] += answer.status_code == 204
            failed["salesforce"] += not (read.ok and answer.ok)
    hs = requests.Session()
    hs.trust_env = False
    hs.headers["Authorization"] = f"Bearer {env['CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN']}"
    hs_base = env["CRMSYNC_HUBSPOT__BASE_URL"].rstrip("/")
    for record_id in list(_hubspot_ids(hs, hs_base)):
        url = f"{hs_base}/crm/v3/objects/contacts/{record_id}"
        read = hs.get(url, params={"properties": "crmsync_funnel_stage"})
        props = (read.json() if read.ok else {}).get("properties") or {}
        stage = props.get("crmsync_funnel_stage") or "lead"
        answer = hs.patch(url, json={"properties": {"crmsync_funnel_stage": stage}})
        written["hubspot"] += answer.status_code == 200
        failed["hubspot"] += not (read.ok and answer.ok)
    return {"written": written, "failed": failed, "counts": {"written": sum(written.values())}}


def _hubspot_writes() -> dict[str, Any]:
    settings = load_settings(config_file=None, env_file=None)
    adapter = HubSpotAdapter(settings.hubspot)
    ids = Path(os.environ["CRMSYNC_BENCH_IDS_FILE"]).read_text(encoding="ascii").split()
    written = failed = 0
    for round_ in range(int(os.environ["CRMSYNC_BENCH_ROUNDS"])):
        for start in range(0, len(ids), 2_000):
            requests_ = [
                WriteRequest(
                    object_type="contacts", record_id=i, fields={"jobtitle": f"Bench {round_}"}
                )
                for i in ids[start : start + 2_000]
            ]
            for result in adapter.write(requests_):
                written += result.ok
                failed += not result.ok
    return {
        "written": {"hubspot": written},
        "failed": {"hubspot": failed},
        "counts": {"written": written},
    }


def _peak_rss_kib() -> int:
    """This process's peak resident set (``VmHWM``). Not ``ru_maxrss``: on Linux that keeps
    the high-water mark of the parent it was forked from (here, the emulators)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    mode = sys.argv[1]
    tune_collector()  # as the crmsync command does
    started = time.perf_counter()
    modes = {"sync": _sync, "naive": _naive, "hubspot-writes": _hubspot_writes}
    report = modes[mode]()
    wall = time.perf_counter() - started
    rss_kib = _peak_rss_kib()
    report["written_total"] = report["counts"]["written"]
    print(json.dumps({"wall": wall, "rss_kib": rss_kib, "report": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
