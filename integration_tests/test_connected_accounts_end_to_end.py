"""One connection reading a Connect platform and its connected accounts, against the local Stripe sandbox: every
record names its account, each account's rows equal that account's data in Stripe, and an account whose access ends
costs a warning, not the sync."""

import pytest

from integration_tests.connector_process import (
    ALL_STREAMS,
    after_records,
    assert_destination_equals_stripe,
    committed_records,
    read_until_killed,
    run_connector,
    states_by_stream,
    what_the_destination_keeps,
)
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end


@pytest.fixture
def sandbox():
    with Sandbox(seed=31, size=400, orders_api=True) as running:
        yield running


def config(sandbox, **overrides):
    return {"api_key": keys.SECRET_LIVE, "environment": "live", "api_base_url": sandbox.url, "lookback_window_days": 7, **overrides}


def every_account(sandbox):
    return [sandbox.platform_account, *sandbox.connected_accounts]


def sync(config, state=None):
    run = run_connector("read", config, state=state, incremental=True)
    assert run.exit_code == 0, run.errors or run.stderr[-3000:]
    assert run.errors == []
    return run


def change_customers(sandbox, account):
    """A customer created, one renamed and one deleted in `account`, each in a second of its own."""
    customers = sandbox.truth(mode="live", account=account)["customers"]
    for change in (
        lambda: sandbox.create("customers", mode="live", account=account, email="new@example.com"),
        lambda: sandbox.update("customers", customers[0]["id"], mode="live", account=account, name="Renamed"),
        lambda: sandbox.delete("customers", customers[-1]["id"], mode="live", account=account),
    ):
        change()
        sandbox.advance_clock(1)


def assert_each_account_equals_stripe(sandbox, destination, accounts):
    for account in accounts:
        assert_destination_equals_stripe(destination.of_account(account), sandbox.truth(mode="live", account=account))


def test_one_connection_syncs_the_listed_accounts_each_record_naming_its_account(sandbox):
    accounts = every_account(sandbox)

    run = sync(config(sandbox, connected_accounts=accounts))

    destination = what_the_destination_keeps(run.records)
    assert_each_account_equals_stripe(sandbox, destination, accounts)
    assert {record["account_id"] for table in ALL_STREAMS for record in run.records[table]} == set(accounts)
    stream_state = run.final_state()[0]["stream"]["stream_state"]
    assert set(stream_state["accounts"]) == set(accounts)


def test_changes_a_new_account_and_a_disconnected_one_then_an_incremental_sync_equals_each_accounts_stripe(sandbox):
    platform, first_connected, second_connected = every_account(sandbox)
    first = sync(config(sandbox, connected_accounts=[platform, first_connected, second_connected]))
    sandbox.advance_clock(3600)

    change_customers(sandbox, platform)
    change_customers(sandbox, first_connected)
    sandbox.set_account_access(second_connected, False)
    newcomer = sandbox.connect_account("Harbor Books", size=40)
    sandbox.advance_clock(60)
    accounts = [platform, first_connected, second_connected, newcomer]
    second = run_connector("read", config(sandbox, connected_accounts=accounts), state=first.final_state(), incremental=True)

    assert second.exit_code == 0, second.errors or second.stderr[-3000:]
    warnings = [log["message"] for log in second.logs if log["level"] == "WARN" and second_connected in log["message"]]
    assert len(warnings) == 1, "one warning for the disconnected account, not one per table"
    destination = what_the_destination_keeps(first.records, second.records)
    assert_each_account_equals_stripe(sandbox, destination, [platform, first_connected, newcomer])
    # The disconnected account's rows stay as they were read, and its positions where they were.
    assert_each_account_equals_stripe(sandbox, destination, [second_connected])
    before = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["accounts"][second_connected] for s in first.final_state()}
    after = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["accounts"][second_connected] for s in second.final_state()}
    assert after == before
    assert all(newcomer in s["stream"]["stream_state"]["accounts"] for s in second.final_state())


def test_a_sync_of_several_accounts_killed_midway_resumes_to_each_accounts_stripe(sandbox):
    accounts = every_account(sandbox)
    first = sync(config(sandbox, connected_accounts=accounts))
    sandbox.advance_clock(3600)
    for account in accounts:
        change_customers(sandbox, account)
    sandbox.advance_clock(60)

    killed = read_until_killed(config(sandbox, connected_accounts=accounts), after_records(300), state=first.final_state())
    resumed = sync(config(sandbox, connected_accounts=accounts), state=states_by_stream(first.final_state(), killed.final_state()))

    destination = what_the_destination_keeps(first.records, committed_records(killed), resumed.records)
    assert_each_account_equals_stripe(sandbox, destination, accounts)


@pytest.mark.parametrize("key", [keys.SECRET_LIVE, keys.RESTRICTED_LIVE], ids=["secret_key", "restricted_key"])
def test_without_connected_accounts_every_record_names_the_keys_own_account(sandbox, key):
    run = sync(config(sandbox, api_key=key))

    assert {record["account_id"] for table in ALL_STREAMS for record in run.records[table]} == {sandbox.platform_account}
    assert "accounts" not in run.final_state()[0]["stream"]["stream_state"], "today's state shape, unchanged"
