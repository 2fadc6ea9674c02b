"""What to do about every answer a CRM can give, as tables (one row per status or code).

The runner acts on five :class:`Disposition` values:

====================  ==========================================================================
``RETRY``             transient (429 burst, 5xx, lock contention, network): back off, try again
``REJECT_RECORD``     this record is refused (validation, picklist, deleted): report, go on
``REAUTH``            the session/token is no longer valid: re-authenticate once, then retry
``QUOTA_STOP``        the daily quota is spent: stop cleanly, keep state, resume next run
``FATAL``             the request itself can never succeed (bad query, missing scope): stop
====================  ==========================================================================

Lookups go most specific first: a Salesforce ``errorCode`` (or HubSpot ``category`` /
``policyName``), then the HTTP status, then a default by status class. :func:`to_error` turns a
disposition into the matching :mod:`connector.errors` exception; adapters call it at their
boundary and ``raise ... from`` the vendor exception. ``tests/crm/test_dispositions.py`` walks
every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from connector.crm._errorbody import (
    ErrorFacts,
    hubspot_retry_after,
    parse_hubspot_error,
    parse_salesforce_error,
    retry_after_header,
    safe_message,
)
from connector.errors import (
    ApiError,
    AuthError,
    FatalApiError,
    QuotaExhaustedError,
    RecordRejectedError,
    RetryableApiError,
    System,
)

__all__ = [
    "HUBSPOT_CATEGORIES",
    "HUBSPOT_RATE_LIMIT_POLICIES",
    "HUBSPOT_STATUS",
    "SALESFORCE_ERROR_CODES",
    "SALESFORCE_STATUS",
    "Disposition",
    "ErrorFacts",
    "classify_hubspot",
    "classify_salesforce",
    "hubspot_retry_after",
    "parse_hubspot_error",
    "parse_salesforce_error",
    "retry_after_header",
    "safe_message",
    "to_error",
]


class Disposition(StrEnum):
    """What the runner does next."""

    RETRY = "retry"
    REJECT_RECORD = "reject_record"
    REAUTH = "reauth"
    QUOTA_STOP = "quota_stop"
    FATAL = "fatal"


R, X, A, Q, F = (
    Disposition.RETRY,
    Disposition.REJECT_RECORD,
    Disposition.REAUTH,
    Disposition.QUOTA_STOP,
    Disposition.FATAL,
)

# --- Salesforce -------------------------------------------------------------------------------

#: HTTP status → disposition (Salesforce REST "Status Codes and Error Responses"). Airbyte's
#: production connector retries 406, 420 and 429 as well as 5xx; so do we.
SALESFORCE_STATUS: Final[Mapping[int, Disposition]] = MappingProxyType(
    {
        300: X,  # an external id matched more than one record
        304: F,
        400: F,  # malformed request; per-record codes refine this below
        401: A,
        403: F,  # refused; REQUEST_LIMIT_EXCEEDED refines this below
        404: X,
        405: F,
        406: R,
        408: R,
        409: F,
        410: F,  # retired resource or API version
        412: F,
        414: F,
        415: F,
        420: R,  # Salesforce Edge has no route yet
        428: F,
        429: R,
        431: F,
        500: R,
        502: R,
        503: R,
        504: R,
    }
)

#: ``errorCode`` (request errors) and ``statusCode`` (per-record results) → disposition.
SALESFORCE_ERROR_CODES: Final[Mapping[str, Disposition]] = MappingProxyType(
    {
        # Sessions and auth
        "INVALID_SESSION_ID": A,
        "INVALID_AUTH_HEADER": A,
        # Limits: the daily allowance stops the run; the concurrent-request flavour of the same
        # code is retried (see _SALESFORCE_MESSAGE_OVERRIDES).
        "REQUEST_LIMIT_EXCEEDED": Q,
        "TXN_SECURITY_METERING_ERROR": F,
        # Transient
        "UNABLE_TO_LOCK_ROW": R,
        "SERVER_UNAVAILABLE": R,
        "QUERY_TIMEOUT": R,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK": R,
        "BATCH_PROCESSING_HALTED": R,
        "PROCESSING_HALTED": R,
        # The request can never succeed as built
        "MALFORMED_QUERY": F,
        "INVALID_FIELD": F,
        "INVALID_TYPE": F,
        "INVALIDENTITY": F,
        "INVALID_QUERY_FILTER_OPERATOR": F,
        "INVALID_QUERY_LOCATOR": F,  # re-run from the last checkpoint on the next run
        "EXCEEDED_ID_LIMIT": F,
        "INVALID_REPLICATION_DATE": F,
        "API_DISABLED_FOR_ORG": F,
        "API_CURRENTLY_DISABLED": F,
        "FUNCTIONALITY_NOT_ENABLED": F,
        "NOT_ACCEPTABLE": F,
        "JSON_PARSER_ERROR": F,
        "METHOD_NOT_ALLOWED": F,
        "UNSUPPORTED_API_VERSION": F,
        # One record is refused
        "CANNOT_UPDATE_CONVERTED_LEAD": X,  # the adapter redirects to ConvertedContactId
        "ENTITY_IS_DELETED": X,
        "NOT_FOUND": X,
        "MALFORMED_ID": X,
        "INVALID_ID_FIELD": X,
        "INVALID_CROSS_REFERENCE_KEY": X,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": X,
        "STRING_TOO_LONG": X,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION": X,
        "FIELD_INTEGRITY_EXCEPTION": X,
        "FIELD_FILTER_VALIDATION_EXCEPTION": X,
        "DUPLICATE_VALUE": X,
        "DUPLICATES_DETECTED": X,
        "DUPLICATE_EXTERNAL_ID": X,
        "REQUIRED_FIELD_MISSING": X,
        "INVALID_FIELD_FOR_INSERT_UPDATE": X,
        "INVALID_EMAIL_ADDRESS": X,
        "NUMBER_OUTSIDE_VALID_RANGE": X,
        "INVALID_TYPE_ON_FIELD_IN_RECORD": X,
        "INSUFFICIENT_ACCESS_OR_READONLY": X,
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": X,
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": X,
        "ENTITY_IS_LOCKED": X,
    }
)

_SALESFORCE_MESSAGE_OVERRIDES: Final[Mapping[tuple[str, str], Disposition]] = MappingProxyType(
    {("REQUEST_LIMIT_EXCEEDED", "concurrent"): R}
)


def classify_salesforce(
    status: int | None, code: str = "", message: str = "", *, per_record: bool = False
) -> Disposition:
    """The disposition of a Salesforce answer.

    ``per_record`` marks a collections/Bulk result item: an unknown code there rejects only
    that record rather than stopping the run.
    """
    for (known, fragment), disposition in _SALESFORCE_MESSAGE_OVERRIDES.items():
        if code == known and fragment in message.lower():
            return disposition
    if code in SALESFORCE_ERROR_CODES:
        return SALESFORCE_ERROR_CODES[code]
    if per_record:
        return X
    return _by_status(SALESFORCE_STATUS, status)


# --- HubSpot ----------------------------------------------------------------------------------

#: HTTP status → disposition (HubSpot error FAQ and usage guidelines).
HUBSPOT_STATUS: Final[Mapping[int, Disposition]] = MappingProxyType(
    {
        400: F,
        401: A,
        403: F,
        404: X,
        405: F,
        408: R,
        409: X,
        413: F,
        414: F,
        415: F,
        423: R,  # "Locked": HubSpot asks to retry after a short wait
        429: R,  # refined by policyName
        477: R,  # "Migration in progress"
        500: R,
        502: R,
        503: R,
        504: R,
        521: R,
        522: R,
        523: R,
        524: R,
        530: F,  # origin DNS error
        539: R,
    }
)

#: ``category`` of an error body (or of one entry of a 207's ``errors[]``) → disposition.
HUBSPOT_CATEGORIES: Final[Mapping[str, Disposition]] = MappingProxyType(
    {
        "VALIDATION_ERROR": X,
        "OBJECT_NOT_FOUND": X,
        "RESOURCE_NOT_FOUND": X,
        "CONFLICT": X,
        "OBJECT_ALREADY_EXISTS": X,
        "INVALID_EMAIL": X,
        "PROPERTY_DOESNT_EXIST": F,
        "BAD_REQUEST": F,
        "INVALID_PARAMS": F,
        "MISSING_SCOPES": F,
        "INSUFFICIENT_PERMISSIONS": F,
        "INVALID_AUTHENTICATION": A,
        "EXPIRED_AUTHENTICATION": A,
        "RATE_LIMITS": R,  # refined by policyName
        "RATE_LIMIT": R,  # the 429 body's ``errorType``
        "INTERNAL_ERROR": R,
        "SERVICE_UNAVAILABLE": R,
        "TIMEOUT": R,
    }
)

#: ``policyName`` of a 429 → disposition.
HUBSPOT_RATE_LIMIT_POLICIES: Final[Mapping[str, Disposition]] = MappingProxyType(
    {"TEN_SECONDLY_ROLLING": R, "SECONDLY": R, "DAILY": Q}
)


def classify_hubspot(
    status: int | None,
    category: str = "",
    policy_name: str = "",
    *,
    per_record: bool = False,
) -> Disposition:
    """The disposition of a HubSpot answer (request-level, or one 207 error with
    ``per_record``)."""
    if policy_name in HUBSPOT_RATE_LIMIT_POLICIES:
        return HUBSPOT_RATE_LIMIT_POLICIES[policy_name]
    if category in HUBSPOT_CATEGORIES:
        return HUBSPOT_CATEGORIES[category]
    if per_record:
        return X
    return _by_status(HUBSPOT_STATUS, status)


def _by_status(table: Mapping[int, Disposition], status: int | None) -> Disposition:
    if status is None:
        return R  # no answer at all: the network failed
    if status in table:
        return table[status]
    return R if status >= 500 else F


# --- Translation into connector.errors --------------------------------------------------------


def to_error(
    disposition: Disposition,
    system: System,
    message: str,
    *,
    status: int | None = None,
    code: str = "",
    object_type: str = "",
    record_id: str = "",
    retry_after: float | None = None,
    fields: Sequence[str] = (),
) -> ApiError:
    """The :mod:`connector.errors` exception for ``disposition`` (raise it ``from`` the vendor
    exception). ``message`` must already be safe for users (see :func:`safe_message`)."""
    if disposition is R:
        return RetryableApiError(
            system,
            message,
            retry_after=retry_after,
            status=status,
            code=code,
            object_type=object_type,
            record_id=record_id,
        )
    if disposition is X and record_id:
        return RecordRejectedError(
            system,
            message,
            object_type=object_type,
            record_id=record_id,
            code=code,
            status=status,
            fields=fields,
        )
    # REJECT_RECORD without a record (a whole request refused for its data) is fatal: what we
    # built is wrong, and retrying it would fail the same way.
    kind: type[ApiError] = {A: AuthError, Q: QuotaExhaustedError}.get(disposition, FatalApiError)
    return kind(
        system, message, status=status, code=code, object_type=object_type, record_id=record_id
    )
