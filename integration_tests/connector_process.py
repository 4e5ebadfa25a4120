"""Runs the real `source-stripe` entry point in a subprocess and sorts what it printed, for end-to-end tests."""

import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

ALL_STREAMS = (
    "customers", "products", "prices", "shipping_rates", "subscription_items", "payment_intents", "refunds",
    "disputes", "subscriptions", "setup_intents", "setup_attempts", "order_returns", "usage_record_summaries",
)  # fmt: skip
ENTRY_POINT = [sys.executable, "-m", "source_stripe.run"]


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


def run_connector(
    command: str,
    config: Mapping[str, Any],
    streams: Sequence[str] = ALL_STREAMS,
    state: Optional[Any] = None,
    incremental: bool = False,
    timeout: float = 600,
) -> ConnectorRun:
    with tempfile.TemporaryDirectory() as tmp:
        files = {"config": config}
        if command == "read":
            files["catalog"] = configured_catalog(streams, incremental)
            if state is not None:
                files["state"] = state
        args = list(ENTRY_POINT) + [command]
        for name, content in files.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(content))
            args += [f"--{name}", str(path)]
        finished = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return _sorted(finished)


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
