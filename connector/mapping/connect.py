"""Fetch the live schema the mapping is checked against, through the CRM adapters.

Only the adapters talk to the CRMs (``describe``); this module picks the configured ones and
says plainly which system could not be checked and why, so ``validate --live`` never reports
"ok" for a system it did not look at.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.crm.types import ObjectSchema
from connector.errors import ConfigError, Problem
from connector.mapping.catalogue import HUBSPOT_OBJECT
from connector.settings import Settings

__all__ = ["LiveSchema", "describe_live"]


@dataclass(frozen=True, slots=True)
class LiveSchema:
    """What the CRMs described, and the systems left unchecked (with the reason)."""

    salesforce: tuple[ObjectSchema, ...]
    hubspot: ObjectSchema | None
    unchecked: tuple[str, ...]

    def checked(self) -> list[str]:
        names = [schema.object_type for schema in self.salesforce]
        return names + ([self.hubspot.object_type] if self.hubspot is not None else [])


def describe_live(settings: Settings) -> LiveSchema:
    """Describe Salesforce Lead and Contact and HubSpot contacts through the adapters.

    Raises :class:`ConfigError` when no system can be checked at all.
    """
    unchecked: list[str] = []
    salesforce: tuple[ObjectSchema, ...] = ()
    if settings.salesforce.auth is None:
        unchecked.append("Salesforce: no credentials configured (salesforce.auth)")
    else:
        from connector.crm.salesforce import SalesforceAdapter

        adapter = SalesforceAdapter(settings.salesforce)
        salesforce = tuple(adapter.describe(name) for name in adapter.people_objects())
    hubspot: ObjectSchema | None = None
    if settings.hubspot.auth is None:
        unchecked.append("HubSpot: no credentials configured (hubspot.auth)")
    else:
        from connector.crm.hubspot import HubSpotAdapter

        hubspot = HubSpotAdapter(settings.hubspot).describe(HUBSPOT_OBJECT)
    if not salesforce and hubspot is None:
        raise ConfigError(
            [
                Problem(
                    "--live",
                    "no CRM could be described: " + "; ".join(unchecked),
                    hint="configure credentials, or pass --schema FILE with saved describe / "
                    "properties JSON",
                )
            ]
        )
    return LiveSchema(salesforce, hubspot, tuple(unchecked))
