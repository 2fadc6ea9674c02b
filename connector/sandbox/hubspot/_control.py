"""``/__sandbox__/`` control endpoints (no auth, not counted, never rate limited).

* ``GET /__sandbox__/stats`` — call counts per endpoint template, limiter usage, object counts;
* ``GET|POST /__sandbox__/faults`` — read or replace the :class:`FaultPlan`;
* ``GET|POST /__sandbox__/limits`` — read or change the rate limits (partial body; may also
  carry ``daily_remaining``);
* ``POST /__sandbox__/reset`` — reseed the data from the world, empty windows and counters;
* ``POST /__sandbox__/restore`` — ``{"objectType", "id"}``: restore an archived record, as
  HubSpot's "Restore records" tool does (same id; refused while a live record has its e-mail);
* ``POST /__sandbox__/edit`` — an out-of-band edit as a user in HubSpot's UI would make it:
  ``{"objectType", "id"?, "properties"}``; read-only values and backward lifecycle moves are
  allowed, ``lastmodifieddate`` moves; without ``id`` a record is created. Its values enter
  ``propertiesWithHistory`` as ``CRM_UI`` by :data:`~._auth.SANDBOX_USER_ID`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.sandbox.faults import FaultPlan
from connector.sandbox.hubspot._errors import ApiProblem
from connector.sandbox.hubspot._render import object_json
from connector.sandbox.hubspot.store import USER, WriteRejected

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = ["control_routes"]


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message, **extra}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return await request.json()
    except ValueError:
        return None


def control_routes(emu: HubSpotEmulator) -> list[Route]:
    async def stats(request: Request) -> Response:
        return JSONResponse(emu.stats_snapshot())

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            try:
                plan = FaultPlan.model_validate(body)
            except ValidationError as exc:
                return _error(400, "invalid fault plan", errors=exc.errors(include_url=False))
            emu.apply_faults(plan)
        return JSONResponse(emu.injector.plan.model_dump(mode="json"))

    async def limits(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            remaining = body.pop("daily_remaining", None)
            try:
                config = replace(emu.limiter.config, **body)
            except TypeError as exc:
                return _error(400, str(exc))
            bad = [k for k, v in asdict(config).items() if not isinstance(v, int) or v < 1]
            if bad or (remaining is not None and not isinstance(remaining, int)):
                return _error(400, "limits must be positive integers", fields=bad)
            emu.limiter.configure(config, daily_remaining=remaining)
        return JSONResponse({**asdict(emu.limiter.config), **emu.limiter.usage()})

    async def reset(request: Request) -> Response:
        emu.reset()
        return JSONResponse({"status": "reset", "objects": emu.stats_snapshot()["objects"]})

    async def edit(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            return _error(400, "send {objectType, id?, properties}")
        object_type = str(body.get("objectType", "contacts"))
        try:
            if body.get("id") is None:
                record = emu.store.create(
                    object_type, body["properties"], trusted=True, source=USER
                )
            else:
                found = emu.store.get(object_type, str(body["id"]))
                if found is None:
                    return _error(404, "no such record")
                record = emu.store.update(
                    object_type, found, body["properties"], trusted=True, user_edit=True
                )
        except WriteRejected as rejected:
            return _error(400, "edit refused", errors=[asdict(e) for e in rejected.errors])
        except ApiProblem as problem:
            return _error(problem.status, problem.message)
        return JSONResponse(object_json(record, sorted(record.props)))

    async def restore(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or body.get("id") is None:
            return _error(400, "send {objectType, id}")
        try:
            record = emu.store.restore(str(body.get("objectType", "contacts")), str(body["id"]))
        except ApiProblem as problem:
            return _error(problem.status, problem.message, category=problem.category)
        return JSONResponse(object_json(record, sorted(record.props)))

    return [
        Route("/__sandbox__/restore", restore, methods=["POST"]),
        Route("/__sandbox__/stats", stats, methods=["GET"]),
        Route("/__sandbox__/faults", faults, methods=["GET", "POST"]),
        Route("/__sandbox__/limits", limits, methods=["GET", "POST"]),
        Route("/__sandbox__/reset", reset, methods=["POST"]),
        Route("/__sandbox__/edit", edit, methods=["POST"]),
    ]
