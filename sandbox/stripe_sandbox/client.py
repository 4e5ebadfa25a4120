"""Python entry points for tests: run a sandbox in a thread or a subprocess and drive its admin API."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import fields
from typing import IO, Any
from urllib.parse import urlencode

from .faults import Knobs
from .keys import KEYS
from .server import SandboxServer
from .state import SandboxState


class AdminClient:
    """Helpers over the /_sandbox/ HTTP API, shared by the in-thread and subprocess sandboxes."""

    url: str
    keys = dict(KEYS)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        query = {name: value for name, value in query.items() if value is not None}
        target = f"{self.url}/_sandbox/{path}" + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(target, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", {}).get("message", "")
            raise RuntimeError(f"sandbox admin {method} {path} failed ({error.code}): {detail}") from None

    def info(self) -> dict[str, Any]:
        return self._call("GET", "info")

    @property
    def platform_account(self) -> str:
        return self.info()["platform_account"]

    @property
    def connected_accounts(self) -> list[str]:
        return self.info()["connected_accounts"]

    def connect_account(self, name: str, size: int = 30) -> str:
        """A new connected account, with a year of history; its id."""
        return self._call("POST", "accounts", {"name": name, "size": size})["id"]

    def set_account_access(self, account: str, access: bool) -> dict[str, Any]:
        """False: the connected account disconnects (Stripe refuses the platform's requests for it, 403
        account_invalid); True: it grants access again."""
        return self._call("POST", f"accounts/{account}", {"access": access})

    # -- data -----------------------------------------------------------------------------------

    def create(self, table: str, *, mode: str = "test", account: str | None = None, **fields: Any) -> dict[str, Any]:
        return self._call("POST", f"objects/{table}", fields, mode=mode, account=account)

    def update(
        self, table: str, object_id: str, *, mode: str = "test", account: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self._call("POST", f"objects/{table}/{object_id}", fields, mode=mode, account=account)

    def delete(self, table: str, object_id: str, *, mode: str = "test", account: str | None = None) -> dict[str, Any]:
        return self._call("DELETE", f"objects/{table}/{object_id}", mode=mode, account=account)

    def truth(self, *, mode: str = "test", account: str | None = None) -> dict[str, list[dict[str, Any]]]:
        return self._call("GET", "truth", mode=mode, account=account)

    def deleted(self, *, mode: str = "test", account: str | None = None) -> dict[str, list[str]]:
        return self._call("GET", "truth/deleted", mode=mode, account=account)

    def versions(self, *, mode: str = "test", account: str | None = None) -> dict[str, dict[str, int]]:
        return self._call("GET", "truth/versions", mode=mode, account=account)

    # -- clock, stats, knobs, keys --------------------------------------------------------------

    @property
    def now(self) -> int:
        return self._call("GET", "clock")["now"]

    def advance_clock(self, seconds: int) -> int:
        return self._call("POST", "clock", {"advance_seconds": seconds})["now"]

    def set_clock(self, now: int) -> int:
        return self._call("POST", "clock", {"now": now})["now"]

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def reset_stats(self) -> dict[str, Any]:
        return self._call("POST", "stats/reset")

    def set_knobs(self, **knobs: Any) -> dict[str, Any]:
        """Any Knobs field, plus storm_seconds=N to answer every request with 429 for N seconds."""
        return self._call("POST", "knobs", knobs)

    def set_key_permissions(self, key: str, tables: list[str]) -> dict[str, Any]:
        return self._call("POST", "keys", {"key": key, "tables": list(tables)})

    def revoke_key(self, key: str, revoked: bool = True) -> dict[str, Any]:
        return self._call("POST", "keys", {"key": key, "revoked": revoked})

    def reset_keys(self) -> dict[str, Any]:
        return self._call("POST", "keys", {"reset": True})


class Sandbox(AdminClient):
    """A sandbox server on a free loopback port in a background thread of this process.

    with Sandbox(seed=42, size=3000, rate_limit_test=0) as sb:
        requests.get(f"{sb.url}/v1/customers", headers={"Authorization": f"Bearer {sb.keys['secret_test']}"})
    """

    def __init__(self, seed: int = 42, size: int = 3000, now: int | None = None, sellers: int = 0, **knobs: Any):
        self.state = SandboxState(seed=seed, size=size, now=now, knobs=Knobs(**knobs), sellers=sellers)
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def spawn(cls, seed: int = 42, size: int = 3000, now: int | None = None, **knobs: Any) -> SandboxProcess:
        return SandboxProcess(seed=seed, size=size, now=now, **knobs)

    def start(self) -> Sandbox:
        self.state.dataset(self.state.platform.id, "test")
        self._server = SandboxServer(self.state)
        self.url = self._server.url
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        serve = lambda: self._server.serve_forever(poll_interval=0.05)  # noqa: E731
        self._thread = threading.Thread(target=serve, name="stripe-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SandboxProcess(AdminClient):
    """The same sandbox in a child process (`python -m stripe_sandbox --port 0`), for tests that need
    the server outside the test process, e.g. to kill it or to keep it off the test's GIL."""

    def __init__(
        self,
        seed: int = 42,
        size: int = 3000,
        now: int | None = None,
        startup_timeout: float = 120,
        port: int = 0,
        sellers: int = 0,
        **knobs: Any,
    ):
        known = {knob.name for knob in fields(Knobs)}
        unknown = set(knobs) - known
        if unknown:
            raise TypeError(f"unknown knobs: {sorted(unknown)}")
        command = [sys.executable, "-m", "stripe_sandbox", "--port", str(port), "--seed", str(seed), "--size", str(size), "--sellers", str(sellers)]
        if now is not None:
            command += ["--now", str(now)]
        for name, value in knobs.items():
            flag = name.replace("_", "-")
            command += (
                [f"--{flag}" if value else f"--no-{flag}"] if isinstance(value, bool) else [f"--{flag}", str(value)]
            )
        self.command = command
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def start(self) -> SandboxProcess:
        # stderr goes to a file, not a pipe nobody drains, so a chatty child can never block on it.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = ""
        if "listening on " not in line:
            stderr, self._stderr = self._stderr, None
            self.stop()
            with stderr:
                stderr.seek(0)
                raise RuntimeError(f"stripe-sandbox did not start: {stderr.read()[-2000:]}")
        self.url = line.rsplit("listening on ", 1)[1].strip()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
