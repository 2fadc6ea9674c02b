"""No token or secret ever reaches a log record, on success or failure, at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.crm.auth import HubSpotTokenSource, SalesforceAuthenticator
from connector.errors import ApiError
from connector.logs import RedactingFilter
from connector.settings import (
    HubSpotOAuth,
    HubSpotSettings,
    SalesforceClientCredentials,
    SalesforceJwt,
    SalesforceSettings,
)

LOGIN = "https://acme.my.salesforce.com"
SF_ACCESS = "00D000000000001!AQ4AQSalesforceAccessToken.0123456789abcdef"
HS_ACCESS = "CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4"
CLIENT_SECRET = "C1ientSecretValue-9f8e7d6c"
REFRESH = "na1-refresh-6f1d-4b1c-9a7e-1c2d3e4f5a6b"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[tuple[Capture, Capture]]:
    """(every record as emitted, every record after a RedactingFilter told nothing)."""
    raw, filtered = Capture(), Capture()
    filtered.addFilter(RedactingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(raw)
    root.addHandler(filtered)
    try:
        yield raw, filtered
    finally:
        root.removeHandler(raw)
        root.removeHandler(filtered)
        root.setLevel(old_level)


def _exercise(key_file: Path) -> list[str]:
    """Run every flow once successfully and once refused; return the user-facing errors."""
    errors: list[str] = []
    with respx.mock:
        respx.post(f"{LOGIN}/services/oauth2/token").side_effect = [
            httpx.Response(200, json={"access_token": SF_ACCESS, "instance_url": LOGIN}),
            httpx.Response(
                400, json={"error": "invalid_client", "error_description": CLIENT_SECRET}
            ),
            httpx.Response(200, json={"access_token": SF_ACCESS, "instance_url": LOGIN}),
        ]
        respx.post("https://api.hubapi.com/oauth/v1/token").side_effect = [
            httpx.Response(200, json={"access_token": HS_ACCESS, "expires_in": 1800}),
            httpx.Response(400, json={"status": "BAD_REFRESH_TOKEN", "message": REFRESH}),
        ]
        creds = SalesforceClientCredentials(
            mode="client_credentials", client_id="3MVG9", client_secret=SecretStr(CLIENT_SECRET)
        )
        sf = SalesforceAuthenticator(
            SalesforceSettings(auth=creds, login_url=LOGIN), http=httpx.Client()
        )
        stale = sf.token()
        try:
            sf.reauthenticate(stale)
        except ApiError as exc:
            errors.append(str(exc))
            logging.getLogger("connector.test").exception("refused")
        jwt_auth = SalesforceJwt(
            mode="jwt", client_id="3MVG9", username="sync@acme.example", private_key_file=key_file
        )
        SalesforceAuthenticator(
            SalesforceSettings(auth=jwt_auth, login_url=LOGIN), http=httpx.Client()
        ).token()
        hs = HubSpotTokenSource(
            HubSpotSettings(
                auth=HubSpotOAuth(
                    mode="oauth",
                    client_id="client-1",
                    client_secret=SecretStr(CLIENT_SECRET),
                    refresh_token=SecretStr(REFRESH),
                )
            ),
            http=httpx.Client(),
        )
        token = hs.token()
        try:
            hs.after_unauthorized(token)
        except ApiError as exc:
            errors.append(str(exc))
            logging.getLogger("connector.test").exception("refused")
    return errors


def test_no_secret_reaches_a_log_record_or_an_error(
    captured: tuple[Capture, Capture], key_file: Path
) -> None:
    raw, filtered = captured
    errors = _exercise(key_file)
    assert len(errors) == 2
    key_text = key_file.read_text()
    key_body = key_text.splitlines()[1]
    secrets = [SF_ACCESS, HS_ACCESS, CLIENT_SECRET, REFRESH, key_body]
    assert raw.raw, "expected the flows to log at DEBUG"
    for text in [*filtered.raw, *errors]:
        for secret in secrets:
            assert secret not in text
    # No record carries a secret even before redaction: the filter is only a second line.
    assert any(line.startswith("connector.crm.auth") for line in raw.raw)
    for text in raw.raw:
        for secret in secrets:
            assert secret not in text
