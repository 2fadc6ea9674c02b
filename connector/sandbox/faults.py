"""Fault plans for the emulators, and a seeded injector so one seed injects the same faults.

A :class:`FaultPlan` is data (JSON/YAML file, ``--faults FILE`` or ``POST /__sandbox__/faults``).
A :class:`FaultInjector` turns it into decisions, drawing from its own ``random.Random(seed)``:
for the same seed, plan and sequence of calls it makes the same decisions. Each emulator renders
the decisions in its own API's shapes (Salesforce ``SERVER_UNAVAILABLE``, HubSpot 429 bodies...).
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.errors import ConfigError
from connector.yamlfile import load_yaml

__all__ = ["REALISTIC_SEARCH_LAG_MS", "Burst", "FaultInjector", "FaultPlan", "load_fault_plan"]

REALISTIC_SEARCH_LAG_MS: Final = 3000
"""How far HubSpot search trails writes in the demo, the benchmarks and ``crmsync sandbox
serve``: "a few moments" (HubSpot's search guide); integrators report seconds
(HubSpot/hubspot-api-php#59)."""


class Burst(BaseModel):
    """Answer ``count`` calls in a row with ``status``, starting after ``after_calls`` calls."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_calls: int = Field(ge=0)
    count: int = Field(ge=1)
    status: int = Field(default=429, ge=400, le=599)


class FaultPlan(BaseModel):
    """What to inject. Rates are probabilities per call (or per record for lock errors).

    Two fields shape the Salesforce emulator only: ``duplicate_rules`` names the objects
    (``Lead``, ``Contact``) whose duplicate rule blocks a create matching an existing record's
    e-mail (``DUPLICATES_DETECTED``; off by default, as crmsync's own writes would be refused
    by it), and ``bulk_processing_seconds`` is how long a Bulk API query job or batch stays
    ``InProgress`` before it completes (0: complete by the first poll).
    ``search_lag_ms`` (HubSpot only): how far CRM search trails writes. A created, updated or
    archived record shows in search as it was until its write is this old; reads by id see it
    at once (HubSpot indexes search asynchronously, reference §9). 0 (the default, for unit
    tests) makes search read the live data; the demo and benchmarks use
    :data:`REALISTIC_SEARCH_LAG_MS`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: int = Field(default=0, ge=0, le=60_000)
    error_rates: dict[int, float] = Field(default_factory=dict)
    lock_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    expire_session_after_calls: int | None = Field(default=None, ge=1)
    daily_quota_remaining: int | None = Field(default=None, ge=0)
    search_lag_ms: int = Field(default=0, ge=0, le=600_000)
    bursts: tuple[Burst, ...] = ()
    seed: int | None = None
    duplicate_rules: tuple[Literal["Lead", "Contact"], ...] = ()
    bulk_processing_seconds: float = Field(default=0.0, ge=0.0, le=3600.0)

    @field_validator("error_rates")
    @classmethod
    def _check_rates(cls, rates: dict[int, float]) -> dict[int, float]:
        for status, rate in rates.items():
            if not 400 <= status <= 599:
                raise ValueError(f"error_rates: {status} is not an HTTP error status")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"error_rates: rate for {status} must be between 0 and 1")
        if sum(rates.values()) > 1.0:
            raise ValueError("error_rates: the rates add up to more than 1")
        return dict(sorted(rates.items()))


def load_fault_plan(path: Path) -> FaultPlan:
    """Read a plan from a ``.json`` or ``.yaml``/``.yml`` file.

    YAML goes through the product's bounded loader (size, nesting, aliases): a problem there
    is a :class:`~connector.errors.ConfigError` naming the file and line.
    """
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        data = load_yaml(path, ConfigError).plain()
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    return FaultPlan.model_validate(data or {})


class FaultInjector:
    """Seeded, thread-safe decisions for one emulator.

    ``on_call()`` is consulted once per API call (control endpoints excluded) and answers the
    HTTP status to fail the call with, or ``None``. ``lock_record()`` is consulted once per record
    in a collection write. ``session_should_expire()`` says, once every
    ``expire_session_after_calls`` calls, that the emulator should revoke the tokens it issued.
    """

    def __init__(self, plan: FaultPlan | None = None, *, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._default_seed = seed
        self.configure(plan or FaultPlan())

    def configure(self, plan: FaultPlan) -> None:
        """Replace the plan and restart the random stream and call counters."""
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed if plan.seed is not None else self._default_seed)
            self._calls = 0
            self._since_expiry = 0

    def latency_seconds(self) -> float:
        return self.plan.latency_ms / 1000.0

    def on_call(self) -> int | None:
        with self._lock:
            served = self._calls
            self._calls += 1
            for burst in self.plan.bursts:
                if burst.after_calls <= served < burst.after_calls + burst.count:
                    return burst.status
            if not self.plan.error_rates:
                return None
            roll = self._rng.random()
            edge = 0.0
            for status, rate in self.plan.error_rates.items():
                edge += rate
                if roll < edge:
                    return status
            return None

    def lock_record(self) -> bool:
        with self._lock:
            rate = self.plan.lock_error_rate
            return rate > 0.0 and self._rng.random() < rate

    def session_should_expire(self) -> bool:
        with self._lock:
            limit = self.plan.expire_session_after_calls
            if limit is None:
                return False
            self._since_expiry += 1
            if self._since_expiry > limit:
                self._since_expiry = 0
                return True
            return False
