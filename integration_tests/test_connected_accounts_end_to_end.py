"""One connection reading a Connect platform and its connected accounts, against the local Stripe sandbox: every
record names its account, each account's rows equal that account's data in Stripe, and an account whose access ends
costs a warning, not the sync."""

import pytest

from integration_tests.connector_process import (
    ACCOUNTS_TABLE,
    ALL_STREAMS,
    after_records,
    assert_destination_equals_stripe,
    committed_records,
    read_until_killed,
    run_connector,
    states_by_stream,
    what_the_destination_keeps,
)
from source_stripe.tables import manifest_tables
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end
# What only the platform lists (its connected accounts, and what it sees of them): read on the platform alone.
PLATFORM_ONLY = {table.name for table in manifest_tables() if table.platform_only}


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


def positions_of(run, account):
    """Each table's positions for `account` in the run's last state ({} for a table not read on it)."""
    return {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["accounts"].get(account) for s in run.final_state()}


@pytest.mark.parametrize("setting", ["all", "listed"])
def test_one_connection_syncs_every_account_each_record_naming_its_account(sandbox, setting):
    accounts = every_account(sandbox)

    run = sync(config(sandbox, connected_accounts="all" if setting == "all" else accounts))

    destination = what_the_destination_keeps(run.records)
    assert_each_account_equals_stripe(sandbox, destination, accounts)
    assert {record["account_id"] for table in ALL_STREAMS for record in run.records[table]} == set(accounts)
    for table in PLATFORM_ONLY:
        assert {record["account_id"] for record in run.records[table]} == {sandbox.platform_account}, f"{table}: listed by the platform alone"
    assert set(positions_of(run, sandbox.connected_accounts[0])) == set(ALL_STREAMS)


def test_changes_a_new_account_and_a_disconnected_one_then_an_incremental_sync_equals_each_accounts_stripe(sandbox):
    platform, connected, leaving = every_account(sandbox)
    first = sync(config(sandbox, connected_accounts="all"))
    sandbox.advance_clock(3600)

    change_customers(sandbox, platform)
    change_customers(sandbox, connected)
    sandbox.set_account_access(leaving, False)
    newcomer = sandbox.connect_account("Harbor Books", size=40)
    sandbox.advance_clock(60)
    # Listed by id, the disconnected account is asked for and refused; `all` would no longer list it.
    accounts = [platform, connected, leaving, newcomer]
    second = run_connector("read", config(sandbox, connected_accounts=accounts), state=first.final_state(), incremental=True)

    assert second.exit_code == 0, second.errors or second.stderr[-3000:]
    warnings = [log["message"] for log in second.logs if log["level"] == "WARN" and leaving in log["message"]]
    assert len(warnings) == 1, "one warning for the disconnected account, not one per table"
    destination = what_the_destination_keeps(first.records, second.records)
    assert_each_account_equals_stripe(sandbox, destination, [connected, newcomer, leaving])
    # The platform no longer lists the account that left; its row stays as last read.
    platform_truth = sandbox.truth(mode="live", account=platform)
    platform_truth[ACCOUNTS_TABLE] += [row for row in first.records[ACCOUNTS_TABLE] if row["id"] == leaving]
    assert_destination_equals_stripe(destination.of_account(platform), platform_truth)
    assert positions_of(second, leaving) == positions_of(first, leaving), "its positions stay where they were"
    read_on_the_newcomer = {table: positions for table, positions in positions_of(second, newcomer).items() if table not in PLATFORM_ONLY}
    assert all(read_on_the_newcomer.values()), "the new account got a first full read of every table"


def test_with_all_an_account_that_connects_after_the_first_sync_is_read_from_the_start(sandbox):
    first = sync(config(sandbox, connected_accounts="all"))
    newcomer = sandbox.connect_account("Harbor Books", size=40)
    sandbox.advance_clock(60)

    second = sync(config(sandbox, connected_accounts="all"), state=first.final_state())

    destination = what_the_destination_keeps(first.records, second.records)
    assert_each_account_equals_stripe(sandbox, destination, every_account(sandbox))
    assert newcomer in {row["id"] for row in destination.of_account(sandbox.platform_account).rows(ACCOUNTS_TABLE)}


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


def test_check_says_how_many_accounts_the_key_can_read_and_names_the_one_that_left(sandbox):
    platform, connected, leaving = every_account(sandbox)
    assert "connected_accounts: 3 of 3 accounts can be read" in run_connector("check", config(sandbox, connected_accounts="all")).connection_status["message"]

    sandbox.set_account_access(leaving, False)
    status = run_connector("check", config(sandbox, connected_accounts=[platform, connected, leaving])).connection_status

    assert status["status"] == "SUCCEEDED"
    assert "connected_accounts: 2 of 3 accounts can be read" in status["message"]
    assert f"{leaving}: cannot be read, it disconnected or revoked this platform's access" in status["message"]
