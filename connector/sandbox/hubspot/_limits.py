"""HubSpot's rate limits with an injectable clock (reference §3).

* burst: a rolling 10-second window per app (default 190, Professional/Enterprise); search and
  the v4 association batch endpoints are exempt (``x-hubspot-rate-limit-exemptions``);
* search: 5 requests per second per account, answered ``SECONDLY``;
* daily: per account, reset at midnight (UTC here), answered ``DAILY``.

Rejected calls do not consume budget. Non-search answers carry the ``X-HubSpot-RateLimit-*``
headers; the daily pair is left out for OAuth tokens, as HubSpot does.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import date

from connector.sandbox.hubspot._clock import Clock
from connector.sandbox.hubspot._errors import RateLimited

__all__ = ["LimitConfig", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """The portal's limits (defaults: a Professional portal with one private app)."""

    burst_max: int = 190
    burst_interval_ms: int = 10_000
    search_per_second: int = 5
    daily_max: int = 625_000


class RateLimiter:
    """Counts calls in their windows; raises :class:`RateLimited` when one is full."""

    def __init__(self, config: LimitConfig, clock: Clock) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.configure(config)

    def configure(self, config: LimitConfig, *, daily_remaining: int | None = None) -> None:
        """Replace the limits and empty the windows; optionally preset the daily remainder."""
        with self._lock:
            self.config = config
            self._burst: deque[float] = deque()
            self._search: deque[float] = deque()
            self._day: date = self._clock.now().date()
            self._daily_used = 0
            if daily_remaining is not None:
                self._daily_used = max(0, config.daily_max - daily_remaining)

    def set_daily_remaining(self, remaining: int) -> None:
        with self._lock:
            self._daily_used = max(0, self.config.daily_max - remaining)

    def _roll_day(self) -> None:
        today = self._clock.now().date()
        if today != self._day:
            self._day, self._daily_used = today, 0

    def _headers(self, oauth: bool) -> dict[str, str]:
        headers = {
            "X-HubSpot-RateLimit-Max": str(self.config.burst_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.config.burst_max - len(self._burst))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.config.burst_interval_ms),
        }
        if not oauth:
            headers["X-HubSpot-RateLimit-Daily"] = str(self.config.daily_max)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, self.config.daily_max - self._daily_used)
            )
        return headers

    def admit(self, *, search: bool, burst_exempt: bool, oauth: bool) -> dict[str, str]:
        """Count one call, or raise. Answers the rate-limit headers to send (none for search)."""
        with self._lock:
            now = self._clock.monotonic()
            self._roll_day()
            window = self.config.burst_interval_ms / 1000.0
            while self._burst and self._burst[0] <= now - window:
                self._burst.popleft()
            while self._search and self._search[0] <= now - 1.0:
                self._search.popleft()
            if self._daily_used >= self.config.daily_max:
                raise RateLimited("DAILY", {} if search else self._headers(oauth))
            if search:
                if len(self._search) >= self.config.search_per_second:
                    raise RateLimited("SECONDLY")
                self._search.append(now)
                self._daily_used += 1
                return {}
            if not burst_exempt:
                if len(self._burst) >= self.config.burst_max:
                    raise RateLimited("TEN_SECONDLY_ROLLING", self._headers(oauth))
                self._burst.append(now)
            self._daily_used += 1
            return self._headers(oauth)

    def headers(self, *, oauth: bool) -> dict[str, str]:
        """The current headers without counting a call (for answers that fail early)."""
        with self._lock:
            return self._headers(oauth)

    def usage(self) -> dict[str, int]:
        with self._lock:
            return {
                "burst_in_window": len(self._burst),
                "burst_max": self.config.burst_max,
                "search_in_window": len(self._search),
                "search_per_second": self.config.search_per_second,
                "daily_used": self._daily_used,
                "daily_max": self.config.daily_max,
            }
