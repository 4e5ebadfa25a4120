"""The "Verify Connection" check: its verdict and its one-sentence messages."""

import socketserver
import threading
from types import SimpleNamespace

import pytest

from airbyte_cdk.models import Status
from source_stripe.check import PROBE_RETRIES
from source_stripe.children import path_of_one_parent
from source_stripe.tables import manifest_tables
from unit_tests.stripe_api import ALL_STREAMS, LIVE_KEY, OWN_ACCOUNT, config, embedded_list, missing_permission, run, stripe_error, stripe_object

TOP_LEVEL = [table for table in manifest_tables() if table.is_top_level]
METERED = stripe_object("price", recurring={"usage_type": "metered", "interval": "month"})
SUBSCRIPTION = stripe_object("subscription", id="sub_probe", items=embedded_list([stripe_object("subscription_item", id="si_probe", price=METERED)]))
SETUP_INTENT = stripe_object("setup_intent", id="seti_probe", latest_attempt="setatt_probe")
# Tables whose children only some rows may have: check asks them for a page to choose from.
CHOSEN_FROM = {table.parent.table for table in manifest_tables() if table.parent and table.parent.when}


def serve_probes(stripe, forbidden=(), events=True, orders_api=True):
    """Each table's probe answered with one row; a child table's asked through its parent's row, as check asks."""
    special = {"subscriptions": SUBSCRIPTION, "setup_intents": SETUP_INTENT, "subscription_items": SUBSCRIPTION["items"]["data"][0]}
    first_record = {table.name: special.get(table.name, stripe_object(table.stripe_object, id=f"{table.name}_1")) for table in manifest_tables()}
    for table in manifest_tables():
        path, query = table.path, {**table.request_parameters}
        if table.parent and table.lists_one_parent_in_path:
            path = path_of_one_parent(table, first_record[table.parent.table])
        elif table.parent:
            query[table.parent.key] = first_record[table.parent.table]["id"]
        limit = 100 if table.name in CHOSEN_FROM else 1
        if table.name in forbidden:
            stripe.answers_error(path, 403, missing_permission(table.permission_id), limit=limit, **query)
        elif table.name == "order_returns" and not orders_api:
            stripe.answers_error(path, 404, "Unrecognized request URL (GET: /v1/order_returns).", limit=limit)
        else:
            stripe.serves_list(path, [first_record[table.name]], page_size=limit, **query)
    if events:
        stripe.serves_list("events", [], page_size=1)
    else:
        stripe.answers_error("events", 403, missing_permission("rak_event_read"), limit=1)


def check(cfg):
    (status,) = run("check", cfg).connection_status_messages
    return status.connectionStatus


def test_check_succeeds_when_every_table_and_events_are_readable(stripe):
    serve_probes(stripe)

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert status.message.startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables of its own account in test mode.")
    assert "events: readable" in status.message


def test_check_of_a_restricted_key_never_asks_for_the_account_which_stripe_refuses_to_every_restricted_key(stripe):
    serve_probes(stripe)
    stripe.answers_error("account", 403, "This is a restricted API key, but the required permissions are not available for use by restricted keys.")

    status = check(config(api_key="rk_live_" "51UnitTestRestricted0000abcd", environment="live"))  # split so secret scanners pass this fake

    assert status.status == Status.SUCCEEDED
    assert status.message.startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables of its own account in live mode.")
    assert stripe.requests_to("account") == []


def test_check_names_the_connected_account_it_read(stripe):
    serve_probes(stripe)

    status = check(config(account_id="acct_1Seller"))

    assert status.message.startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables of the connected account acct_1Seller in test mode.")
    assert all(request.headers["Stripe-Account"] == "acct_1Seller" for request in stripe.requests_to("customers"))


def test_check_names_the_dashboard_permission_for_each_table_it_cannot_read(stripe):
    serve_probes(stripe, forbidden=("disputes", "refunds"))

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert 'disputes: grant "Disputes: Read"' in status.message
    assert 'refunds: grant "Refunds: Read"' in status.message
    assert f"{len(ALL_STREAMS) - 2} of {len(ALL_STREAMS)}" in status.message


def test_check_says_incremental_syncs_need_the_events_permission_to_capture_updates(stripe):
    serve_probes(stripe, events=False)

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert status.message.count('events: grant "Events: Read"') == 1, "the events table and event replay share one line"
    assert f"{len(ALL_STREAMS) - 1} of {len(ALL_STREAMS)}" in status.message


def test_check_says_order_returns_stays_empty_without_the_legacy_orders_api(stripe):
    serve_probes(stripe, orders_api=False)

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert "order_returns: this account has no legacy Orders API" in status.message


def test_check_probes_child_tables_through_a_parent_record(stripe):
    serve_probes(stripe)

    check(config())

    assert [request.qs for request in stripe.requests_to("subscription_items")] == [{"limit": ["100"], "subscription": ["sub_probe"]}]
    assert [request.qs for request in stripe.requests_to("setup_attempts")] == [{"limit": ["1"], "setup_intent": ["seti_probe"]}]
    assert len(stripe.requests_to("subscription_items/si_probe/usage_record_summaries")) == 1


def test_check_reads_a_payouts_transactions_through_the_newest_payout_that_may_have_some(stripe):
    serve_probes(stripe)
    manual = stripe_object("payout", id="po_manual", automatic=False, reconciliation_status="not_applicable")
    reconciled = stripe_object("payout", id="po_reconciled", automatic=True, reconciliation_status="completed")
    stripe.serves_list("payouts", [manual, reconciled], page_size=100)
    stripe.serves_list("balance_transactions", [stripe_object("balance_transaction")], page_size=1, payout="po_reconciled")

    status = check(config())

    assert status.message.startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables")
    assert [request.qs.get("payout") for request in stripe.requests_to("balance_transactions")] == [None, ["po_reconciled"]]


def test_check_leaves_a_child_table_unverified_when_stripe_refuses_the_only_parents_it_could_ask_through(stripe):
    serve_probes(stripe)
    stripe.serves_list("payouts", [stripe_object("payout", id="po_manual", automatic=False)], page_size=100)
    refusal = "Balance transaction history can only be filtered on automatic transfers, not manual."
    stripe.answers_error("balance_transactions", 400, refusal, limit=1, payout="po_manual")

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert "payout_balance_transactions: not verified, none of the newest payouts can have any to read it through" in status.message


def test_check_fails_when_the_key_can_read_no_table(stripe):
    serve_probes(stripe, forbidden=[table.name for table in TOP_LEVEL], events=False)

    status = check(config())

    assert status.status == Status.FAILED
    assert status.message.startswith("The key can read none of the tables.")
    assert '"Customers: Read"' in status.message


def test_check_fails_for_an_invalid_or_revoked_key(stripe):
    stripe.answers("events", [stripe_error(401, "Invalid API Key provided: sk_test_****")])

    status = check(config())

    assert status.status == Status.FAILED
    assert "invalid or was revoked" in status.message


def test_check_fails_when_the_connected_account_cannot_be_reached(stripe):
    stripe.answers(
        "events",
        [stripe_error(403, "The provided key does not have access to account 'acct_1Gone' (or that account does not exist).", "account_invalid")],
    )

    status = check(config(account_id="acct_1Gone"))

    assert status.status == Status.FAILED
    assert status.message.startswith("The key cannot reach the connected account acct_1Gone")


def test_check_says_stripe_refused_the_keys_own_account_without_naming_a_connected_one(stripe):
    stripe.answers("events", [stripe_error(403, "The provided key does not have access to account 'acct_1Own'.", "account_invalid")])

    status = check(config())

    assert status.status == Status.FAILED
    assert status.message == "Stripe refused the key access to its own account: The provided key does not have access to account 'acct_1Own'."


def test_stripe_failing_on_one_table_leaves_it_unverified_rather_than_failing_the_check(stripe):
    serve_probes(stripe)
    stripe.answers("disputes", [{"status_code": 502, "json": {"error": {"type": "api_error", "message": "bad gateway"}}}] * 5, limit=1)

    status = check(config())

    assert status.status == Status.SUCCEEDED
    assert "disputes: not verified, Stripe answered HTTP 502" in status.message


def test_a_table_failing_behind_a_proxy_is_said_to_fail_there_not_at_stripe(stripe):
    serve_probes(stripe)
    stripe.answers_through_a_proxy("disputes", [{"status_code": 502, "text": "<html><h1>502 Bad Gateway</h1></html>"}] * 5, limit=1)

    status = check(config())

    assert "disputes: not verified, a proxy or gateway on the way to Stripe (no Request-Id) answered HTTP 502" in status.message


def test_check_fails_when_only_the_tables_reveal_the_connected_account_is_gone(stripe):
    serve_probes(stripe)
    stripe.answers_error("customers", 403, "The provided key does not have access to account 'acct_1Gone'.", "account_invalid", limit=1)

    status = check(config(account_id="acct_1Gone"))

    assert status.status == Status.FAILED
    assert status.message.startswith("The key cannot reach the connected account acct_1Gone")


@pytest.mark.parametrize(
    "cfg, says",
    [
        (config(environment="live"), "test-mode key but the environment is set to live"),
        (config(api_key=LIVE_KEY, environment="test"), "live-mode key but the environment is set to test"),
        (config(api_key="pk_test_51Publishable"), "publishable key"),
        (config(api_key="not-a-stripe-key"), "does not look like a Stripe key"),
        (config(start_date="2024-01-01T00:00:00Z", end_date="2023-01-01T00:00:00Z"), "end_date must be later than start_date"),
        (config(api_base_url="http://stripe.example.com"), "api_base_url must be an https:// URL"),
    ],
    ids=["test_key_for_live", "live_key_for_test", "publishable_key", "malformed_key", "end_before_start", "plain_http_remote_base_url"],
)
def test_check_fails_without_calling_stripe_when_the_config_cannot_work(requests_mock, cfg, says):
    status = check(cfg)

    assert status.status == Status.FAILED
    assert says in status.message
    assert requests_mock.request_history == []


def test_check_with_connected_accounts_says_how_many_it_can_read_and_names_those_it_cannot(stripe):
    serve_probes(stripe)

    def answer_per_account(request, context):
        if request.headers.get("Stripe-Account") == "acct_1Gone":
            context.status_code = 403
            return {"error": {"type": "invalid_request_error", "code": "account_invalid", "message": "Access to acct_1Gone was revoked."}}
        return embedded_list([])

    stripe.answers("events", [{"json": answer_per_account}], limit=1)

    status = check(config(connected_accounts=[OWN_ACCOUNT, "acct_1Seller", "acct_1Gone"]))

    assert status.status == Status.SUCCEEDED
    assert "connected_accounts: 2 of 3 accounts can be read" in status.message
    assert "acct_1Gone: cannot be read, it disconnected or revoked this platform's access (Access to acct_1Gone was revoked.)" in status.message
    asked = [request.headers.get("Stripe-Account") for request in stripe.requests_to("events")]
    assert {"acct_1Seller", "acct_1Gone"} <= set(asked) and OWN_ACCOUNT not in asked, "the key's own account is read without the header"


def test_check_counts_the_children_of_a_product_the_account_does_not_use_as_empty_too(stripe):
    connect = next(table for table in manifest_tables() if table.platform_only and table.is_top_level)
    serve_probes(stripe)
    stripe.answers_error(connect.path, 403, "Only Stripe Connect platforms can work with other accounts.", limit=100)
    children = [table.name for table in manifest_tables() if table.parent and table.parent.table == connect.name]

    status = check(config())

    assert children and status.message.startswith(f"The key can read {len(ALL_STREAMS)} of {len(ALL_STREAMS)} tables")
    assert all(f"{child}: empty, as {connect.name} is" in status.message for child in children)


def test_check_counts_a_child_without_parents_yet_as_readable_when_it_needs_its_parents_permission(stripe):
    serve_probes(stripe)
    stripe.serves_list("transfers", [], page_size=1)
    stripe.serves_list("customers", [], page_size=1)

    status = check(config())

    assert status.message.startswith(f"The key can read {len(ALL_STREAMS) - 1} of {len(ALL_STREAMS)} tables")
    assert "transfer_reversals" not in status.message  # Transfers: Read, as its transfers
    assert "payment_methods: not verified, there are no customers yet to read it through" in status.message  # PaymentMethods: Read


@pytest.fixture
def hanging_up():
    """A local server that closes each connection it accepts without a word, counting them: Stripe out of reach, or
    a proxy that cannot reach it."""
    accepted = []

    class HangUp(socketserver.BaseRequestHandler):
        def handle(self):
            accepted.append(self.client_address)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HangUp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", accepted=accepted)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("through_a_proxy", [False, True], ids=["direct", "through_a_proxy"])
def test_a_check_that_cannot_reach_stripe_logs_each_retry_as_a_read_does_and_says_why_in_one_sentence(hanging_up, monkeypatch, through_a_proxy):
    if through_a_proxy:  # sent by requests' own adapter and urllib3, which must leave the retrying to the connector
        monkeypatch.setenv("HTTPS_PROXY", hanging_up.url)
    cfg = config() if through_a_proxy else config(api_base_url=hanging_up.url)

    output = run("check", cfg)

    (status,) = output.connection_status_messages
    said = [log.log.message for log in output.logs]
    base_url = "https://api.stripe.com" if through_a_proxy else hanging_up.url
    reason = "the connection failed or was reset (Remote end closed connection without response)"
    assert status.connectionStatus.status == Status.FAILED
    assert status.connectionStatus.message == f"Could not reach Stripe at {base_url}/v1/: Gave up after retrying: {reason}. Check the network and try again."
    assert [line.split(" after ")[0] for line in said if line.startswith("events: retry")] == [
        f"events: retry {n} of GET /v1/events?limit=1" for n in range(1, PROBE_RETRIES + 1)
    ]
    assert all(line.endswith(f"because {reason}.") for line in said if line.startswith("events: retry"))
    assert len(hanging_up.accepted) == 1 + PROBE_RETRIES
    assert not any("Retry(" in line or "Max retries" in line for line in said + [status.connectionStatus.message])


def test_a_config_field_the_connector_does_not_know_is_warned_about_once_with_the_closest_known_field(stripe):
    serve_probes(stripe)

    output = run("check", config(lookback_windows_days=3))

    warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN" and "does not know" in log.log.message]
    assert warnings == ["The config has a field this connector does not know, so it is ignored: lookback_windows_days (did you mean lookback_window_days?)."]
