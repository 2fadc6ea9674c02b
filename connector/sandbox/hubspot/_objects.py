"""CRM object endpoints: list, get, create, update, archive, merge, search (reference §1, §2.1).

List pages link to the next one with ``paging.next.link``: an absolute URL carrying the
request's own query with ``after`` moved on, as HubSpot answers
(``https://api.hubapi.com/crm/v3/objects/contacts?limit=100&properties=...&after=394``, recorded
in amp-labs/connectors' HubSpot provider); the emulator's links point at itself. Search answers
from :attr:`HubSpotStore.index`, which trails writes by the fault plan's ``search_lag_ms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from connector.sandbox.hubspot._app import Endpoint, Reply
from connector.sandbox.hubspot._catalogue import SINGULAR, default_properties
from connector.sandbox.hubspot._errors import ApiProblem, property_problem
from connector.sandbox.hubspot._records import ObjectTable, Record, WriteSource
from connector.sandbox.hubspot._render import Call, name_list, object_json, query_names
from connector.sandbox.hubspot._startup import empty_type
from connector.sandbox.hubspot.store import WriteRejected

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = [
    "ENDPOINTS",
    "link",
    "next_link",
    "not_found",
    "plan_associations",
    "read_names",
    "written_names",
]

LIST_MAX: Final = 100
HISTORY_LIST_MAX: Final = 50
_BASE: Final = "/crm/v3/objects/{objectType}"


def not_found(object_id: str) -> ApiProblem:
    return ApiProblem(
        404,
        "OBJECT_NOT_FOUND",
        f"Object not found.  objectId: {object_id}",
        context={"id": [object_id]},
    )


def read_names(table: ObjectTable, requested: list[str] | None) -> list[str]:
    """Properties to answer: the default set, or the requested ones that exist (plus the
    always-present id and timestamps)."""
    defaults = default_properties(table.name)
    if requested is None:
        return list(defaults)
    stamps = (
        "hs_object_id",
        "createdate",
        "hs_createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
    )
    always = [n for n in stamps if n in defaults]
    names = [n for n in requested if n in table.properties]
    return list(dict.fromkeys([*names, *always]))


def written_names(record: Record) -> list[str]:
    return sorted(record.props)


def _associations(
    emu: HubSpotEmulator, table: ObjectTable, record: Record, kinds: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in kinds:
        if empty_type(kind) is not None:
            continue  # companies and tickets: the portal has none, so none are associated
        other = emu.store.table(kind).name
        links = emu.store.associated(table.name, record.id, other)
        if links:
            label = f"{SINGULAR[table.name]}_to_{SINGULAR[other]}"
            out[other] = {"results": [{"id": to_id, "type": label} for to_id, _ in links]}
    return {"associations": out} if out else {}


def list_objects(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    history = query_names(call.query, "propertiesWithHistory")
    cap = HISTORY_LIST_MAX if history else LIST_MAX
    try:
        limit = min(int(call.query.get("limit", "10")), cap)
        after = int(call.query.get("after", "0"))
    except ValueError:
        raise ApiProblem(400, "VALIDATION_ERROR", "limit and after must be integers") from None
    names = read_names(table, query_names(call.query, "properties"))
    kinds = query_names(call.query, "associations") or []
    with emu.store.lock:
        page, next_after = table.ids_after(after, max(limit, 1), archived=call.flag("archived"))
        results = [
            object_json(
                r, names, history=history, table=table, extra=_associations(emu, table, r, kinds)
            )
            for r in page
        ]
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        cursor = str(next_after)
        body["paging"] = {"next": {"after": cursor, "link": next_link(call, cursor)}}
    return 200, body


def next_link(call: Call, after: str) -> str:
    """The URL of the next page: this request's own query, ``after`` moved on."""
    pairs = [(key, value) for key, value in call.query.multi_items() if key != "after"]
    return f"{call.url}?{urlencode([*pairs, ('after', after)])}"


def _lookup(emu: HubSpotEmulator, table: ObjectTable, object_id: str, call: Call) -> Record:
    id_property = call.query.get("idProperty")
    if call.flag("archived"):
        record = table.archived.get(object_id)
    elif id_property:
        record = emu.store.find(table.name, id_property, object_id)
    else:
        record = table.resolve(object_id)
    if record is None:
        raise not_found(object_id)
    return record


def get_object(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    with emu.store.lock:
        record = _lookup(emu, table, call.params["objectId"], call)
        names = read_names(table, query_names(call.query, "properties"))
        kinds = query_names(call.query, "associations") or []
        history = query_names(call.query, "propertiesWithHistory")
        return 200, object_json(
            record,
            names,
            history=history,
            table=table,
            extra=_associations(emu, table, record, kinds),
        )


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {})
    if not isinstance(props, dict):
        raise ApiProblem(400, "VALIDATION_ERROR", "properties must be an object of strings")
    return props


def plan_associations(emu: HubSpotEmulator, table: ObjectTable, raw: Any) -> list[tuple[str, str]]:
    """Check the associations a create body names (``[{to: {id}, types: [...]}]``) before
    anything is written; answers ``(target type, target id)`` pairs."""
    if not raw:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ApiProblem(400, "VALIDATION_ERROR", "associations must be a list of objects")
    planned: list[tuple[str, str]] = []
    for item in raw:
        to_id = str((item.get("to") or {}).get("id", ""))
        types = item.get("types") or []
        first = types[0] if isinstance(types, list) and types else None
        type_id = first.get("associationTypeId") if isinstance(first, dict) else None
        target = emu.store.type_for_association(table.name, type_id)
        found = emu.store.get(target, to_id) if target else None
        if target is None or found is None:
            raise ApiProblem(
                400,
                "VALIDATION_ERROR",
                f"Invalid association: type {type_id} to object {to_id}",
                sub_category="crm.associations.INVALID_ASSOCIATION_TYPE",
            )
        planned.append((target, found.id))
    return planned


def link(
    emu: HubSpotEmulator, table: ObjectTable, record: Record, planned: list[tuple[str, str]]
) -> None:
    for target, to_id in planned:
        emu.store.associate(table.name, record.id, target, to_id)


def create_object(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    body = call.json_object()
    with emu.store.lock:
        planned = plan_associations(emu, table, body.get("associations"))
        try:
            record = emu.store.create(
                table.name, _properties(body), source=WriteSource.app(call.app_id)
            )
        except WriteRejected as rejected:
            raise property_problem(rejected.errors) from None
        link(emu, table, record, planned)
        return 201, object_json(record, written_names(record))


def update_object(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    with emu.store.lock:
        record = _lookup(emu, table, call.params["objectId"], call)
        try:
            emu.store.update(
                table.name,
                record,
                _properties(call.json_object()),
                source=WriteSource.app(call.app_id),
            )
        except WriteRejected as rejected:
            raise property_problem(rejected.errors) from None
        return 200, object_json(record, written_names(record))


def archive_object(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    with emu.store.lock:
        record = table.resolve(call.params["objectId"])
        if record is not None:
            emu.store.archive(table.name, record)
    return 204, None


def merge_objects(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    body = call.json_object()
    primary, secondary = body.get("primaryObjectId"), body.get("objectIdToMerge")
    if not primary or not secondary:
        raise ApiProblem(
            400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge are both required"
        )
    with emu.store.lock:
        survivor = emu.store.merge(
            table.name, str(primary), str(secondary), source=WriteSource.app(call.app_id)
        )
        return 200, object_json(survivor, written_names(survivor))


def gdpr_delete(emu: HubSpotEmulator, call: Call) -> Reply:
    """``POST /crm/v3/objects/contacts/gdpr-delete``: delete a contact for good (no recycle
    bin, no archived copy), by id or by ``idProperty: email``. 204, as the spec answers."""
    table = emu.store.table(call.params["objectType"])
    if table.name != "contacts":
        raise ApiProblem(404, "OBJECT_NOT_FOUND", "GDPR delete is for contacts")
    body = call.json_object()
    object_id = str(body.get("objectId") or "")
    if not object_id:
        raise ApiProblem(400, "VALIDATION_ERROR", "objectId is required")
    with emu.store.lock:
        if body.get("idProperty") == "email":
            owner = table.owner_of("email", object_id)
            record = table.live.get(owner) if owner is not None else None
        else:
            record = table.resolve(object_id) or table.archived.get(object_id)
        if record is None:
            raise ApiProblem(404, "OBJECT_NOT_FOUND", f"Object not found.  objectId: {object_id}")
        emu.store.purge(table.name, record)
    return 204, None


def search_objects(emu: HubSpotEmulator, call: Call) -> Reply:
    table = emu.store.table(call.params["objectType"])
    body = call.json_object()
    with emu.store.lock:
        index = emu.store.index
        index.settle(emu.clock.now())
        page = emu.search.search(
            table,
            body,
            (emu.store.version, index.generation),
            lambda: index.visible(table.name, table.live),
        )
        names = read_names(table, name_list(body.get("properties"), "properties"))
        results = [object_json(r, names) for r in page.records]
    reply: dict[str, Any] = {"total": page.total, "results": results}
    if page.next_after is not None:
        reply["paging"] = {"next": {"after": page.next_after}}
    return 200, reply


ENDPOINTS: Final = (
    Endpoint(f"{_BASE}/search", ("POST",), search_objects, "search"),
    Endpoint(f"{_BASE}/merge", ("POST",), merge_objects),
    Endpoint(f"{_BASE}/gdpr-delete", ("POST",), gdpr_delete),
    Endpoint(_BASE, ("GET",), list_objects),
    Endpoint(_BASE, ("POST",), create_object),
    Endpoint(f"{_BASE}/{{objectId}}", ("GET",), get_object),
    Endpoint(f"{_BASE}/{{objectId}}", ("PATCH",), update_object),
    Endpoint(f"{_BASE}/{{objectId}}", ("DELETE",), archive_object),
)
