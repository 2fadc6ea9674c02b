"""Properties API (§5), associations v4 (§2.3), OAuth token grant, account API usage (§3.1).

Companies and tickets (no records in the emulator, :mod:`._startup`) are known here: their
property definitions answer, and association reads to or from them find none, in the same
shape as any record without associations.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from connector.sandbox.hubspot._app import Endpoint, Reply
from connector.sandbox.hubspot._catalogue import ASSOCIATION_TYPES, SINGULAR, type_id
from connector.sandbox.hubspot._errors import ApiProblem, standard_error
from connector.sandbox.hubspot._objects import next_link
from connector.sandbox.hubspot._render import Call, batch_body
from connector.sandbox.hubspot._schema import parse_create, parse_update
from connector.sandbox.hubspot._startup import EMPTY_TYPES, empty_type, properties_of
from connector.sandbox.hubspot._values import iso

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = ["ENDPOINTS", "MAX_ASSOCIATION_INPUTS"]

MAX_ASSOCIATION_INPUTS: Final = 1000
JsonObject = dict[str, Any]


# --- properties -----------------------------------------------------------------------------


def list_properties(emu: HubSpotEmulator, call: Call) -> Reply:
    props = properties_of(emu, call.params["objectType"])
    if call.flag("archived"):
        return 200, {"results": []}
    wanted = call.query.get("properties")
    if wanted:
        names = set(wanted.split(","))
        props = [p for p in props if p.name in names]
    return 200, {"results": [p.to_json() for p in props]}


def get_property(emu: HubSpotEmulator, call: Call) -> Reply:
    name = call.params["propertyName"]
    prop = next((p for p in properties_of(emu, call.params["objectType"]) if p.name == name), None)
    if prop is None:
        raise ApiProblem(
            404,
            "OBJECT_NOT_FOUND",
            f"Unable to find property {name} for object type {call.params['objectType']}",
        )
    return 200, prop.to_json()


def create_property(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    prop = parse_create(call.body, now=emu.clock.now())
    with emu.store.lock:
        if prop.name in table.properties:
            raise ApiProblem(
                409,
                "OBJECT_ALREADY_EXISTS",
                f"A property named '{prop.name}' already exists.",
                context={"name": [prop.name]},
            )
        emu.store.put_property(table.name, prop)
    return 201, prop.to_json()


def update_property(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    with emu.store.lock:
        current = table.properties.get(call.params["propertyName"])
        if current is None:
            raise ApiProblem(404, "OBJECT_NOT_FOUND", "Unable to find property")
        updated = parse_update(current, call.body, now=emu.clock.now())
        emu.store.put_property(table.name, updated)
    return 200, updated.to_json()


# --- associations v4 ------------------------------------------------------------------------


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(after: Any) -> int:
    if after in (None, ""):
        return 0
    padded = str(after) + "=" * (-len(str(after)) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        offset = int(text[2:]) if text.startswith("o:") else -1
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise ApiProblem(400, "VALIDATION_ERROR", f"Invalid paging cursor: {after}")
    return offset


def _types(type_ids: list[int]) -> list[JsonObject]:
    # Default (unlabelled) HUBSPOT_DEFINED associations answer a null label.
    return [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in type_ids]


def _kind(emu: HubSpotEmulator, name: str) -> str:
    """A known object type's name, companies and tickets included."""
    return empty_type(name) or emu.store.table(name).name


def _singular(kind: str) -> str:
    return SINGULAR.get(kind) or EMPTY_TYPES[kind][0]


def _links(
    emu: HubSpotEmulator, from_type: str, from_id: str, to_type: str
) -> list[tuple[str, list[int]]]:
    """One record's associations (a merged id answers the survivor's); nothing is associated
    with companies or tickets, which the portal has none of."""
    if from_type in EMPTY_TYPES or to_type in EMPTY_TYPES:
        return []
    record = emu.store.get(from_type, from_id)
    return emu.store.associated(from_type, record.id, to_type) if record else []


def association_batch_read(emu: HubSpotEmulator, call: Call) -> Reply:
    started = emu.clock.now()
    from_type = _kind(emu, call.params["fromObjectType"])
    to_type = _kind(emu, call.params["toObjectType"])
    inputs = call.json_object().get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiProblem(400, "VALIDATION_ERROR", "inputs must be a list of objects")
    if len(inputs) > MAX_ASSOCIATION_INPUTS:
        raise ApiProblem(
            400,
            "VALIDATION_ERROR",
            f"Batch input is limited to {MAX_ASSOCIATION_INPUTS} inputs; got {len(inputs)}.",
        )
    page_size = emu.association_page_size
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    with emu.store.lock:
        for item in inputs:
            from_id = str(item.get("id", ""))
            links = _links(emu, from_type, from_id, to_type)
            if not links:
                errors.append(
                    standard_error(
                        "OBJECT_NOT_FOUND",
                        f"No {_singular(to_type)} is associated with "
                        f"{_singular(from_type)} {from_id}.",
                        {
                            "fromObjectId": [from_id],
                            "fromObjectType": [_singular(from_type)],
                            "toObjectType": [_singular(to_type)],
                        },
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            start = _offset(item.get("after"))
            chunk = links[start : start + page_size]
            result: JsonObject = {
                "from": {"id": from_id},
                "to": [
                    {"toObjectId": to_id, "associationTypes": _types(types)}
                    for to_id, types in chunk
                ],
            }
            if start + page_size < len(links):
                result["paging"] = {"next": {"after": _cursor(start + page_size)}}
            results.append(result)
    return (207 if errors else 200), batch_body(results, errors, started, emu.clock.now())


def association_batch_create(emu: HubSpotEmulator, call: Call) -> Reply:
    started = emu.clock.now()
    from_type = emu.store.table(call.params["fromObjectType"]).name
    to_type = emu.store.table(call.params["toObjectType"]).name
    inputs = call.json_object().get("inputs")
    if (
        not isinstance(inputs, list)
        or len(inputs) > 100
        or not all(isinstance(i, dict) for i in inputs)
    ):
        raise ApiProblem(400, "VALIDATION_ERROR", "inputs must be a list of at most 100 objects")
    expected = ASSOCIATION_TYPES.get((from_type, to_type))
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    with emu.store.lock:
        for item in inputs:
            from_id = str((item.get("from") or {}).get("id", ""))
            to_id = str((item.get("to") or {}).get("id", ""))
            types = item.get("types") or []
            type_ids = {t.get("associationTypeId") for t in types if isinstance(t, dict)}
            context = {"fromObjectId": [from_id], "toObjectId": [to_id]}
            if expected is None or not type_ids or type_ids != {expected}:
                errors.append(
                    standard_error(
                        "VALIDATION_ERROR",
                        f"{sorted(map(str, type_ids))} is not a valid association type between "
                        f"{from_type} and {to_type}",
                        context,
                        sub_category="crm.associations.INVALID_ASSOCIATION_TYPE",
                    )
                )
                continue
            source, target = emu.store.get(from_type, from_id), emu.store.get(to_type, to_id)
            if source is None or target is None:
                errors.append(standard_error("OBJECT_NOT_FOUND", "Object not found", context))
                continue
            emu.store.associate(from_type, source.id, to_type, target.id)
            results.append(
                {
                    "fromObjectTypeId": type_id(from_type),
                    "fromObjectId": source.id,
                    "toObjectTypeId": type_id(to_type),
                    "toObjectId": target.id,
                    "labels": [],
                }
            )
    return (207 if errors else 201), batch_body(results, errors, started, emu.clock.now())


def association_list(emu: HubSpotEmulator, call: Call) -> Reply:
    from_type = _kind(emu, call.params["objectType"])
    to_type = _kind(emu, call.params["toObjectType"])
    links = _links(emu, from_type, call.params["objectId"], to_type)
    try:
        limit = min(int(call.query.get("limit", "500")), 500)
    except ValueError:
        raise ApiProblem(400, "VALIDATION_ERROR", "limit must be an integer") from None
    start = _offset(call.query.get("after"))
    chunk = links[start : start + limit]
    body: JsonObject = {
        "results": [
            {"toObjectId": to_id, "associationTypes": _types(types)} for to_id, types in chunk
        ]
    }
    if start + limit < len(links):
        cursor = _cursor(start + limit)
        body["paging"] = {"next": {"after": cursor, "link": next_link(call, cursor)}}
    return 200, body


# --- OAuth and usage ------------------------------------------------------------------------


def oauth_token(emu: HubSpotEmulator, call: Call) -> Reply:
    return 200, emu.tokens.refresh(call.form)


def api_usage(emu: HubSpotEmulator, call: Call) -> Reply:
    usage = emu.limiter.usage()
    now = emu.clock.now()
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return 200, {
        "results": [
            {
                "name": "private-apps-api-calls-daily",
                "usageLimit": usage["daily_max"],
                "currentUsage": usage["daily_used"],
                "collectedAt": iso(now),
                "resetsAt": iso(tomorrow),
                "fetchStatus": "SUCCESS",
            }
        ]
    }


_PROPS: Final = "/crm/v3/properties/{objectType}"
_ASSOC: Final = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch"
ENDPOINTS: Final = (
    Endpoint(_PROPS, ("GET",), list_properties),
    Endpoint(_PROPS, ("POST",), create_property),
    Endpoint(f"{_PROPS}/{{propertyName}}", ("GET",), get_property),
    Endpoint(f"{_PROPS}/{{propertyName}}", ("PATCH",), update_property),
    Endpoint(f"{_ASSOC}/read", ("POST",), association_batch_read, "burst_exempt"),
    Endpoint(f"{_ASSOC}/create", ("POST",), association_batch_create, "burst_exempt"),
    Endpoint(
        "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
        ("GET",),
        association_list,
    ),
    Endpoint("/oauth/v1/token", ("POST",), oauth_token, "oauth"),
    Endpoint("/account-info/v3/api-usage/daily/private-apps", ("GET",), api_usage),
)
