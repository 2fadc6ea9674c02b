"""A Salesforce API emulator over a seeded in-memory org: OAuth and SOAP ``login()``, SOQL
query/queryAll, describe, sObjects, collections, getUpdated/getDeleted, limits, Bulk API 2.0
and Bulk API 1.0 query jobs, duplicate rules, and the edge's URI limits (docs/sandbox.md)."""

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
