"""Shared plumbing for the sync benchmarks: a sandbox hosted by this process, one sync per child
process (so its peak RSS is the connector's alone, not the emulators'), call counts from each
emulator's ``/__sandbox__/stats``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from connector.sandbox.runner import Sandbox

__all__ = [
    "ROOT",
    "Calls",
    "ChildResult",
    "calls",
    "run_child",
    "sandbox_env",
    "set_hubspot_limits",
]

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("_child.py")

# The token endpoint is free on both CRMs (it is not an API call either meters).
_FREE = ("POST /services/oauth2/token",)


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@dataclass(frozen=True)
class Calls:
    """Calls per ``"system METHOD /route"`` (metered calls only)."""

    by_endpoint: Counter[str]

    def system(self, name: str) -> int:
        return sum(n for key, n in self.by_endpoint.items() if key.startswith(name + " "))

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())

    def __sub__(self, other: Calls) -> Calls:
        diff = Counter(self.by_endpoint)
        diff.subtract(other.by_endpoint)
        return Calls(Counter({key: n for key, n in diff.items() if n}))

    def matching(self, name: str, *fragments: str) -> int:
        return sum(
            n
            for key, n in self.by_endpoint.items()
            if key.startswith(name + " ") and any(f in key for f in fragments)
        )


def calls(sandbox: Sandbox) -> Calls:
    """Both emulators' call counters now."""
    session = _session()
    sf = session.get(
        f"{sandbox.salesforce.url}/__sandbox__/stats", verify=str(sandbox.salesforce.ca_file)
    ).json()
    hs = session.get(f"{sandbox.hubspot.url}/__sandbox__/stats").json()
    found: Counter[str] = Counter()
    for system, body in (("salesforce", sf), ("hubspot", hs)):
        for endpoint, count in body["calls"].items():
            if endpoint not in _FREE:
                found[f"{system} {endpoint}"] += int(count)
    return Calls(found)


def hubspot_usage(sandbox: Sandbox) -> dict[str, Any]:
    answer: dict[str, Any] = _session().get(f"{sandbox.hubspot.url}/__sandbox__/limits").json()
    return answer


def set_hubspot_limits(sandbox: Sandbox, **limits: int) -> dict[str, Any]:
    """Change the HubSpot emulator's rate limits (``burst_max``, ``search_per_second``...)."""
    answer: dict[str, Any] = (
        _session().post(f"{sandbox.hubspot.url}/__sandbox__/limits", json=limits).json()
    )
    return answer


def sandbox_env(sandbox: Sandbox, state_url: str, **extra: str) -> dict[str, str]:
    """The environment a child sync runs with: the sandbox's settings, the repository's
    mappings and rules, and ``extra`` (``CRMSYNC_*`` overrides)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env |= sandbox.env()
    env |= {
        "CRMSYNC_STATE_URL": state_url,
        "CRMSYNC_MAPPINGS_DIR": str(ROOT / "mappings"),
        "CRMSYNC_RULES_FILE": str(ROOT / "config" / "rules.yaml"),
        "CRMSYNC_LOG_LEVEL": "WARNING",
    }
    return env | extra


@dataclass(frozen=True)
class ChildResult:
    """What a child sync reports: wall time, peak RSS and the run report's counts."""

    wall: float
    rss_mib: float
    report: dict[str, Any]
    calls: Calls

    @property
    def written(self) -> int:
        return int(self.report.get("written_total", 0))


def run_child(sandbox: Sandbox, env: dict[str, str], mode: str = "sync") -> ChildResult:
    """Run one sync (or the naive baseline, ``mode="naive"``) in a fresh interpreter."""
    before = calls(sandbox)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(CHILD), mode],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"child {mode} failed with exit code {done.returncode}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return ChildResult(
        wall=float(answer["wall"]),
        rss_mib=float(answer["rss_kib"]) / 1024,
        report=answer["report"],
        calls=calls(sandbox) - before,
    )
