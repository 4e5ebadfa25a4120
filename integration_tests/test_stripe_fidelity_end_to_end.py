"""What the real Stripe does that a kinder sandbox would hide, end to end against the sandbox, which does it too:

- restricted keys may never read /v1/account, whatever they were granted;
- one second's events are not listed in the order they happened (the sandbox lists them oldest first);
- an event can appear in the list a few seconds after newer ones (the sandbox's `event_delay_seconds`).
"""

from collections import defaultdict

import pytest

from integration_tests.connector_process import (
    ALL_BUT_EVENTS,
    ALL_STREAMS,
    ConnectorRun,
    assert_destination_equals_stripe,
    run_connector,
    what_the_destination_keeps,
)
from integration_tests.test_incremental_end_to_end import live_config
from stripe_sandbox import Sandbox, keys

pytestmark = pytest.mark.end_to_end



@pytest.fixture
def sandbox():
    with Sandbox(seed=31, size=600, orders_api=True, rate_limit_live=0) as running:
        yield running


def sync(config, state=None, **kwargs) -> ConnectorRun:
    run = run_connector("read", config, state=state, incremental=True, **kwargs)
    assert run.exit_code == 0, run.errors or run.stderr[-3000:]
    return run


def warnings_of(run: ConnectorRun):
    return [log["message"] for log in run.logs if log["level"] == "WARN"]


def assert_no_two_versions_share_an_observed_at(run: ConnectorRun) -> None:
    versions = defaultdict(list)
    for stream, records in run.records.items():
        for record in records:
            versions[(stream, record["id"], record["observed_at"])].append(record)
    clashing = [key for key, records in versions.items() if any(record != records[0] for record in records)]
    assert not clashing, f"different versions with one observed_at: {clashing[:5]}"


# -- 1. restricted keys and /v1/account -----------------------------------------------------------------------------


@pytest.mark.parametrize("events", [True, False], ids=["with_events", "without_events"])
@pytest.mark.parametrize("connected", [False, True], ids=["own_account", "connected_account"])
def test_a_restricted_key_granted_exactly_the_tables_passes_check_and_reads_them_all(sandbox, record_property, events, connected):
    granted = ALL_STREAMS if events else ALL_BUT_EVENTS
    sandbox.set_key_permissions(keys.RESTRICTED_LIVE, granted)
    account = sandbox.connected_accounts[0] if connected else None
    config = live_config(sandbox, api_key=keys.RESTRICTED_LIVE, **({"account_id": account} if account else {}))
    # Small accounts may have none of these to check their lines through.
    sandbox.create("credit_notes", mode="live", account=account)
    sandbox.create("prices", type="one_time", recurring=None, mode="live", account=account)
    sandbox.create("checkout_sessions", mode="live", account=account)
    sandbox.reset_stats()

    check = run_connector("check", config)
    read = sync(config, streams=granted)

    message = check.connection_status["message"]
    assert check.connection_status["status"] == "SUCCEEDED", message
    assert message.startswith(f"The key can read {len(granted)} of {len(ALL_STREAMS)} tables of ")
    assert (f"the connected account {account}" in message) == connected
    assert ('events: grant "Events: Read"' in message) == (not events)
    assert_destination_equals_stripe(what_the_destination_keeps(read.records), sandbox.truth(mode="live", account=account), granted)
    assert any("cannot read Events" in warning for warning in warnings_of(read)) == (not events)
    # The check never asks for the account; a sync asks once, and Stripe's refusal names it for the records' account_id.
    assert sandbox.stats()["by_path"].get("/v1/account", {}) == ({} if connected else {"403": 1})
    assert {row["account_id"] for rows in read.records.values() for row in rows} == {account or sandbox.platform_account}
    record_property("connector", f"check: {message} / read: {sum(map(len, read.records.values()))} records, equal to Stripe")


def test_a_restricted_key_of_a_newer_account_whose_refusal_names_a_permission_passes_check_too(sandbox):
    sandbox.set_knobs(account_403_names_permission=True)

    check = run_connector("check", live_config(sandbox, api_key=keys.RESTRICTED_LIVE))

    assert check.connection_status["status"] == "SUCCEEDED", check.connection_status["message"]


# -- 2. several events of one object in one second ------------------------------------------------------------------


def change_objects_several_times_in_one_second(sandbox):
    """Changes as they happen together in Stripe (a checkout creating and updating a subscription, a quantity change
    and a cancellation, bulk edits), each group in one second of its own."""
    truth = sandbox.truth(mode="live")
    live = dict(mode="live")
    by_id = lambda table: sorted(truth[table], key=lambda obj: obj["id"])  # noqa: E731

    customer = by_id("customers")[0]
    sandbox.update("customers", customer["id"], email="first@example.com", **live)
    sandbox.update("customers", customer["id"], email="second@example.com", **live)
    sandbox.update("customers", customer["id"], email="third@example.com", **live)
    sandbox.advance_clock(1)

    product = by_id("products")[0]
    sandbox.update("products", product["id"], name="Renamed once", **live)
    sandbox.update("products", product["id"], name="Renamed twice", active=False, **live)
    sandbox.advance_clock(1)

    licensed = [p["id"] for p in truth["prices"] if p["recurring"] and p["recurring"]["usage_type"] == "licensed"]
    created = sandbox.create("subscriptions", items=licensed[:2], **live)
    sandbox.update("subscriptions", created["id"], metadata={"checkout": "cs_1"}, **live)
    sandbox.advance_clock(1)

    running = [s for s in by_id("subscriptions") if s["status"] == "active" and not s["items"]["has_more"] and len(s["items"]["data"]) >= 2]
    changed, canceled = running[0], running[1]
    first_item, second_item = changed["items"]["data"][:2]
    sandbox.update("subscription_items", first_item["id"], quantity=(first_item.get("quantity") or 1) + 4, **live)
    sandbox.delete("subscription_items", second_item["id"], **live)
    sandbox.update("subscription_items", canceled["items"]["data"][0]["id"], quantity=9, **live)
    sandbox.delete("subscriptions", canceled["id"], **live)
    sandbox.advance_clock(1)

    intent = next(p for p in by_id("payment_intents") if p["status"] == "requires_payment_method")
    sandbox.update("payment_intents", intent["id"], status="processing", **live)
    sandbox.update("payment_intents", intent["id"], status="succeeded", **live)
    return {"subscription_items": [second_item["id"]]}


def test_several_changes_of_one_object_in_one_second_leave_the_destination_equal_to_stripe(sandbox, record_property):
    config = live_config(sandbox)
    first = sync(config)
    sandbox.advance_clock(60)
    dropped = change_objects_several_times_in_one_second(sandbox)
    sandbox.advance_clock(3600)
    sandbox.reset_stats()

    second = sync(config, state=first.final_state())

    destination = what_the_destination_keeps(first.records, second.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert set(dropped["subscription_items"]) <= destination.deleted_ids("subscription_items")
    assert_no_two_versions_share_an_observed_at(second)
    retrieves = {path: counts for path, counts in sandbox.stats()["by_path"].items() if path.count("/") == 3 and "{" in path}
    record_property("connector", f"the objects changed several times in a second were fetched again: {retrieves}; equal to Stripe")


# -- 3. events listed late ------------------------------------------------------------------------------------------


def test_events_listed_late_are_replayed_by_the_next_sync(sandbox, record_property):
    config = live_config(sandbox)
    syncs = [sync(config)]
    sandbox.set_knobs(event_delay_seconds=10)
    sandbox.advance_clock(60)
    # Customers created years ago: only their events, not the lookback window, bring their changes. One a second for
    # a minute, with a sync after each half, while the newest events are still held back.
    customers = sorted(sandbox.truth(mode="live")["customers"], key=lambda customer: customer["created"])[:60]
    for half in (customers[:30], customers[30:]):
        for customer in half:
            sandbox.update("customers", customer["id"], email=f"moved-{customer['id']}@example.com", mode="live")
            sandbox.advance_clock(1)
        syncs.append(sync(config, state=syncs[-1].final_state()))
    sandbox.advance_clock(3600)

    syncs.append(sync(config, state=syncs[-1].final_state()))

    assert_destination_equals_stripe(what_the_destination_keeps(*(run.records for run in syncs)), sandbox.truth(mode="live"))
    customers_state = lambda run: next(s for s in run.final_state() if s["stream"]["stream_descriptor"]["name"] == "customers")  # noqa: E731
    positions = [customers_state(run)["stream"]["stream_state"]["events"] for run in syncs]
    record_property("connector", f"customers' events position after each sync: {positions}; equal to Stripe after the last")
