"""Suite-wide fixtures: an isolated working directory and environment for settings tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty directory with no CRMSYNC_* variables (the suite's own are kept)."""
    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and not name.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
