"""Check and convert one JSON field value for a write, raising Salesforce's per-field errors."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final

from connector.sandbox.salesforce._values import parse_datetime, to_18
from connector.sandbox.salesforce.duplicates import DuplicateMatch
from connector.sandbox.salesforce.schema import FieldSpec

__all__ = ["SfError", "coerce"]

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID: Final = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


class SfError(Exception):
    """One Salesforce error: ``status_code`` is the ``errorCode`` / per-record ``statusCode``.

    ``duplicate`` is set on ``DUPLICATES_DETECTED``: the REST error then carries its
    ``duplicateResut`` (see :mod:`.duplicates`).
    """

    def __init__(
        self,
        status_code: str,
        message: str,
        fields: tuple[str, ...] = (),
        http_status: int = 400,
        duplicate: DuplicateMatch | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.fields = fields
        self.http_status = http_status
        self.duplicate = duplicate

    def record_error(self) -> dict[str, Any]:
        """The ``errors[]`` item of a collection result."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }

    def rest_error(self, version: str = "66.0") -> dict[str, Any]:
        """The item of a REST error array (``version`` for the record URLs it may carry)."""
        if self.duplicate is not None:  # the captured answers have no "fields" here
            return {
                "duplicateResut": self.duplicate.result(version),
                "errorCode": self.status_code,
                "message": self.message,
            }
        return {"message": self.message, "errorCode": self.status_code, "fields": list(self.fields)}


def _utf16_length(text: str) -> int:
    """A text's length as Salesforce measures it against a field's length: in UTF-16 code
    units, so an emoji counts two. Salesforce is a Java platform; Help article 005166849
    ("Surrogate Pair Characters Are Treated as Two Characters") says formulas and the Apex String
    class count a surrogate pair as two. Where an org counts code points instead, this is the
    stricter count, so a connector that counts code points fails against the emulator rather
    than against a customer's org."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _label(spec: FieldSpec) -> str:
    if spec.label:
        return spec.label
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", spec.name.removesuffix("__c").replace("_", " "))


def _wrong_type(spec: FieldSpec, value: Any) -> SfError:
    return SfError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{_label(spec)}: value not of required type: {value}",
        (spec.name,),
    )


def coerce(spec: FieldSpec, value: Any) -> Any:
    """The stored value for ``value`` written to ``spec``; raise :class:`SfError` if refused."""
    # Salesforce keeps no empty strings: "" saves as null, in text fields too (a required one
    # is then missing). https://salesforce.stackexchange.com/questions/333174
    if value is None or value == "":
        if spec.type == "boolean":
            return False
        if not spec.nillable:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{spec.name}]",
                (spec.name,),
            )
        return None
    kind = spec.type
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(spec, value)
        return value
    if kind in ("int", "double", "currency", "percent"):
        return _number(spec, value)
    if kind == "date":
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise _wrong_type(spec, value) from exc
    if kind == "datetime":
        try:
            return parse_datetime(str(value))
        except ValueError as exc:
            raise _wrong_type(spec, value) from exc
    if isinstance(value, bool | dict | list):
        raise _wrong_type(spec, value)
    text = str(value)
    if kind in ("reference", "id"):
        if not _ID.fullmatch(text):
            raise SfError(
                "MALFORMED_ID", f"{_label(spec)}: id value of incorrect type: {text}", (spec.name,)
            )
        return to_18(text) if len(text) == 15 else text
    if spec.length and _utf16_length(text) > spec.length:
        raise SfError(
            "STRING_TOO_LONG",
            f"{_label(spec)}: data value too large: {text} (max length={spec.length})",
            (spec.name,),
        )
    if kind == "email" and not _EMAIL.fullmatch(text):
        raise SfError(
            "INVALID_EMAIL_ADDRESS", f"{_label(spec)}: invalid email address: {text}", (spec.name,)
        )
    if kind == "picklist" and spec.restricted and text not in spec.picklist:
        raise SfError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{_label(spec)}: bad value for restricted picklist field: {text}",
            (spec.name,),
        )
    return text


def _number(spec: FieldSpec, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _wrong_type(spec, value)
    try:
        number = float(value)
    except ValueError as exc:
        raise _wrong_type(spec, value) from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise _wrong_type(spec, value)
    if spec.precision and abs(number) >= 10 ** (spec.precision - spec.scale):
        raise SfError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{_label(spec)}: value outside of valid range on numeric field: {value}",
            (spec.name,),
        )
    if spec.type == "int":
        if number != int(number):
            raise _wrong_type(spec, value)
        return int(number)
    # Decimals are stored as sent: the API does not round to the field's decimal places, only
    # the UI does (Salesforce Knowledge Article 000212661, "Why is the field of data type number
    # storing more numbers in decimal places than defined?"). Rounding here made the emulator
    # hold a value a real org would not, which the next sync read as a user's edit.
    return number
