from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.crm.auth import HubSpotTokenSource
from connector.errors import AuthError
from connector.settings import HubSpotOAuth, HubSpotPrivateApp, HubSpotSettings

from .conftest import Clock

BASE = "https://api.hubapi.com"
TOKEN_URL = f"{BASE}/oauth/v1/token"


def oauth_settings() -> HubSpotSettings:
    return HubSpotSettings(
        auth=HubSpotOAuth(
            mode="oauth",
            client_id="client-1",
            client_secret=SecretStr("client-secret-abc"),
            refresh_token=SecretStr("refresh-token-xyz"),
        )
    )


def issued(access: str, expires_in: int = 1800) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": "refresh-token-xyz",
            "expires_in": expires_in,
        },
    )


def test_private_app_token_is_used_as_is_and_retried_unchanged_after_a_401() -> None:
    settings = HubSpotSettings(
        auth=HubSpotPrivateApp(mode="private_app", access_token=SecretStr("pat-na1-abc12345"))
    )
    source = HubSpotTokenSource(settings)
    assert source.token() == "pat-na1-abc12345"
    assert source.after_unauthorized("pat-na1-abc12345") == "pat-na1-abc12345"


@respx.mock
def test_oauth_refreshes_before_expiry_on_the_local_clock(clock: Clock) -> None:
    route = respx.post(TOKEN_URL)
    route.side_effect = [issued("access-1"), issued("access-2")]
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    assert source.token() == "access-1"
    sent = {k: v[0] for k, v in parse_qs(route.calls.last.request.content.decode()).items()}
    assert sent == {
        "grant_type": "refresh_token",
        "client_id": "client-1",
        "client_secret": "client-secret-abc",
        "refresh_token": "refresh-token-xyz",
    }
    clock.now += timedelta(minutes=24)
    assert source.token() == "access-1"  # still more than five minutes left
    clock.now += timedelta(minutes=1, seconds=1)
    assert source.token() == "access-2"  # inside the margin: refreshed early
    assert route.call_count == 2


@respx.mock
def test_short_lived_tokens_are_renewed_at_half_life(clock: Clock) -> None:
    route = respx.post(TOKEN_URL)
    route.side_effect = [issued("access-1", expires_in=60), issued("access-2", expires_in=60)]
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    source.token()
    clock.now += timedelta(seconds=29)
    assert source.token() == "access-1"
    clock.now += timedelta(seconds=2)
    assert source.token() == "access-2"


@respx.mock
def test_one_refresh_on_401_shared_by_concurrent_callers(clock: Clock) -> None:
    route = respx.post(TOKEN_URL)
    route.side_effect = [issued("access-1"), issued("access-2")]
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    stale = source.token()
    assert source.after_unauthorized(stale) == "access-2"
    assert source.after_unauthorized(stale) == "access-2"
    assert route.call_count == 2


@respx.mock
def test_expired_or_revoked_refresh_token(clock: Clock) -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "status": "BAD_REFRESH_TOKEN",
                "message": "missing or invalid refresh token",
                "correlationId": "2b9c5c0e-7e3c-4d4f-9a9e-0d8f1b3f4a11",
            },
        )
    )
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    with pytest.raises(AuthError) as caught:
        source.token()
    assert caught.value.code == "BAD_REFRESH_TOKEN"
    assert "install the app again" in str(caught.value)


@respx.mock
def test_bad_client_credentials(clock: Clock) -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"status": "BAD_CLIENT_ID", "message": "missing or unknown client id"}
        )
    )
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    with pytest.raises(AuthError, match="client id"):
        source.token()


@respx.mock
def test_an_answer_without_a_lifetime_is_refused(clock: Clock) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "x"}))
    source = HubSpotTokenSource(oauth_settings(), http=httpx.Client(), clock=clock)
    with pytest.raises(AuthError, match="without an access token"):
        source.token()
