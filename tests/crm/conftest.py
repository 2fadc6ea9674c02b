"""Fixtures for the adapters against the sandbox emulators (real sockets, official SDKs)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.sandbox.faults import FaultPlan
from connector.sandbox.runner import Sandbox
from connector.settings import Settings, load_settings


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=11, people=400) as started:
        yield started


def settings_for(sandbox: Sandbox, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings built the way users build them: from the sandbox's CRMSYNC_* variables."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("CRMSYNC_")}
    try:
        for name in saved:
            if not name.startswith("CRMSYNC_TEST_"):
                del os.environ[name]
        os.environ.update(sandbox.env())
        return load_settings(config_file=tmp_path / "absent.toml", env_file=None, **overrides)
    finally:
        for name in [k for k in os.environ if k.startswith("CRMSYNC_")]:
            del os.environ[name]
        os.environ.update(saved)


def _verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=str(ca_file)) if ca_file else True


def stats(url: str, ca_file: Path | None = None) -> dict[str, int]:
    answer = httpx.get(f"{url}/__sandbox__/stats", verify=_verify(ca_file))
    answer.raise_for_status()
    calls: dict[str, int] = answer.json()["calls"]
    return calls


def set_faults(url: str, plan: FaultPlan, ca_file: Path | None = None) -> None:
    httpx.post(
        f"{url}/__sandbox__/faults",
        json=plan.model_dump(mode="json"),
        verify=_verify(ca_file),
    ).raise_for_status()


def reset(url: str, ca_file: Path | None = None) -> None:
    httpx.post(f"{url}/__sandbox__/reset", verify=_verify(ca_file)).raise_for_status()


class VirtualTime:
    """A monotonic clock that only moves when something sleeps: budgets and retries run on it,
    so tests never wait and never spin."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
