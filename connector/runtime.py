"""Process-wide settings for a crmsync command (not applied when crmsync is used as a library).

The collector: a sync allocates millions of small, short-lived containers (a chunk's records,
field values, plans), and CPython's default collector (a young-generation pass every 700
allocations, a full pass whenever the survivors grow by a quarter) then spends about a third
of the decide step's CPU time re-scanning a chunk that reference counting frees anyway. Larger
thresholds keep cycle collection (nothing here relies on it for memory) at a few percent; the
sync's peak memory is unchanged (bench/RESULTS.md, target 5).
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["COLLECTOR_THRESHOLDS", "tune_collector"]

COLLECTOR_THRESHOLDS: Final = (50_000, 20, 10)


def tune_collector() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
