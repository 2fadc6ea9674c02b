"""HubSpot error bodies: the ``Error`` shape, batch ``StandardError`` entries and 429 bodies.

Shapes follow the reference (§1.9, §3.3): every error body has ``status: "error"``,
``message``, ``correlationId`` and ``category``; 429 bodies add ``errorType: "RATE_LIMIT"`` and
``policyName``. Batch failures are ``StandardError`` objects inside a 207 body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "ApiProblem",
    "PropertyError",
    "RateLimited",
    "property_problem",
    "standard_error",
]

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PropertyError:
    """Why one property value in a write was refused."""

    name: str
    code: str  # INVALID_OPTION, READ_ONLY_VALUE, PROPERTY_DOESNT_EXIST, ...
    message: str


class ApiProblem(Exception):
    """An error answer: HTTP status plus the documented ``Error`` body (minus correlationId)."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        sub_category: str | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
        errors: Sequence[JsonObject] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {category}")
        self.status = status
        self.category = category
        self.message = message
        self.sub_category = sub_category
        self.context = {key: list(values) for key, values in (context or {}).items()}
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self, correlation_id: str) -> JsonObject:
        body: JsonObject = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.context:
            body["context"] = self.context
        if self.errors:
            body["errors"] = self.errors
        return body


_RATE_MESSAGES: Final = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


@dataclass(slots=True)
class RateLimited(Exception):
    """A 429 for one of HubSpot's policies; ``headers`` are the rate-limit headers to send."""

    policy: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, correlation_id: str) -> JsonObject:
        return {
            "status": "error",
            "message": _RATE_MESSAGES[self.policy],
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy,
            "category": "RATE_LIMITS",
        }


def _details(errors: Sequence[PropertyError]) -> list[JsonObject]:
    return [
        {"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}}
        for e in errors
    ]


def property_problem(errors: Sequence[PropertyError], *, status: int = 400) -> ApiProblem:
    """The single-object answer to refused property values (HubSpot's ``Property values were
    not valid: [...]`` message, plus structured ``errors[]``).

    A taken unique value answers HubSpot's bare 409 instead: ``status``, ``message``
    ("Contact already exists. Existing ID: <id>"), ``correlationId`` and ``category`` only
    (HubSpot/hubspot-api-python#51, HubSpot/hubspot-api-nodejs#545).
    """
    conflict = all(e.code == "CONFLICT" for e in errors)
    if conflict:
        return ApiProblem(409, "CONFLICT", errors[0].message)
    listed = [
        {"isValid": False, "message": e.message, "error": e.code, "name": e.name} for e in errors
    ]
    return ApiProblem(
        status,
        "VALIDATION_ERROR",
        "Property values were not valid: " + json.dumps(listed, separators=(",", ":")),
        errors=_details(errors),
    )


def standard_error(
    category: str,
    message: str,
    context: Mapping[str, Sequence[str]],
    *,
    errors: Sequence[PropertyError] = (),
    sub_category: str | None = None,
) -> JsonObject:
    """One ``StandardError`` entry for a 207 body's ``errors[]``."""
    entry: JsonObject = {
        "status": "error",
        "category": category,
        "message": message,
        "context": {key: list(values) for key, values in context.items()},
        "errors": _details(errors),
        "links": {},
    }
    if sub_category:
        entry["subCategory"] = sub_category
    return entry
