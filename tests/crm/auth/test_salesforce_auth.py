from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from connector.crm.auth import JWT_LIFETIME, SalesforceAuthenticator, tls_verify
from connector.errors import AuthError, ConfigError, RetryableApiError
from connector.settings import (
    SalesforceClientCredentials,
    SalesforceJwt,
    SalesforceRefreshToken,
    SalesforceSession,
    SalesforceSettings,
)

from .conftest import Clock

LOGIN = "https://acme.my.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ACCESS = "00D000000000001!AQ4AQFakeAccessTokenValue.abcdefghijklmnop"


def granted(instance: str = "https://acme.my.salesforce.com") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": ACCESS,
            "instance_url": instance,
            "id": f"{LOGIN}/id/00D000000000001/005000000000001",
            "token_type": "Bearer",
            "issued_at": "1793534400000",
        },
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def jwt_settings(key_file: Path) -> SalesforceSettings:
    auth = SalesforceJwt(
        mode="jwt", client_id="3MVG9client", username="sync@acme.example", private_key_file=key_file
    )
    return SalesforceSettings(auth=auth, login_url=LOGIN)


@respx.mock
def test_jwt_bearer_signs_a_short_lived_assertion_for_the_login_url(
    key_file: Path, rsa_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    route = respx.post(TOKEN_URL).mock(return_value=granted())
    auth = SalesforceAuthenticator(jwt_settings(key_file), http=httpx.Client(), clock=clock)
    token = auth.token()
    assert token.access_token.get_secret_value() == ACCESS
    assert token.instance_url == "https://acme.my.salesforce.com"
    sent = form(route.calls.last.request)
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        sent["assertion"],
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience=LOGIN,
        options={"verify_exp": False},
    )
    assert claims["iss"] == "3MVG9client"
    assert claims["sub"] == "sync@acme.example"
    assert claims["exp"] == int((clock.now + JWT_LIFETIME).timestamp())
    auth.token()
    assert route.call_count == 1  # cached for the run


@respx.mock
def test_clock_skew_is_explained(key_file: Path, clock: Clock) -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "expired authorization code"}
        )
    )
    clock.now -= timedelta(hours=2)  # this machine's clock is behind: exp already past
    auth = SalesforceAuthenticator(jwt_settings(key_file), http=httpx.Client(), clock=clock)
    with pytest.raises(AuthError) as caught:
        auth.token()
    assert caught.value.code == "invalid_grant"
    assert "clock" in str(caught.value)


@respx.mock
def test_client_credentials_use_basic_auth_and_bad_credentials_are_an_auth_error() -> None:
    route = respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_client", "error_description": "invalid client credentials"}
        )
    )
    secret = "s3cr3t-client-secret-value"
    settings = SalesforceSettings(
        auth=SalesforceClientCredentials(
            mode="client_credentials", client_id="3MVG9client", client_secret=SecretStr(secret)
        ),
        login_url=LOGIN,
    )
    auth = SalesforceAuthenticator(settings, http=httpx.Client())
    with pytest.raises(AuthError) as caught:
        auth.token()
    request = route.calls.last.request
    assert request.headers["Authorization"].startswith("Basic ")
    assert form(request) == {"grant_type": "client_credentials"}
    assert caught.value.status == 400
    assert secret not in str(caught.value)


@respx.mock
def test_unknown_client_id() -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400,
            json={"error": "invalid_client_id", "error_description": "client identifier invalid"},
        )
    )
    settings = SalesforceSettings(
        auth=SalesforceRefreshToken(
            mode="refresh_token", client_id="nope", refresh_token=SecretStr("5Aep861refresh")
        ),
        login_url=LOGIN,
    )
    with pytest.raises(AuthError, match="client id"):
        SalesforceAuthenticator(settings, http=httpx.Client()).token()


@respx.mock
def test_refresh_token_flow_and_an_expired_refresh_token() -> None:
    route = respx.post(TOKEN_URL)
    route.side_effect = [
        granted(),
        httpx.Response(
            400,
            json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
        ),
    ]
    settings = SalesforceSettings(
        auth=SalesforceRefreshToken(
            mode="refresh_token",
            client_id="3MVG9client",
            client_secret=SecretStr("client-secret-1"),
            refresh_token=SecretStr("5Aep861refresh"),
        ),
        login_url=LOGIN,
    )
    auth = SalesforceAuthenticator(settings, http=httpx.Client())
    first = auth.token()
    assert form(route.calls.last.request) == {
        "grant_type": "refresh_token",
        "client_id": "3MVG9client",
        "client_secret": "client-secret-1",
        "refresh_token": "5Aep861refresh",
    }
    with pytest.raises(AuthError, match="refresh token has expired"):
        auth.reauthenticate(first)


@respx.mock
def test_reauthenticate_once_for_concurrent_callers(key_file: Path) -> None:
    route = respx.post(TOKEN_URL).mock(return_value=granted())
    auth = SalesforceAuthenticator(jwt_settings(key_file), http=httpx.Client())
    stale = auth.token()
    renewed = auth.reauthenticate(stale)
    again = auth.reauthenticate(stale)  # a second thread that saw the same 401
    assert again is renewed
    assert route.call_count == 2


def test_an_existing_session_is_used_as_is_and_cannot_be_renewed() -> None:
    settings = SalesforceSettings(
        auth=SalesforceSession(mode="session", session_id=SecretStr(ACCESS)),
        instance_url="https://acme.my.salesforce.com/",
    )
    auth = SalesforceAuthenticator(settings, http=httpx.Client())
    token = auth.token()
    assert token.instance_url == "https://acme.my.salesforce.com"
    with pytest.raises(AuthError, match="session id has expired"):
        auth.reauthenticate(token)


@respx.mock
def test_token_endpoint_outage_is_retryable(key_file: Path) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "2"}))
    auth = SalesforceAuthenticator(jwt_settings(key_file), http=httpx.Client())
    with pytest.raises(RetryableApiError) as caught:
        auth.token()
    assert caught.value.retry_after == 2.0


@respx.mock
def test_network_failure_is_retryable(key_file: Path) -> None:
    respx.post(TOKEN_URL).mock(side_effect=httpx.ConnectError("refused"))
    auth = SalesforceAuthenticator(jwt_settings(key_file), http=httpx.Client())
    with pytest.raises(RetryableApiError):
        auth.token()


def test_unreadable_private_key_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    auth = SalesforceAuthenticator(jwt_settings(bad), http=httpx.Client())
    with pytest.raises(ConfigError, match="RSA private key"):
        auth.token()


def test_ca_bundle_becomes_an_ssl_context(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = tls_verify(bundle)
    assert not isinstance(context, bool)
    assert context.get_ca_certs()  # the bundle's CA was loaded
    assert tls_verify(None) is True
