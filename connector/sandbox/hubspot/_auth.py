"""Bearer tokens the emulator accepts, and the OAuth refresh-token grant that issues them.

One private-app token (:data:`SANDBOX_ACCESS_TOKEN`) never expires unless a fault plan says so.
OAuth access tokens come from ``POST /oauth/v1/token`` (``grant_type=refresh_token`` with the
sandbox client and refresh token) and expire after :data:`OAUTH_TOKEN_LIFETIME_SECONDS` on the
emulator's clock.

Each token belongs to an app: the private app (:data:`SANDBOX_APP_ID`) or the OAuth app
(:data:`SANDBOX_OAUTH_APP_ID`). HubSpot records an app's writes in ``propertiesWithHistory``
as ``sourceType: INTEGRATION`` with the app's id as ``sourceId``; edits made as a user in
HubSpot's UI carry :data:`SANDBOX_USER_ID`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from connector.sandbox.hubspot._clock import Clock
from connector.sandbox.hubspot._errors import ApiProblem

__all__ = [
    "OAUTH_TOKEN_LIFETIME_SECONDS",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_APP_ID",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_OAUTH_APP_ID",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_USER_ID",
    "Caller",
    "TokenBook",
]

# Shaped like real private-app tokens; these only ever open the local emulator.
SANDBOX_ACCESS_TOKEN: Final = "pat-na1-5a4db0c5-0000-4000-8000-c0ffee5a4db0"  # noqa: S105
SANDBOX_CLIENT_ID: Final = "5a4db0c5-c1e4-4000-8000-000000000001"
SANDBOX_CLIENT_SECRET: Final = "5a4db0c5-5ec2-4000-8000-000000000002"  # noqa: S105
SANDBOX_REFRESH_TOKEN: Final = "na1-5a4d-b0c5-4000-8000-000000000003"  # noqa: S105
OAUTH_TOKEN_LIFETIME_SECONDS: Final = 1800
# Numeric, as HubSpot's app and user ids are.
SANDBOX_APP_ID: Final = "5270611"
SANDBOX_OAUTH_APP_ID: Final = "5270612"
SANDBOX_USER_ID: Final = 91520017

_NOT_FOUND: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the private app, or an OAuth access token (of the OAuth app)."""

    oauth: bool

    @property
    def app_id(self) -> str:
        return SANDBOX_OAUTH_APP_ID if self.oauth else SANDBOX_APP_ID


def _unauthorized(category: str, message: str) -> ApiProblem:
    return ApiProblem(
        401, category, message, headers={"X-HubSpot-Auth-Failure": "401 Unauthorized"}
    )


class TokenBook:
    """Issues and checks tokens (thread-safe, token strings drawn from a seeded stream)."""

    def __init__(self, clock: Clock, *, seed: int) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._rng = random.Random(seed * 31 + 5)
        self._oauth: dict[str, datetime] = {}
        self._private_expired = False

    def check(self, authorization: str | None) -> Caller:
        """Accept a ``Bearer`` header or raise the documented 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise _unauthorized("INVALID_AUTHENTICATION", _NOT_FOUND)
        token = authorization[7:].strip()
        with self._lock:
            if token == SANDBOX_ACCESS_TOKEN:
                if self._private_expired:
                    self._private_expired = False
                    raise _unauthorized(
                        "EXPIRED_AUTHENTICATION", "The access token used to make this call expired."
                    )
                return Caller(oauth=False)
            expires = self._oauth.get(token)
        if expires is None:
            raise _unauthorized("INVALID_AUTHENTICATION", _NOT_FOUND)
        overdue = (self._clock.now() - expires).total_seconds()
        if overdue >= 0:
            raise _unauthorized(
                "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {int(overdue)} second(s) ago.",
            )
        return Caller(oauth=True)

    def expire_all(self) -> None:
        """A fault: every issued OAuth token expires now; the private token fails once."""
        with self._lock:
            now = self._clock.now()
            self._oauth = {token: min(at, now) for token, at in self._oauth.items()}
            self._private_expired = True

    def refresh(self, form: dict[str, str]) -> dict[str, object]:
        """The ``refresh_token`` grant; errors use the OAuth endpoint's own body shape."""
        if form.get("grant_type") != "refresh_token":
            raise _oauth_error("BAD_GRANT_TYPE", "grant_type must be refresh_token")
        if form.get("client_id") != SANDBOX_CLIENT_ID:
            raise _oauth_error("BAD_CLIENT_ID", "missing or invalid client_id")
        if form.get("client_secret") != SANDBOX_CLIENT_SECRET:
            raise _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret")
        if form.get("refresh_token") != SANDBOX_REFRESH_TOKEN:
            raise _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        with self._lock:
            token = "CO" + "".join(self._rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=40))
            lifetime = timedelta(seconds=OAUTH_TOKEN_LIFETIME_SECONDS)
            self._oauth[token] = self._clock.now() + lifetime
        return {
            "token_type": "bearer",
            "refresh_token": SANDBOX_REFRESH_TOKEN,
            "access_token": token,
            "expires_in": OAUTH_TOKEN_LIFETIME_SECONDS,
        }


class OAuthError(ApiProblem):
    """The OAuth endpoint answers ``{"status": "BAD_...", "message": ...}``."""

    def body(self, correlation_id: str) -> dict[str, object]:
        return {"status": self.category, "message": self.message, "correlationId": correlation_id}


def _oauth_error(status: str, message: str) -> OAuthError:
    return OAuthError(400, status, message)
