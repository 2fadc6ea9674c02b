"""Salesforce's edge limits on a request's size, in front of the emulator's app.

"In each REST call, the maximum length for the combined URI and headers is 16,384 bytes. A
request exceeding this limit returns a 431 Request Header Fields Too Large error. If the URI
itself exceeds this limit, the request returns a 414 URI Too Long error." (Salesforce App
Limits Cheatsheet, API limits; also the REST status code table,
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
The answer is the web server's, not the API's: an HTML page, ``<h1>Bad Message 414</h1><pre>
reason: URI Too Long</pre>``, as clients quote it (simple-salesforce#271, jsforce#1134,
forcedotcom/SFDX-Data-Move-Utility#189). Refused requests spend no API call and carry no
``Sforce-Limit-Info``; the emulator's stats count them as ``"GET (URI too long)"`` and
``"GET (headers too large)"``.

uvicorn's h11 parser refuses a request head above 16 KiB by itself with a bare 400; the
emulator's server raises that cap (``ServerThread(max_request_head=...)``) so this layer answers.
"""

from __future__ import annotations

from typing import Any, Final

from connector.sandbox.stats import CallStats

__all__ = ["MAX_REQUEST_HEAD", "MAX_URI_BYTES", "EdgeLimits"]

MAX_URI_BYTES: Final = 16_384
#: What the emulator's server lets through to this layer (well above the limits it enforces).
MAX_REQUEST_HEAD: Final = 64 * 1024

Scope = dict[str, Any]
Receive = Any
Send = Any


class EdgeLimits:
    """ASGI middleware answering 414 / 431 for over-long URIs and headers."""

    def __init__(self, app: Any, stats: CallStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uri = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if scope["query_string"]:
            uri += 1  # the "?"
        headers = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if uri > MAX_URI_BYTES:
            await self._refuse(scope, send, 414, "URI Too Long", "URI too long")
        elif uri + headers > MAX_URI_BYTES:
            await self._refuse(
                scope, send, 431, "Request Header Fields Too Large", "headers too large"
            )
        else:
            await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, status: int, reason: str, key: str) -> None:
        self.stats.record(scope["method"], f"({key})")
        body = f"<h1>Bad Message {status}</h1><pre>reason: {reason}</pre>".encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html;charset=iso-8859-1"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
