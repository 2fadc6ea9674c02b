"""The Salesforce emulator: state, request pipeline and control endpoints, as one ASGI app.

Every API call (``/services/data/...``) passes the same pipeline, in this order: count it in
:class:`~connector.sandbox.stats.CallStats`; add the configured latency; expire sessions when the
fault plan says so; check the bearer token (401 ``INVALID_SESSION_ID``); check and spend the daily
allocation (403 ``REQUEST_LIMIT_EXCEEDED`` once spent); inject a seeded fault (503
``SERVER_UNAVAILABLE``, 500 ``UNKNOWN_EXCEPTION``...); run the resource. Every answer carries
``Sforce-Limit-Info: api-usage=N/M``. The token endpoint, SOAP ``login()`` and
``/__sandbox__/*`` spend nothing. Bulk API 1.0 (``/services/async/...``) passes the same steps
in its own error shapes (:mod:`.asyncapi`). In front of it all, :class:`._edge.EdgeLimits`
refuses over-long URIs (414) and headers (431); an unknown path or method is Salesforce's JSON
error list (``NOT_FOUND``, ``METHOD_NOT_ALLOWED``), counted in the stats as ``/{path:path}``.

Login host and instance: on a real org the token endpoint lives on ``login.salesforce.com`` (or
the My Domain) and its answer's ``instance_url`` names the org's own host, where every data call
goes; Salesforce answers a session used against another host ``INVALID_SESSION_ID``.
:meth:`SalesforceEmulator.serve_at` gives the emulator such a pair (the runner listens on two
ports): the login URL serves OAuth, SOAP ``login()``, the versions list and the control
endpoints and answers data calls 401; the instance URL serves everything, OAuth included (a My
Domain serves ``/services/oauth2/token`` too). Served on one port only, it is both.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.sandbox.faults import FaultInjector, FaultPlan
from connector.sandbox.salesforce import asyncapi, soap
from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce._edge import EdgeLimits
from connector.sandbox.salesforce._http import Cursors, error_response, json_body, sf_error
from connector.sandbox.salesforce._values import to_18
from connector.sandbox.salesforce._versions import served
from connector.sandbox.salesforce.bulk import BulkJobs
from connector.sandbox.salesforce.bulk1 import Bulk1Jobs
from connector.sandbox.salesforce.convert import Conversion, convert_lead
from connector.sandbox.salesforce.oauth import (
    OAuthError,
    SalesforceCredentials,
    Sessions,
    grant,
    new_credentials,
)
from connector.sandbox.salesforce.routes import ROUTES
from connector.sandbox.salesforce.seeding import seed_store
from connector.sandbox.salesforce.store import SalesforceStore
from connector.sandbox.salesforce.writes import ValidationRule, Writer
from connector.sandbox.seed import DEFAULT_AS_OF, World
from connector.sandbox.stats import CallStats

__all__ = ["DEFAULT_DAILY_LIMIT", "ORG_ID", "SalesforceEmulator"]

DEFAULT_DAILY_LIMIT: Final = 15_000
ORG_ID: Final = to_18("00DDn0000000001")
_VERSION: Final = re.compile(r"^v(\d{2,3}\.\d)$")
_FAULT_BODIES: Final = {
    503: ("SERVER_UNAVAILABLE", "Server unavailable: the service is temporarily unavailable"),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
}

Handler = Callable[["SalesforceEmulator", Request], Awaitable[Response]]
Refusal = tuple[int, str, str]  # HTTP status, errorCode, message


class SalesforceEmulator:
    """A seeded Salesforce org behind a Starlette app (serve ``.app`` over HTTPS).

    ``store`` holds the records, ``stats`` the calls, ``injector`` the fault plan, ``sessions``
    the issued tokens and ``credentials`` what the token endpoint accepts.
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        seed: int = 7,
        faults: FaultPlan | None = None,
        credentials: SalesforceCredentials | None = None,
        workdir: Path | None = None,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
        session_seconds: float = 7200.0,
        validation_rule: ValidationRule | None = None,
    ) -> None:
        self.world = world or World(seed=seed, as_of=DEFAULT_AS_OF, companies=(), people=())
        self.daily_limit = daily_limit
        self.validation_rule = validation_rule if validation_rule is not None else ValidationRule()
        self.stats = CallStats()
        self._initial_faults = faults or FaultPlan()
        self.injector = FaultInjector(self._initial_faults, seed=seed)
        self._lock = threading.Lock()
        self._used = 0
        self._build()
        directory = workdir or Path(tempfile.mkdtemp(prefix="crmsync-sf-"))
        self.credentials = credentials or new_credentials(
            directory, org_id=ORG_ID, user_id=self.store.integration_user_id
        )
        self.sessions = Sessions(ORG_ID, lifetime=session_seconds)
        self._apply_quota(self._initial_faults)
        self.instance_url: str | None = None
        self.login_url: str | None = None
        self._login_port: int | None = None
        starlette = Starlette(
            routes=self._routes(),
            exception_handlers={404: self._unknown, 405: self._unknown},
        )
        self.app = EdgeLimits(starlette, self.stats)

    def _build(self) -> None:
        store = SalesforceStore()
        seed_store(store, self.world)
        self.store = store
        self.writer = Writer(store, self.injector, self.validation_rule)
        self.bulk = BulkJobs(store)
        self.bulk1 = Bulk1Jobs(store)
        self.cursors = Cursors()

    # Python API for tests, benchmarks and the runner.

    def serve_at(self, *, instance_url: str, login_url: str) -> None:
        """Name the org's instance and login URLs (both served by this app, on two ports):
        tokens then point at ``instance_url``, and data calls to ``login_url`` are refused."""
        self.instance_url = instance_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self._login_port = int(self.login_url.rsplit(":", 1)[1])

    def issue_token(self) -> str:
        """A valid access token, as if the token endpoint had been called."""
        return self.sessions.issue()

    def api_usage(self) -> tuple[int, int]:
        """``(used, max)`` of the daily API allocation."""
        with self._lock:
            return self._used, self.daily_limit

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan (restarts its seeded random stream)."""
        self.injector.configure(plan)
        self._apply_quota(plan)

    def _apply_quota(self, plan: FaultPlan) -> None:
        if plan.daily_quota_remaining is not None:
            with self._lock:
                self._used = max(self.daily_limit - plan.daily_quota_remaining, 0)

    def convert_lead(self, lead_id: str, *, create_opportunity: bool = True) -> Conversion:
        """Convert a Lead as ``POST /__sandbox__/convert-lead`` does."""
        return convert_lead(self.store, lead_id, create_opportunity=create_opportunity)

    def reset(self) -> None:
        """Back to the seeded state: records, counters, usage and faults (tokens stay valid)."""
        self._build()
        self.stats.reset()
        with self._lock:
            self._used = 0
        self.set_faults(self._initial_faults)

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /__sandbox__/stats`` answers."""
        used, maximum = self.api_usage()
        return {
            "calls": self.stats.snapshot(),
            "total_calls": self.stats.total(),
            "records": self.store.counts(),
            "api_usage": {"used": used, "max": maximum},
            "faults": self.injector.plan.model_dump(mode="json"),
        }

    # Request pipeline.

    def _on_login_host(self, request: Request) -> bool:
        server = request.scope.get("server")
        return self._login_port is not None and server is not None and server[1] == self._login_port

    def _instance_url(self, request: Request) -> str:
        return self.instance_url or str(request.base_url).rstrip("/")

    async def admit(self, token: str, *, on_login_host: bool = False) -> Refusal | None:
        """The shared steps of every API call: latency, session, allocation, injected fault.
        ``None`` lets the call through (having spent one call of the allocation)."""
        latency = self.injector.latency_seconds()
        if latency:
            await asyncio.sleep(latency)
        if self.injector.session_should_expire():
            self.sessions.revoke_all()
        if on_login_host or not token or not self.sessions.valid(token):
            return 401, "INVALID_SESSION_ID", "Session expired or invalid"
        with self._lock:
            if self._used >= self.daily_limit:
                return 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
            self._used += 1
        status = self.injector.on_call()
        if status is not None:
            code, message = _FAULT_BODIES.get(status, ("UNKNOWN_EXCEPTION", "Injected fault"))
            return status, code, message
        return None

    async def _guarded(self, request: Request, handler: Handler, *, open_route: bool) -> Response:
        version = request.path_params.get("version")
        matched = _VERSION.match(str(version)) if version is not None else None
        if version is not None and (matched is None or not served(matched.group(1))):
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if open_route:
            latency = self.injector.latency_seconds()
            if latency:
                await asyncio.sleep(latency)
        else:
            authorization = request.headers.get("authorization", "")
            token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
            refusal = await self.admit(token, on_login_host=self._on_login_host(request))
            if refusal is not None:
                return error_response(*refusal)
        try:
            return await handler(self, request)
        except SfError as error:
            return sf_error(error, matched.group(1) if matched else "66.0")

    def _api(self, template: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        open_route = template == "/services/data"

        async def endpoint(request: Request) -> Response:
            self.stats.record(request.method, template)
            response = await self._guarded(request, handler, open_route=open_route)
            used, maximum = self.api_usage()
            response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{maximum}"
            return response

        return endpoint

    def _async(
        self, template: str, handler: asyncapi.AsyncHandler
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.stats.record(request.method, template)
            on_login_host = self._on_login_host(request)
            return await asyncapi.guarded(self, request, handler, on_login_host=on_login_host)

        return endpoint

    async def _unknown(self, request: Request, exc: Exception) -> Response:
        """Salesforce's JSON error list for a path (or method) the org does not serve."""
        self.stats.record(request.method, "/{path:path}")
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            return error_response(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
            )
        return error_response(404, "NOT_FOUND", "The requested resource does not exist")

    async def _token(self, request: Request) -> Response:
        self.stats.record("POST", "/services/oauth2/token")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        own = tuple(u for u in (self.login_url, self.instance_url) if u)
        try:
            body = grant(
                form,
                request.headers.get("authorization"),
                credentials=self.credentials,
                sessions=self.sessions,
                instance_url=self._instance_url(request),
                own_urls=own or (str(request.base_url).rstrip("/"),),
            )
        except OAuthError as error:
            return JSONResponse(error.body, status_code=error.status)
        return JSONResponse(body)

    async def _soap(self, request: Request) -> Response:
        self.stats.record("POST", "/services/Soap/u/{version:str}")
        return soap.login(
            await request.body(),
            str(request.path_params["version"]),
            credentials=self.credentials,
            sessions=self.sessions,
            instance_url=self._instance_url(request),
        )

    async def _control_stats(self, request: Request) -> Response:
        return JSONResponse(self.snapshot())

    async def _control_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.set_faults(FaultPlan.model_validate(await request.json()))
            except (ValidationError, ValueError) as exc:
                return JSONResponse({"error": "invalid fault plan", "detail": str(exc)}, 400)
        return JSONResponse(self.injector.plan.model_dump(mode="json"))

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True})

    async def _control_convert(self, request: Request) -> Response:
        try:
            body = await json_body(request)
            if not isinstance(body, dict) or not isinstance(body.get("leadId"), str):
                raise SfError("JSON_PARSER_ERROR", "leadId is required")
            lead_id = body["leadId"]
            done = self.convert_lead(
                to_18(lead_id) if len(lead_id) == 15 else lead_id,
                create_opportunity=bool(body.get("createOpportunity", True)),
            )
        except SfError as error:
            return sf_error(error)
        return JSONResponse(
            {
                "leadId": done.lead_id,
                "accountId": done.account_id,
                "contactId": done.contact_id,
                "opportunityId": done.opportunity_id,
            }
        )

    async def _control_recycle_bin(self, request: Request) -> Response:
        """``{"undelete": [ids]}`` restores rows from the Recycle Bin (as a user on its page
        would); ``{"empty": [ids]}`` empties them from it for good."""
        try:
            body = await json_body(request)
            if not isinstance(body, dict):
                raise SfError("JSON_PARSER_ERROR", "send {undelete: [ids]} or {empty: [ids]}")
            restored = [
                self.writer.undelete(to_18(i) if len(i) == 15 else i)["Id"]
                for i in body.get("undelete") or ()
            ]
            emptied = self.writer.empty_recycle_bin(list(body.get("empty") or ()))
        except SfError as error:
            return sf_error(error)
        return JSONResponse({"undeleted": restored, "emptied": emptied})

    def _routes(self) -> list[Route]:
        routes: list[Route] = []
        for template, methods, handler in ROUTES:
            endpoint = self._api(template, handler)
            # simple-salesforce asks for "query/" and "sobjects/Lead/": serve both spellings
            # rather than redirecting.
            routes.append(Route(template, endpoint, methods=list(methods)))
            routes.append(Route(template + "/", endpoint, methods=list(methods)))
        for template, methods, async_handler in asyncapi.ASYNC_ROUTES:
            routes.append(
                Route(template, self._async(template, async_handler), methods=list(methods))
            )
        routes += [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route("/services/Soap/u/{version:str}", self._soap, methods=["POST"]),
            Route("/__sandbox__/stats", self._control_stats, methods=["GET"]),
            Route("/__sandbox__/faults", self._control_faults, methods=["GET", "POST"]),
            Route("/__sandbox__/reset", self._control_reset, methods=["POST"]),
            Route("/__sandbox__/convert-lead", self._control_convert, methods=["POST"]),
            Route("/__sandbox__/recycle-bin", self._control_recycle_bin, methods=["POST"]),
        ]
        return routes
