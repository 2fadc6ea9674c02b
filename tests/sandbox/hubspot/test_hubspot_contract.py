"""Contract check: every emulator answer the connector uses deserializes into the official
SDK's response models with client-side validation on, and carries no field those models do
not define (error bodies may add HubSpot's documented ``status``/``errorType``/``policyName``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import httpx
import hubspot.crm.associations.v4 as assoc_pkg
import hubspot.crm.contacts as contacts_pkg
import hubspot.crm.deals as deals_pkg
import hubspot.crm.objects.calls as calls_pkg
import hubspot.crm.objects.emails as emails_pkg
import hubspot.crm.objects.meetings as meetings_pkg
import hubspot.crm.properties as properties_pkg
import hubspot.oauth as oauth_pkg
import pytest

from connector.sandbox.hubspot import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    HubSpotEmulator,
)

ERROR_EXTRAS = frozenset({"status"})
RATE_EXTRAS = frozenset({"status", "errorType", "policyName"})
# The 2026 Properties spec (reference §5) answers dataSensitivity; SDK 12's model predates it.
PROPERTY_EXTRAS = frozenset({"dataSensitivity"})


class _Raw:
    def __init__(self, text: str) -> None:
        self.data = text


def _strict(models: ModuleType, value: Any, kind: str, extra: frozenset[str], path: str) -> None:
    if value is None:
        return
    if match := re.fullmatch(r"list\[(.*)\]", kind):
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            _strict(models, item, match[1], extra, f"{path}[{index}]")
    elif match := re.fullmatch(r"dict\[([^,]*), (.*)\]", kind):
        assert isinstance(value, dict), path
        for key, item in value.items():
            _strict(models, item, match[2], extra, f"{path}.{key}")
    elif kind == "str":
        assert isinstance(value, str), f"{path} must be a string, got {value!r}"
    elif kind == "int":
        assert isinstance(value, int), path
        assert not isinstance(value, bool), path
    elif kind == "bool":
        assert isinstance(value, bool), path
    elif kind == "datetime":
        assert isinstance(value, str), path
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif kind != "object":
        model = getattr(models, kind)
        assert isinstance(value, dict), path
        unknown = set(value) - set(model.attribute_map.values()) - extra
        assert not unknown, f"{path}: fields {sorted(unknown)} are not in {kind}"
        for attr, sub in model.openapi_types.items():
            key = model.attribute_map[attr]
            if key in value:
                _strict(models, value[key], sub, extra, f"{path}.{key}")


def deserialize(
    package: ModuleType, payload: Any, kind: str, extra: frozenset[str] = frozenset()
) -> Any:
    """Deserialize with the package's own ApiClient, validating required fields and enums."""
    config = package.Configuration()
    config.client_side_validation = True
    model = package.ApiClient(configuration=config).deserialize(_Raw(json.dumps(payload)), kind)
    _strict(package.models, payload, kind, extra, "$")
    return model


@dataclass(frozen=True)
class Case:
    name: str
    request: Callable[[HubSpotEmulator], tuple[str, str, dict[str, Any]]]
    status: int
    package: ModuleType
    kind: str
    extra: frozenset[str] = frozenset()


def _ids(emu: HubSpotEmulator, kind: str = "contacts") -> list[str]:
    return [r.id for r in emu.store.records(kind)]


def _with_emails(emu: HubSpotEmulator) -> str:
    return next(i for i in _ids(emu) if emu.store.associated("contacts", i, "emails"))


def _email(emu: HubSpotEmulator) -> str:
    return emu.store.records("contacts")[0].props["email"]


CASES = [
    Case(
        "contacts list",
        lambda e: (
            "GET",
            "/crm/v3/objects/contacts",
            {
                "params": {
                    "limit": 5,
                    "properties": ["email", "lifecyclestage"],
                    "associations": "emails",
                }
            },
        ),
        200,
        contacts_pkg,
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    Case(
        "contact by id",
        lambda e: (
            "GET",
            f"/crm/v3/objects/contacts/{_with_emails(e)}",
            {"params": {"associations": "emails", "propertiesWithHistory": "lifecyclestage"}},
        ),
        200,
        contacts_pkg,
        "SimplePublicObjectWithAssociations",
    ),
    Case(
        "contact by email",
        lambda e: (
            "GET",
            f"/crm/v3/objects/contacts/{_email(e)}",
            {"params": {"idProperty": "email"}},
        ),
        200,
        contacts_pkg,
        "SimplePublicObjectWithAssociations",
    ),
    Case(
        "batch read",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            {
                "json": {
                    "inputs": [{"id": i} for i in _ids(e)[:3]],
                    "properties": ["lifecyclestage"],
                    "propertiesWithHistory": ["email"],
                }
            },
        ),
        200,
        contacts_pkg,
        "BatchResponseSimplePublicObject",
    ),
    Case(
        "batch read 207",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            {"json": {"inputs": [{"id": _ids(e)[0]}, {"id": "404404"}]}},
        ),
        207,
        contacts_pkg,
        "BatchResponseSimplePublicObjectWithErrors",
    ),
    Case(
        "batch update",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/update",
            {
                "json": {
                    "inputs": [{"id": _ids(e)[0], "properties": {"crmsync_lead_score": "12.5"}}]
                }
            },
        ),
        200,
        contacts_pkg,
        "BatchResponseSimplePublicObject",
    ),
    Case(
        "batch update 207",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/update",
            {
                "json": {
                    "inputs": [
                        {"id": _ids(e)[0], "properties": {"lastmodifieddate": "1"}},
                        {"id": _ids(e)[1], "properties": {"hs_lead_status": "OPEN"}},
                    ]
                }
            },
        ),
        207,
        contacts_pkg,
        "BatchResponseSimplePublicObjectWithErrors",
    ),
    Case(
        "batch upsert",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            {
                "json": {
                    "inputs": [
                        {
                            "id": "p-1",
                            "idProperty": "crmsync_person_id",
                            "properties": {"email": "new.person@example.test"},
                        }
                    ]
                }
            },
        ),
        200,
        contacts_pkg,
        "BatchResponseSimplePublicUpsertObject",
    ),
    Case(
        "batch create",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/batch/create",
            {
                "json": {
                    "inputs": [
                        {"properties": {"email": "c1@example.test", "lifecyclestage": "lead"}}
                    ]
                }
            },
        ),
        201,
        contacts_pkg,
        "BatchResponseSimplePublicObject",
    ),
    Case(
        "create",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts",
            {"json": {"properties": {"email": "c2@example.test"}}},
        ),
        201,
        contacts_pkg,
        "SimplePublicObject",
    ),
    Case(
        "search",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/search",
            {
                "json": {
                    "filterGroups": [
                        {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}
                    ],
                    "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                    "limit": 3,
                }
            },
        ),
        200,
        contacts_pkg,
        "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
    ),
    Case(
        "merge",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts/merge",
            {"json": {"primaryObjectId": _ids(e)[0], "objectIdToMerge": _ids(e)[1]}},
        ),
        200,
        contacts_pkg,
        "SimplePublicObject",
    ),
    Case(
        "404",
        lambda e: ("GET", "/crm/v3/objects/contacts/123", {}),
        404,
        contacts_pkg,
        "Error",
        ERROR_EXTRAS,
    ),
    Case(
        "400",
        lambda e: (
            "PATCH",
            f"/crm/v3/objects/contacts/{_ids(e)[0]}",
            {"json": {"properties": {"lifecyclestage": "nope"}}},
        ),
        400,
        contacts_pkg,
        "Error",
        ERROR_EXTRAS,
    ),
    Case(
        "409",
        lambda e: (
            "POST",
            "/crm/v3/objects/contacts",
            {"json": {"properties": {"email": _email(e)}}},
        ),
        409,
        contacts_pkg,
        "Error",
        ERROR_EXTRAS,
    ),
    Case(
        "401",
        lambda e: (
            "GET",
            "/crm/v3/objects/contacts",
            {"headers": {"Authorization": "Bearer wrong"}},
        ),
        401,
        contacts_pkg,
        "Error",
        ERROR_EXTRAS,
    ),
    Case(
        "properties",
        lambda e: ("GET", "/crm/v3/properties/contacts", {}),
        200,
        properties_pkg,
        "CollectionResponsePropertyNoPaging",
        PROPERTY_EXTRAS,
    ),
    Case(
        "property",
        lambda e: ("GET", "/crm/v3/properties/contacts/lifecyclestage", {}),
        200,
        properties_pkg,
        "ModelProperty",
        PROPERTY_EXTRAS,
    ),
    Case(
        "property create",
        lambda e: (
            "POST",
            "/crm/v3/properties/contacts",
            {
                "json": {
                    "name": "crmsync_extra",
                    "label": "Extra",
                    "type": "number",
                    "fieldType": "number",
                    "groupName": "crmsync",
                }
            },
        ),
        201,
        properties_pkg,
        "ModelProperty",
        PROPERTY_EXTRAS,
    ),
    Case(
        "associations",
        lambda e: (
            "POST",
            "/crm/v4/associations/contacts/emails/batch/read",
            {"json": {"inputs": [{"id": _with_emails(e)}]}},
        ),
        200,
        assoc_pkg,
        "BatchResponsePublicAssociationMultiWithLabel",
    ),
    Case(
        "associations 207",
        lambda e: (
            "POST",
            "/crm/v4/associations/contacts/deals/batch/read",
            {"json": {"inputs": [{"id": i} for i in _ids(e)[:5]]}},
        ),
        207,
        assoc_pkg,
        "BatchResponsePublicAssociationMultiWithLabelWithErrors",
    ),
    Case(
        "association create",
        lambda e: (
            "POST",
            "/crm/v4/associations/contacts/emails/batch/create",
            {
                "json": {
                    "inputs": [
                        {
                            "from": {"id": _ids(e)[0]},
                            "to": {"id": _ids(e, "emails")[0]},
                            "types": [
                                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 197}
                            ],
                        }
                    ]
                }
            },
        ),
        201,
        assoc_pkg,
        "BatchResponseLabelsBetweenObjectPair",
    ),
    Case(
        "associations of one",
        lambda e: ("GET", f"/crm/v4/objects/contacts/{_with_emails(e)}/associations/emails", {}),
        200,
        assoc_pkg,
        "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging",
    ),
    Case(
        "emails batch read",
        lambda e: (
            "POST",
            "/crm/v3/objects/emails/batch/read",
            {
                "json": {
                    "inputs": [{"id": i} for i in _ids(e, "emails")[:4]],
                    "properties": ["hs_timestamp", "hs_email_direction", "hs_email_status"],
                }
            },
        ),
        200,
        emails_pkg,
        "BatchResponseSimplePublicObject",
    ),
    Case(
        "calls search",
        lambda e: (
            "POST",
            "/crm/v3/objects/calls/search",
            {
                "json": {
                    "filterGroups": [
                        {
                            "filters": [
                                {
                                    "propertyName": "hs_call_status",
                                    "operator": "EQ",
                                    "value": "COMPLETED",
                                }
                            ]
                        }
                    ],
                    "properties": ["hs_call_direction", "hs_call_disposition"],
                }
            },
        ),
        200,
        calls_pkg,
        "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
    ),
    Case(
        "meetings list",
        lambda e: (
            "GET",
            "/crm/v3/objects/meetings",
            {"params": {"properties": "hs_meeting_outcome,hs_timestamp"}},
        ),
        200,
        meetings_pkg,
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    Case(
        "deals search",
        lambda e: (
            "POST",
            "/crm/v3/objects/deals/search",
            {"json": {"properties": ["dealstage", "amount", "closedate", "hs_is_closed_won"]}},
        ),
        200,
        deals_pkg,
        "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
    ),
    Case(
        "oauth token",
        lambda e: (
            "POST",
            "/oauth/v1/token",
            {
                "data": {
                    "grant_type": "refresh_token",
                    "client_id": SANDBOX_CLIENT_ID,
                    "client_secret": SANDBOX_CLIENT_SECRET,
                    "refresh_token": SANDBOX_REFRESH_TOKEN,
                }
            },
        ),
        200,
        oauth_pkg,
        "TokenResponseIF",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answer_matches_the_sdk_models(
    case: Case, emulator: HubSpotEmulator, http: httpx.Client
) -> None:
    method, path, kwargs = case.request(emulator)
    response = http.request(method, path, **kwargs)
    assert response.status_code == case.status, response.text
    deserialize(case.package, response.json(), case.kind, case.extra)


def test_rate_limit_answer_matches_the_error_model(http: httpx.Client) -> None:
    statuses = [http.post("/crm/v3/objects/contacts/search", json={}) for _ in range(6)]
    limited = statuses[-1]
    assert limited.status_code == 429
    error = deserialize(contacts_pkg, limited.json(), "Error", RATE_EXTRAS)
    assert error.category == "RATE_LIMITS"


def test_strict_check_catches_fields_the_sdk_does_not_know() -> None:
    with pytest.raises(AssertionError, match="not in SimplePublicObject"):
        deserialize(
            contacts_pkg,
            {
                "id": "1",
                "properties": {},
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
                "bogus": 1,
            },
            "SimplePublicObject",
        )
    with pytest.raises(AssertionError, match="must be a string"):
        deserialize(
            contacts_pkg,
            {
                "id": "1",
                "properties": {"n": 5},
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
            },
            "SimplePublicObject",
        )
    with pytest.raises(ValueError, match="status"):
        deserialize(
            contacts_pkg,
            {
                "status": "DONE",
                "results": [],
                "startedAt": "2026-01-01T00:00:00Z",
                "completedAt": "2026-01-01T00:00:00Z",
            },
            "BatchResponseSimplePublicObject",
        )
