"""Build both adapters for one run from :class:`~connector.settings.Settings`."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from connector.crm.hubspot import HubSpotAdapter
from connector.crm.retry import DEFAULT_POLICY, RetryPolicy
from connector.crm.salesforce import SalesforceAdapter
from connector.settings import Settings
from connector.stopping import Stop

__all__ = ["Adapters", "connect"]


@dataclass(frozen=True, slots=True)
class Adapters:
    """The two adapters of a connection pair, each a ``CrmSource`` and a ``CrmSink``."""

    salesforce: SalesforceAdapter
    hubspot: HubSpotAdapter

    def secrets(self) -> tuple[str, ...]:
        return (*self.salesforce.secrets(), *self.hubspot.secrets())


def connect(
    settings: Settings,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
    write_concurrency: int = 4,
    stop: Stop | None = None,
) -> Adapters:
    """Adapters for one run (describe caches and API budgets are per run).

    ``stop`` is the run's stop request: both adapters end their work at the next call or wait
    once it is set. ``sleep`` is a test's virtual sleep (default: a real one a stop wakes).
    Raises :class:`~connector.errors.ConfigError` when a system has no credentials. Nothing is
    called until the first pull, describe or write.
    """
    stop = stop or Stop()
    return Adapters(
        salesforce=SalesforceAdapter(
            settings.salesforce,
            policy=policy,
            sleep=sleep,
            rng=rng,
            write_concurrency=write_concurrency,
            stop=stop,
        ),
        hubspot=HubSpotAdapter(
            settings.hubspot,
            policy=policy,
            sleep=sleep,
            rng=rng,
            write_concurrency=write_concurrency,
            stop=stop,
        ),
    )
