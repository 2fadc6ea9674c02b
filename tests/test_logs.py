from __future__ import annotations

import logging

import pytest

from connector.logs import RedactingFilter, redact

TOKEN = "pat-na1-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
SESSION = "00D5g000004AbcD!AQ0AQHkqFzWqwertyuiopasdfghjklzxcvbnm"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        "posting refresh_token=abcdef123456&client_secret=topsecretvalue to /token",
        f'{{"access_token": "{SESSION}", "instance_url": "https://x"}}',
        f"session {SESSION} expired",
        "contact ada.lovelace@example.com updated",
    ],
)
def test_redact_removes_tokens_and_addresses(text: str) -> None:
    cleaned = redact(text)
    for secret in (TOKEN, SESSION, "abcdef123456", "topsecretvalue", "ada.lovelace@example.com"):
        assert secret not in cleaned


def test_redact_known_secret_values_anywhere() -> None:
    assert redact("key=plain words hunter2value", secrets=["hunter2value"]).endswith("[REDACTED]")


def test_filter_redacts_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("connector.test")
    handler_filter = RedactingFilter(secrets=["ultra-secret-42"])
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.DEBUG, logger="connector.test"):
            logger.debug("token %s for %s", TOKEN, "bob@example.org")
            try:
                raise RuntimeError("failed with ultra-secret-42")
            except RuntimeError:
                logger.exception("call failed")
    finally:
        caplog.handler.removeFilter(handler_filter)
    text = caplog.text
    assert TOKEN not in text
    assert "bob@example.org" not in text
    assert "ultra-secret-42" not in text
    assert "[REDACTED]" in text


def test_two_filters_with_different_secrets_both_redact_a_traceback() -> None:
    first, second = RedactingFilter(secrets=["first-secret-1"]), RedactingFilter(["second-2"])
    try:
        raise RuntimeError("first-secret-1 and second-2")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "connector.x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info()
        )
    first.filter(record)  # formats the traceback knowing only the first secret
    second.filter(record)
    assert record.exc_text is not None
    assert "first-secret-1" not in record.exc_text
    assert "second-2" not in record.exc_text


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "cannot connect to postgresql://crm:hunter2pw@db/crmsync, retrying",
            "hunter2pw",
            "postgresql://crm:****@db/crmsync, retrying",
        ),
        (
            "GET https://api.example.com/v1/x?sig=f00dfeed42&page=2 answered 500",
            "f00dfeed42",
            "https://api.example.com/v1/x?sig=****&page=2 answered 500",
        ),
        ("login at https://pw:s3cr3tvalue@127.0.0.1:8443/", "s3cr3tvalue", "pw:****@127.0.0.1"),
    ],
)
def test_redact_masks_credentials_inside_urls(text: str, secret: str, kept: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert kept in cleaned
