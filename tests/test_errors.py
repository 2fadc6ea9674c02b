from __future__ import annotations

import pytest

from connector import errors
from connector.errors import (
    ApiError,
    ConfigError,
    CrmsyncError,
    ExitCode,
    Problem,
    QuotaExhaustedError,
    RecordRejectedError,
    RetryableApiError,
    System,
)


def _all_subclasses(cls: type[CrmsyncError]) -> set[type[CrmsyncError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_error_class_maps_to_a_documented_exit_code() -> None:
    documented = {code.value for code in ExitCode}
    for cls in _all_subclasses(CrmsyncError) | {CrmsyncError}:
        assert cls.exit_code in documented, cls


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.ConfigError, 2),
        (errors.MappingError, 2),
        (errors.RulesError, 2),
        (errors.JobDefinitionError, 2),
        (errors.QuotaExhaustedError, 4),
        (errors.RecordRejectedError, 3),
        (errors.AuthError, 1),
        (errors.StateError, 1),
    ],
)
def test_exit_codes(cls: type[CrmsyncError], code: int) -> None:
    assert cls.exit_code == code


def test_errors_do_not_subclass_http_library_exceptions() -> None:
    for cls in _all_subclasses(CrmsyncError):
        for base in cls.__mro__:
            assert base.__module__.split(".")[0] in {"connector", "builtins"}, (cls, base)


def test_problems_are_all_listed_with_locations() -> None:
    error = ConfigError(
        [
            Problem(where="mappings/contact.yaml", line=4, column=3, field="email", message="x"),
            Problem(where="environment CRMSYNC_A", message="y", hint="fix it"),
        ]
    )
    text = str(error)
    assert text.splitlines()[0] == "configuration error: 2 problems"
    assert "mappings/contact.yaml:4:3: email: x" in text
    assert "environment CRMSYNC_A: y (fix it)" in text


def test_api_error_text_is_short_and_names_the_record() -> None:
    error = RecordRejectedError(
        System.SALESFORCE,
        "picklist value not allowed",
        object_type="Lead",
        record_id="00Q000000000001AAA",
        code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        status=200,
        fields=["Status"],
    )
    assert str(error) == (
        "salesforce Lead 00Q000000000001AAA: picklist value not allowed "
        "[200 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST]"
    )
    assert error.fields == ("Status",)


def test_retryable_carries_the_wait_and_quota_is_not_retryable() -> None:
    error = RetryableApiError(System.HUBSPOT, "rate limited", retry_after=1.5, status=429)
    assert error.retry_after == 1.5
    assert isinstance(error, ApiError)
    assert not issubclass(QuotaExhaustedError, RetryableApiError)
