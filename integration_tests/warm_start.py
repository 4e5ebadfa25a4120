"""Starts the end-to-end tests' connector runs warm: each run is still a process of its own, with its own command line,
environment, working directory, stdin, stdout, stderr and exit code, and dies to SIGKILL as any process does; but it
is forked from a process that has already imported the connector, instead of starting Python anew. Importing
airbyte-cdk costs about a second of CPU, and the end-to-end tests start a couple of hundred runs.

One forking process serves each test process, started at its first run. Run as a script, this module is that process.
"""

import atexit
import importlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import IO, List, Mapping, Optional

# What the connector's process would be run as: `python -m source_stripe.run`, from the repository's root.
ENTRY_MODULE = "source_stripe.run"
REPOSITORY = Path(__file__).resolve().parents[1]


class WarmProcess:
    """A connector run forked by the forking process."""

    def __init__(self, pid: int, status: IO[bytes]) -> None:
        self.pid, self._status = pid, status
        self.killed = False
        self.returncode: Optional[int] = None

    def kill(self) -> None:
        self.killed = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self) -> int:
        """Its exit code, written by the run as it exits; a run killed before it could is -9, as subprocess says."""
        if self.returncode is None:
            said = self._status.read()
            self._status.close()
            if said:
                self.returncode = int(said)
            elif self.killed:
                self.returncode = -signal.SIGKILL
            else:
                raise RuntimeError(f"connector run {self.pid} died without an exit code")
        return self.returncode


class Forker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._address: Optional[str] = None

    def start(self, args: List[str], stdout: IO, stderr: IO, stdin: IO) -> WarmProcess:
        """Runs the connector with `args`, its output going to `stdout` and `stderr` (files or pipes' write ends)."""
        status_read, status_write = os.pipe()
        request = json.dumps({"args": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(self._server())
            socket.send_fds(connection, [request], [stdin.fileno(), stdout.fileno(), stderr.fileno(), status_write])
            os.close(status_write)
            pid = int(connection.makefile().readline())
        return WarmProcess(pid, os.fdopen(status_read, "rb"))

    def _server(self) -> str:
        with self._lock:
            if self._address is None:
                directory = tempfile.mkdtemp(prefix="warm-start-")
                address = os.path.join(directory, "socket")
                server = subprocess.Popen(
                    [sys.executable, "-m", "integration_tests.warm_start", address], stdin=subprocess.DEVNULL, cwd=REPOSITORY
                )
                atexit.register(server.kill)
                ready = os.path.join(directory, "ready")
                while not os.path.exists(ready):
                    if server.poll() is not None:
                        raise RuntimeError("the forking process for connector runs did not start")
                    threading.Event().wait(0.01)
                self._address = address
            return self._address


FORKER = Forker()


def start(args: List[str], stdout: IO, stderr: IO, stdin: IO) -> WarmProcess:
    return FORKER.start(args, stdout, stderr, stdin)


def _serve(address: str) -> None:
    entry = importlib.import_module(ENTRY_MODULE)
    # Forked runs are reaped by the system; each run sets its own handling back.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(16)
    open(os.path.join(os.path.dirname(address), "ready"), "w").close()
    while True:
        connection, _ = server.accept()
        request, fds, _, _ = socket.recv_fds(connection, 1 << 20, 4)
        pid = os.fork()
        if pid == 0:
            server.close()
            connection.close()
            _run(entry, json.loads(request), fds)
        for fd in fds:
            os.close(fd)
        connection.sendall(f"{pid}\n".encode())
        connection.close()


def _run(entry: ModuleType, request: Mapping, fds: List[int]) -> None:
    """In the forked process: becomes the run `request` describes, and never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    stdin, stdout, stderr, status = fds
    for fd, standard in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, standard)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # found again from this run's TMPDIR
    random.seed()
    sys.argv = [entry.__file__, *request["args"]]
    code = 1
    try:
        entry.run()
        code = 0
    except SystemExit as exited:
        # As Python exits on SystemExit: None is 0, a number is the code, anything else is printed and means 1.
        code = 0 if exited.code is None else exited.code if isinstance(exited.code, int) else 1
        if not isinstance(exited.code, (int, type(None))):
            print(exited.code, file=sys.stderr)
    except BaseException:
        sys.excepthook(*sys.exc_info())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(status, str(code).encode())
        os._exit(code)


if __name__ == "__main__":
    _serve(sys.argv[1])
