"""Batch endpoints: read, create, update, upsert, archive (at most 100 inputs; 207 on partial
failure with ``StandardError`` entries, reference §1.2-§1.4).

Each refused input gets its own error entry whose ``context.ids`` names the input id (and
``context.objectWriteTraceId`` its trace id when one was sent); ids that do not exist are listed
together in one ``OBJECT_NOT_FOUND`` entry, as HubSpot does. A merged id addresses the surviving
record. Upserts by ``email`` are all-or-nothing: if any input fails, the call answers 400 and
nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from connector.sandbox.hubspot._app import Endpoint, Reply
from connector.sandbox.hubspot._errors import ApiProblem, PropertyError, standard_error
from connector.sandbox.hubspot._objects import link, plan_associations, read_names, written_names
from connector.sandbox.hubspot._records import ObjectTable, Record
from connector.sandbox.hubspot._render import Call, batch_body, name_list, object_json
from connector.sandbox.hubspot.store import WriteRejected

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = ["ENDPOINTS", "MAX_INPUTS"]

MAX_INPUTS: Final = 100
JsonObject = dict[str, Any]


def _inputs(body: JsonObject) -> list[JsonObject]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiProblem(400, "VALIDATION_ERROR", "inputs must be a list of objects")
    if len(inputs) > MAX_INPUTS:
        raise ApiProblem(
            400,
            "VALIDATION_ERROR",
            f"Batch input is limited to {MAX_INPUTS} inputs; got {len(inputs)}.",
            context={"limit": [str(MAX_INPUTS)]},
        )
    return inputs


def _context(object_id: str | None, item: JsonObject) -> dict[str, list[str]]:
    context = {"ids": [object_id]} if object_id else {}
    trace = item.get("objectWriteTraceId")
    if trace:
        context["objectWriteTraceId"] = [str(trace)]
    return context


def _rejected(errors: list[PropertyError], object_id: str | None, item: JsonObject) -> JsonObject:
    conflict = all(e.code == "CONFLICT" for e in errors)
    category = "CONFLICT" if conflict else "VALIDATION_ERROR"
    message = errors[0].message if conflict else "Property values were not valid"
    return standard_error(category, message, _context(object_id, item), errors=errors)


def _not_found(table: ObjectTable, missing: list[str]) -> list[JsonObject]:
    """HubSpot reports every id it could not find in one error entry."""
    if not missing:
        return []
    kind = table.name[:-1].upper()
    message = (
        f"Could not get some {kind} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return [standard_error("OBJECT_NOT_FOUND", message, {"ids": missing})]


def _props(item: JsonObject) -> JsonObject:
    props = item.get("properties", {})
    if not isinstance(props, dict):
        raise ApiProblem(400, "VALIDATION_ERROR", "properties must be an object of strings")
    return props


def _reply(
    ok: int,
    results: list[JsonObject],
    errors: list[JsonObject],
    emu: HubSpotEmulator,
    started: datetime,
) -> Reply:
    return (207 if errors else ok), batch_body(results, errors, started, emu.clock.now())


def _trace(item: JsonObject) -> str | None:
    trace = item.get("objectWriteTraceId")
    return str(trace) if trace is not None else None


def batch_read(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    started = emu.clock.now()
    id_property = body.get("idProperty")
    names = read_names(table, name_list(body.get("properties"), "properties"))
    history = name_list(body.get("propertiesWithHistory"), "propertiesWithHistory")
    results: list[JsonObject] = []
    missing: list[str] = []
    for item in _inputs(body):
        object_id = str(item.get("id", ""))
        record: Record | None
        if call.flag("archived"):
            record = table.archived.get(object_id)
        elif id_property:
            record = emu.store.find(table.name, str(id_property), object_id)
        else:
            record = table.resolve(object_id)
        if record is None:
            missing.append(object_id)
        else:
            results.append(object_json(record, names, history=history))
    return _reply(200, results, _not_found(table, missing), emu, started)


def batch_create(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    started = emu.clock.now()
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    for item in _inputs(body):
        try:
            planned = plan_associations(emu, table, item.get("associations"))
            record = emu.store.create(table.name, _props(item))
        except WriteRejected as rejected:
            errors.append(_rejected(rejected.errors, None, item))
            continue
        except ApiProblem as problem:
            errors.append(
                standard_error(
                    problem.category,
                    problem.message,
                    _context(None, item),
                    sub_category=problem.sub_category,
                )
            )
            continue
        link(emu, table, record, planned)
        results.append(object_json(record, written_names(record), trace_id=_trace(item)))
    return _reply(201, results, errors, emu, started)


def _resolve(emu: HubSpotEmulator, table: ObjectTable, item: JsonObject) -> Record | None:
    object_id = str(item.get("id", ""))
    id_property = item.get("idProperty")
    if id_property:
        return emu.store.find(table.name, str(id_property), object_id)
    return table.resolve(object_id)


def batch_update(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    started = emu.clock.now()
    inputs = _inputs(body)
    keys = [(str(i.get("idProperty") or ""), str(i.get("id", ""))) for i in inputs]
    duplicates = sorted({key for _, key in keys if [k for _, k in keys].count(key) > 1})
    if duplicates:
        raise ApiProblem(
            400,
            "VALIDATION_ERROR",
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            context={"ids": duplicates},
        )
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    missing: list[str] = []
    for item in inputs:
        object_id = str(item.get("id", ""))
        record = _resolve(emu, table, item)
        if record is None:
            missing.append(object_id)
            continue
        try:
            emu.store.update(table.name, record, _props(item))
        except WriteRejected as rejected:
            errors.append(_rejected(rejected.errors, object_id, item))
            continue
        results.append(object_json(record, written_names(record), trace_id=_trace(item)))
    return _reply(200, results, errors + _not_found(table, missing), emu, started)


def batch_upsert(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    started = emu.clock.now()
    inputs = _inputs(body)
    by_email = any(i.get("idProperty") == "email" for i in inputs)
    plan: list[tuple[JsonObject, Record | None]] = []
    for item in inputs:
        id_property = item.get("idProperty")
        if not id_property or not item.get("id"):
            raise ApiProblem(400, "VALIDATION_ERROR", "upsert inputs need id and idProperty")
        plan.append((item, emu.store.find(table.name, str(id_property), str(item["id"]))))
    if by_email:
        # Check everything first: email upserts do not partially succeed.
        for item, record in plan:
            values = {**_props(item), str(item["idProperty"]): str(item["id"])}
            try:
                emu.store.validate(table.name, record, values)
            except WriteRejected as rejected:
                raise ApiProblem(
                    400, "VALIDATION_ERROR", rejected.errors[0].message,
                    context=_context(str(item["id"]), item),
                ) from None  # fmt: skip
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    for item, record in plan:
        values = {**_props(item), str(item["idProperty"]): str(item["id"])}
        try:
            if record is None:
                written, new = emu.store.create(table.name, values), True
            else:
                written, new = emu.store.update(table.name, record, values), False
        except WriteRejected as rejected:
            errors.append(_rejected(rejected.errors, str(item["id"]), item))
            continue
        results.append(
            object_json(written, written_names(written), trace_id=_trace(item), extra={"new": new})
        )
    return _reply(200, results, errors, emu, started)


def batch_archive(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    for item in _inputs(body):
        record = table.resolve(str(item.get("id", "")))
        if record is not None:
            emu.store.archive(table.name, record)
    return 204, None


_ACTIONS: Final = {
    "read": batch_read,
    "create": batch_create,
    "update": batch_update,
    "upsert": batch_upsert,
    "archive": batch_archive,
}


def batch(emu: HubSpotEmulator, call: Call) -> Reply:
    action = _ACTIONS.get(call.params["action"])
    if action is None:
        raise ApiProblem(404, "OBJECT_NOT_FOUND", f"Unknown batch action {call.params['action']}")
    table = emu.store.table(call.params["objectType"])
    body = call.json_object()
    with emu.store.lock:
        return action(emu, table, body, call)


ENDPOINTS: Final = (Endpoint("/crm/v3/objects/{objectType}/batch/{action}", ("POST",), batch),)
