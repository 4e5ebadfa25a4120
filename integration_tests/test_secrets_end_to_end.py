"""The API key never leaves the config: every command, on its happy and its failing paths, with debug logs on, and
killed mid-sync, is run with a recognisable key that must not appear in anything it prints or leaves on disk."""

import json
import tempfile
from typing import Callable, Dict

import pytest

from integration_tests.connector_process import ALL_STREAMS, ConnectorRun, after_records, read_until_killed, run_connector
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end

KEY = keys.RESTRICTED_LIVE
# Stripe's own messages mask a key to its first and last characters; what lies between must never show.
KEY_PARTS = (KEY, KEY[8:-4])


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(seed=9, size=300, orders_api=True, rate_limit_live=0) as running:
        yield running


@pytest.fixture(autouse=True)
def pristine_sandbox(sandbox):
    yield
    sandbox.reset_keys()
    sandbox.set_knobs(fault_5xx=0, fault_reset=0)


@pytest.fixture
def connector_tmp(tmp_path, monkeypatch):
    """The connector's temporary directory, to be searched after it ran (this process keeps its own)."""
    monkeypatch.setattr(tempfile, "tempdir", tempfile.gettempdir())
    directory = tmp_path / "connector-tmp"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    return directory


def config(sandbox, **overrides):
    return {"api_key": KEY, "environment": "live", "api_base_url": sandbox.url, **overrides}


def incremental_twice(sandbox) -> ConnectorRun:
    first = run_connector("read", config(sandbox), incremental=True)
    sandbox.advance_clock(3600)
    second = run_connector("read", config(sandbox), incremental=True, state=first.final_state())
    return ConnectorRun(second.exit_code, first.stdout + second.stdout, first.stderr + second.stderr)


def with_faults(sandbox) -> ConnectorRun:
    sandbox.set_knobs(fault_5xx=0.1, fault_reset=0.1)
    return run_connector("read", config(sandbox))


def with_a_forbidden_table(sandbox) -> ConnectorRun:
    sandbox.set_key_permissions(KEY, [table for table in ALL_STREAMS if table != "disputes"])
    return run_connector("read", config(sandbox))


def with_the_key_revoked(sandbox) -> ConnectorRun:
    sandbox.revoke_key(KEY)
    return run_connector("read", config(sandbox))


def check_with_the_key_revoked(sandbox) -> ConnectorRun:
    sandbox.revoke_key(KEY)
    return run_connector("check", config(sandbox))


COMMANDS: Dict[str, Callable[[Sandbox], ConnectorRun]] = {
    "spec": lambda sandbox: run_connector("spec", {}),
    "check": lambda sandbox: run_connector("check", config(sandbox)),
    "check_with_the_key_revoked": check_with_the_key_revoked,
    "check_with_the_key_of_the_other_mode": lambda sandbox: run_connector("check", config(sandbox, environment="test")),
    "discover": lambda sandbox: run_connector("discover", config(sandbox)),
    "read_full_refresh": lambda sandbox: run_connector("read", config(sandbox)),
    "read_incrementally_then_from_its_state": incremental_twice,
    "read_through_server_errors_and_resets": with_faults,
    "read_with_a_table_the_key_may_not_read": with_a_forbidden_table,
    "read_with_the_key_revoked": with_the_key_revoked,
    "read_with_the_key_pasted_with_a_line_break": lambda sandbox: run_connector("read", config(sandbox, api_key=KEY + "\n")),
    "read_with_a_config_field_wrong": lambda sandbox: run_connector("read", config(sandbox, lookback_window_days="7")),
    "read_killed_mid_sync": lambda sandbox: read_until_killed(config(sandbox), after_records(200)),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_key_appears_in_no_output_log_state_error_or_file(sandbox, connector_tmp, monkeypatch, record_property, command):
    # Debug prints the most: every line info prints, and each request and response besides.
    monkeypatch.setenv("LOG_LEVEL", "debug")

    run = COMMANDS[command](sandbox)

    assert run.stdout, "the command printed nothing"
    assert '"level":"DEBUG"' in run.stdout.replace(" ", ""), "the command printed no debug line"
    printed = run.stdout + run.stderr
    assert not [part for part in KEY_PARTS if part in printed]
    files = [path for path in connector_tmp.rglob("*") if path.is_file()]
    record_property("connector", f"exit {run.exit_code}; the key is in none of the {len(printed)} characters printed and {len(files)} files left")
    assert not [path for path in files if any(part.encode() in path.read_bytes() for part in KEY_PARTS)]


def test_the_spec_marks_the_key_secret():
    (spec,) = [json.loads(line) for line in run_connector("spec", {}).stdout.splitlines() if '"SPEC"' in line]

    assert spec["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True


def test_the_key_of_a_migrated_config_is_only_in_the_control_message_that_hands_the_platform_the_new_config(sandbox):
    earlier_connectors_config = {"client_secret": KEY, "api_base_url": sandbox.url}

    run = run_connector("read", earlier_connectors_config, streams=["customers"])

    assert run.exit_code == 0, run.errors
    carrying_the_key = [json.loads(line)["type"] for line in run.stdout.splitlines() if KEY in line]
    assert carrying_the_key == ["CONTROL"]
    assert KEY not in run.stderr
