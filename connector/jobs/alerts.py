"""Failure alerts: a JSON POST to a webhook (Slack-compatible ``{"text": ...}``)."""

from __future__ import annotations

import logging

import httpx

from connector.errors import ExitCode
from connector.jobs.definition import Alert, AlertOn

__all__ = ["alert_reason", "send_alert"]

log = logging.getLogger(__name__)

_REASONS = {
    ExitCode.FAILED: AlertOn.FAILURE,
    ExitCode.INVALID_DEFINITION: AlertOn.FAILURE,
    ExitCode.FINISHED_WITH_REJECTIONS: AlertOn.REJECTIONS,
    ExitCode.STOPPED_ON_QUOTA: AlertOn.QUOTA,
}


def alert_reason(alert: Alert, code: ExitCode) -> AlertOn | None:
    """The condition ``code`` raises, if this alert is configured for it."""
    reason = _REASONS.get(code)
    return reason if reason in alert.on else None


def send_alert(
    alert: Alert,
    *,
    job: str,
    code: ExitCode,
    summary: str,
    client: httpx.Client | None = None,
) -> bool:
    """POST the alert if ``code`` calls for it; return whether one was delivered.

    ``summary`` must already be free of personal data (it is the run's short outcome line).
    Delivery problems are logged and swallowed: an alert never turns a run into a failure.
    """
    reason = alert_reason(alert, code)
    if reason is None:
        return False
    payload = {
        "text": f"crmsync job '{job}': {reason.value} (exit {int(code)}). {summary}",
        "job": job,
        "reason": reason.value,
        "exit_code": int(code),
    }
    owns_client = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        response = http.post(str(alert.webhook_url), json=payload)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("alert for job %s not delivered: %s", job, type(exc).__name__)
        return False
    finally:
        if owns_client:
            http.close()
    return True
