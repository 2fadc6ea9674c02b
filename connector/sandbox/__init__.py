"""Local emulators of the Salesforce and HubSpot APIs, and the synthetic world they serve.

Start both with :class:`connector.sandbox.runner.Sandbox` (``crmsync sandbox serve`` on the
command line). The modules are imported on demand so that ``import connector.sandbox.seed`` does
not pull in the web servers.
"""

__all__: list[str] = []
