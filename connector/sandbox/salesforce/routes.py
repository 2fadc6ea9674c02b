"""The REST resources under ``/services/data/vNN.N/``: query, sObjects, collections, Bulk 2.0."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce._http import Cursor, batch_size, error_response, json_body
from connector.sandbox.salesforce._values import format_datetime, json_value, parse_datetime
from connector.sandbox.salesforce._versions import SERVED_VERSIONS, release_label
from connector.sandbox.salesforce.composite import collection_write
from connector.sandbox.salesforce.describe import describe_global, describe_object
from connector.sandbox.salesforce.duplicates import request_allows_save
from connector.sandbox.salesforce.engine import SoqlError, compile_query
from connector.sandbox.salesforce.schema import ObjectSpec

if TYPE_CHECKING:
    from connector.sandbox.salesforce.app import SalesforceEmulator

__all__ = ["ROUTES"]

Handler = Any


def _version(request: Request) -> str:
    return str(request.path_params["version"])[1:]


def _not_found() -> Response:
    return error_response(404, "NOT_FOUND", "The requested resource does not exist")


def _spec(emulator: SalesforceEmulator, request: Request) -> ObjectSpec:
    return emulator.writer.spec(str(request.path_params["sobject"]))


def _allow_duplicates(request: Request) -> bool:
    return request_allows_save(request.headers.get("sforce-duplicate-rule-header"))


def _page(emulator: SalesforceEmulator, request: Request, cursor: Cursor, start: int) -> Response:
    version = _version(request)
    size = batch_size(request)
    rows = cursor.rows
    end = min(start + size, len(rows))
    body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
    if end < len(rows):
        locator = cursor.locator
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    else:
        # Salesforce keeps locators for two days; the emulator forgets a result once its last
        # page is served, so long benchmarks do not pile up row lists.
        emulator.cursors.close(cursor.locator)
    body["records"] = [cursor.compiled.project(row, version) for row in rows[start:end]]
    return JSONResponse(body)


async def query(emulator: SalesforceEmulator, request: Request) -> Response:
    text = request.query_params.get("q")
    if not text:
        return error_response(400, "MALFORMED_QUERY", "A query string is required (q)")
    include_deleted = request.url.path.rstrip("/").endswith("queryAll")
    try:
        compiled = compile_query(text, emulator.store)
    except SoqlError as exc:
        return error_response(400, exc.error_code, exc.message)
    rows = compiled.run(include_deleted=include_deleted)
    if compiled.query.is_count:
        return JSONResponse({"totalSize": len(rows), "done": True, "records": []})
    cursor = Cursor(compiled, rows, emulator.store.ids.new("01g"))
    if len(rows) > batch_size(request):
        emulator.cursors.add(cursor.locator, cursor)
    return _page(emulator, request, cursor, 0)


async def query_more(emulator: SalesforceEmulator, request: Request) -> Response:
    locator, _, start = str(request.path_params["locator"]).rpartition("-")
    cursor = emulator.cursors.get(locator)
    if cursor is None or not start.isdigit():
        return error_response(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(emulator, request, cursor, int(start))


async def limits(emulator: SalesforceEmulator, request: Request) -> Response:
    used, maximum = emulator.api_usage()
    return JSONResponse(
        {
            "DailyApiRequests": {"Max": maximum, "Remaining": max(maximum - used, 0)},
            "DailyBulkApiBatches": {
                "Max": 15000,
                "Remaining": max(15000 - emulator.bulk1.count_batches(), 0),
            },
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - emulator.bulk.count()},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "ConcurrentSyncLongRunningRequests": {"Max": 25, "Remaining": 25},
        }
    )


async def versions(emulator: SalesforceEmulator, request: Request) -> Response:
    """Every version the org serves, oldest first, as ``GET /services/data`` lists them."""
    return JSONResponse(
        [
            {"label": release_label(number), "url": f"/services/data/v{number}", "version": number}
            for number in SERVED_VERSIONS
        ]
    )


async def resources(emulator: SalesforceEmulator, request: Request) -> Response:
    base = f"/services/data/v{_version(request)}"
    names = ("query", "queryAll", "sobjects", "limits", "composite", "jobs")
    return JSONResponse({name: f"{base}/{name}" for name in names})


async def global_describe(emulator: SalesforceEmulator, request: Request) -> Response:
    return JSONResponse(describe_global(_version(request)))


async def describe(emulator: SalesforceEmulator, request: Request) -> Response:
    return JSONResponse(describe_object(_spec(emulator, request), _version(request)))


async def sobject_info(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    full = describe_object(spec, _version(request))
    brief = {key: value for key, value in full.items() if key not in ("fields",)}
    return JSONResponse({"objectDescribe": brief, "recentItems": []})


def _record(spec: ObjectSpec, row: dict[str, Any], version: str, fields: str | None) -> Any:
    names = [f.name for f in spec.fields]
    if fields:
        wanted = [spec.field(name.strip()) for name in fields.split(",") if name.strip()]
        if any(field is None for field in wanted):
            raise SfError("INVALID_FIELD", f"No such column on entity '{spec.name}'")
        names = [field.name for field in wanted if field is not None]
    body: dict[str, Any] = {
        "attributes": {
            "type": spec.name,
            "url": f"/services/data/v{version}/sobjects/{spec.name}/{row['Id']}",
        }
    }
    body.update({name: json_value(row.get(name)) for name in names})
    return body


async def create(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise SfError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    with emulator.store.lock:
        change = emulator.writer.prepare_create(
            spec.name, body, allow_duplicates=_allow_duplicates(request)
        )
        row = emulator.writer.apply(change)
    return JSONResponse({"id": row["Id"], "success": True, "errors": []}, status_code=201)


async def record(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    record_id = str(request.path_params["record_id"])
    try:
        row = emulator.writer.existing(spec, record_id)
    except SfError as error:
        if error.status_code in ("INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID"):
            return _not_found()
        raise
    if request.method == "GET":
        fields = request.query_params.get("fields")
        return JSONResponse(_record(spec, row, _version(request), fields))
    if request.method == "DELETE":
        emulator.writer.delete(spec.name, row["Id"])
        return Response(status_code=204)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise SfError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    with emulator.store.lock:
        emulator.writer.apply(emulator.writer.prepare_update(spec.name, row["Id"], body))
    return Response(status_code=204)


async def by_external_id(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    field_name, value = str(request.path_params["field"]), str(request.path_params["value"])
    if request.method == "GET":
        field = spec.field(field_name)
        if field is None or not field.external_id:
            return _not_found()
        found = emulator.store.table(spec.name).by_external(field.name, value)
        if found is None:
            return _not_found()
        row = emulator.store.table(spec.name).rows[found]
        return JSONResponse(
            _record(spec, row, _version(request), request.query_params.get("fields"))
        )
    body = await json_body(request)
    if not isinstance(body, dict):
        raise SfError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    with emulator.store.lock:
        change, created = emulator.writer.prepare_upsert(
            spec.name, field_name, value, body, allow_duplicates=_allow_duplicates(request)
        )
        row = emulator.writer.apply(change)
    result = {"id": row["Id"], "success": True, "errors": [], "created": created}
    return JSONResponse(result, status_code=201 if created else 200)


def _window(request: Request, days: int) -> tuple[datetime, datetime]:
    """``start`` and ``end`` truncated to the minute, and ``end`` no later than now: the
    ``latestDateCovered`` of an answer is never in the future, so a reader that starts its
    next window there misses nothing written after the call."""
    try:
        start = parse_datetime(request.query_params["start"]).replace(second=0, microsecond=0)
        end = parse_datetime(request.query_params["end"]).replace(second=0, microsecond=0)
    except (KeyError, ValueError) as exc:
        raise SfError(
            "INVALID_REPLICATION_DATE", "start and end must be ISO-8601 datetimes"
        ) from exc
    now = datetime.now(start.tzinfo)
    if end <= start:
        raise SfError("INVALID_REPLICATION_DATE", "start date must be before end date")
    if start < now - timedelta(days=days):
        raise SfError("INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago")
    return start, min(end, now)


async def updated(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    start, end = _window(request, 30)
    with emulator.store.lock:
        ids = [
            row["Id"]
            for row in emulator.store.table(spec.name).rows.values()
            if not row["IsDeleted"] and start <= row["SystemModstamp"] < end
        ]
    return JSONResponse({"ids": ids, "latestDateCovered": format_datetime(end)})


async def deleted(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    start, end = _window(request, 15)
    table = emulator.store.table(spec.name)
    with emulator.store.lock:
        found = [
            {"id": record_id, "deletedDate": format_datetime(when)}
            for record_id, when in table.deleted_log
            if start <= when < end
        ]
    earliest = datetime.now(start.tzinfo) - timedelta(days=15)
    return JSONResponse(
        {
            "deletedRecords": found,
            "earliestDateAvailable": format_datetime(earliest.replace(second=0, microsecond=0)),
            "latestDateCovered": format_datetime(end),
        }
    )


async def collections(emulator: SalesforceEmulator, request: Request) -> Response:
    if request.method == "DELETE":
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if len(ids) > 200:
            raise SfError(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        results: list[dict[str, Any]] = []
        for record_id in ids:
            spec = emulator.writer.spec_for_id(record_id)
            try:
                if spec is None:
                    raise SfError("MALFORMED_ID", f"malformed id {record_id}", ("Id",))
                emulator.writer.delete(spec.name, record_id)
                results.append({"id": record_id, "success": True, "errors": []})
            except SfError as error:
                results.append(
                    {"id": record_id, "success": False, "errors": [error.record_error()]}
                )
        return JSONResponse(results)
    body = await json_body(request)
    operation = "create" if request.method == "POST" else "update"
    results = collection_write(
        emulator.writer, operation, body, allow_duplicates=_allow_duplicates(request)
    )
    return JSONResponse(results)


async def collections_upsert(emulator: SalesforceEmulator, request: Request) -> Response:
    body = await json_body(request)
    results = collection_write(
        emulator.writer,
        "upsert",
        body,
        sobject=str(request.path_params["sobject"]),
        external_field=str(request.path_params["field"]),
        allow_duplicates=_allow_duplicates(request),
    )
    return JSONResponse(results)


async def collections_retrieve(emulator: SalesforceEmulator, request: Request) -> Response:
    spec = _spec(emulator, request)
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    fields = request.query_params.get("fields")
    if not fields:
        raise SfError("MISSING_ARGUMENT", "fields is required")
    out: list[Any] = []
    for record_id in ids:
        try:
            row = emulator.writer.existing(spec, record_id)
        except SfError:
            out.append(None)
            continue
        out.append(_record(spec, row, _version(request), fields))
    return JSONResponse(out)


async def bulk_create(emulator: SalesforceEmulator, request: Request) -> Response:
    job = emulator.bulk.create(
        await json_body(request),
        _version(request),
        emulator.injector.plan.bulk_processing_seconds,
    )
    return JSONResponse(job.info())


async def bulk_job(emulator: SalesforceEmulator, request: Request) -> Response:
    job_id = str(request.path_params["job_id"])
    if request.method == "DELETE":
        emulator.bulk.delete(job_id)
        return Response(status_code=204)
    if request.method == "PATCH":
        body = await json_body(request)
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise SfError("INVALIDJOBSTATE", "Only Aborted can be set on a query job")
        return JSONResponse(emulator.bulk.abort(job_id).info())
    return JSONResponse(emulator.bulk.get(job_id).info())


async def bulk_results(emulator: SalesforceEmulator, request: Request) -> Response:
    job = emulator.bulk.get(str(request.path_params["job_id"]))
    max_records = request.query_params.get("maxRecords")
    chunks, count, locator = emulator.bulk.page(
        job,
        request.query_params.get("locator") or None,
        int(max_records) if max_records and max_records.isdigit() else None,
    )
    headers = {"Sforce-NumberOfRecords": str(count), "Sforce-Locator": locator}
    return StreamingResponse(chunks, media_type="text/csv", headers=headers)


_DATA = "/services/data/{version:str}"
ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    ("/services/data", ("GET",), versions),
    (_DATA, ("GET",), resources),
    (f"{_DATA}/query", ("GET",), query),
    (f"{_DATA}/queryAll", ("GET",), query),
    (f"{_DATA}/query/{{locator:str}}", ("GET",), query_more),
    (f"{_DATA}/queryAll/{{locator:str}}", ("GET",), query_more),
    (f"{_DATA}/limits", ("GET",), limits),
    (f"{_DATA}/sobjects", ("GET",), global_describe),
    (f"{_DATA}/sobjects/{{sobject:str}}/describe", ("GET",), describe),
    (f"{_DATA}/sobjects/{{sobject:str}}/updated", ("GET",), updated),
    (f"{_DATA}/sobjects/{{sobject:str}}/deleted", ("GET",), deleted),
    (f"{_DATA}/sobjects/{{sobject:str}}", ("GET",), sobject_info),
    (f"{_DATA}/sobjects/{{sobject:str}}", ("POST",), create),
    (f"{_DATA}/sobjects/{{sobject:str}}/{{record_id:str}}", ("GET", "PATCH", "DELETE"), record),
    (f"{_DATA}/sobjects/{{sobject:str}}/{{field:str}}/{{value:str}}", ("GET", "PATCH"),
     by_external_id),
    (f"{_DATA}/composite/sobjects", ("POST", "PATCH", "DELETE"), collections),
    (f"{_DATA}/composite/sobjects/{{sobject:str}}", ("GET",), collections_retrieve),
    (f"{_DATA}/composite/sobjects/{{sobject:str}}/{{field:str}}", ("PATCH",), collections_upsert),
    (f"{_DATA}/jobs/query", ("POST",), bulk_create),
    (f"{_DATA}/jobs/query/{{job_id:str}}", ("GET", "PATCH", "DELETE"), bulk_job),
    (f"{_DATA}/jobs/query/{{job_id:str}}/results", ("GET",), bulk_results),
)  # fmt: skip
