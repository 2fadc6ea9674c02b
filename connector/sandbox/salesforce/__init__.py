"""A Salesforce REST API emulator: OAuth, SOQL query/queryAll, describe, sObjects, collections,
getUpdated/getDeleted, limits and Bulk API 2.0 query jobs, over a seeded in-memory org."""

from connector.sandbox.salesforce.app import DEFAULT_DAILY_LIMIT, ORG_ID, SalesforceEmulator
from connector.sandbox.salesforce.convert import Conversion
from connector.sandbox.salesforce.oauth import SalesforceCredentials
from connector.sandbox.salesforce.store import SalesforceStore
from connector.sandbox.salesforce.writes import ValidationRule

__all__ = [
    "DEFAULT_DAILY_LIMIT",
    "ORG_ID",
    "Conversion",
    "SalesforceCredentials",
    "SalesforceEmulator",
    "SalesforceStore",
    "ValidationRule",
]
