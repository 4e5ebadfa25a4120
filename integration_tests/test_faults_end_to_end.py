"""Syncs of the real entry point while the sandbox misbehaves as Stripe and networks do.

Transient faults (server errors, resets, truncated or slow answers, a storm of rate limits) are retried, a bounded
number of times, each retry logged with its reason: a full sync and an incremental sync running through them end
equal to Stripe. A key that loses a permission or is revoked mid-sync fails the sync with a config error; its last
state lets a later sync, with the permission back or a new key, lose nothing.
"""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Tuple

import pytest

from integration_tests.connector_process import (
    ALL_STREAMS,
    ConnectorRun,
    assert_destination_equals_stripe,
    assert_equals_truth,
    read_until_killed,
    run_connector,
    what_the_destination_keeps,
)
from integration_tests.test_incremental_end_to_end import (
    assert_deleted_objects_are_gone,
    assert_resumed_sync_loses_nothing,
    change_every_table,
    change_some_objects_with_events,
    arrange_objects_to_change,
    live_config,
)
from source_stripe.client import OWN_ACCOUNT
from source_stripe.components import JitteredExponentialBackoff
from source_stripe.tables import read_manifest
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end

MAX_RETRIES = read_manifest()["definitions"]["max_retries_per_request"]
# Twice as long as the retry budget lasts at the first backoff's pace: as many retries at a steady pace would give up
# inside the storm, where doubling waits (here up to the fifth, 8-16 s) outlast it; the whole budget spans minutes.
STORM_SECONDS = 2 * MAX_RETRIES * JitteredExponentialBackoff.base_seconds
RETRY_LINE = re.compile(r"^(?P<stream>\w+): retry (?P<attempt>\d+) of (?P<request>.+) after a (?P<wait>[\d.]+) s backoff, because (?P<reason>.+)\.$")


@dataclass(frozen=True)
class TransientFault:
    knobs: Mapping[str, Any]
    reason: str  # what the retry log gives as the reason, a regular expression
    config: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 60  # the longest either sync may take


TRANSIENT_FAULTS = {
    "5%_of_answers_are_500_502_503": TransientFault({"fault_5xx": 0.05}, r"Stripe answered 50[023]"),
    "connections_reset_mid_body": TransientFault(
        {"fault_reset": 0.05}, r"the connection broke before the whole body arrived|the connection failed or was reset"
    ),
    "truncated_bodies": TransientFault(
        {"fault_truncate": 0.05}, r"body cut off or not in Stripe's shape|the connection broke before the whole body arrived"
    ),
    "answers_slower_than_the_client_timeout": TransientFault(
        {"fault_slow": 0.05, "slow_seconds": 3}, r"Stripe sent nothing within the timeout", config={"read_timeout_seconds": 1}
    ),
    # Every request for STORM_SECONDS gets a 429: each one backs off (0.5-1, 1-2, 2-4, 4-8, 8-16 s) until it is over.
    "a_storm_of_429s_longer_than_steady_retries_last": TransientFault({"storm_seconds": STORM_SECONDS}, r"Stripe answered 429", seconds=120),
}


@pytest.fixture
def sandbox():
    # Unlimited rate, so the only 429s are those of the storm.
    with Sandbox(seed=4, size=800, orders_api=True, rate_limit_live=0) as running:
        yield running


def timed(sync: Callable[[], ConnectorRun]) -> Callable[[], Tuple[ConnectorRun, float]]:
    def run() -> Tuple[ConnectorRun, float]:
        started = time.monotonic()
        return sync(), time.monotonic() - started

    return run


def retries_logged(*runs: ConnectorRun) -> list:
    return [match for run in runs for log in run.logs if (match := RETRY_LINE.match(log["message"]))]


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_a_full_and_an_incremental_sync_through_transient_faults_end_equal_to_stripe(sandbox, record_property, fault):
    case = TRANSIENT_FAULTS[fault]
    config = live_config(sandbox, **case.config)
    recent = arrange_objects_to_change(sandbox)
    truth = sandbox.truth(mode="live")

    sandbox.set_knobs(**case.knobs)
    with ThreadPoolExecutor(2) as pool:
        full = pool.submit(timed(lambda: run_connector("read", config)))
        first = pool.submit(timed(lambda: run_connector("read", config, incremental=True)))
        (full, full_seconds), (first, first_seconds) = full.result(), first.result()
    # The storm is over by now; the other faults go on through changes in every table and the sync that reads them.
    deleted = change_every_table(sandbox, recent)
    sandbox.advance_clock(3600)
    second, second_seconds = timed(lambda: run_connector("read", config, incremental=True, state=first.final_state()))()

    for run, seconds in ((full, full_seconds), (first, first_seconds), (second, second_seconds)):
        assert run.exit_code == 0, run.errors or run.stderr[-3000:]
        assert run.errors == []
        assert seconds < case.seconds
    assert_equals_truth(full, truth)
    destination = what_the_destination_keeps(first.records, second.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert_deleted_objects_are_gone(destination, sandbox, deleted)

    retries = retries_logged(full, first, second)
    assert retries, "the fault never happened"
    record_property(
        "connector",
        f"{len(retries)} retries logged (at most {max(int(r['attempt']) for r in retries)} for one request), e.g. "
        f"\"{retries[0].string}\"; full sync {full_seconds:.0f} s, incremental syncs {first_seconds:.0f} s and "
        f"{second_seconds:.0f} s, all equal to Stripe",
    )
    assert all(re.search(case.reason, retry["reason"]) for retry in retries), {retry["reason"] for retry in retries}
    assert all(retry["stream"] in (*ALL_STREAMS, OWN_ACCOUNT) for retry in retries)
    assert max(int(retry["attempt"]) for retry in retries) <= MAX_RETRIES


# -- a key that loses its rights mid-sync ---------------------------------------------------------------------------


def at_the_first_record(action: Callable[[], None]) -> Callable[[Mapping[str, Any]], bool]:
    """A `kill_when` for read_until_killed that never kills: at the first RECORD it does `action` to the sandbox,
    while the sync goes on to meet it."""
    done = [False]

    def watch(message: Mapping[str, Any]) -> bool:
        if message["type"] == "RECORD" and not done[0]:
            done[0] = True
            action()
        return False

    return watch


def failure_types(run: ConnectorRun) -> set:
    return {
        message["trace"]["error"]["failure_type"]
        for message in map(json.loads, run.stdout.splitlines())
        if message["type"] == "TRACE" and message["trace"]["type"] == "ERROR"
    }


ALL_BUT_SETUP_INTENTS = [table for table in ALL_STREAMS if table != "setup_intents"]


@dataclass(frozen=True)
class LostRights:
    take_away: Callable[[Sandbox], Any]
    error: str  # in the sync's errors
    resume_with_key: str  # the key the next sync runs with (after the same key's rights return, or a new key)


LOST_RIGHTS = {
    "a_restricted_key_loses_a_permission": LostRights(
        lambda sandbox: sandbox.set_key_permissions(keys.RESTRICTED_LIVE, ALL_BUT_SETUP_INTENTS),
        'grant the key "SetupIntents: Read"',
        keys.RESTRICTED_LIVE,
    ),
    "the_key_is_revoked": LostRights(
        lambda sandbox: sandbox.revoke_key(keys.RESTRICTED_LIVE),
        "Stripe rejected the API key: it is invalid or was revoked",
        keys.SECRET_LIVE,
    ),
}


def assert_failed_cleanly(run: ConnectorRun, expected_error: str, record_property: Callable[[str, str], None]) -> None:
    record_property("connector", f"exit {run.exit_code}: {next(e for e in run.errors if expected_error in e)} / {run.errors[-1]}")
    assert run.exit_code == 1, run.stderr[-3000:]
    assert any(expected_error in error for error in run.errors), run.errors
    assert run.errors[-1].startswith("The sync did not finish: "), run.errors[-1]
    assert len(set(run.errors)) == len(run.errors), "each error is said once"
    assert failure_types(run) == {"config_error"}
    assert "Traceback" not in run.stderr
    assert {state["stream"]["stream_descriptor"]["name"] for state in run.states} == set(ALL_STREAMS)


@pytest.fixture
def slow_sandbox(sandbox):
    """Answers take 20-40 ms, so a sync that sends two at a time (`restricted_key_config`) still has many to send when the
    key changes under it."""
    sandbox.set_knobs(latency_ms=30, latency_jitter_ms=10)
    yield sandbox


def restricted_key_config(sandbox):
    return live_config(sandbox, api_key=keys.RESTRICTED_LIVE, max_concurrency=2)


@pytest.mark.parametrize("loss", LOST_RIGHTS)
def test_a_full_sync_that_loses_its_key_fails_cleanly_and_the_next_one_is_whole(slow_sandbox, record_property, loss):
    case = LOST_RIGHTS[loss]
    config = restricted_key_config(slow_sandbox)

    failed = read_until_killed(config, at_the_first_record(lambda: case.take_away(slow_sandbox)), incremental=False)

    assert_failed_cleanly(failed, case.error, record_property)
    slow_sandbox.reset_keys()
    next_sync = run_connector("read", {**config, "api_key": case.resume_with_key})
    assert next_sync.exit_code == 0, next_sync.errors
    assert_equals_truth(next_sync, slow_sandbox.truth(mode="live"))


@pytest.mark.parametrize("loss", LOST_RIGHTS)
def test_an_incremental_sync_that_loses_its_key_fails_cleanly_and_the_next_one_resumes_losing_nothing(slow_sandbox, record_property, loss):
    case = LOST_RIGHTS[loss]
    config = restricted_key_config(slow_sandbox)

    failed = read_until_killed(config, at_the_first_record(lambda: case.take_away(slow_sandbox)))

    assert_failed_cleanly(failed, case.error, record_property)
    # Not change_every_table: the sandbox goes on listing usage summaries of a deleted subscription item, which
    # no sync that had not read them before can find.
    deleted = change_some_objects_with_events(slow_sandbox)
    slow_sandbox.advance_clock(3600)
    slow_sandbox.reset_keys()
    resumed = run_connector("read", {**config, "api_key": case.resume_with_key}, incremental=True, state=failed.final_state())
    assert resumed.exit_code == 0, resumed.errors
    assert_resumed_sync_loses_nothing(slow_sandbox, slow_sandbox.truth(mode="live"), failed, resumed, deleted)
