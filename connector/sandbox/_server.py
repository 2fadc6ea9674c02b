"""Serve an ASGI app under uvicorn on a background thread, on loopback, optionally over TLS."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["ServerThread"]

_START_TIMEOUT_SECONDS = 15.0


class _QuietServer(uvicorn.Server):
    # Signals belong to whoever owns the process (the CLI or pytest), never to a sandbox thread.
    def install_signal_handlers(self) -> None:
        return None


def _listening(host: str, port: int) -> socket.socket:
    # Name the protocol: asyncio only sets TCP_NODELAY on accepted connections when the
    # listening socket says IPPROTO_TCP. Without it Nagle's algorithm adds ~40 ms to every
    # request/response pair on loopback.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """One uvicorn server on ``host:port`` (0 = a free port) running on a daemon thread.

    The sockets are bound before the thread starts, so ``.port`` and ``.url`` are known at once.
    ``extra_ports`` are more sockets serving the same app (``.ports`` lists them all, ``.port``
    first): the Salesforce emulator answers as its login host on one and as the org's instance
    on the other, telling them apart by the socket a request came in on.
    ``max_request_head`` raises h11's cap on the request line plus headers (16 KiB by default,
    past which uvicorn answers a bare 400 before the app sees the request), so an emulator can
    answer an over-long URL the way its real API does. ``start()`` returns when uvicorn accepts
    connections; ``stop()`` asks it to finish and joins.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_ports: Sequence[int] = (),
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        name: str = "sandbox",
        max_request_head: int | None = None,
    ) -> None:
        self._sockets: list[socket.socket] = []
        try:
            for wanted in (port, *extra_ports):
                self._sockets.append(_listening(host, wanted))
        except OSError:
            for sock in self._sockets:
                sock.close()
            raise
        self.host = host
        self.ports: tuple[int, ...] = tuple(s.getsockname()[1] for s in self._sockets)
        self.port: int = self.ports[0]
        self.scheme = "https" if ssl_certfile else "http"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
            h11_max_incomplete_event_size=max_request_head,
        )
        self._server = _QuietServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": self._sockets}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``https://127.0.0.1:54321``."""
        return self.url_for(self.port)

    def url_for(self, port: int) -> str:
        """Base URL of one of ``.ports``."""
        return f"{self.scheme}://{self.host}:{port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("sandbox server thread exited during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        # Clients keep connections alive; do not wait for them to hang up.
        self._server.force_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()
