"""The Salesforce adapter (simple-salesforce behind the connector's own seam)."""

from connector.crm.salesforce._write import EXTERNAL_ID_FIELD, MAX_COLLECTION
from connector.crm.salesforce.adapter import SalesforceAdapter

__all__ = ["EXTERNAL_ID_FIELD", "MAX_COLLECTION", "SalesforceAdapter"]
