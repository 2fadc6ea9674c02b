"""Serve an ASGI app under uvicorn on a background thread, on loopback, optionally over TLS."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["ServerThread"]

_START_TIMEOUT_SECONDS = 15.0


class _QuietServer(uvicorn.Server):
    # Signals belong to whoever owns the process (the CLI or pytest), never to a sandbox thread.
    def install_signal_handlers(self) -> None:
        return None


class ServerThread:
    """One uvicorn server on ``host:port`` (0 = a free port) running on a daemon thread.

    The socket is bound before the thread starts, so ``.port`` and ``.url`` are known at once.
    ``start()`` returns when uvicorn accepts connections; ``stop()`` asks it to finish and joins.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        name: str = "sandbox",
    ) -> None:
        # Name the protocol: asyncio only sets TCP_NODELAY on accepted connections when the
        # listening socket says IPPROTO_TCP. Without it Nagle's algorithm adds ~40 ms to every
        # request/response pair on loopback.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
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
        )
        self._server = _QuietServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``https://127.0.0.1:54321``."""
        return f"{self.scheme}://{self.host}:{self.port}"

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
        self._socket.close()
