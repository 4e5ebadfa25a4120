"""Whole syncs of the real entry point against the local Stripe sandbox, compared with the sandbox's truth."""

import pytest

from integration_tests.connector_process import ALL_STREAMS, EVENTS_TABLE, assert_equals_truth, run_connector
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(seed=11, size=1500, orders_api=True) as running:
        yield running


@pytest.fixture(autouse=True)
def pristine_sandbox(sandbox):
    """Each test starts from the same keys and knobs, whatever the previous one changed."""
    yield
    sandbox.reset_keys()
    sandbox.set_knobs(orders_api=True, storm_seconds=0)


def live_config(sandbox, **overrides):
    return {"api_key": keys.SECRET_LIVE, "environment": "live", "api_base_url": sandbox.url, **overrides}


def test_full_sync_of_every_table_equals_the_sandbox_truth(sandbox):
    run = run_connector("read", live_config(sandbox))

    assert run.exit_code == 0, run.errors
    assert run.errors == []
    assert_equals_truth(run, sandbox.truth(mode="live"))


def test_test_mode_sync_reads_test_data_within_its_rate_limit(sandbox):
    config = {"api_key": keys.SECRET_TEST, "environment": "test", "api_base_url": sandbox.url}
    sandbox.reset_stats()

    run = run_connector("read", config, streams=["customers", "subscriptions", "subscription_items"])

    assert run.exit_code == 0, run.errors
    assert_equals_truth(run, sandbox.truth(mode="test"), ["customers", "subscriptions", "subscription_items"])
    assert all(record["livemode"] is False for record in run.records["customers"])
    assert sandbox.stats()["rate_limited"] == 0


def test_restricted_key_syncs_what_it_may_and_names_each_missing_permission(sandbox):
    sandbox.set_key_permissions(keys.RESTRICTED_LIVE, [t for t in ALL_STREAMS if t not in ("disputes", "refunds")])

    run = run_connector("read", live_config(sandbox, api_key=keys.RESTRICTED_LIVE))

    assert run.exit_code != 0
    readable = [t for t in ALL_STREAMS if t not in ("disputes", "refunds")]
    assert_equals_truth(run, sandbox.truth(mode="live"), readable)
    assert any('"Disputes: Read"' in error and "rak_dispute_read" in error for error in run.errors)
    assert any('"Refunds: Read"' in error and "rak_refund_read" in error for error in run.errors)
    assert "disputes" in run.errors[-1] and "refunds" in run.errors[-1]
    assert len(run.errors) == 3  # each missing permission once, then the sync's end
    assert "Traceback" not in run.stdout + run.stderr


def test_check_with_a_restricted_key_lists_what_to_grant(sandbox):
    sandbox.set_key_permissions(keys.RESTRICTED_LIVE, [t for t in ALL_STREAMS if t not in ("disputes", EVENTS_TABLE)])

    run = run_connector("check", live_config(sandbox, api_key=keys.RESTRICTED_LIVE))

    assert run.connection_status["status"] == "SUCCEEDED"
    assert 'disputes: grant "Disputes: Read"' in run.connection_status["message"]
    assert 'events: grant "Events: Read"' in run.connection_status["message"]


def test_check_succeeds_with_a_secret_key(sandbox):
    run = run_connector("check", live_config(sandbox))

    assert run.connection_status["status"] == "SUCCEEDED"
    assert run.connection_status["message"].startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables of its own account in live mode.")


def test_check_fails_when_the_key_mode_does_not_match_the_environment(sandbox):
    run = run_connector("check", live_config(sandbox, api_key=keys.SECRET_TEST))

    assert run.connection_status["status"] == "FAILED"
    assert "test-mode key but the environment is set to live" in run.connection_status["message"]


def test_check_fails_for_an_unknown_connected_account(sandbox):
    run = run_connector("check", live_config(sandbox, account_id="acct_1DoesNotExist"))

    assert run.connection_status["status"] == "FAILED"
    assert "acct_1DoesNotExist" in run.connection_status["message"]


def test_connected_account_is_synced_through_the_stripe_account_header(sandbox):
    account = sandbox.connected_accounts[0]

    run = run_connector("read", live_config(sandbox, account_id=account), streams=["customers", "payment_intents"])

    assert run.exit_code == 0, run.errors
    assert_equals_truth(run, sandbox.truth(mode="live", account=account), ["customers", "payment_intents"])


def test_without_the_legacy_orders_api_order_returns_is_empty_with_one_warning(sandbox):
    sandbox.set_knobs(orders_api=False)

    run = run_connector("read", live_config(sandbox), streams=["order_returns", "customers"])

    assert run.exit_code == 0, run.errors
    assert run.records["order_returns"] == []
    assert len([log for log in run.logs if log["level"] == "WARN" and "legacy Orders API" in log["message"]]) == 1


def test_a_storm_of_rate_limits_is_waited_out_and_loses_nothing(sandbox):
    sandbox.reset_stats()
    sandbox.set_knobs(storm_seconds=4)

    run = run_connector("read", live_config(sandbox), streams=["customers", "prices", "subscriptions"])

    assert run.exit_code == 0, run.errors
    assert_equals_truth(run, sandbox.truth(mode="live"), ["customers", "prices", "subscriptions"])
    assert sandbox.stats()["rate_limited"] > 0
