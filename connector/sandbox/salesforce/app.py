"""The Salesforce emulator: state, request pipeline and control endpoints, as one ASGI app.

Every API call (``/services/data/...``) passes the same pipeline, in this order: count it in
:class:`~connector.sandbox.stats.CallStats`; add the configured latency; expire sessions when the
fault plan says so; check the bearer token (401 ``INVALID_SESSION_ID``); check and spend the daily
allocation (403 ``REQUEST_LIMIT_EXCEEDED`` once spent); inject a seeded fault (503
``SERVER_UNAVAILABLE``, 500 ``UNKNOWN_EXCEPTION``...); run the resource. Every answer carries
``Sforce-Limit-Info: api-usage=N/M``. The token endpoint and ``/__sandbox__/*`` spend nothing.
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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.sandbox.faults import FaultInjector, FaultPlan
from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce._http import Cursors, error_response, json_body, sf_error
from connector.sandbox.salesforce._values import to_18
from connector.sandbox.salesforce.bulk import BulkJobs
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
_VERSION: Final = re.compile(r"^v\d{2,3}\.\d$")
_FAULT_BODIES: Final = {
    503: ("SERVER_UNAVAILABLE", "Server unavailable: the service is temporarily unavailable"),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
}

Handler = Callable[["SalesforceEmulator", Request], Awaitable[Response]]


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
        self.app = Starlette(routes=self._routes())

    def _build(self) -> None:
        store = SalesforceStore()
        seed_store(store, self.world)
        self.store = store
        self.writer = Writer(store, self.injector, self.validation_rule)
        self.bulk = BulkJobs(store)
        self.cursors = Cursors()

    # Python API for tests, benchmarks and the runner.

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

    async def _guarded(self, request: Request, handler: Handler, *, open_route: bool) -> Response:
        latency = self.injector.latency_seconds()
        if latency:
            await asyncio.sleep(latency)
        version = request.path_params.get("version")
        if version is not None and not _VERSION.match(str(version)):
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if not open_route:
            if self.injector.session_should_expire():
                self.sessions.revoke_all()
            authorization = request.headers.get("authorization", "")
            token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
            if not token or not self.sessions.valid(token):
                return error_response(401, "INVALID_SESSION_ID", "Session expired or invalid")
            with self._lock:
                if self._used >= self.daily_limit:
                    return error_response(
                        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                    )
                self._used += 1
            status = self.injector.on_call()
            if status is not None:
                code, message = _FAULT_BODIES.get(status, ("UNKNOWN_EXCEPTION", "Injected fault"))
                return error_response(status, code, message)
        try:
            return await handler(self, request)
        except SfError as error:
            return sf_error(error)

    def _api(self, template: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        open_route = template == "/services/data"

        async def endpoint(request: Request) -> Response:
            self.stats.record(request.method, template)
            response = await self._guarded(request, handler, open_route=open_route)
            used, maximum = self.api_usage()
            response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{maximum}"
            return response

        return endpoint

    async def _token(self, request: Request) -> Response:
        self.stats.record("POST", "/services/oauth2/token")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            body = grant(
                form,
                request.headers.get("authorization"),
                credentials=self.credentials,
                sessions=self.sessions,
                instance_url=str(request.base_url).rstrip("/"),
            )
        except OAuthError as error:
            return JSONResponse(error.body, status_code=error.status)
        return JSONResponse(body)

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
        routes += [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route("/__sandbox__/stats", self._control_stats, methods=["GET"]),
            Route("/__sandbox__/faults", self._control_faults, methods=["GET", "POST"]),
            Route("/__sandbox__/reset", self._control_reset, methods=["POST"]),
            Route("/__sandbox__/convert-lead", self._control_convert, methods=["POST"]),
            Route("/__sandbox__/recycle-bin", self._control_recycle_bin, methods=["POST"]),
        ]
        return routes
