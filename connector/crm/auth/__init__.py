"""OAuth for both CRMs, done by the connector with httpx (see the submodules)."""

from connector.crm.auth._oauth import build_http_client, tls_verify
from connector.crm.auth.hubspot import HubSpotTokenSource
from connector.crm.auth.salesforce import JWT_LIFETIME, SalesforceAuthenticator, SalesforceToken

__all__ = [
    "JWT_LIFETIME",
    "HubSpotTokenSource",
    "SalesforceAuthenticator",
    "SalesforceToken",
    "build_http_client",
    "tls_verify",
]
