"""crmsync: keep Salesforce and HubSpot in agreement about the sales funnel."""

__version__ = "0.1.0"

__all__ = ["__version__"]
