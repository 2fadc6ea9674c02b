"""Shared plumbing for the OAuth token flows: an httpx client honouring a CA bundle, a token
POST, and the translation of OAuth error answers into connector errors (no body, no secret)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from connector.crm.dispositions import Disposition, retry_after_header, to_error
from connector.errors import ApiError, System

__all__ = ["build_http_client", "post_token", "tls_verify", "utcnow"]

logger = logging.getLogger("connector.crm.auth")


def utcnow() -> datetime:
    return datetime.now(UTC)


def tls_verify(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """What httpx should verify server certificates against: the bundle, else the defaults."""
    if ca_bundle is None:
        return True
    return ssl.create_default_context(cafile=str(ca_bundle))


def build_http_client(ca_bundle: Path | None, timeout: float) -> httpx.Client:
    return httpx.Client(verify=tls_verify(ca_bundle), timeout=timeout)


def post_token(
    http: httpx.Client,
    url: str,
    data: Mapping[str, str],
    *,
    system: System,
    explain: Mapping[str, str],
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST a form to a token endpoint; return the JSON answer or raise a connector error.

    ``explain`` maps an OAuth error code (or ``code:description``) to the message users see.
    """
    try:
        response = http.post(
            url,
            data=dict(data),
            auth=httpx.BasicAuth(*auth) if auth else httpx.USE_CLIENT_DEFAULT,
            headers={"Accept": "application/json"},
        )
    except httpx.TransportError as exc:
        raise to_error(
            Disposition.RETRY,
            system,
            f"token endpoint unreachable ({type(exc).__name__})",
            code="NETWORK",
        ) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise to_error(
            Disposition.RETRY,
            system,
            "token endpoint temporarily unavailable",
            status=response.status_code,
            retry_after=retry_after_header(response.headers),
        )
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400 or not isinstance(payload, dict):
        raise _oauth_error(system, response.status_code, payload, explain)
    return payload


def _oauth_error(
    system: System, status: int, payload: object, explain: Mapping[str, str]
) -> ApiError:
    code = ""
    description = ""
    if isinstance(payload, dict):
        # Salesforce (and RFC 6749): error + error_description; HubSpot: status + message.
        code = str(payload.get("error") or payload.get("status") or "")
        description = str(payload.get("error_description") or payload.get("message") or "")
    lowered = description.lower()
    message = next(
        (
            text
            for key, text in explain.items()
            if ":" in key and key.split(":", 1)[0] == code and key.split(":", 1)[1] in lowered
        ),
        explain.get(code, "the token endpoint refused the credentials"),
    )
    # The vendor description can echo a user name; only its code reaches the debug log.
    logger.debug("token request refused: status=%s code=%s", status, code or "(none)")
    return to_error(Disposition.REAUTH, system, message, status=status, code=code)
