"""The Bulk API 1.0 resources under ``/services/async/{version}/`` (see :mod:`.bulk1`).

Each call passes the emulator's pipeline in Bulk 1.0 terms: latency, ``X-SFDC-Session`` (HTTP
400 ``InvalidSessionId`` when missing or expired), the daily API allocation (``ExceededQuota``),
then an injected fault rendered with the REST error code as its ``exceptionCode``. Errors are
JSON when the request's ``Content-Type`` is JSON, XML otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from connector.sandbox.salesforce._versions import served
from connector.sandbox.salesforce.bulk1 import Bulk1Error, error_response, render, render_list

if TYPE_CHECKING:
    from connector.sandbox.salesforce.app import SalesforceEmulator

__all__ = ["ASYNC_ROUTES", "guarded"]

AsyncHandler = Callable[["SalesforceEmulator", Request, bool], Awaitable[Response]]


def _wants_json(request: Request) -> bool:
    return "json" in request.headers.get("content-type", "").lower()


async def guarded(
    emulator: SalesforceEmulator, request: Request, handler: AsyncHandler, *, on_login_host: bool
) -> Response:
    """Run one Bulk 1.0 call through the pipeline; answer its errors in Bulk 1.0 shapes."""
    as_json = _wants_json(request)
    try:
        if not served(str(request.path_params.get("version", ""))):
            raise Bulk1Error("InvalidUrl", "Invalid api version specified on URL")
        refusal = await emulator.admit(
            request.headers.get("x-sfdc-session", ""), on_login_host=on_login_host
        )
        if refusal is not None:
            status, code, message = refusal
            if code == "INVALID_SESSION_ID":
                raise Bulk1Error("InvalidSessionId", "Invalid session id")
            if code == "REQUEST_LIMIT_EXCEEDED":
                raise Bulk1Error("ExceededQuota", message)
            raise Bulk1Error(code, message, status)
        return await handler(emulator, request, as_json)
    except Bulk1Error as error:
        return error_response(error, as_json)


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name])


async def create_job(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    job = emulator.bulk1.create(await request.body(), _param(request, "version"), as_json)
    return render("jobInfo", job.info(as_json), as_json, status=201)


async def job(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    job_id = _param(request, "job_id")
    if request.method == "POST":
        found = emulator.bulk1.set_state(job_id, await request.body(), as_json)
    else:
        found = emulator.bulk1.job(job_id)
    return render("jobInfo", found.info(as_json), as_json)


async def batches(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    found = emulator.bulk1.job(_param(request, "job_id"))
    if request.method == "POST":
        batch = emulator.bulk1.add_batch(
            found.id, await request.body(), emulator.injector.plan.bulk_processing_seconds
        )
        return render("batchInfo", batch.info(found.answers_json), found.answers_json, status=201)
    infos = [
        emulator.bulk1.batch(found.id, batch_id).info(found.answers_json)
        for batch_id in list(found.batches)
    ]
    return render_list("batchInfoList", "batchInfo", infos, found.answers_json)


async def batch(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    found = emulator.bulk1.job(_param(request, "job_id"))
    info = emulator.bulk1.batch(found.id, _param(request, "batch_id")).info(found.answers_json)
    return render("batchInfo", info, found.answers_json)


async def results(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    found = emulator.bulk1.job(_param(request, "job_id"))
    batch_info = emulator.bulk1.batch(found.id, _param(request, "batch_id"))
    if batch_info.state != "Completed":
        raise Bulk1Error("InvalidBatch", f"Batch not completed: {batch_info.state}")
    return render_list("result-list", "result", batch_info.result_ids(), found.answers_json)


async def result(emulator: SalesforceEmulator, request: Request, as_json: bool) -> Response:
    found = emulator.bulk1.job(_param(request, "job_id"))
    batch_info = emulator.bulk1.batch(found.id, _param(request, "batch_id"))
    return emulator.bulk1.result_file(found, batch_info, _param(request, "result_id"))


_ASYNC = "/services/async/{version:str}"
ASYNC_ROUTES: tuple[tuple[str, tuple[str, ...], AsyncHandler], ...] = (
    (f"{_ASYNC}/job", ("POST",), create_job),
    (f"{_ASYNC}/job/{{job_id:str}}", ("GET", "POST"), job),
    (f"{_ASYNC}/job/{{job_id:str}}/batch", ("GET", "POST"), batches),
    (f"{_ASYNC}/job/{{job_id:str}}/batch/{{batch_id:str}}", ("GET",), batch),
    (f"{_ASYNC}/job/{{job_id:str}}/batch/{{batch_id:str}}/result", ("GET",), results),
    (f"{_ASYNC}/job/{{job_id:str}}/batch/{{batch_id:str}}/result/{{result_id:str}}", ("GET",),
     result),
)  # fmt: skip
