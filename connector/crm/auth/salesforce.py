"""Salesforce OAuth 2.0, performed by the connector with httpx.

simple-salesforce's own logins hard-code ``*.salesforce.com`` hosts and build ``https`` URLs,
so the connector obtains the access token itself against the configured login URL and hands
``session_id`` + ``instance_url`` to simple-salesforce. Flows (chosen by ``auth.mode``):

* ``jwt`` — JWT bearer: an RS256 assertion (``iss`` client id, ``sub`` user, ``aud`` login URL,
  ``exp`` three minutes ahead) signed with the configured private key;
* ``client_credentials`` — client id and secret against the org's My Domain login URL;
* ``refresh_token`` — a stored refresh token;
* ``session`` — an existing session id used as is (it cannot be renewed).

Salesforce access tokens carry no lifetime; the adapter calls :meth:`reauthenticate` once when
the API answers ``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

import httpx
import jwt
from pydantic import SecretStr

from connector.crm.auth._oauth import build_http_client, post_token, utcnow
from connector.errors import AuthError, ConfigError, Problem, System
from connector.settings import (
    SalesforceClientCredentials,
    SalesforceJwt,
    SalesforceRefreshToken,
    SalesforceSession,
    SalesforceSettings,
)

__all__ = ["JWT_LIFETIME", "SalesforceAuthenticator", "SalesforceToken"]

logger = logging.getLogger(__name__)

#: Salesforce accepts a JWT assertion whose ``exp`` is at most three minutes away.
JWT_LIFETIME: Final = timedelta(minutes=3)

_EXPLAIN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "invalid_grant:expired authorization code": (
            "Salesforce rejected the JWT assertion as expired or not yet valid: check this "
            "machine's clock (the assertion is valid for three minutes from local time)"
        ),
        "invalid_grant:expired access/refresh token": (
            "the Salesforce refresh token has expired or was revoked; authorise the connected "
            "app again and store the new refresh token"
        ),
        "invalid_grant:user hasn't approved this consumer": (
            "the Salesforce user has not pre-authorised the connected app (JWT flow: add the "
            "user's profile or permission set to the app's policies)"
        ),
        "invalid_grant:invalid assertion": (
            "Salesforce rejected the JWT assertion: the certificate on the connected app must "
            "match the private key, and the audience must be the login URL"
        ),
        "invalid_grant": "Salesforce refused the grant (user, refresh token or assertion)",
        "invalid_client_id": "Salesforce does not know this client id (consumer key)",
        "invalid_client": "Salesforce refused the client id or secret",
        "unauthorized_client": "the connected app is not allowed to use this OAuth flow",
        "unsupported_grant_type": "the connected app does not allow this OAuth flow",
        "inactive_user": "the Salesforce integration user is inactive",
        "inactive_org": "the Salesforce org is locked, closed or suspended",
    }
)

_JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class SalesforceToken:
    """An access token and the instance it belongs to."""

    access_token: SecretStr
    instance_url: str
    issued_at: datetime


class SalesforceAuthenticator:
    """Obtains and renews the Salesforce session for one run (thread-safe)."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if settings.auth is None:
            raise ConfigError(
                [Problem(where="settings", field="salesforce.auth", message="not configured")]
            )
        self._settings = settings
        self._auth = settings.auth
        self._http = http or build_http_client(settings.ca_bundle, settings.timeout_seconds)
        self._clock = clock
        self._token: SalesforceToken | None = None
        self._lock = threading.Lock()

    @property
    def token_url(self) -> str:
        return str(self._settings.login_url).rstrip("/") + "/services/oauth2/token"

    def token(self) -> SalesforceToken:
        """The current token, obtained on first use."""
        with self._lock:
            if self._token is None:
                self._token = self._obtain()
            return self._token

    def reauthenticate(self, stale: SalesforceToken | None = None) -> SalesforceToken:
        """A fresh token after the API refused ``stale``; a concurrent caller that already
        renewed it is handed the new one instead of logging in again."""
        with self._lock:
            if self._token is not None and stale is not None and self._token != stale:
                return self._token
            if isinstance(self._auth, SalesforceSession):
                raise AuthError(
                    System.SALESFORCE,
                    "the configured session id has expired; configure a new one or use an "
                    "OAuth flow that can renew itself",
                    code="INVALID_SESSION_ID",
                )
            self._token = self._obtain()
            return self._token

    def secrets(self) -> tuple[str, ...]:
        """Secret values to hand to the log redaction filter."""
        values: list[str] = []
        auth = self._auth
        if isinstance(auth, SalesforceClientCredentials):
            values.append(auth.client_secret.get_secret_value())
        if isinstance(auth, SalesforceRefreshToken):
            values.append(auth.refresh_token.get_secret_value())
            if auth.client_secret is not None:
                values.append(auth.client_secret.get_secret_value())
        if isinstance(auth, SalesforceSession):
            values.append(auth.session_id.get_secret_value())
        if self._token is not None:
            values.append(self._token.access_token.get_secret_value())
        return tuple(values)

    def _obtain(self) -> SalesforceToken:
        auth = self._auth
        now = self._clock()
        if isinstance(auth, SalesforceSession):
            if self._settings.instance_url is None:  # the settings validator prevents this
                raise ConfigError("salesforce session auth needs instance_url")
            return SalesforceToken(
                auth.session_id, str(self._settings.instance_url).rstrip("/"), now
            )
        logger.debug("requesting a Salesforce access token (mode=%s)", auth.mode)
        data: dict[str, str]
        basic: tuple[str, str] | None = None
        if isinstance(auth, SalesforceJwt):
            data = {"grant_type": _JWT_GRANT, "assertion": self._assertion(auth, now)}
        elif isinstance(auth, SalesforceClientCredentials):
            data = {"grant_type": "client_credentials"}
            basic = (auth.client_id, auth.client_secret.get_secret_value())
        else:
            data = {
                "grant_type": "refresh_token",
                "client_id": auth.client_id,
                "refresh_token": auth.refresh_token.get_secret_value(),
            }
            if auth.client_secret is not None:
                data["client_secret"] = auth.client_secret.get_secret_value()
        payload = post_token(
            self._http,
            self.token_url,
            data,
            system=System.SALESFORCE,
            explain=_EXPLAIN,
            auth=basic,
        )
        access = payload.get("access_token")
        instance = payload.get("instance_url") or (
            str(self._settings.instance_url) if self._settings.instance_url else None
        )
        if not isinstance(access, str) or not access or not isinstance(instance, str):
            raise AuthError(
                System.SALESFORCE,
                "the token endpoint answered without an access token or instance URL",
            )
        logger.debug("obtained a Salesforce access token (mode=%s)", auth.mode)
        return SalesforceToken(SecretStr(access), instance.rstrip("/"), now)

    def _assertion(self, auth: SalesforceJwt, now: datetime) -> str:
        try:
            key = Path(auth.private_key_file).read_bytes()
        except OSError as exc:
            raise ConfigError(
                [
                    Problem(
                        where=str(auth.private_key_file),
                        field="salesforce.auth.private_key_file",
                        message=f"cannot read the private key ({exc.strerror})",
                    )
                ]
            ) from None
        claims = {
            "iss": auth.client_id,
            "sub": auth.username,
            "aud": str(self._settings.login_url).rstrip("/"),
            "exp": int((now + JWT_LIFETIME).timestamp()),
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
            raise ConfigError(
                [
                    Problem(
                        where=str(auth.private_key_file),
                        field="salesforce.auth.private_key_file",
                        message="not a usable RSA private key in PEM format",
                    )
                ]
            ) from exc
