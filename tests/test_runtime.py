from __future__ import annotations

import gc

import pytest

from connector import cli
from connector.runtime import COLLECTOR_THRESHOLDS


def test_the_crmsync_command_runs_with_the_tuned_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, ...]] = []

    def main() -> int:
        seen.append(gc.get_threshold())
        return 0

    monkeypatch.setattr(cli, "main", main)
    before = gc.get_threshold()
    try:
        with pytest.raises(SystemExit) as done:
            cli.entrypoint()
    finally:
        gc.set_threshold(*before)
    assert seen == [COLLECTOR_THRESHOLDS]
    assert done.value.code == 0
