"""Batch endpoints: read, create, update, upsert, archive (at most 100 inputs; 207 on partial
failure with ``StandardError`` entries, reference §1.2-§1.4).

Each refused input gets its own error entry whose ``context.ids`` names the input id (and
``context.objectWriteTraceId`` its trace id when one was sent); ids that do not exist are listed
together in one ``OBJECT_NOT_FOUND`` entry, as HubSpot does. A merged id addresses the surviving
record. Refused whole, writing nothing (docs/sandbox.md lists the sources):

* any create, update or upsert carrying an invalid e-mail address: 400 ``VALIDATION_ERROR``
  ``Property values were not valid: [...INVALID_EMAIL...]`` naming the first such input;
* a create whose e-mail is taken, in the portal or by an earlier input: 409 ``CONFLICT``
  ``Contact already exists. Existing ID: <id>`` naming the first conflict;
* upserts by ``email`` when any input fails (400), or when two inputs name one address.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from connector.sandbox.hubspot._app import Endpoint, Reply
from connector.sandbox.hubspot._errors import (
    ApiProblem,
    PropertyError,
    property_problem,
    standard_error,
)
from connector.sandbox.hubspot._objects import link, plan_associations, read_names, written_names
from connector.sandbox.hubspot._records import ObjectTable, Record, WriteSource
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


def _refuse_invalid_emails(
    emu: HubSpotEmulator, table: ObjectTable, writes: list[tuple[Record | None, JsonObject]]
) -> None:
    """One invalid e-mail address refuses the whole call, before anything is written
    (Atlas-Authority/marketing-automation#174)."""
    for record, values in writes:
        try:
            emu.store.validate(table.name, record, values)
        except WriteRejected as rejected:
            if any(e.code == "INVALID_EMAIL" for e in rejected.errors):
                raise property_problem(rejected.errors) from None


def _unique_ids(keys: list[str]) -> None:
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ApiProblem(
            400,
            "VALIDATION_ERROR",
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            context={"ids": duplicates},
        )


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
            results.append(object_json(record, names, history=history, table=table))
    return _reply(200, results, _not_found(table, missing), emu, started)


def batch_create(emu: HubSpotEmulator, table: ObjectTable, body: JsonObject, call: Call) -> Reply:
    started = emu.clock.now()
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    accepted: list[tuple[JsonObject, list[tuple[str, str]]]] = []
    for item in _inputs(body):
        try:
            accepted.append((item, plan_associations(emu, table, item.get("associations"))))
        except ApiProblem as problem:
            errors.append(
                standard_error(
                    problem.category,
                    problem.message,
                    _context(None, item),
                    sub_category=problem.sub_category,
                )
            )
    created = emu.store.create_batch(
        table.name, [_props(item) for item, _ in accepted], source=WriteSource.app(call.app_id)
    )
    for (item, planned), outcome in zip(accepted, created, strict=True):
        if isinstance(outcome, list):
            errors.append(_rejected(outcome, None, item))
            continue
        link(emu, table, outcome, planned)
        results.append(object_json(outcome, written_names(outcome), trace_id=_trace(item)))
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
    _unique_ids([str(i.get("id", "")) for i in inputs])
    targets = [(item, _resolve(emu, table, item)) for item in inputs]
    _refuse_invalid_emails(emu, table, [(r, _props(i)) for i, r in targets if r is not None])
    source = WriteSource.app(call.app_id)
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    missing: list[str] = []
    for item, record in targets:
        object_id = str(item.get("id", ""))
        if record is None:
            missing.append(object_id)
            continue
        try:
            emu.store.update(table.name, record, _props(item), source=source)
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
    # An e-mail names one contact whatever its case: two inputs naming it would both create.
    _unique_ids([f"{i['idProperty']}:{str(i['id']).lower()}" for i in inputs])
    writes = [(r, {**_props(i), str(i["idProperty"]): str(i["id"])}) for i, r in plan]
    _refuse_invalid_emails(emu, table, writes)
    if by_email:
        # Check everything first: email upserts do not partially succeed.
        for (item, _), (record, values) in zip(plan, writes, strict=True):
            try:
                emu.store.validate(table.name, record, values)
            except WriteRejected as rejected:
                raise ApiProblem(
                    400, "VALIDATION_ERROR", rejected.errors[0].message,
                    context=_context(str(item["id"]), item),
                ) from None  # fmt: skip
    source = WriteSource.app(call.app_id)
    results: list[JsonObject] = []
    errors: list[JsonObject] = []
    for (item, _), (record, values) in zip(plan, writes, strict=True):
        try:
            if record is None:
                written, new = emu.store.create(table.name, values, source=source), True
            else:
                written = emu.store.update(table.name, record, values, source=source)
                new = False
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
