"""Logging setup with redaction: tokens, secrets and e-mail addresses never reach a log record.

CRM records are personal data and credentials are secrets; both can end up in exception texts
and debug payloads. The filter here rewrites every record's message (after ``%`` formatting) so
that whatever handler is attached downstream only ever sees the redacted form.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from connector.masking import mask_urls_in

__all__ = ["RedactingFilter", "add_secrets", "configure_logging", "redact"]

_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/!=-]{8,}"), r"\1 [REDACTED]"),
    # key=value and "key": "value" pairs whose key names a secret.
    (
        re.compile(
            r"(?i)(\"?\b(?:access_token|refresh_token|client_secret|session_id|sessionid|"
            r"password|assertion|private_key|api_key|apikey|token|sid|code)\b\"?\s*[=:]\s*\"?)"
            r"([^\"&,\s}]+)"
        ),
        r"\1[REDACTED]",
    ),
    # Salesforce session ids look like 00D...!AQ...
    (re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"), "[REDACTED]"),
    # HubSpot private app tokens.
    (re.compile(r"\bpat-[a-z0-9]{2,4}-[A-Za-z0-9-]{8,}"), "[REDACTED]"),
    # E-mail addresses are personal data.
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values and anything shaped like a token or an address."""
    # First, so a URL keeps its shape (``user:****@host``) and says what was there.
    text = mask_urls_in(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and drops its args and exception text once redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def add_secret(self, secret: str) -> None:
        if secret:
            self._secrets = (*self._secrets, secret)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatter = logging.Formatter()
            record.exc_text = formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            # Another handler's filter may have formatted it already, knowing other secrets.
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("run_id", "job", "system", "object_type", "count"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, sort_keys=True)


_FILTER = RedactingFilter()


def add_secrets(secrets: Iterable[str]) -> None:
    """Known secret values (tokens obtained at run time) to scrub from every log record."""
    for secret in secrets:
        _FILTER.add_secret(secret)


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Attach one redacting stderr handler to the ``connector`` logger tree."""
    for secret in secrets:
        _FILTER.add_secret(secret)
    logger = logging.getLogger("connector")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_FILTER)
    handler.setFormatter(
        _JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logger.addHandler(handler)
