"""How a read meets Stripe's errors: what is retried, what fails one table, what fails the sync, and what it says."""

import pytest
import requests

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType
from source_stripe.client import ACCOUNTS_PATH
from source_stripe.pages import StripeHttp
from source_stripe.tables import manifest_tables
from unit_tests.stripe_api import (
    catalog,
    config,
    error_messages,
    event,
    ids_of,
    launch_in_process,
    missing_permission,
    objects,
    read,
    read_incrementally,
    stripe_error,
    stripe_object,
)

# The table of a platform's connected accounts, which only a Connect platform may list.
CONNECT = next(table for table in manifest_tables() if table.path == ACCOUNTS_PATH)
# What a platform sees of its connected accounts, asked through their list.
SEEN_THROUGH_CONNECT = [table for table in manifest_tables() if table.parent and table.parent.table == CONNECT.name]
# The tables of Stripe Issuing, which an account that does not use it refuses with a 400 naming Issuing.
ISSUING = [table for table in manifest_tables() if table.stripe_object.startswith("issuing.")]


def _page(items, has_more=False):
    return {"status_code": 200, "json": {"object": "list", "data": items, "has_more": has_more, "url": "/v1/customers"}}


CUSTOMERS = objects("customer", 3, "cus")
ALL_CUSTOMER_IDS = [customer["id"] for customer in CUSTOMERS]


def test_invalid_or_revoked_key_fails_the_sync_as_a_config_error(stripe):
    stripe.answers_error("customers", 401, "Invalid API Key provided: sk_test_********************9z8y")

    output = read(config(), "customers", expect_failure=True)

    (error, *_) = output.errors
    assert error.trace.error.failure_type == FailureType.config_error
    assert "invalid or was revoked" in error.trace.error.message


def test_forbidden_table_fails_alone_naming_the_permission_and_the_others_still_sync(stripe):
    stripe.serves_list("customers", CUSTOMERS)
    stripe.answers_error("disputes", 403, missing_permission("rak_dispute_read"))

    output = read(config(), "customers", "disputes", expect_failure=True)

    assert ids_of(output, "customers") == ALL_CUSTOMER_IDS
    messages = error_messages(output)
    assert any('grant the key "Disputes: Read"' in message and "rak_dispute_read" in message for message in messages)
    assert "disputes" in messages[-1] and "customers" not in messages[-1]


def test_a_burst_of_rate_limits_is_waited_out_and_never_fails_the_sync(stripe):
    rate_limited = stripe_error(429, "Too many requests hit the API too quickly.", "rate_limit", **{"Stripe-Should-Retry": "true"})
    stripe.answers("customers", [rate_limited] * 6 + [_page(CUSTOMERS)])

    output = read(config(), "customers")

    assert ids_of(output, "customers") == ALL_CUSTOMER_IDS
    assert error_messages(output) == []


def test_rate_limit_waits_as_long_as_retry_after_says(stripe, retry_waits):
    rate_limited = stripe_error(429, "Too many requests hit the API too quickly.", "rate_limit", **{"Retry-After": "7"})
    stripe.answers("customers", [rate_limited, _page(CUSTOMERS)])

    output = read(config(), "customers")

    assert ids_of(output, "customers") == ALL_CUSTOMER_IDS
    assert any(7 <= seconds <= 8 for seconds in retry_waits)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(stripe, status):
    stripe.answers("customers", [stripe_error(status, "An unknown error occurred")] * 2 + [_page(CUSTOMERS)])

    assert ids_of(read(config(), "customers"), "customers") == ALL_CUSTOMER_IDS


def test_stripe_should_retry_true_makes_an_otherwise_final_error_retried(stripe):
    lock_timeout = stripe_error(409, "This object cannot be accessed right now.", "lock_timeout", **{"Stripe-Should-Retry": "true"})
    stripe.answers("customers", [lock_timeout, _page(CUSTOMERS)])

    assert ids_of(read(config(), "customers"), "customers") == ALL_CUSTOMER_IDS


@pytest.mark.parametrize(
    "broken",
    [
        {"status_code": 200, "text": '{"object": "list", "data": [{"id": "cus_0000", "obj'},
        {"status_code": 200, "text": "<html>502 Bad Gateway</html>"},
        {"status_code": 200, "json": {"object": "list", "data": []}},
        {"status_code": 200, "json": {"object": "list", "data": {"id": "cus_0000"}, "has_more": False}},
        {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
        {"exc": requests.exceptions.ChunkedEncodingError("IncompleteRead(100 bytes read, 900 more expected)")},
        {"exc": requests.exceptions.ReadTimeout("Read timed out. (read timeout=80)")},
    ],
    ids=["truncated_body", "not_json", "without_has_more", "data_not_a_list", "connection_reset", "cut_mid_body", "timeout"],
)
def test_unreadable_answers_are_retried_and_lose_nothing(stripe, broken):
    stripe.answers("customers", [broken, _page(CUSTOMERS)])

    assert ids_of(read(config(), "customers"), "customers") == ALL_CUSTOMER_IDS


def test_persistent_server_errors_end_the_table_with_a_clear_error_after_bounded_retries(stripe):
    failing = stripe.answers("customers", [stripe_error(500, "An unknown error occurred")])

    output = read(config(), "customers", expect_failure=True)

    assert failing.call_count == 9
    assert any("customers" in message for message in error_messages(output))


def test_malformed_request_fails_with_stripes_explanation(stripe):
    stripe.answers_error("customers", 400, "Received unknown parameter: bogus")

    output = read(config(), "customers", expect_failure=True)

    assert any("Received unknown parameter: bogus" in message for message in error_messages(output))


@pytest.mark.parametrize(
    "table, path, status, stripe_says, warning",
    [
        ("order_returns", "order_returns", 404, "Unrecognized request URL (GET: /v1/order_returns).", "legacy Orders API"),
        (CONNECT.name, CONNECT.path, 403, "Only Stripe Connect platforms can work with other accounts. If you need to …", "does not use Stripe Connect"),
        *((table.name, CONNECT.path, 403, "You cannot access the connected accounts of your platform's connected accounts.", "does not use Stripe Connect") for table in SEEN_THROUGH_CONNECT),
        *((table.name, table.path, 400, "Your account is not set up to use Issuing. Please visit …", "does not use Stripe Issuing") for table in ISSUING),
    ],
    ids=[
        "legacy_orders_api_absent",
        "not_a_connect_platform",
        *(f"a_connected_account_reading_{table.name}" for table in SEEN_THROUGH_CONNECT),
        *(f"no_issuing_{table.name}" for table in ISSUING),
    ],
)
def test_a_product_the_account_does_not_use_gets_one_warning_and_an_empty_table(stripe, table, path, status, stripe_says, warning):
    stripe.answers_error(path, status, stripe_says)

    output = read(config(), table)

    assert error_messages(output) == []
    assert ids_of(output, table) == []
    warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
    assert [message for message in warnings if warning in message] == [warnings[0]]


def test_a_400_that_does_not_say_the_product_is_missing_fails_the_table_rather_than_emptying_it(stripe):
    stripe.answers_error(ISSUING[0].path, 400, "Received unknown parameter: bogus")

    output = read(config(), ISSUING[0].name, expect_failure=True)

    assert any("Received unknown parameter: bogus" in message for message in error_messages(output))


def test_a_key_without_the_connect_permission_is_told_to_grant_it_rather_than_given_an_empty_accounts_table(stripe):
    stripe.answers_error(CONNECT.path, 403, missing_permission(CONNECT.permission_id))

    output = read(config(), CONNECT.name, expect_failure=True)

    assert any(f'"{CONNECT.permission}"' in message for message in error_messages(output))


def test_a_refetched_object_cut_off_mid_body_is_retried_and_loses_nothing(stripe, requests_mock):
    now = 1_790_000_000
    foreign = {"id": "cus_old_shape", "object": "customer", "account_balance": 0}
    stripe.lists("customers", [], now)
    stripe.lists("events", [event("customer.updated", foreign, now - 300, "2020-08-27")], now)
    current = stripe_object("customer", id="cus_old_shape", created=now - 10**6, balance=0)
    refetched = requests_mock.get(stripe.url("customers/cus_old_shape"), [{"status_code": 200, "text": '{"id": "cus_old_sh'}, {"status_code": 200, "json": current}])

    output = read_incrementally(config(), "customers", state={"customers": {"created": now - 86_400, "events": now - 86_400}})

    assert error_messages(output) == []
    assert ids_of(output, "customers") == ["cus_old_shape"]
    assert refetched.call_count == 2


def test_each_retry_is_logged_with_its_table_request_and_reason(stripe):
    unavailable = stripe_error(503, "Stripe is temporarily unavailable.")
    stripe.answers("customers", [unavailable, {"exc": requests.exceptions.ConnectionError("Connection reset by peer")}, _page(CUSTOMERS)])

    output = read(config(), "customers")

    retries = [log.log.message for log in output.logs if ": retry " in log.log.message]
    assert len(retries) == 2
    assert retries[0].startswith("customers: retry 1 of GET /v1/customers?") and retries[0].endswith(
        "because Stripe answered 503 (Stripe is temporarily unavailable.)."
    )
    assert retries[1].startswith("customers: retry 2 of ") and retries[1].endswith("because the connection failed or was reset (Connection reset by peer).")


def test_an_error_without_stripes_request_id_is_blamed_on_the_proxy_or_gateway_on_the_way_not_stripe(stripe):
    stripe.answers_through_a_proxy("customers", [{"status_code": 502, "text": "<html><h1>502 Bad Gateway</h1></html>"}, _page(CUSTOMERS)])

    output = read(config(), "customers")

    retries = [log.log.message for log in output.logs if ": retry " in log.log.message]
    assert len(retries) == 1 and retries[0].endswith(
        "because a proxy or gateway on the way to Stripe (no Request-Id) answered 502 with a body cut off or not in Stripe's shape."
    )
    assert ids_of(output, "customers") == ALL_CUSTOMER_IDS


def test_retries_of_a_request_that_keeps_failing_stop_after_8_and_about_three_minutes(stripe, retry_waits):
    failing = stripe.answers("customers", [stripe_error(503, "Stripe is temporarily unavailable.", **{"Stripe-Should-Retry": "true"})])

    output = read(config(), "customers", expect_failure=True)

    assert failing.call_count == 1 + 8
    assert 60 < sum(retry_waits) < 4 * 60
    gave_up = [log.log.message for log in output.logs if "giving up" in log.log.message]
    assert gave_up == ["customers: giving up on GET /v1/customers?limit=100 after 8 retries, because Stripe answered 503 (Stripe is temporarily unavailable.)."]
    assert error_messages(output)[0] == "Gave up after retrying: Stripe answered 503 for customers, an error it marks as temporary."


def test_a_rate_limit_that_outlasts_every_retry_says_what_to_do(stripe):
    stripe.answers("customers", [stripe_error(429, "Too many requests hit the API too quickly.", "rate_limit")])

    output = read(config(), "customers", expect_failure=True)

    assert error_messages(output)[0].startswith("Stripe's rate limit was still reached after every retry while reading customers")


def test_a_key_missing_a_permission_is_said_once_for_its_table_and_nowhere_with_a_traceback(stripe):
    stripe.serves_list("customers", CUSTOMERS)
    stripe.answers_error("refunds", 403, missing_permission("rak_refund_read"))

    launched = launch_in_process("read", config=config(), catalog=ConfiguredAirbyteCatalogSerializer.dump(catalog("customers", "refunds")))

    refused, closing = launched.errors
    assert launched.exit_code == 1
    assert refused["message"].startswith('The API key may not read refunds: in the Stripe dashboard, grant the key "Refunds: Read"')
    assert closing["message"] == (
        "The sync did not finish: refunds could not be read; the errors before this one say why and what to do. "
        "The other tables were synced."
    )
    assert [message["record"]["data"]["id"] for message in launched.messages if message["type"] == "RECORD"] == ALL_CUSTOMER_IDS
    assert "Traceback" not in launched.stdout + launched.stderr
    assert all("stack_trace" not in error for error in launched.errors)
    logged = " / ".join(line for level in ("INFO", "WARN", "ERROR", "FATAL") for line in launched.logs(level))
    assert "may not read refunds" not in logged  # said once, by its TRACE error


def test_a_bug_while_reading_a_table_keeps_its_traceback(stripe, monkeypatch):
    stripe.serves_list("customers", CUSTOMERS)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(StripeHttp, "page", broken)

    output = read(config(), "customers", expect_failure=True)

    (failed,) = [log.log.message for log in output.logs if log.log.message.startswith("Exception while syncing stream customers")]
    assert "Traceback" in failed and "RuntimeError: a bug" in failed
    assert output.errors[0].trace.error.failure_type == FailureType.system_error
    assert "RuntimeError: a bug" in output.errors[0].trace.error.stack_trace
