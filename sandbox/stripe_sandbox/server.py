"""HTTP plumbing: a threaded HTTP/1.1 server that adds Stripe's headers, latency and injected faults."""

from __future__ import annotations

import random
import socket
import struct
import sys
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import jsonio
from .admin import AdminApi
from .api import Response, StripeApi
from .realism import ALNUM
from .faults import RESET, SERVER_ERROR, SLOW, TRUNCATE
from .state import SandboxState

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

SERVER_ERRORS = (
    # (status, message, whether Stripe marks it safe to retry)
    (500, "An unknown error occurred", True),
    (502, "Bad gateway: the request could not reach Stripe's API servers.", False),
    (503, "Stripe is temporarily unavailable. Please retry your request.", True),
)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True  # a stalled "slow" response must not keep the process alive
    request_queue_size = 256  # tens of clients may connect at once

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0):
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the sandbox only listens on loopback, not {host!r}")
        if host == "::1":
            self.address_family = socket.AF_INET6
        self.state = state
        self.api = StripeApi(state)
        self.admin = AdminApi(state)
        self.request_ids = random.Random(f"stripe-sandbox/requests/{state.seed}")
        super().__init__((host, port), Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up (timeouts, injected resets) are part of the job, not server errors.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[::1]' if host == '::1' else host}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connectors reuse connections while paging
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK (~40 ms a response).
    disable_nagle_algorithm = True
    server: SandboxServer

    def version_string(self) -> str:
        return "nginx"  # what Stripe's API answers with

    def log_message(self, format: str, *args: object) -> None:
        pass  # a few hundred requests a second would drown the console; /_sandbox/stats counts them

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.state.now if timestamp is None else timestamp, usegmt=True)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if split.path.startswith("/_sandbox/"):
            status, payload = self.server.admin.handle(self.command, split.path, split.query, body)
            self._send(status, jsonio.dumps(payload), {})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.api.handle(self.command, split.path, split.query, headers)
        self._respond_to_api(response)

    def _respond_to_api(self, response: Response) -> None:
        state = self.server.state
        faults = state.faults
        delay = faults.latency()
        kind, variant = (None, 0.0) if response.status == 429 else faults.pick()
        if delay:
            time.sleep(delay)
        headers = {"Stripe-Version": state.spec.api_version, **response.headers}
        if kind == SERVER_ERROR:
            status, message, retry = SERVER_ERRORS[min(int(variant * 3), 2)]
            if retry:
                headers["Stripe-Should-Retry"] = "true"
            state.stats.record(response.route, status)
            self._send(status, jsonio.dumps({"error": {"type": "api_error", "message": message}}), headers)
            return
        body = jsonio.dumps(response.body)
        if kind == SLOW:
            time.sleep(state.knobs.slow_seconds)
        if kind == RESET:
            state.stats.record(response.route, "reset")
            self._send(response.status, body, headers, cut=len(body) // 2, reset=True)
        elif kind == TRUNCATE and variant < 0.5:
            state.stats.record(response.route, "truncated")
            self._send(response.status, body, headers, cut=len(body) // 2)
        elif kind == TRUNCATE:
            # The other way a body arrives broken: complete as announced, but not valid JSON.
            state.stats.record(response.route, "invalid_json")
            self._send(response.status, body[: len(body) // 2], headers)
        else:
            state.stats.record(response.route, response.status)
            self._send(response.status, body, headers)

    def _send(
        self, status: int, body: bytes, headers: dict[str, str], *, cut: int | None = None, reset: bool = False
    ) -> None:
        """Send a JSON response. With `cut`, announce the full length but stop after `cut` bytes and
        close the connection: abruptly (RST) when `reset`, else with a normal FIN."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_" + "".join(self.server.request_ids.choices(ALNUM, k=14)))
            self.send_header("Cache-Control", "no-cache, no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body if cut is None else body[:cut])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if cut is not None:
            self.close_connection = True
            if reset:
                self._reset_connection()

    def _reset_connection(self) -> None:
        # A zero linger time makes close() send RST instead of FIN, as a dying proxy would. The
        # socket only really closes once the request reader (a file over it) lets go of it.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
