"""Incremental pulls: people (REST ``queryAll`` pages, or Bulk 2.0 for large backfills) and
their activity, streamed page by page."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from simple_salesforce.api import Salesforce

from connector.crm.salesforce import _soql
from connector.crm.salesforce._client import SalesforceClient
from connector.crm.salesforce._records import (
    activity_record,
    coerce_csv,
    parse_datetime,
    person_record,
)
from connector.crm.types import (
    ActivityRecord,
    Cursor,
    DeletedLog,
    DeletedRecord,
    ObjectSchema,
    Page,
    RawRecord,
)
from connector.errors import FatalApiError, System

__all__ = ["pull_activity", "pull_deleted", "pull_people"]

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID_CHUNK = 200  # keeps the IN list, and so the URL, far below 16 KB
_BULK_PAGE = 10_000  # rows per results call: ceil(rows / 10,000) calls
_PAGE = 2_000  # records per page handed on, whatever the source's page: memory stays flat
_BULK_TERMINAL = frozenset({"JobComplete", "Failed", "Aborted"})


def _query_pages(
    client: SalesforceClient, soql: str, object_type: str
) -> Iterator[list[dict[str, Any]]]:
    """``queryAll`` pages, following ``nextRecordsUrl``; each page is one API call."""
    page = client.call(lambda sf: sf.query(soql, include_deleted=True), object_type=object_type)
    while True:
        yield list(page.get("records") or ())
        next_url = page.get("nextRecordsUrl")
        if page.get("done", True) or not next_url:
            return
        page = client.call(_more(str(next_url)), object_type=object_type)


def _more(url: str) -> Callable[[Salesforce], Any]:
    def fetch(sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True, include_deleted=True)

    return fetch


def _json(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FatalApiError(System.SALESFORCE, "unexpected answer from the Bulk API")
    return value


def pull_people(
    client: SalesforceClient,
    object_type: str,
    fields: Sequence[str],
    since: Cursor | None,
    run_start: datetime,
    *,
    lookback: timedelta,
    bulk_threshold: int,
    schema: Callable[[], ObjectSchema],
    sleep: Callable[[float], None],
) -> Iterator[Page]:
    if object_type not in _soql.PEOPLE_SYSTEM_FIELDS:
        raise FatalApiError(System.SALESFORCE, f"not a person object: {object_type}")
    start = None if since is None else since.watermark - lookback
    if since is None:
        count_soql = _soql.count_query(object_type, start, run_start)
        total = client.call(
            lambda sf: sf.query(count_soql, include_deleted=True), object_type=object_type
        )
        if int(total.get("totalSize") or 0) > bulk_threshold:
            logger.info("backfilling %s with Bulk API 2.0", object_type)
            soql = _soql.people_query(object_type, fields, start, run_start, ordered=False)
            yield from _bulk_pages(client, object_type, soql, run_start, schema(), sleep)
            return
    soql = _soql.people_query(object_type, fields, start, run_start)
    cursor = since or Cursor(watermark=EPOCH)
    # Salesforce treats datetimes at second precision: within one second rows may come back in
    # Id order whatever their milliseconds, so "never go backwards" on (stamp, Id) would drop
    # rows. De-duplicate by Id within the current second instead (bounded memory).
    second: datetime | None = None
    seen: set[str] = set()
    for rows in _query_pages(client, soql, object_type):
        records: list[RawRecord] = []
        for row in rows:
            record = person_record(object_type, row)
            bucket = record.modified_at.replace(microsecond=0)
            if bucket != second:
                second, seen = bucket, set()
            if record.id in seen:
                continue  # already emitted in this pull
            seen.add(record.id)
            records.append(record)
            cursor = cursor.after(record)
        yield Page(records=tuple(records), cursor=cursor)
    yield Page(records=(), cursor=Cursor(watermark=run_start), done=True)


def read_people(
    client: SalesforceClient, object_type: str, fields: Sequence[str], ids: Sequence[str]
) -> list[RawRecord]:
    """People by id, 200 per query; ids Salesforce does not hold are left out."""
    if object_type not in _soql.PEOPLE_SYSTEM_FIELDS:
        raise FatalApiError(System.SALESFORCE, f"not a person object: {object_type}")
    records: list[RawRecord] = []
    for chunk in _chunks(ids):
        soql = _soql.people_by_ids_query(object_type, fields, chunk)
        for rows in _query_pages(client, soql, object_type):
            records.extend(person_record(object_type, row) for row in rows)
    return records


def _bulk_pages(
    client: SalesforceClient,
    object_type: str,
    soql: str,
    run_start: datetime,
    schema: ObjectSchema,
    sleep: Callable[[float], None],
) -> Iterator[Page]:
    """A Bulk 2.0 ``queryAll`` job. Rows come unordered, so pages keep the backfill's starting
    cursor until the job is read to the end; an interrupted backfill starts over."""
    job = _json(
        client.call(
            lambda sf: sf.restful(
                "jobs/query",
                method="POST",
                json={
                    "operation": "queryAll",
                    "query": soql,
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                },
            ),
            object_type=object_type,
        )
    )
    job_id = str(job["id"])
    delay = 0.5
    state = str(job.get("state", ""))
    while state not in _BULK_TERMINAL:
        sleep(delay)
        delay = min(delay * 2, 2.0)
        info = _json(
            client.call(lambda sf: sf.restful(f"jobs/query/{job_id}"), object_type=object_type)
        )
        state = str(info.get("state", ""))
    if state != "JobComplete":
        raise FatalApiError(
            System.SALESFORCE, f"Bulk API query job ended {state}", object_type=object_type
        )
    hold = Cursor(watermark=EPOCH)
    seen_last: str | None = None
    locator: str | None = None
    while True:
        params: dict[str, Any] = {"maxRecords": _BULK_PAGE}
        if locator:
            params["locator"] = locator
        response = client.raw(
            "GET", f"jobs/query/{job_id}/results", params=params, headers={"Accept": "text/csv"}
        )
        locator = response.headers.get("Sforce-Locator")
        # Kept whole, NUL bytes included: Salesforce stores and returns them (a pasted value),
        # REST reads them as they are, and Python 3.11's csv reads them. Dropped here, a backfill
        # read "Ada\x00Lovelace" as "AdaLovelace" and the next REST read saw an edit (issue 18).
        text = response.content.decode("utf-8")
        del response
        records: list[RawRecord] = []
        for row in csv.DictReader(io.StringIO(text)):
            typed = coerce_csv(row, schema)
            if typed.get("Id") == seen_last:
                continue
            records.append(person_record(object_type, typed))
            seen_last = typed.get("Id")
            if len(records) == _PAGE:
                yield Page(records=tuple(records), cursor=hold)
                records = []
        if records:
            yield Page(records=tuple(records), cursor=hold)
        if not locator or locator == "null":
            break
    yield Page(records=(), cursor=Cursor(watermark=run_start), done=True)


_DELETE_LOG_DAYS = 15  # getDeleted reaches 15 days back at most (reference §1.6)


def pull_deleted(
    client: SalesforceClient, object_type: str, start: datetime, end: datetime
) -> DeletedLog | None:
    """getDeleted for ``[start, end)``: the ids of records deleted in the window, even those
    emptied from the recycle bin since (``queryAll`` no longer returns them).

    Salesforce truncates both bounds to the minute and wants them more than a minute apart;
    a shorter window is not asked (``None``: the caller keeps its cursor). A window starting
    before ``earliestDateAvailable`` (the log was purged, or it starts more than 15 days ago)
    is answered incomplete, so the caller checks its linked records by id instead.
    """
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    floor = end - timedelta(days=_DELETE_LOG_DAYS) + timedelta(minutes=1)
    asked = start.astimezone(UTC).replace(second=0, microsecond=0)
    begin = max(asked, floor)
    if end - begin <= timedelta(minutes=1):
        return None
    params = {"start": begin.isoformat(), "end": end.isoformat()}
    answer = client.call(
        lambda sf: sf.restful(f"sobjects/{object_type}/deleted/", params=params),
        object_type=object_type,
    )
    if not isinstance(answer, dict):
        raise FatalApiError(
            System.SALESFORCE, "getDeleted answered nothing", object_type=object_type
        )
    records = tuple(
        DeletedRecord(
            object_type=object_type,
            id=str(item["id"]),
            deleted_at=parse_datetime(item.get("deletedDate")) or end,
        )
        for item in answer.get("deletedRecords") or ()
        if item.get("id")
    )
    earliest = answer.get("earliestDateAvailable")
    covered = answer.get("latestDateCovered")
    purged_to = parse_datetime(earliest)
    return DeletedLog(
        records=records,
        covered_to=parse_datetime(covered) or end,
        complete=asked >= floor and (purged_to is None or purged_to <= begin),
    )


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for index in range(0, len(unique), _ID_CHUNK):
        yield unique[index : index + _ID_CHUNK]


def pull_activity(
    client: SalesforceClient,
    person_ids: Sequence[str],
    start: datetime | None,
    run_start: datetime,
) -> Iterator[ActivityRecord]:
    """Task, Event and CampaignMember rows changed in the window, and the opportunity roles
    (with their opportunity's stage) changed in it, whoever they are attached to; plus, when
    the window is not everything, the older activity and current roles of ``person_ids``
    (records seen for the first time: a Lead that was ambiguous until now has its history).

    Window queries cost ``ceil(rows / 2000)`` pages per object, against a page or more per
    object per 200 people for ``IN`` lists; rows of people the caller does not know are its to
    drop.
    """
    seen: set[tuple[str, str]] = set()
    keep = start is not None and bool(person_ids)  # ids to skip when the IN lists run

    def fresh(object_type: str, rows: Iterable[dict[str, Any]]) -> Iterator[ActivityRecord]:
        for row in rows:
            key = (object_type, str(row.get("Id")))
            if key not in seen:
                if keep:
                    seen.add(key)
                yield activity_record(object_type, row)

    for object_type in ("Task", "Event"):
        soql = _soql.activity_query(object_type, None, start, run_start)
        for rows in _query_pages(client, soql, object_type):
            yield from fresh(object_type, rows)
    soql = _soql.campaign_member_query(None, start, run_start)
    for rows in _query_pages(client, soql, "CampaignMember"):
        yield from fresh("CampaignMember", rows)
    soql = _soql.changed_roles_query(start, run_start)
    for rows in _query_pages(client, soql, "OpportunityContactRole"):
        yield from fresh("OpportunityContactRole", rows)
    if not keep:
        return
    for object_type in ("Task", "Event"):
        for chunk in _chunks(person_ids):
            soql = _soql.activity_query(object_type, chunk, None, run_start)
            for rows in _query_pages(client, soql, object_type):
                yield from fresh(object_type, rows)
    for chunk in _chunks(person_ids):
        soql = _soql.campaign_member_query(chunk, None, run_start)
        for rows in _query_pages(client, soql, "CampaignMember"):
            yield from fresh("CampaignMember", rows)
    for chunk in _chunks([i for i in person_ids if i.startswith("003")]):
        for rows in _query_pages(client, _soql.roles_query(chunk), "OpportunityContactRole"):
            yield from fresh("OpportunityContactRole", rows)
