"""A faithful local emulator of the HubSpot CRM API (v3 objects, v4 associations, properties).

Build one from the shared synthetic world and serve ``.app`` over plain HTTP; the official
``hubspot-api-client`` talks to it with ``HubSpot(access_token=SANDBOX_ACCESS_TOKEN,
host=url)``. Shapes, limits and errors follow ``shared/reference/hubspot-api.md``:

* bearer auth (private-app token, or OAuth tokens from ``POST /oauth/v1/token``), 401 bodies;
* objects ``contacts``, ``deals``, ``emails``, ``calls``, ``meetings``, ``notes``, ``tasks``:
  list/get/create/update/archive, batch read/create/update/upsert/archive (<= 100 inputs, 207
  partial failures), search (filter limits, 13 operators, one sort, 200 per page, 10,000 cap),
  contact merge;
* properties list/get/create/update; associations v4 batch read (per-input paging) and create;
* rate limits: 10-second burst, 5/s search, daily, with HubSpot's 429 bodies and headers;
* faults from the shared :class:`~connector.sandbox.faults.FaultPlan`, including search that
  trails writes by ``search_lag_ms``;
* what third-party clients call at start-up: ``/crm/v3/schemas``, the legacy v1/v2 property
  lists, associations to companies and tickets (none exist);
* unknown routes and methods answer HubSpot's HTML error page (404/405), not JSON;
* control endpoints under ``/__sandbox__/`` (stats, faults, limits, reset, edit).

docs/sandbox.md lists each behaviour with its public source.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette

from connector.sandbox.faults import FaultInjector, FaultPlan
from connector.sandbox.hubspot import _batch, _objects, _other, _startup
from connector.sandbox.hubspot._app import error_pages, new_correlation_id, route
from connector.sandbox.hubspot._auth import (
    OAUTH_TOKEN_LIFETIME_SECONDS,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_ID,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_OAUTH_APP_ID,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_USER_ID,
    TokenBook,
)
from connector.sandbox.hubspot._clock import Clock, ManualClock, SystemClock
from connector.sandbox.hubspot._control import control_routes
from connector.sandbox.hubspot._limits import LimitConfig, RateLimiter
from connector.sandbox.hubspot._search import SearchEngine
from connector.sandbox.hubspot._seed import populate
from connector.sandbox.hubspot.store import HubSpotStore, Record, WriteRejected
from connector.sandbox.seed import World
from connector.sandbox.stats import CallStats

__all__ = [
    "OAUTH_TOKEN_LIFETIME_SECONDS",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_APP_ID",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_OAUTH_APP_ID",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_USER_ID",
    "Clock",
    "HubSpotEmulator",
    "HubSpotStore",
    "LimitConfig",
    "ManualClock",
    "Record",
    "SystemClock",
    "WriteRejected",
    "build",
]

DEFAULT_ASSOCIATION_PAGE_SIZE = 500


class HubSpotEmulator:
    """One emulated HubSpot portal: ``.app`` (ASGI), ``.store`` (data) and its machinery."""

    def __init__(
        self,
        world: World,
        *,
        seed: int,
        faults: FaultPlan | None,
        clock: Clock,
        limits: LimitConfig,
        association_page_size: int,
        custom_properties: bool,
    ) -> None:
        self.world = world
        self.seed = seed
        self.clock = clock
        self.association_page_size = association_page_size
        self._custom_properties = custom_properties
        self._initial_faults = faults or FaultPlan()
        self._initial_limits = limits
        self._rng_lock = threading.Lock()
        self._rng = random.Random(seed * 131 + 7)
        self.stats = CallStats()
        self.tokens = TokenBook(clock, seed=seed)
        self.limiter = RateLimiter(limits, clock)
        self.injector = FaultInjector(seed=seed)
        self.store = self._fresh_store()
        self.search = SearchEngine(self.store.linked_ids)
        self.apply_faults(self._initial_faults)
        routes = [route(self, e) for e in (*_batch.ENDPOINTS, *_objects.ENDPOINTS,
                                           *_other.ENDPOINTS, *_startup.ENDPOINTS)]  # fmt: skip
        self.app = Starlette(
            routes=[*control_routes(self), *routes], exception_handlers=error_pages(self)
        )

    def _fresh_store(self) -> HubSpotStore:
        store = HubSpotStore(self.clock, custom_properties=self._custom_properties)
        populate(store, self.world, seed=self.seed)
        return store

    def correlation_id(self) -> str:
        with self._rng_lock:
            return new_correlation_id(self._rng.getrandbits(128))

    def apply_faults(self, plan: FaultPlan) -> None:
        """Install a fault plan (a daily quota in it presets the daily remainder; its search lag
        applies to writes from now on)."""
        self.injector.configure(plan)
        with self.store.lock:
            self.store.index.configure(timedelta(milliseconds=plan.search_lag_ms))
        if plan.daily_quota_remaining is not None:
            self.limiter.set_daily_remaining(plan.daily_quota_remaining)

    def reset(self) -> None:
        """Back to the freshly seeded state: data, limits, counters and the initial faults."""
        fresh = self._fresh_store()
        with self.store.lock:
            # Swap contents in place so holders of ``.store`` keep seeing the live data.
            version = max(self.store.version, fresh.version) + 1
            self.store.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})
            self.store.version = version
            self.search.clear()
        self.limiter.configure(self._initial_limits)
        self.stats.reset()
        self.apply_faults(self._initial_faults)

    def stats_snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            objects = {name: len(t.live) for name, t in self.store.tables.items()}
        return {
            "calls": self.stats.snapshot(),
            "total": self.stats.total(),
            "limits": self.limiter.usage(),
            "objects": objects,
        }


def build(
    world: World,
    *,
    seed: int = 7,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    limits: LimitConfig | None = None,
    association_page_size: int = DEFAULT_ASSOCIATION_PAGE_SIZE,
    custom_properties: bool = True,
) -> HubSpotEmulator:
    """A HubSpot emulator seeded from ``world`` (the runner serves ``.app`` over HTTP).

    ``clock`` defaults to the system clock (tests pass a :class:`ManualClock`); ``limits`` to a
    Professional portal (190 per 10 s, 5 searches/s, 625,000 a day); ``custom_properties``
    pre-creates the ``crmsync_*`` contact properties the default mapping writes.
    """
    if association_page_size < 1:
        raise ValueError("association_page_size must be at least 1")
    return HubSpotEmulator(
        world,
        seed=seed,
        faults=faults,
        clock=clock or SystemClock(),
        limits=limits or LimitConfig(),
        association_page_size=association_page_size,
        custom_properties=custom_properties,
    )
