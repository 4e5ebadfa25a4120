"""Runs the real `source-stripe` entry point in a process of its own and sorts what it printed, for end-to-end tests."""

import json
import os
import subprocess
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set

from source_stripe.accounts import ACCOUNT_FIELD
from source_stripe.client import ACCOUNTS_PATH, EVENTS_PATH
from source_stripe.tables import manifest_tables, table_names

from integration_tests import warm_start

ALL_STREAMS = table_names()
EVENTS_TABLE = next(table.name for table in manifest_tables() if table.path == EVENTS_PATH)
ACCOUNTS_TABLE = next(table.name for table in manifest_tables() if table.path == ACCOUNTS_PATH)
LISTED_PER_PARENT = {table.name: table.parent for table in manifest_tables() if table.parent and not table.parent.embedded_in}
# What a key without "Events: Read" can sync: every table but the events themselves.
ALL_BUT_EVENTS = [table for table in ALL_STREAMS if table != EVENTS_TABLE]


@dataclass
class ConnectorRun:
    exit_code: int
    stdout: str
    stderr: str
    records: Dict[str, List[Dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    errors: List[str] = field(default_factory=list)
    logs: List[Mapping[str, Any]] = field(default_factory=list)
    states: List[Mapping[str, Any]] = field(default_factory=list)
    connection_status: Optional[Mapping[str, Any]] = None

    def ids(self, stream: str) -> List[str]:
        return [record["id"] for record in self.records[stream]]

    def final_state(self) -> List[Mapping[str, Any]]:
        """The last state message of each stream, as the platform would pass it to the next sync."""
        latest = {state["stream"]["stream_descriptor"]["name"]: state for state in self.states}
        return list(latest.values())


def configured_catalog(streams: Sequence[str] = ALL_STREAMS, incremental: bool = False) -> Dict[str, Any]:
    mode = "incremental" if incremental else "full_refresh"
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": mode,
                "cursor_field": ["observed_at"] if incremental else None,
                "primary_key": [["id"]],
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
            }
            for name in streams
        ]
    }


SECRETS_IN_IMAGE = "/secrets"


def docker_run(image: str, secrets_dir: str) -> List[str]:
    """How Airbyte runs a connector image, with its files under /secrets. The host network lets the container reach
    a sandbox listening on the host's loopback address."""
    return ["docker", "run", "--rm", "--network", "host", "-v", f"{secrets_dir}:{SECRETS_IN_IMAGE}:ro", image]


def run_connector(
    command: str,
    config: Mapping[str, Any],
    streams: Sequence[str] = ALL_STREAMS,
    state: Optional[Any] = None,
    incremental: bool = False,
    timeout: float = 600,
    image: Optional[str] = None,
) -> ConnectorRun:
    """Runs the entry point, or with `image` that Docker image, on files written for this run."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {"config": config} if command != "spec" else {}
        if command == "read":
            files["catalog"] = configured_catalog(streams, incremental)
            if state is not None:
                files["state"] = state
        if image:
            # The image runs as an unprivileged user, who must be able to read the mounted files.
            Path(tmp).chmod(0o755)
            args, files_dir = docker_run(image, tmp) + [command], SECRETS_IN_IMAGE
        else:
            args, files_dir = [command], tmp
        for name, content in files.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(content))
            path.chmod(0o644)
            args += [f"--{name}", f"{files_dir}/{name}.json"]
        if image:
            finished = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        else:
            finished = _run_warm(args, timeout)
    return _sorted(finished)


def _run_warm(args: List[str], timeout: float) -> subprocess.CompletedProcess:
    """`source-stripe <args>` run to its end, as subprocess.run would (TimeoutExpired after `timeout` seconds)."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr, open(os.devnull) as stdin:
        process = warm_start.start(args, stdout, stderr, stdin)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            exit_code = process.wait()
        finally:
            watchdog.cancel()
        if process.killed:
            raise subprocess.TimeoutExpired(args, timeout)
        stdout.seek(0)
        stderr.seek(0)
        return subprocess.CompletedProcess(args, exit_code, stdout.read(), stderr.read())


def _sorted(finished: subprocess.CompletedProcess) -> ConnectorRun:
    run = ConnectorRun(finished.returncode, finished.stdout, finished.stderr)
    for line in finished.stdout.splitlines():
        message = json.loads(line)
        kind = message["type"]
        if kind == "RECORD":
            run.records[message["record"]["stream"]].append(message["record"]["data"])
        elif kind == "TRACE" and message["trace"]["type"] == "ERROR":
            run.errors.append(message["trace"]["error"]["message"])
        elif kind == "LOG":
            run.logs.append(message["log"])
        elif kind == "STATE":
            run.states.append(message["state"])
        elif kind == "CONNECTION_STATUS":
            run.connection_status = message["connectionStatus"]
    return run


def after_records(count: int) -> Callable[[Mapping[str, Any]], bool]:
    """A `kill_when` for read_until_killed: true at the `count`th RECORD message."""
    seen = [0]

    def reached(message: Mapping[str, Any]) -> bool:
        seen[0] += message["type"] == "RECORD"
        return seen[0] >= count

    return reached


def read_until_killed(
    config: Mapping[str, Any],
    kill_when: Callable[[Mapping[str, Any]], bool],
    streams: Sequence[str] = ALL_STREAMS,
    state: Optional[Any] = None,
    incremental: bool = True,
    timeout: float = 600,
) -> ConnectorRun:
    """Starts `read` and SIGKILLs it as soon as `kill_when` holds for a message it printed, as when the machine running
    a sync dies. The run holds only the lines read until then, that message included (exit code -9); if the connector
    finishes first, all of them."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile(mode="w+") as stderr:
        files = {"config": config, "catalog": configured_catalog(streams, incremental)}
        if state is not None:
            files["state"] = state
        args = ["read"]
        for name, content in files.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(content))
            args += [f"--{name}", str(path)]
        output, output_end = os.pipe()
        with open(output_end, "w") as writes, open(os.devnull) as stdin:
            process = warm_start.start(args, writes, stderr, stdin)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        lines = []
        try:
            with open(output) as printed:
                for line in printed:
                    lines.append(line)
                    if kill_when(json.loads(line)):
                        process.kill()
                        break
        finally:
            watchdog.cancel()
            exit_code = process.wait()
        stderr.seek(0)
        return _sorted(subprocess.CompletedProcess(args, exit_code, "".join(lines), stderr.read()))


CONNECTOR_FIELDS = ("observed_at", "is_deleted", ACCOUNT_FIELD)


def as_destination_sees_it(record: Mapping[str, Any]) -> Dict[str, Any]:
    """The Stripe object a record carries. airbyte-cdk's serializer leaves out top-level null fields, which a
    destination stores as NULL anyway; the connector's own fields are compared by the tests that pin them."""
    return {name: value for name, value in record.items() if value is not None and name not in CONNECTOR_FIELDS}


def assert_equals_truth(run: ConnectorRun, truth: Mapping[str, Sequence[Mapping[str, Any]]], streams: Sequence[str] = ALL_STREAMS) -> None:
    for stream in streams:
        synced = sorted(map(as_destination_sees_it, run.records[stream]), key=lambda record: record["id"])
        expected = sorted(map(as_destination_sees_it, truth[stream]), key=lambda record: record["id"])
        assert [record["id"] for record in synced] == [record["id"] for record in expected], stream
        assert synced == expected, f"{stream}: a record differs from the sandbox's current object"


@dataclass
class Destination:
    """What an Airbyte destination in append-dedup mode holds: per stream and id, the record kept."""

    kept: Dict[str, Dict[str, Dict[str, Any]]]

    def rows(self, stream: str) -> List[Dict[str, Any]]:
        """The stream's table as users see it: deleted objects' rows are dropped."""
        return [record for record in self.kept.get(stream, {}).values() if not record.get("is_deleted")]

    def deleted_ids(self, stream: str) -> Set[str]:
        return {id_ for id_, record in self.kept.get(stream, {}).items() if record.get("is_deleted")}

    def of_account(self, account: str) -> "Destination":
        """The rows read from one Stripe account, as a warehouse query filtering on account_id sees them."""
        return Destination({stream: {i: r for i, r in rows.items() if r[ACCOUNT_FIELD] == account} for stream, rows in self.kept.items()})


def what_the_destination_keeps(*syncs: Mapping[str, Sequence[Mapping[str, Any]]]) -> Destination:
    """Deduplicates the records of syncs (each: stream → records in the order emitted, as ConnectorRun.records),
    given oldest sync first: per id the record with the highest `observed_at` wins, on ties the one emitted last."""
    kept: Dict[str, Dict[str, Dict[str, Any]]] = defaultdict(dict)
    for records in syncs:
        for stream, stream_records in records.items():
            table = kept[stream]
            for record in stream_records:
                current = table.get(record["id"])
                if current is None or record["observed_at"] >= current["observed_at"]:
                    table[record["id"]] = dict(record)
    return Destination(dict(kept))


def assert_destination_equals_stripe(
    destination: Destination, truth: Mapping[str, Sequence[Mapping[str, Any]]], streams: Sequence[str] = ALL_STREAMS
) -> None:
    for stream in streams:
        rows = destination.rows(stream)
        if stream == EVENTS_TABLE and truth[stream]:
            # Stripe lists the last 30 days; the destination keeps the events that aged out since it read them.
            oldest = min(event["created"] for event in truth[stream])
            rows = [event for event in rows if event["created"] >= oldest]
        expected = truth[stream]
        link = LISTED_PER_PARENT.get(stream)
        if link:
            # No list shows the rows of a parent Stripe deleted (a deleted customer's payment methods): a destination
            # has them if it read them before, as the user guide says. They are left out on both sides.
            parents = {parent["id"] for parent in truth[link.table]}
            rows = [row for row in rows if row.get(link.key) in parents]
            expected = [row for row in expected if row.get(link.key) in parents]
        kept = sorted(map(as_destination_sees_it, rows), key=lambda record: record["id"])
        expected = sorted(map(as_destination_sees_it, expected), key=lambda record: record["id"])
        kept_ids, expected_ids = [r["id"] for r in kept], [r["id"] for r in expected]
        assert kept_ids == expected_ids, (
            f"{stream}: missing {sorted(set(expected_ids) - set(kept_ids))[:10]}, "
            f"extra {sorted(set(kept_ids) - set(expected_ids))[:10]}"
        )
        differing = [k["id"] for k, e in zip(kept, expected) if k != e]
        assert not differing, f"{stream}: the destination holds an outdated version of {differing[:10]}"


def committed_records(run: ConnectorRun) -> Dict[str, List[Dict[str, Any]]]:
    """What a destination commits of a sync that died or failed: each stream's records up to its last STATE message."""
    pending: Dict[str, List[Dict[str, Any]]] = {}
    committed: Dict[str, List[Dict[str, Any]]] = {}
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            pending.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            committed.setdefault(stream, []).extend(pending.pop(stream, []))
    return committed


def states_by_stream(*state_lists: Sequence[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    """The state the platform passes to the next sync: the last message of each stream, later lists winning."""
    latest: Dict[str, Mapping[str, Any]] = {}
    for states in state_lists:
        latest.update({state["stream"]["stream_descriptor"]["name"]: state for state in states})
    return list(latest.values())
