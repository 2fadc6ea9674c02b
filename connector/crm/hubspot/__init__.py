"""The HubSpot adapter (hubspot-api-client behind the connector's own seam)."""

from connector.crm.hubspot._write import EXTERNAL_ID_PROPERTY, MAX_BATCH
from connector.crm.hubspot.adapter import HubSpotAdapter

__all__ = ["EXTERNAL_ID_PROPERTY", "MAX_BATCH", "HubSpotAdapter"]
