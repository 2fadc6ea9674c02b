"""The request pipeline every API route shares, and the Starlette app.

Order per call: count it (``/__sandbox__/stats``), injected latency, bearer auth (401), fault
plan (expired token, injected 429/5xx), rate limits (429), then the handler. Every answer
carries ``X-HubSpot-Correlation-Id``; non-search answers carry the ``X-HubSpot-RateLimit-*``
headers once the call is authenticated.

A path HubSpot does not serve answers its servlet container's HTML error page, not a JSON
error body: 404 ``<title>Error 404 Not Found</title>`` (405 likewise for a wrong method). A
2026-04 read-only probe of a live portal recorded exactly that page for every unrouted path it
tried (e.g. ``GET /crm/v3/limits/custom/properties``), and JSON ``{"status": "error", ...}``
bodies only from routes that exist; HubSpot/hubspot-api-nodejs#413 shows a client failing on
such a 404 ("invalid json response body ... Unexpected token <").
"""

from __future__ import annotations

import asyncio
import html
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connector.sandbox.hubspot._auth import Caller
from connector.sandbox.hubspot._errors import ApiProblem, RateLimited
from connector.sandbox.hubspot._render import Call

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = ["Endpoint", "Handler", "Reply", "error_pages", "new_correlation_id", "route"]

Reply = tuple[int, Any]
Handler = Callable[["HubSpotEmulator", Call], Reply]
Kind = Literal["api", "search", "burst_exempt", "oauth"]

_CATEGORIES: Final = {
    400: "VALIDATION_ERROR",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    409: "CONFLICT",
    500: "INTERNAL_ERROR",
}
_GATEWAY: Final = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    template: str
    methods: tuple[str, ...]
    handler: Handler
    kind: Kind = "api"


def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
    if status == 204 or payload is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(payload, status_code=status, headers=headers)


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiProblem(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}") from None


def _injected(emu: HubSpotEmulator, status: int, kind: Kind, caller: Caller) -> Exception:
    if status == 429:
        if kind == "search":
            return RateLimited("SECONDLY")
        headers = emu.limiter.headers(oauth=caller.oauth)
        headers["X-HubSpot-RateLimit-Remaining"] = "0"
        return RateLimited("TEN_SECONDLY_ROLLING", headers)
    return ApiProblem(
        status,
        _CATEGORIES.get(status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR"),
        "internal error" if status >= 500 else "The request was refused (injected fault).",
    )


async def _run(emu: HubSpotEmulator, endpoint: Endpoint, request: Request) -> Response:
    correlation = emu.correlation_id()
    headers = {"X-HubSpot-Correlation-Id": correlation}
    emu.stats.record(request.method, endpoint.template)
    try:
        latency = emu.injector.latency_seconds()
        if latency > 0:
            await asyncio.sleep(latency)
        raw = await request.body()
        if endpoint.kind == "oauth":
            form = dict(parse_qsl(raw.decode("utf-8", "replace")))
            call = Call(request.method, dict(request.path_params), request.query_params, None,
                        form, oauth=True)  # fmt: skip
            status, payload = endpoint.handler(emu, call)
            return _json(status, payload, headers)
        caller = emu.tokens.check(request.headers.get("authorization"))
        if emu.injector.session_should_expire():
            emu.tokens.expire_all()
            caller = emu.tokens.check(request.headers.get("authorization"))
        injected = emu.injector.on_call()
        if injected is not None:
            if injected in _GATEWAY:
                # Gateway errors come from HubSpot's edge as HTML, not as API error bodies.
                return PlainTextResponse(
                    f"<html><body><h1>{injected} {_GATEWAY[injected]}</h1></body></html>",
                    status_code=injected,
                    headers=headers,
                    media_type="text/html",
                )
            raise _injected(emu, injected, endpoint.kind, caller)
        headers.update(
            emu.limiter.admit(
                search=endpoint.kind == "search",
                burst_exempt=endpoint.kind == "burst_exempt",
                oauth=caller.oauth,
            )
        )
        body = _parse_json(raw)
        call = Call(request.method, dict(request.path_params), request.query_params, body, {},
                    oauth=caller.oauth, app_id=caller.app_id,
                    url=str(request.base_url).rstrip("/") + request.url.path)  # fmt: skip
        status, payload = endpoint.handler(emu, call)
        return _json(status, payload, headers)
    except RateLimited as limited:
        headers.update(limited.headers)
        return JSONResponse(limited.body(correlation), status_code=429, headers=headers)
    except ApiProblem as problem:
        headers.update(problem.headers)
        return JSONResponse(problem.body(correlation), status_code=problem.status, headers=headers)


def route(emu: HubSpotEmulator, endpoint: Endpoint) -> Route:
    """A Starlette route running ``endpoint`` through the shared pipeline."""

    def make() -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await _run(emu, endpoint, request)

        return handle

    return Route(endpoint.template, make(), methods=list(endpoint.methods))


_PAGE: Final = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
<title>Error {status} {reason}</title>
</head>
<body><h2>HTTP ERROR {status} {reason}</h2>
<table>
<tr><th>URI:</th><td>{uri}</td></tr>
<tr><th>STATUS:</th><td>{status}</td></tr>
<tr><th>MESSAGE:</th><td>{reason}</td></tr>
</table>

</body>
</html>
"""
_REASONS: Final = {404: "Not Found", 405: "Method Not Allowed"}
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def error_pages(emu: HubSpotEmulator) -> Mapping[int, ExceptionHandler]:
    """Starlette exception handlers: unknown paths and methods answer HubSpot's HTML pages."""

    async def page(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        reason = _REASONS.get(status, "Server Error")
        headers = {"X-HubSpot-Correlation-Id": emu.correlation_id()}
        if isinstance(exc, HTTPException) and exc.headers:
            headers.update(exc.headers)
        body = _PAGE.format(status=status, reason=reason, uri=html.escape(request.url.path))
        response = HTMLResponse(body, status_code=status, headers=headers)
        response.headers["content-type"] = "text/html;charset=utf-8"
        return response

    return {status: page for status in _REASONS}


def new_correlation_id(rng_bits: int) -> str:
    return str(uuid.UUID(int=rng_bits, version=4))
