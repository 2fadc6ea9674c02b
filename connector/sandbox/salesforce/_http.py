"""HTTP helpers shared by the emulator's routes: error arrays, JSON bodies, query cursors."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connector.sandbox.salesforce._coerce import SfError
from connector.sandbox.salesforce.engine import CompiledQuery
from connector.sandbox.salesforce.store import Row

__all__ = [
    "Cursor",
    "Cursors",
    "batch_size",
    "error_response",
    "json_body",
    "sf_error",
]

# Open locators hold references to their result rows; keep few, and forget finished ones.
MAX_CURSORS: Final = 64


def error_response(
    status: int, error_code: str, message: str, fields: list[str] | None = None
) -> Response:
    """Salesforce's REST error shape: a JSON array of ``{message, errorCode[, fields]}``."""
    item: dict[str, Any] = {"message": message, "errorCode": error_code}
    if fields is not None:
        item["fields"] = fields
    return JSONResponse([item], status_code=status)


def sf_error(error: SfError, version: str = "66.0") -> Response:
    return JSONResponse([error.rest_error(version)], status_code=error.http_status)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SfError("JSON_PARSER_ERROR", "Unexpected character in the request body") from exc


def batch_size(request: Request) -> int:
    """``Sforce-Query-Options: batchSize=N``, clamped to Salesforce's 200..2000 (default 2000)."""
    header = request.headers.get("sforce-query-options", "")
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(200, min(2000, int(value.strip())))
    return 2000


@dataclass
class Cursor:
    """A query result being paged through ``nextRecordsUrl``."""

    compiled: CompiledQuery
    rows: list[Row]
    locator: str


class Cursors:
    """Open query locators, oldest evicted first beyond ``MAX_CURSORS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Cursor] = OrderedDict()

    def add(self, locator: str, cursor: Cursor) -> None:
        with self._lock:
            self._open[locator] = cursor
            while len(self._open) > MAX_CURSORS:
                self._open.popitem(last=False)

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            return self._open.get(locator)

    def close(self, locator: str) -> None:
        with self._lock:
            self._open.pop(locator, None)
