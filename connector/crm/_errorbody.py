"""Reading CRM error answers: bodies (Salesforce arrays, collections items, OAuth objects,
HubSpot error and 429 bodies) and rate-limit headers. Messages come out redacted and short."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Final

from connector.logs import redact

__all__ = [
    "ErrorFacts",
    "hubspot_retry_after",
    "parse_hubspot_error",
    "parse_salesforce_error",
    "retry_after_header",
    "safe_message",
]


@dataclass(frozen=True, slots=True)
class ErrorFacts:
    """What an error answer said, already scrubbed of personal data."""

    code: str = ""
    message: str = ""
    fields: tuple[str, ...] = ()
    policy_name: str = ""


_MESSAGE_LIMIT = 160


def safe_message(text: str) -> str:
    """A vendor message fit for ``str(error)``: redacted (no addresses or tokens) and short."""
    cleaned = redact(" ".join(text.split()))
    if len(cleaned) > _MESSAGE_LIMIT:
        cleaned = cleaned[: _MESSAGE_LIMIT - 1] + "…"
    return cleaned


def _loads(body: object) -> object:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return body


def parse_salesforce_error(body: object) -> ErrorFacts:
    """Read a Salesforce error: ``[{errorCode, message, fields}]`` (REST), ``{statusCode,
    message, fields}`` (a collections item) or ``{error, error_description}`` (OAuth)."""
    data = _loads(body)
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return ErrorFacts()
    code = data.get("errorCode") or data.get("statusCode") or data.get("error") or ""
    message = data.get("message") or data.get("error_description") or ""
    fields = data.get("fields") or ()
    return ErrorFacts(
        code=str(code),
        message=safe_message(str(message)),
        fields=tuple(str(name) for name in fields if isinstance(name, str)),
    )


def parse_hubspot_error(body: object) -> ErrorFacts:
    """Read a HubSpot error body (``category``, ``message``, ``policyName`` for 429s, OAuth
    ``status``)."""
    data = _loads(body)
    if not isinstance(data, dict):
        return ErrorFacts()
    category = data.get("category") or data.get("errorType") or ""
    if not category and data.get("status") not in (None, "error"):
        category = data["status"]  # OAuth answers put their code in ``status``
    fields: list[str] = []
    context = data.get("context")
    if isinstance(context, dict):
        names = context.get("propertyName") or context.get("properties") or []
        fields.extend(str(name) for name in names if isinstance(name, str))
    for detail in data.get("errors") or ():
        if isinstance(detail, dict) and isinstance(detail.get("context"), dict):
            names = detail["context"].get("propertyName") or []
            fields.extend(str(name) for name in names if isinstance(name, str))
    return ErrorFacts(
        code=str(category),
        message=safe_message(str(data.get("message") or "")),
        fields=tuple(dict.fromkeys(fields)),
        policy_name=str(data.get("policyName") or ""),
    )


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return str(value)
    return None


def retry_after_header(
    headers: Mapping[str, str] | None, *, now: datetime | None = None
) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or an HTTP date), if present."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    with suppress(ValueError):  # not delta-seconds: try an HTTP date next
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_HUBSPOT_DEFAULT_WAIT: Final[Mapping[str, float]] = MappingProxyType(
    {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}
)


def hubspot_retry_after(
    headers: Mapping[str, str] | None, policy_name: str = "", *, search: bool = False
) -> float | None:
    """How long to wait before retrying a HubSpot call.

    ``Retry-After`` when present; else the window from
    ``X-HubSpot-RateLimit-Interval-Milliseconds``; else the documented window for the policy
    (1 s for search, whose responses carry no rate-limit headers).
    """
    explicit = retry_after_header(headers)
    if explicit is not None:
        return explicit
    interval = _header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    if interval is not None:
        with suppress(ValueError):  # malformed header: fall back to the documented window
            return max(0.0, float(interval) / 1000.0)
    if search or policy_name == "SECONDLY":
        return 1.0
    return _HUBSPOT_DEFAULT_WAIT.get(policy_name)
