"""Thread-safe per-endpoint call counts for the emulators' ``/__sandbox__/stats``."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["CallStats"]


class CallStats:
    """Counts calls by ``"METHOD /route/template"`` (templates, not concrete paths)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def record(self, method: str, route_template: str) -> None:
        key = f"{method.upper()} {route_template}"
        with self._lock:
            self._calls[key] += 1

    def snapshot(self) -> dict[str, int]:
        """A copy of the counts, sorted by endpoint."""
        with self._lock:
            return dict(sorted(self._calls.items()))

    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def count(self, method: str, route_template: str) -> int:
        with self._lock:
            return self._calls[f"{method.upper()} {route_template}"]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
