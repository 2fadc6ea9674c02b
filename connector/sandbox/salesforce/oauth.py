"""The emulator's OAuth 2.0 token endpoint and its sessions.

Grants: ``client_credentials`` (form fields or HTTP Basic), JWT bearer
(``urn:ietf:params:oauth:grant-type:jwt-bearer``: RS256 signed by the sandbox key pair, ``iss``
= client id, ``sub`` = the sandbox username, ``aud`` = the emulator's login or instance URL or
``https://login.salesforce.com`` / ``https://test.salesforce.com``, ``exp`` in the future),
``refresh_token`` and the username-password flow (``password``: client id and secret, the
username, and the password with or without the security token appended). Failures answer the
OAuth error object ``{"error", "error_description"}``; a wrong password in the username-password
flow is ``invalid_grant`` / ``authentication failure``, as Salesforce answers it
(https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_username_password_flow.htm).

The security token is optional because the org treats loopback as a trusted IP range; a real
org asks for it from anywhere else ("Salesforce checks the IP address from which the client app
is logging in", login() reference).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from binascii import Error as BinasciiError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "OAuthError",
    "SalesforceCredentials",
    "Sessions",
    "grant",
    "new_credentials",
    "password_matches",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GENERIC_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True, slots=True)
class SalesforceCredentials:
    """What the emulator accepts. ``jwt_private_key_file`` is the key a JWT client signs with;
    ``password`` and ``security_token`` are the integration user's, for the username-password
    flow and SOAP ``login()``."""

    org_id: str
    user_id: str
    username: str
    client_id: str
    client_secret: str
    refresh_token: str
    jwt_private_key_file: Path
    jwt_public_key_pem: bytes
    password: str
    security_token: str


def new_credentials(directory: Path, *, org_id: str, user_id: str) -> SalesforceCredentials:
    """Fresh random secrets and an RSA key pair (private key written to ``directory``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = directory / "salesforce-jwt-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SalesforceCredentials(
        org_id=org_id,
        user_id=user_id,
        username="integration@crmsync.sandbox",
        client_id="3MVG9sandbox" + secrets.token_hex(12),
        client_secret=secrets.token_hex(32),
        refresh_token="5Aep861sandbox" + secrets.token_urlsafe(32),
        jwt_private_key_file=key_file,
        jwt_public_key_pem=public,
        password="Sandbox-" + secrets.token_urlsafe(12),
        # Salesforce mails a 24-25 character alphanumeric token.
        security_token=secrets.token_hex(12),
    )


def password_matches(credentials: SalesforceCredentials, username: str, password: str) -> bool:
    """The integration user's password, alone or followed by the security token."""
    user_ok = hmac.compare_digest(username.lower(), credentials.username.lower())
    alone = hmac.compare_digest(password, credentials.password)
    with_token = hmac.compare_digest(password, credentials.password + credentials.security_token)
    return user_ok and (alone or with_token)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.body = {"error": error, "error_description": description}
        self.status = status


class Sessions:
    """Issued access tokens with their expiry; thread-safe. ``lifetime`` in seconds."""

    def __init__(self, org_id: str, *, lifetime: float = 7200.0) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.org_id = org_id
        self.lifetime = lifetime

    def issue(self) -> str:
        token = f"{self.org_id[:15]}!AQsandbox.{secrets.token_urlsafe(40)}"
        with self._lock:
            self._expiry[token] = time.monotonic() + self.lifetime
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(token)
            return expiry is not None and time.monotonic() < expiry

    def revoke_all(self) -> None:
        with self._lock:
            self._expiry.clear()


def _client(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
        except (BinasciiError, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "invalid client credentials") from exc
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _check_jwt(assertion: str, credentials: SalesforceCredentials, audiences: list[str]) -> None:
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "invalid assertion")
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            credentials.jwt_public_key_pem,
            algorithms=["RS256"],
            audience=audiences,
            options={"require": ["iss", "sub", "aud", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise OAuthError("invalid_grant", "expired authorization code") from exc
    except jwt.InvalidAudienceError as exc:
        raise OAuthError("invalid_grant", "audience is invalid") from exc
    except jwt.InvalidTokenError as exc:
        raise OAuthError("invalid_grant", "invalid assertion") from exc
    if claims["iss"] != credentials.client_id:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if claims["sub"] != credentials.username:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")


def _check_client(
    form: dict[str, str], authorization: str | None, c: SalesforceCredentials
) -> None:
    client_id, secret = _client(form, authorization)
    if not hmac.compare_digest(client_id, c.client_id):
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(secret, c.client_secret):
        raise OAuthError("invalid_client", "invalid client credentials")


def grant(
    form: dict[str, str],
    authorization: str | None,
    *,
    credentials: SalesforceCredentials,
    sessions: Sessions,
    instance_url: str,
    own_urls: tuple[str, ...] = (),
) -> dict[str, str]:
    """Answer a token request or raise :class:`OAuthError` with Salesforce's error object.

    ``instance_url`` goes into the answer (where every data call must go); ``own_urls`` are
    the emulator's login and instance URLs, which a JWT may name as its audience.
    """
    grant_type = form.get("grant_type", "")
    if grant_type == "client_credentials":
        client_id, secret = _client(form, authorization)
        ok = hmac.compare_digest(client_id, credentials.client_id) and hmac.compare_digest(
            secret, credentials.client_secret
        )
        if not ok:
            raise OAuthError("invalid_client", "invalid client credentials")
    elif grant_type == JWT_BEARER:
        urls = own_urls or (instance_url,)
        audiences = [*urls, *(url + "/" for url in urls), *_GENERIC_AUDIENCES]
        _check_jwt(form.get("assertion", ""), credentials, audiences)
    elif grant_type == "password":
        _check_client(form, authorization, credentials)
        if not password_matches(credentials, form.get("username", ""), form.get("password", "")):
            raise OAuthError("invalid_grant", "authentication failure")
    elif grant_type == "refresh_token":
        client_id, secret = _client(form, authorization)
        if client_id != credentials.client_id or (
            secret and not hmac.compare_digest(secret, credentials.client_secret)
        ):
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(form.get("refresh_token", ""), credentials.refresh_token):
            raise OAuthError("invalid_grant", "expired access/refresh token")
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    issued_at = str(int(time.time() * 1000))
    identity = f"{instance_url}/id/{credentials.org_id}/{credentials.user_id}"
    signature = base64.b64encode(
        hmac.new(
            credentials.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode()
    return {
        "access_token": sessions.issue(),
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        "scope": "api",
    }
