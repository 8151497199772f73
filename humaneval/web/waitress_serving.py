"""Serving a WSGI app on waitress from a background thread, with the limits that let it survive hostile clients.

Not werkzeug's development server: waitress reads requests on one event-loop thread and hands a request to
a worker thread only once it has fully arrived, so a client that sends half a request holds no worker; it
closes connections idle for `read_timeout_s`, stops accepting beyond `max_connections`, and stops reading a
body at twice `max_request_bytes`. Each worker thread then blocks on its model's batcher while the
batcher's single worker thread owns the model; `worker_threads` bounds how many requests wait there at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from waitress.server import TcpWSGIServer, create_server

from humaneval.input_errors import InputError
from humaneval.web.addresses import is_loopback

logger = logging.getLogger(__name__)


@dataclass
class RunningServer:
    """A server listening in a background thread (tests, benchmarks, `serve`)."""

    server: TcpWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        host = str(self.server.effective_host)
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{shown}]:{self.port}" if ":" in shown else f"http://{shown}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Client connections open now, half-sent requests and idle keep-alives included (≤ max_connections)."""
        return len(self.server.active_channels)

    def stop(self) -> None:
        """Stop the worker threads (letting running requests finish for up to 5 s), then close every socket.

        Sockets are closed by waitress's event-loop thread, which owns them; with none left its loop returns.
        """
        if not self.thread.is_alive():
            return
        self.server.task_dispatcher.shutdown(timeout=5)
        try:
            self.server.trigger.pull_trigger(self._close_sockets)
        except OSError as err:  # the wake-up pipe is closed already: the loop is ending on its own
            logger.info("server loop already closing (%s); waiting for it to end", err)
        self.thread.join(10)

    def _close_sockets(self) -> None:
        for channel in list(self.server.active_channels.values()):
            channel.handle_close()
        self.server.close()  # the listening socket and the loop's wake-up pipe


@dataclass(frozen=True)
class ServerLimits:
    """What one server holds at most (each server's config documents its defaults)."""

    max_request_bytes: int
    read_timeout_s: int
    max_connections: int
    worker_threads: int


def serve_app(app: Any, *, host: str, port: int, token_required: bool, limits: ServerLimits,
              name: str = "http-server") -> RunningServer:
    """Serve the WSGI `app` from a background thread; port 0 picks a free port (see `.port`).

    `token_required` says whether `app` demands a token: one that does not may only listen on loopback."""
    if not token_required and not is_loopback(host):
        raise InputError(f"refusing to listen on {host!r} without a bearer token", field="host")
    server = create_server(app, **waitress_settings(host, port, max_request_bytes=limits.max_request_bytes,
                                                    read_timeout_s=limits.read_timeout_s,
                                                    max_connections=limits.max_connections,
                                                    worker_threads=limits.worker_threads))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    logger.info("listening on %s:%s (token %s; at most %d connections, idle ones closed after %d s, %d worker "
                "threads)", host, server.effective_port, "required" if token_required else "not required",
                limits.max_connections, limits.read_timeout_s, limits.worker_threads)
    return RunningServer(server, thread)


def waitress_settings(host: str, port: int, *, max_request_bytes: int, read_timeout_s: int, max_connections: int,
                      worker_threads: int) -> dict[str, Any]:
    """waitress's adjustments for our limits; each comment is what waitress 3.0.2's source really does."""
    ipv6 = ":" in host
    return {
        "host": host,
        "port": port,
        # One address family, as before: "localhost" would otherwise bind ::1 too (with port 0, another port).
        "ipv4": not ipv6,
        "ipv6": ipv6,
        # Tasks run only once their request has fully arrived: slow senders hold a connection, never a thread.
        "threads": worker_threads,
        # Compared with every socket in waitress's loop, its own listening socket and wake-up pipe included.
        # At the limit it stops accepting; further clients wait in the kernel's listen queue.
        "connection_limit": max_connections + 2,
        # Closes a connection with no request in progress after this long without receiving or sending
        # (half-sent requests and idle keep-alives alike), checked every `cleanup_interval` (whole seconds).
        "channel_timeout": read_timeout_s,
        "cleanup_interval": 1,
        # A hard stop on reading, counted on the wire (chunk framing included): waitress answers 413 in plain
        # text and closes the connection. Bodies below it reach the app, which answers 413 (JSON) for any
        # de-chunked body over max_request_bytes; the margin keeps the app's exact limit for chunked bodies.
        "max_request_body_size": 2 * max_request_bytes,
        "asyncore_use_poll": True,  # select() cannot watch file descriptors above 1023
        "ident": "humaneval",
    }
