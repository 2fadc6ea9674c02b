"""Build both adapters for one run from :class:`~connector.settings.Settings`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from connector.crm.hubspot import HubSpotAdapter
from connector.crm.retry import DEFAULT_POLICY, RetryPolicy
from connector.crm.salesforce import SalesforceAdapter
from connector.settings import Settings

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
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    write_concurrency: int = 4,
) -> Adapters:
    """Adapters for one run (describe caches and API budgets are per run).

    Raises :class:`~connector.errors.ConfigError` when a system has no credentials. Nothing is
    called until the first pull, describe or write.
    """
    return Adapters(
        salesforce=SalesforceAdapter(
            settings.salesforce,
            policy=policy,
            sleep=sleep,
            rng=rng,
            write_concurrency=write_concurrency,
        ),
        hubspot=HubSpotAdapter(
            settings.hubspot,
            policy=policy,
            sleep=sleep,
            rng=rng,
            write_concurrency=write_concurrency,
        ),
    )
