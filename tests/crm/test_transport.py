"""Transport details at the SDK boundaries."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from connector.crm import RetryPolicy
from connector.crm.hubspot import HubSpotAdapter
from connector.crm.salesforce._client import _Session
from connector.errors import RetryableApiError
from connector.settings import HubSpotPrivateApp, HubSpotSettings


def test_the_configured_ca_bundle_wins_over_requests_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    bundle = str(tmp_path / "ca.pem")
    merged = _Session(bundle).merge_environment_settings("https://x", {}, None, True, None)
    assert merged["verify"] == bundle
    plain = _Session(None).merge_environment_settings("https://x", {}, None, True, None)
    assert plain["verify"] == "/etc/ssl/certs/ca-certificates.crt"


def test_the_hubspot_sdk_does_not_retry_on_its_own() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = HubSpotSettings(
        base_url=f"http://127.0.0.1:{port}",
        auth=HubSpotPrivateApp(mode="private_app", access_token=SecretStr("pat-na1-test-0000")),
    )
    slept: list[float] = []
    adapter = HubSpotAdapter(settings, policy=RetryPolicy(max_attempts=3), sleep=slept.append)
    attempts: list[str] = []
    adapter.retrier.on_retry = lambda error, _: attempts.append(error.code)
    with pytest.raises(RetryableApiError) as caught:
        adapter.describe("contacts")
    assert caught.value.code == "NETWORK"
    assert attempts == ["NETWORK", "NETWORK"]  # our policy's three attempts, nobody else's
    assert adapter.budget.calls == 3
