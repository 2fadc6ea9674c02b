from __future__ import annotations

from pathlib import Path

import pytest

from connector.crm import CrmSink, CrmSource, connect
from connector.errors import ConfigError
from connector.sandbox.runner import Sandbox
from connector.settings import HubSpotSettings, SalesforceSettings, Settings

from .conftest import settings_for, stats


def test_connect_builds_both_adapters_without_calling_anything(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = stats(sandbox.hubspot.url)
    adapters = connect(settings_for(sandbox, tmp_path))
    for adapter in (adapters.salesforce, adapters.hubspot):
        assert isinstance(adapter, CrmSource)
        assert isinstance(adapter, CrmSink)
    assert stats(sandbox.hubspot.url) == before
    env = sandbox.env()
    assert env["CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET"] in adapters.secrets()
    assert env["CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN"] in adapters.secrets()


def test_missing_credentials_are_a_config_error() -> None:
    settings = Settings.model_construct(salesforce=SalesforceSettings(), hubspot=HubSpotSettings())
    with pytest.raises(ConfigError, match=r"salesforce\.auth"):
        connect(settings)
