"""sObject Collections: create, update and upsert up to 200 records in one call."""

from __future__ import annotations

from typing import Any, Final

from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce.writes import Change, Writer

__all__ = ["MAX_RECORDS", "collection_write"]

MAX_RECORDS: Final = 200
_ROLLED_BACK: Final = SfError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)


def _records(body: Any) -> tuple[list[dict[str, Any]], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SfError("JSON_PARSER_ERROR", "The request body must hold a records array")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        # What Salesforce answers for a 201-record collection (HTTP 400, whole request refused).
        raise SfError(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    if not all(isinstance(record, dict) for record in records):
        raise SfError("JSON_PARSER_ERROR", "Each record must be a JSON object")
    return records, bool(body.get("allOrNone", False))


def _type_of(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(sobject, str) or not sobject:
        raise SfError("INVALID_TYPE", "Must send a concrete entity type.")
    return sobject


def _prepare(
    writer: Writer,
    operation: str,
    record: dict[str, Any],
    sobject: str | None,
    external_field: str | None,
    allow_duplicates: bool,
) -> tuple[Change, bool | None]:
    if operation == "upsert" and sobject is not None and external_field is not None:
        attributes = record.get("attributes")
        declared = attributes.get("type") if isinstance(attributes, dict) else None
        if declared is not None and str(declared).lower() != sobject.lower():
            raise SfError("INVALID_TYPE", "Must send a concrete entity type.")
        return writer.prepare_upsert(
            sobject, external_field, None, record, allow_duplicates=allow_duplicates
        )
    record_type = _type_of(record)
    if operation == "create":
        return writer.prepare_create(record_type, record, allow_duplicates=allow_duplicates), None
    record_id = record.get("id", record.get("Id"))
    if not isinstance(record_id, str) or not record_id:
        raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",))
    return writer.prepare_update(record_type, record_id, record), None


def _failure(error: SfError, record: dict[str, Any], operation: str) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.record_error()]}
    record_id = record.get("id", record.get("Id"))
    if operation == "update" and isinstance(record_id, str):
        result = {"id": record_id} | result
    if operation == "upsert":
        result["created"] = False
    return result


def _success(record_id: str, created: bool | None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result


def collection_write(
    writer: Writer,
    operation: str,
    body: Any,
    *,
    sobject: str | None = None,
    external_field: str | None = None,
    allow_duplicates: bool = False,
) -> list[dict[str, Any]]:
    """Results in request order; ``operation`` is ``create``, ``update`` or ``upsert``.
    ``allow_duplicates`` is the duplicate rule header's allowSave.

    Raises :class:`SfError` only for a malformed or oversized request (HTTP 400); per-record
    failures are results with ``success: false`` (HTTP 200).
    """
    records, all_or_none = _records(body)
    if operation == "upsert" and sobject is not None and external_field is not None:
        spec = writer.spec(sobject)
        field = spec.field(external_field)
        if field is None or not field.external_id:
            raise SfError(
                "INVALID_FIELD",
                f"Field name provided, {external_field} is not an External ID or indexed field "
                f"for {spec.name}",
            )
    results: list[dict[str, Any]] = []
    if not all_or_none:
        with writer.store.lock:
            for record in records:
                try:
                    change, created = _prepare(
                        writer, operation, record, sobject, external_field, allow_duplicates
                    )
                    row = writer.apply(change)
                except SfError as error:
                    results.append(_failure(error, record, operation))
                    continue
                results.append(_success(row["Id"], created))
        return results
    with writer.store.lock:
        prepared: list[tuple[Change, bool | None] | SfError] = []
        for record in records:
            try:
                prepared.append(
                    _prepare(writer, operation, record, sobject, external_field, allow_duplicates)
                )
            except SfError as error:
                prepared.append(error)
        if any(isinstance(item, SfError) for item in prepared):
            return [
                _failure(item if isinstance(item, SfError) else _ROLLED_BACK, record, operation)
                for item, record in zip(prepared, records, strict=True)
            ]
        for item in prepared:
            assert not isinstance(item, SfError)
            change, created = item
            results.append(_success(writer.apply(change)["Id"], created))
    return results
