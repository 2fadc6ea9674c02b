"""Every status, Salesforce errorCode and HubSpot category we know has a disposition."""

from __future__ import annotations

import pytest

from connector.crm.dispositions import (
    HUBSPOT_CATEGORIES,
    HUBSPOT_RATE_LIMIT_POLICIES,
    HUBSPOT_STATUS,
    SALESFORCE_ERROR_CODES,
    SALESFORCE_STATUS,
    Disposition,
    classify_hubspot,
    classify_salesforce,
    hubspot_retry_after,
    parse_hubspot_error,
    parse_salesforce_error,
    retry_after_header,
    safe_message,
    to_error,
)
from connector.errors import (
    AuthError,
    FatalApiError,
    QuotaExhaustedError,
    RecordRejectedError,
    RetryableApiError,
    System,
)

R, X, A, Q, F = (
    Disposition.RETRY,
    Disposition.REJECT_RECORD,
    Disposition.REAUTH,
    Disposition.QUOTA_STOP,
    Disposition.FATAL,
)

# Every code the reference (shared/reference/salesforce-api.md §3) names, with what it says.
SALESFORCE_REFERENCE = {
    "INVALID_SESSION_ID": A,
    "REQUEST_LIMIT_EXCEEDED": Q,
    "UNABLE_TO_LOCK_ROW": R,
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": X,
    "INVALID_FIELD": F,
    "MALFORMED_QUERY": F,
    "ENTITY_IS_DELETED": X,
    "CANNOT_UPDATE_CONVERTED_LEAD": X,
    "SERVER_UNAVAILABLE": R,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": R,
    "INVALID_QUERY_LOCATOR": F,
    "TXN_SECURITY_METERING_ERROR": F,
    "INVALID_TYPE": F,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": X,
    "STRING_TOO_LONG": X,
    "DUPLICATE_VALUE": X,
    "REQUIRED_FIELD_MISSING": X,
    "MALFORMED_ID": X,
    "NOT_FOUND": X,
    "EXCEEDED_ID_LIMIT": F,
    "INVALID_REPLICATION_DATE": F,
    "BATCH_PROCESSING_HALTED": R,
    "PROCESSING_HALTED": R,
}

SALESFORCE_STATUS_REFERENCE = {
    300: X,
    304: F,
    400: F,
    401: A,
    403: F,
    404: X,
    405: F,
    409: F,
    410: F,
    412: F,
    414: F,
    415: F,
    420: R,
    428: F,
    431: F,
    500: R,
    502: R,
    503: R,
    406: R,
    429: R,
}

HUBSPOT_REFERENCE = {
    "VALIDATION_ERROR": X,
    "OBJECT_NOT_FOUND": X,
    "CONFLICT": X,
    "RATE_LIMITS": R,
    "MISSING_SCOPES": F,
    "INVALID_AUTHENTICATION": A,
    "EXPIRED_AUTHENTICATION": A,
}


@pytest.mark.parametrize(("code", "expected"), sorted(SALESFORCE_REFERENCE.items()))
def test_salesforce_reference_codes_have_the_documented_disposition(
    code: str, expected: Disposition
) -> None:
    assert code in SALESFORCE_ERROR_CODES
    assert classify_salesforce(400, code, "") is expected


@pytest.mark.parametrize(("status", "expected"), sorted(SALESFORCE_STATUS_REFERENCE.items()))
def test_salesforce_statuses(status: int, expected: Disposition) -> None:
    assert status in SALESFORCE_STATUS
    assert classify_salesforce(status) is expected


@pytest.mark.parametrize(("category", "expected"), sorted(HUBSPOT_REFERENCE.items()))
def test_hubspot_reference_categories(category: str, expected: Disposition) -> None:
    assert category in HUBSPOT_CATEGORIES
    assert classify_hubspot(400, category) is expected


@pytest.mark.parametrize(
    ("policy", "expected"), [("TEN_SECONDLY_ROLLING", R), ("SECONDLY", R), ("DAILY", Q)]
)
def test_hubspot_rate_limit_policies(policy: str, expected: Disposition) -> None:
    assert classify_hubspot(429, "RATE_LIMITS", policy) is expected


def test_every_table_row_yields_a_disposition_and_an_exception() -> None:
    rows = (
        [(classify_salesforce(s), s, "") for s in SALESFORCE_STATUS]
        + [(classify_salesforce(400, c), 400, c) for c in SALESFORCE_ERROR_CODES]
        + [(classify_salesforce(200, c, per_record=True), None, c) for c in SALESFORCE_ERROR_CODES]
        + [(classify_hubspot(s), s, "") for s in HUBSPOT_STATUS]
        + [(classify_hubspot(400, c), 400, c) for c in HUBSPOT_CATEGORIES]
        + [(classify_hubspot(429, "", p), 429, p) for p in HUBSPOT_RATE_LIMIT_POLICIES]
    )
    expected_type = {
        R: RetryableApiError,
        X: RecordRejectedError,
        A: AuthError,
        Q: QuotaExhaustedError,
        F: FatalApiError,
    }
    assert {row[0] for row in rows} == set(Disposition)
    for disposition, status, code in rows:
        error = to_error(
            disposition,
            System.SALESFORCE,
            "refused",
            status=status,
            code=code,
            object_type="Lead",
            record_id="00Q000000000001AAA",
        )
        assert type(error) is expected_type[disposition], (status, code)


def test_request_limit_exceeded_for_concurrency_is_retried_not_a_quota_stop() -> None:
    message = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
    assert classify_salesforce(403, "REQUEST_LIMIT_EXCEEDED", message) is R
    assert classify_salesforce(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.") is Q


def test_unknown_codes_fall_back_by_status_or_reject_a_single_record() -> None:
    assert classify_salesforce(599, "SOMETHING_NEW") is R
    assert classify_salesforce(418, "SOMETHING_NEW") is F
    assert classify_salesforce(None) is R  # no answer: the network failed
    assert classify_salesforce(200, "SOMETHING_NEW", per_record=True) is X
    assert classify_hubspot(400, "SOMETHING_NEW", per_record=True) is X
    assert classify_hubspot(507) is R


def test_rejection_without_a_record_is_fatal() -> None:
    error = to_error(X, System.HUBSPOT, "bad filter", status=400, code="VALIDATION_ERROR")
    assert isinstance(error, FatalApiError)


def test_parse_salesforce_bodies() -> None:
    rest = b'[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]'
    assert parse_salesforce_error(rest).code == "ENTITY_IS_DELETED"
    item = {"statusCode": "STRING_TOO_LONG", "message": "too long", "fields": ["Title"]}
    facts = parse_salesforce_error(item)
    assert (facts.code, facts.fields) == ("STRING_TOO_LONG", ("Title",))
    oauth = '{"error":"invalid_grant","error_description":"expired access/refresh token"}'
    assert parse_salesforce_error(oauth).code == "invalid_grant"
    assert parse_salesforce_error("<html>oops</html>").code == ""


def test_parse_hubspot_bodies_and_keep_personal_data_out_of_messages() -> None:
    body = (
        '{"status":"error","message":"Property values were not valid: jane.doe@example.com",'
        '"category":"VALIDATION_ERROR","context":{"propertyName":["email"]}}'
    )
    facts = parse_hubspot_error(body)
    assert facts.code == "VALIDATION_ERROR"
    assert facts.fields == ("email",)
    assert "jane.doe" not in facts.message
    limited = parse_hubspot_error(
        '{"status":"error","message":"You have reached your secondly limit.",'
        '"errorType":"RATE_LIMIT","policyName":"SECONDLY"}'
    )
    assert (limited.code, limited.policy_name) == ("RATE_LIMIT", "SECONDLY")
    oauth = parse_hubspot_error('{"status":"BAD_REFRESH_TOKEN","message":"missing"}')
    assert oauth.code == "BAD_REFRESH_TOKEN"


def test_safe_message_is_short() -> None:
    assert len(safe_message("x" * 1000)) <= 160


def test_hubspot_retry_after_precedence() -> None:
    both = {"Retry-After": "3", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    assert hubspot_retry_after(both, "TEN_SECONDLY_ROLLING") == 3.0
    window = {"x-hubspot-ratelimit-interval-milliseconds": "10000"}
    assert hubspot_retry_after(window, "TEN_SECONDLY_ROLLING") == 10.0
    assert hubspot_retry_after({}, "SECONDLY") == 1.0
    assert hubspot_retry_after(None, "", search=True) == 1.0
    assert hubspot_retry_after({}, "TEN_SECONDLY_ROLLING") == 10.0
    assert hubspot_retry_after({}, "") is None


def test_retry_after_accepts_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    header = {"Retry-After": "Sun, 01 Nov 2026 12:00:30 GMT"}
    assert retry_after_header(header, now=now) == 30.0
    assert retry_after_header({"Retry-After": "soon"}) is None
