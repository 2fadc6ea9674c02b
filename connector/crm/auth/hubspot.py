"""HubSpot access tokens: a private app's static token, or OAuth with a refresh token.

OAuth access tokens live ``expires_in`` seconds (30 minutes today). The source refreshes them
``refresh_margin`` before they expire, measured on the local clock from the moment the answer
arrived, so neither a skewed clock nor a slow network hands out an expired token; it also
refreshes once when the API answers 401.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

import httpx

from connector.crm.auth._oauth import build_http_client, post_token, utcnow
from connector.errors import AuthError, ConfigError, Problem, System
from connector.settings import HubSpotOAuth, HubSpotSettings

__all__ = ["HubSpotTokenSource"]

logger = logging.getLogger(__name__)

_EXPLAIN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BAD_REFRESH_TOKEN": (
            "HubSpot refused the refresh token (expired, revoked or unknown); install the app "
            "again and store the new refresh token"
        ),
        "BAD_CLIENT_ID": "HubSpot does not know this client id",
        "BAD_CLIENT_SECRET": "HubSpot refused the client secret",
        "BAD_GRANT_TYPE": "HubSpot refused the grant type",
        "invalid_grant": "HubSpot refused the refresh token",
        "invalid_client": "HubSpot refused the client id or secret",
    }
)


class HubSpotTokenSource:
    """Hands out a valid access token (thread-safe)."""

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
        refresh_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        if settings.auth is None:
            raise ConfigError(
                [Problem(where="settings", field="hubspot.auth", message="not configured")]
            )
        self._auth = settings.auth
        self._token_url = str(settings.base_url).rstrip("/") + "/oauth/v1/token"
        self._http = http
        self._ca_bundle = settings.ca_bundle
        self._timeout = settings.timeout_seconds
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh_at: datetime | None = None
        if isinstance(self._auth, HubSpotOAuth):
            self._refresh_token = self._auth.refresh_token.get_secret_value()
        else:
            self._access = self._auth.access_token.get_secret_value()

    def token(self) -> str:
        """A token that is valid now and for at least the refresh margin."""
        with self._lock:
            if self._access is None or (
                self._refresh_at is not None and self._clock() >= self._refresh_at
            ):
                self._refresh()
            assert self._access is not None
            return self._access

    def after_unauthorized(self, stale: str) -> str:
        """The token to retry with after the API answered 401 for ``stale``: a refreshed one
        (OAuth; one refresh shared by the threads that saw the same 401), or the same private
        app token, which cannot be renewed; the caller retries once and a second 401 is final."""
        with self._lock:
            if self._access is not None and self._access != stale:
                return self._access
            if not isinstance(self._auth, HubSpotOAuth):
                logger.debug("HubSpot answered 401 for the private app token; retrying it once")
                return stale
            self._refresh()
            assert self._access is not None
            return self._access

    def secrets(self) -> tuple[str, ...]:
        values = [self._access or ""]
        if isinstance(self._auth, HubSpotOAuth):
            values += [self._auth.client_secret.get_secret_value(), self._refresh_token]
        return tuple(value for value in values if value)

    def _refresh(self) -> None:
        auth = self._auth
        assert isinstance(auth, HubSpotOAuth)
        if self._http is None:
            self._http = build_http_client(self._ca_bundle, self._timeout)
        logger.debug("refreshing the HubSpot access token")
        payload = post_token(
            self._http,
            self._token_url,
            {
                "grant_type": "refresh_token",
                "client_id": auth.client_id,
                "client_secret": auth.client_secret.get_secret_value(),
                "refresh_token": self._refresh_token,
            },
            system=System.HUBSPOT,
            explain=_EXPLAIN,
        )
        access = payload.get("access_token")
        lifetime = payload.get("expires_in")
        if not isinstance(access, str) or not access or not isinstance(lifetime, int | float):
            raise AuthError(
                System.HUBSPOT, "the token endpoint answered without an access token or lifetime"
            )
        received = self._clock()
        life = timedelta(seconds=float(lifetime))
        # Short-lived tokens (shorter than twice the margin) are renewed at half-life instead.
        early = self._margin if life > 2 * self._margin else life / 2
        self._access = access
        self._refresh_at = received + life - early
        rotated = payload.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        logger.debug("HubSpot access token refreshed, valid for %d s", int(life.total_seconds()))
