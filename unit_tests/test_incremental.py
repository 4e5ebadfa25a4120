"""Incremental syncs against mocked Stripe: what is asked for, what is emitted, and the state left behind."""

from email.utils import formatdate

import pytest

from airbyte_cdk.models import FailureType
from source_stripe.planning import EVENTS_LISTED_LATE_MARGIN
from source_stripe.incremental import objects_per_slice
from unit_tests.stripe_api import (
    LIVE_KEY,
    config,
    embedded_list,
    error_messages,
    event,
    final_state,
    ids_of,
    missing_permission,
    objects,
    read,
    read_incrementally,
    records_of,
    stripe_error,
    stripe_object,
)

NOW = 1_790_000_000
STRIPE_EPOCH = 1_293_840_000  # no lower bound is sent from there
DAY = 86_400
START = "2024-01-01T00:00:00Z"
START_TS = 1_704_067_200
SETTLED = NOW - EVENTS_LISTED_LATE_MARGIN  # the newest events position a sync at NOW may save


def live_config(**overrides):
    """Live mode, whose budget splits dense ranges into slices of 2,000 objects (test mode's, 4 times smaller: 8,000)."""
    return config(api_key=LIVE_KEY, environment="live", **overrides)


def customer(key, created, **fields):
    return stripe_object("customer", id=f"cus_{key}", created=created, **fields)


def coupon(key, created, **fields):
    """Of a table whose changes do not all have events (a coupon's times_redeemed), so its lookback window is listed."""
    return stripe_object("coupon", id=f"co_{key}", created=created, **fields)


def created_filters(stripe, path):
    return [
        (int(request.qs.get("created[gte]", [STRIPE_EPOCH])[0]), int(request.qs["created[lt]"][0]) if "created[lt]" in request.qs else None)
        for request in stripe.requests_to(path)
    ]


def event_requests(stripe):
    return [request.qs for request in stripe.requests_to("events") if "types[]" in request.qs]


def warnings_of(output):
    return [log.log.message for log in output.logs if log.log.level.value == "WARN"]


@pytest.fixture
def serve(stripe):
    """Serves a table's objects (`customers` by default) and their events as Stripe would at NOW."""

    def _serve(objects=(), events=(), path="customers"):
        stripe.lists(path, list(objects), NOW)
        stripe.lists("events", list(events), NOW)

    return _serve


def test_first_incremental_sync_reads_all_history_oldest_slice_first_and_saves_both_positions(stripe, serve):
    serve([customer("old", START_TS + 10), customer("new", NOW - 100)])

    output = read_incrementally(config(start_date=START), "customers")

    assert sorted(ids_of(output, "customers")) == ["cus_new", "cus_old"]
    slices = created_filters(stripe, "customers")
    assert slices[0][0] == START_TS and slices[-1][1] is None
    assert [lower for lower, _ in slices] == sorted(lower for lower, _ in slices)
    assert final_state(output, "customers") == {"created": NOW - 100, "events": SETTLED}
    assert event_requests(stripe) == []


def test_next_sync_rereads_the_lookback_window_before_the_saved_position_and_replays_events_since_then(stripe, serve):
    serve(path="coupons")

    read_incrementally(config(start_date=START, lookback_window_days=2), "coupons", state={"coupons": {"created": NOW - DAY, "events": NOW - DAY}})

    assert created_filters(stripe, "coupons") == [(NOW - 3 * DAY, None)]
    assert [(int(qs["created[gte]"][0]), "created[lt]" in qs) for qs in event_requests(stripe)] == [(NOW - DAY, False)]


def test_objects_sharing_the_saved_second_are_read_again(stripe, serve):
    serve([coupon("same_second_a", NOW - 50), coupon("same_second_b", NOW - 50)], path="coupons")

    output = read_incrementally(config(lookback_window_days=0), "coupons", state={"coupons": {"created": NOW - 50, "events": NOW - 60}})

    assert sorted(ids_of(output, "coupons")) == ["co_same_second_a", "co_same_second_b"]
    assert created_filters(stripe, "coupons") == [(NOW - 50, None)]


def test_a_sparse_history_is_listed_in_a_few_requests(stripe, serve):
    two_years = 2 * 365 * DAY
    serve([customer(f"{i:03d}", START_TS + i * (two_years // 150)) for i in range(150)])

    output = read_incrementally(config(start_date=START), "customers")

    assert len(ids_of(output, "customers")) == 150
    assert len(stripe.requests_to("customers")) <= 3


def test_a_dense_range_is_split_among_workers_and_every_object_is_read_once(stripe, serve):
    # 2,600 customers in the last day, in pairs sharing a second, under ten years of silence.
    dense = [customer(f"{i:04d}", NOW - DAY + i // 2 * 60) for i in range(2_600)]
    serve(dense)

    output = read_incrementally(live_config(), "customers")

    assert sorted(ids_of(output, "customers")) == sorted(c["id"] for c in dense)
    slices = {lower for lower, _ in created_filters(stripe, "customers")}
    assert len(slices) > 2, "the dense day was read by one slice"
    # 26 full pages, plus a request for each doubling of slice length back through the empty decade.
    assert len(stripe.requests_to("customers")) <= 26 + 20
    # The whole table listed: everything made before where its events begin has been read.
    assert final_state(output, "customers")["created"] == max(max(c["created"] for c in dense), SETTLED)


@pytest.mark.parametrize("requests_per_second, objects", [(97, 2_000), (24, 8_083), (10, 19_400), (None, 2_000)])
def test_slices_hold_more_objects_the_smaller_the_request_budget_so_fewer_end_on_a_partial_page(requests_per_second, objects):
    assert objects_per_slice(requests_per_second) == objects


@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "full_refresh"])
def test_split_slices_of_several_tables_finish_with_the_fewest_workers_allowed(stripe, serve, incremental):
    dense = [customer(f"{i:04d}", NOW - DAY + i * 20) for i in range(1_200)]
    serve(dense)
    stripe.lists("products", [stripe_object("product", id=f"prod_{i:04d}", created=NOW - DAY + i * 20) for i in range(1_200)], NOW)
    cfg = live_config(max_concurrency=2)

    output = read_incrementally(cfg, "customers", "products") if incremental else read(cfg, "customers", "products")

    assert len(set(ids_of(output, "customers"))) == len(ids_of(output, "customers")) == 1_200
    assert len(set(ids_of(output, "products"))) == len(ids_of(output, "products")) == 1_200


def test_an_account_without_the_legacy_orders_api_reads_order_returns_incrementally_as_empty(stripe, serve):
    serve()
    stripe.answers_error("order_returns", 404, "Unrecognized request URL (GET: /v1/order_returns).")

    output = read_incrementally(config(), "order_returns")

    assert records_of(output, "order_returns") == []
    assert error_messages(output) == []
    assert any("no legacy Orders API" in warning for warning in warnings_of(output))


def test_an_end_date_reads_exactly_the_historical_window_and_no_events(stripe, serve):
    end = START_TS + 200 * DAY
    serve([customer("before", START_TS - 5), customer("inside", START_TS + 5), customer("after", end + 5)])

    output = read_incrementally(config(start_date=START, end_date="2024-07-19T00:00:00Z"), "customers")

    assert ids_of(output, "customers") == ["cus_inside"]
    slices = created_filters(stripe, "customers")
    assert slices[0][0] == START_TS and slices[-1][1] == end
    assert event_requests(stripe) == []


@pytest.mark.parametrize(
    "table, scanned, types",
    [
        ("customers", "customers", {"customer.created", "customer.updated", "customer.deleted"}),
        ("refunds", "refunds", {"refund.created", "refund.updated", "charge.refund.updated"}),
        ("subscription_items", "subscriptions", {"customer.subscription.updated", "customer.subscription.deleted"}),
        ("setup_attempts", "setup_intents", {"setup_intent.succeeded", "setup_intent.setup_failed"}),
    ],
)
def test_each_table_replays_only_its_own_event_types(stripe, table, scanned, types):
    stripe.lists(scanned, [], NOW)
    stripe.lists("events", [], NOW)

    read_incrementally(config(), table, state={table: {"created": NOW - DAY, "events": NOW - DAY}})

    (query,) = event_requests(stripe)
    assert types <= set(query["types[]"])
    assert all(kind.split(".")[0] in {"customer", "refund", "charge", "setup_intent"} for kind in query["types[]"])


def test_subscription_events_are_read_once_for_the_three_tables_that_follow_them(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)
    tables = ("subscriptions", "subscription_items", "usage_record_summaries")

    read_incrementally(config(), *tables, state={table: {"created": NOW - DAY, "events": NOW - DAY} for table in tables})

    assert len(event_requests(stripe)) == 1
    assert len([request for request in stripe.requests_to("subscriptions") if request.qs["status"] == ["all"]]) == 1


def replay_requests(stripe):
    return [request.qs for request in stripe.requests_to("events") if "created[gte]" in request.qs]


def test_tables_replaying_different_events_page_through_one_event_list_each_keeping_its_own(stripe):
    stripe.lists("customers", [], NOW)
    stripe.lists("refunds", [], NOW)
    renamed = customer("renamed", NOW - 3 * DAY, name="New name")
    refunded = stripe_object("refund", id="re_1", created=NOW - 3 * DAY, status="succeeded")
    stripe.lists("events", [event("customer.updated", renamed, NOW - HOUR), event("refund.updated", refunded, NOW - HOUR)], NOW)

    output = read_incrementally(config(), "customers", "refunds", state={t: {"created": NOW - DAY, "events": NOW - DAY} for t in ("customers", "refunds")})

    (query,) = replay_requests(stripe)
    assert {"customer.updated", "refund.updated"} <= set(query["types[]"])
    assert ids_of(output, "customers") == ["cus_renamed"]
    assert ids_of(output, "refunds") == ["re_1"]


def test_tables_replaying_more_than_twenty_event_types_read_the_event_list_unfiltered_once(stripe):
    tables = ("customers", "invoices", "subscriptions")
    for path in tables:
        stripe.lists(path, [], NOW)
    stripe.lists("events", [], NOW)

    read_incrementally(config(), *tables, state={t: {"created": NOW - DAY, "events": NOW - DAY} for t in tables})

    (query,) = replay_requests(stripe)
    assert "types[]" not in query


def running_statuses_listed(stripe):
    return sorted(request.qs["status"][0] for request in stripe.requests_to("subscriptions") if request.qs["status"] != ["all"])


HOUR = 3_600


def usage_state(running_usage=None):
    state = {"created": NOW - DAY, "events": NOW - DAY}
    return {"usage_record_summaries": state if running_usage is None else {**state, "running_usage": running_usage}}


def renewed_metered_subscription(stripe):
    """A subscription of a metered item that renewed ten minutes ago, whose item has one usage summary."""
    metered_price = stripe_object("price", recurring={"usage_type": "metered", "interval": "month"})
    renewed = stripe_object(
        "subscription", id="sub_renewed", created=NOW - 90 * DAY, items=embedded_list([stripe_object("subscription_item", id="si_renewed", price=metered_price)])
    )
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [event("customer.subscription.updated", renewed, NOW - 600)], NOW)
    stripe.serves_list("subscription_items/si_renewed/usage_record_summaries", objects("usage_record_summary", 1, "sis"))


def test_running_usage_which_accrues_without_events_is_reread_once_the_last_reread_is_12_hours_old(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)

    output = read_incrementally(config(), "usage_record_summaries", state=usage_state(running_usage=NOW - 12 * HOUR))

    assert running_statuses_listed(stripe) == ["active", "past_due", "paused", "trialing", "unpaid"]
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW


def test_within_the_refresh_interval_only_changed_subscriptions_have_their_usage_read(stripe):
    renewed_metered_subscription(stripe)

    output = read_incrementally(config(), "usage_record_summaries", state=usage_state(running_usage=NOW - 11 * HOUR))

    assert running_statuses_listed(stripe) == []
    assert ids_of(output, "usage_record_summaries") == ["sis_0000"]
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW - 11 * HOUR


def test_a_refresh_interval_of_0_rereads_running_usage_every_sync(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)

    read_incrementally(config(running_usage_refresh_hours=0), "usage_record_summaries", state=usage_state(running_usage=NOW - 60))

    assert running_statuses_listed(stripe) == ["active", "past_due", "paused", "trialing", "unpaid"]


def test_a_state_that_never_recorded_a_reread_of_running_usage_rereads_it(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)

    output = read_incrementally(config(), "usage_record_summaries", state=usage_state())

    assert running_statuses_listed(stripe) == ["active", "past_due", "paused", "trialing", "unpaid"]
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW


def test_a_first_sync_counts_as_a_read_of_all_running_usage(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)

    output = read_incrementally(config(), "usage_record_summaries")

    assert running_statuses_listed(stripe) == []
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW


def test_a_failed_reread_of_running_usage_leaves_it_due(stripe):
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [], NOW)
    stripe.answers_error("subscriptions", 400, "Something went wrong.", limit=100, status="active")

    output = read_incrementally(
        config(), "usage_record_summaries", state=usage_state(running_usage=NOW - 13 * HOUR), expect_failure=True
    )

    assert any("Something went wrong" in message for message in error_messages(output))
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW - 13 * HOUR


def test_tables_stripe_sends_no_events_for_rely_on_the_lookback_window(stripe):
    stripe.lists("shipping_rates", [], NOW)
    stripe.lists("events", [], NOW)

    output = read_incrementally(config(lookback_window_days=7), "shipping_rates", state={"shipping_rates": {"created": NOW - DAY}})

    assert event_requests(stripe) == []
    assert created_filters(stripe, "shipping_rates") == [(NOW - 8 * DAY, None)]
    assert final_state(output, "shipping_rates") == {"created": NOW - DAY}


def test_changes_and_deletions_from_events_carry_the_event_time(stripe, serve):
    renamed = customer("renamed", NOW - 900 * DAY, name="New name")
    gone = customer("gone", NOW - 800 * DAY)
    serve([], [event("customer.updated", renamed, NOW - 500), event("customer.deleted", gone, NOW - 400)])

    output = read_incrementally(config(), "customers", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}})

    records = {record["id"]: record for record in records_of(output, "customers")}
    assert (records["cus_renamed"]["name"], records["cus_renamed"]["observed_at"], records["cus_renamed"]["is_deleted"]) == (
        "New name",
        (NOW - 500) * 1000,
        False,
    )
    assert (records["cus_gone"]["observed_at"], records["cus_gone"]["is_deleted"]) == ((NOW - 400) * 1000, True)
    # Customers' events say every change: nothing is listed, and what was made before the events position came from them.
    assert stripe.requests_to("customers") == []
    assert final_state(output, "customers") == {"created": SETTLED, "events": SETTLED}


def test_invoice_items_are_positioned_by_their_date_which_their_lists_created_filter_compares(stripe):
    stripe.lists("invoiceitems", [stripe_object("invoiceitem", id="ii_old", date=START_TS + 10), stripe_object("invoiceitem", id="ii_new", date=NOW - 100)], NOW, created_field="date")
    stripe.lists("events", [], NOW)

    output = read_incrementally(config(start_date=START), "invoice_items")

    assert sorted(ids_of(output, "invoice_items")) == ["ii_new", "ii_old"]
    assert final_state(output, "invoice_items") == {"created": NOW - 100, "events": SETTLED}


def credit_notes(created_times):
    return [stripe_object("credit_note", id=f"cn_{n:04d}", created=created, lines=embedded_list([])) for n, created in enumerate(created_times)]


def checkout_sessions(created_times):
    return [stripe_object("checkout.session", id=f"cs_{n:04d}", created=created, mode="setup") for n, created in enumerate(created_times)]


def test_a_list_without_a_created_filter_is_read_newest_first_only_down_to_the_saved_position_less_the_lookback(stripe):
    newest_first = checkout_sessions([NOW - 100 - n for n in range(150)] + [NOW - 30 * DAY - n for n in range(250)])
    stripe.serves_list("checkout/sessions", newest_first)
    stripe.lists("events", [], NOW)

    state = {"checkout_sessions": {"created": NOW - 2 * DAY, "events": NOW - DAY}}
    output = read_incrementally(config(lookback_window_days=1), "checkout_sessions", state=state)

    assert sorted(ids_of(output, "checkout_sessions")) == [f"cs_{n:04d}" for n in range(150)]
    assert len(stripe.requests_to("checkout/sessions")) == 2, "the second page reaches below the saved position: no third"
    assert final_state(output, "checkout_sessions")["created"] == NOW - 100


def test_a_list_without_a_created_filter_is_read_whole_in_a_first_sync_without_created_parameters(stripe):
    stripe.serves_list("credit_notes", credit_notes([NOW - 100 * n for n in range(250)]), page_size=100)

    output = read(config(), "credit_notes")

    assert len(ids_of(output, "credit_notes")) == 250
    assert all("created[gte]" not in r.qs and "created[lt]" not in r.qs for r in stripe.requests_to("credit_notes"))


def test_a_deleted_draft_takes_its_embedded_lines_with_it_without_asking_stripe_for_more(stripe):
    draft = stripe_object("invoice", id="in_draft", status="draft", lines=embedded_list([stripe_object("line_item", id="il_1")], has_more=True))
    stripe.lists("invoices", [], NOW)
    stripe.lists("events", [event("invoice.deleted", draft, NOW - 100)], NOW)

    output = read_incrementally(config(), "invoice_line_items", state={"invoice_line_items": {"created": NOW - DAY, "events": NOW - DAY}})

    assert [(r["id"], r["invoice"], r["is_deleted"]) for r in records_of(output, "invoice_line_items")] == [("il_1", "in_draft", True)]
    assert stripe.requests_to("invoices/in_draft/lines") == []


def test_an_object_gone_when_its_event_sends_for_it_again_arrives_deleted_with_the_lines_it_embedded(stripe):
    draft = stripe_object("invoice", id="in_gone", status="draft", lines=embedded_list([stripe_object("line_item", id="il_gone")]))
    stripe.lists("invoices", [], NOW)
    stripe.lists("events", [event("invoice.updated", draft, NOW - 100, "2020-08-27")], NOW)
    stripe.answers_error("invoices/in_gone", 404, "No such invoice: 'in_gone'", "resource_missing")
    tables = ("invoices", "invoice_line_items")

    output = read_incrementally(config(), *tables, state={table: {"created": NOW - DAY, "events": NOW - DAY} for table in tables})

    assert error_messages(output) == []
    assert [(r["id"], r["is_deleted"]) for r in records_of(output, "invoices")] == [("in_gone", True)]
    assert [(r["id"], r["invoice"], r["is_deleted"]) for r in records_of(output, "invoice_line_items")] == [("il_gone", "in_gone", True)]


def test_a_404_that_arrives_unreadable_is_asked_again_before_the_object_counts_as_gone(stripe):
    draft = stripe_object("invoice", id="in_gone", status="draft", lines=embedded_list([]))
    stripe.lists("invoices", [], NOW)
    stripe.lists("events", [event("invoice.updated", draft, NOW - 100, "2020-08-27")], NOW)
    gone = stripe_error(404, "No such invoice: 'in_gone'", "resource_missing")
    stripe.answers("invoices/in_gone", [{"status_code": 404, "text": '{"error": {"code": "reso'}, gone])

    output = read_incrementally(config(), "invoices", state={"invoices": {"created": NOW - DAY, "events": NOW - DAY}})

    assert error_messages(output) == []
    assert len(stripe.requests_to("invoices/in_gone")) == 2
    assert [(r["id"], r["is_deleted"]) for r in records_of(output, "invoices")] == [("in_gone", True)]


def test_the_usage_of_an_item_deleted_since_an_event_named_it_is_no_rows_rather_than_a_failure(stripe):
    metered_price = stripe_object("price", recurring={"usage_type": "metered", "interval": "month"})
    before = stripe_object("subscription", id="sub_1", items=embedded_list([stripe_object("subscription_item", id="si_gone", price=metered_price)]))
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [event("customer.subscription.updated", before, NOW - 600)], NOW)
    stripe.answers_error("subscription_items/si_gone/usage_record_summaries", 404, "No such subscription item: 'si_gone'", "resource_missing")

    output = read_incrementally(config(), "usage_record_summaries", state={"usage_record_summaries": {"created": NOW - DAY, "events": NOW - DAY}})

    assert error_messages(output) == []
    assert records_of(output, "usage_record_summaries") == []


def test_what_an_event_means_comes_from_the_tables_entry_a_canceled_subscription_stays_a_deleted_customer_goes(stripe):
    canceled = stripe_object("subscription", id="sub_canceled", created=NOW - 500 * DAY, status="canceled", items=embedded_list([]))
    gone = customer("gone", NOW - 800 * DAY)
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("customers", [], NOW)
    stripe.lists("events", [event("customer.subscription.deleted", canceled, NOW - 400), event("customer.deleted", gone, NOW - 300)], NOW)
    tables = ("subscriptions", "customers")

    output = read_incrementally(config(), *tables, state={table: {"created": NOW - DAY, "events": NOW - DAY} for table in tables})

    assert [(r["id"], r["status"], r["is_deleted"]) for r in records_of(output, "subscriptions")] == [("sub_canceled", "canceled", False)]
    assert [(r["id"], r["is_deleted"]) for r in records_of(output, "customers")] == [("cus_gone", True)]


def test_events_of_one_window_are_replayed_oldest_first(serve):
    serve([], [event("customer.updated", customer("twice", 1, name="older"), NOW - 900), event("customer.updated", customer("twice", 1, name="newer"), NOW - 800)])

    output = read_incrementally(config(), "customers", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}})

    assert [(record["name"], record["observed_at"]) for record in records_of(output, "customers")] == [
        ("older", (NOW - 900) * 1000),
        ("newer", (NOW - 800) * 1000),
    ]


@pytest.mark.parametrize("listed_first", ["older", "newer"])
def test_several_events_of_one_object_in_one_second_are_replaced_by_the_object_fetched_once(stripe, serve, requests_mock, listed_first):
    # Stripe does not list one second's events in the order they happened: neither order may be trusted.
    older, newer = customer("twice", 1, name="older"), customer("twice", 1, name="newer")
    sequence = {"older": 1, "newer": 2} if listed_first == "newer" else {"older": 2, "newer": 1}
    serve([], [event("customer.updated", older, NOW - 300, sequence=sequence["older"]), event("customer.updated", newer, NOW - 300, sequence=sequence["newer"])])
    refetch = requests_mock.get(stripe.url("customers/cus_twice"), json=newer, headers={"Date": formatdate(NOW - 300, usegmt=True)})

    output = read_incrementally(config(), "customers", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}})

    assert [(record["name"], record["observed_at"]) for record in records_of(output, "customers")] == [("newer", (NOW - 300) * 1000 + 1)]
    assert refetch.call_count == 1


def test_events_of_one_change_in_one_second_carrying_the_same_object_need_no_fetch(stripe, requests_mock):
    refund = stripe_object("refund", id="re_1", created=NOW - 500 * DAY, reason="duplicate")
    stripe.lists("refunds", [], NOW)
    stripe.lists("events", [event("refund.updated", refund, NOW - 300, sequence=1), event("charge.refund.updated", refund, NOW - 300, sequence=2)], NOW)
    refetch = requests_mock.get(stripe.url("refunds/re_1"), json=refund)

    output = read_incrementally(config(), "refunds", state={"refunds": {"created": NOW - DAY, "events": NOW - DAY}})

    assert {(record["id"], record["observed_at"]) for record in records_of(output, "refunds")} == {("re_1", (NOW - 300) * 1000)}
    assert refetch.call_count == 0


def test_the_events_position_stays_a_margin_behind_stripes_time_so_an_event_listed_late_is_replayed(stripe, serve):
    assert EVENTS_LISTED_LATE_MARGIN >= 120, "Stripe can list an event later than newer ones: a couple of minutes at least"
    listed_late = event("customer.updated", customer("late", 1, name="listed late"), NOW - 20)
    on_time = event("customer.updated", customer("on_time", 1, name="on time"), NOW - 10)
    serve([], [on_time])
    first = read_incrementally(config(), "customers", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}})
    serve([], [listed_late, on_time])

    second = read_incrementally(config(), "customers", state={"customers": final_state(first, "customers")})

    assert final_state(first, "customers")["events"] == SETTLED
    assert "listed late" in [record["name"] for record in records_of(second, "customers")]


def test_a_list_read_is_dated_just_before_an_event_of_the_same_second(serve):
    serve([coupon("fresh", NOW - 10)], [event("coupon.updated", coupon("fresh", NOW - 10, name="changed"), NOW)], path="coupons")

    output = read_incrementally(config(), "coupons", state={"coupons": {"created": NOW - DAY, "events": NOW - DAY}})

    by_source = sorted((record["observed_at"], record.get("name")) for record in records_of(output, "coupons"))
    assert by_source[0][0] == NOW * 1000 - 1 and by_source[-1] == (NOW * 1000, "changed")


def test_an_event_in_another_api_version_is_replaced_by_the_object_refetched_once_per_sync(stripe, serve, requests_mock):
    foreign = {"id": "cus_old_shape", "object": "customer", "account_balance": 0}
    serve([], [event("customer.updated", foreign, NOW - 300, "2020-08-27"), event("customer.updated", foreign, NOW - 200, "2020-08-27")])
    current = customer("old_shape", NOW - 999 * DAY, balance=0)
    refetch = requests_mock.get(stripe.url("customers/cus_old_shape"), json=current, headers={"Date": formatdate(NOW, usegmt=True)})

    output = read_incrementally(config(), "customers", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}})

    (record,) = records_of(output, "customers")
    assert refetch.call_count == 1
    assert "account_balance" not in record and record["balance"] == 0
    assert record["observed_at"] == NOW * 1000 - 1
    assert refetch.last_request.headers["Stripe-Version"] == "2023-08-16"


def test_subscription_items_follow_their_subscriptions_events_and_removed_items_are_deleted(stripe):
    kept, removed = stripe_object("subscription_item", id="si_kept"), stripe_object("subscription_item", id="si_removed")
    subscription = stripe_object("subscription", id="sub_1", created=NOW - 500 * DAY, items=embedded_list([kept]))
    updated = event("customer.subscription.updated", subscription, NOW - 100, previous_attributes={"items": embedded_list([kept, removed])})
    stripe.lists("subscriptions", [], NOW)
    stripe.lists("events", [updated], NOW)

    output = read_incrementally(config(), "subscription_items", state={"subscription_items": {"created": NOW - DAY, "events": NOW - DAY}})

    assert sorted((record["id"], record["is_deleted"]) for record in records_of(output, "subscription_items")) == [
        ("si_kept", False),
        ("si_removed", True),
    ]


def test_the_events_table_reads_no_lookback_window_and_keeps_its_position_behind_events_listed_late(stripe):
    listed = [stripe_object("event", id="evt_new", created=NOW - 10), stripe_object("event", id="evt_older", created=NOW - 3600)]
    stripe.lists("events", listed, NOW)

    output = read_incrementally(config(lookback_window_days=7), "events", state={"events": {"created": NOW - DAY}})

    assert sorted(ids_of(output, "events")) == ["evt_new", "evt_older"]
    listings = [request.qs for request in stripe.requests_to("events") if "created[gte]" in request.qs]
    assert [int(query["created[gte]"][0]) for query in listings] == [NOW - DAY]
    assert final_state(output, "events") == {"created": NOW - EVENTS_LISTED_LATE_MARGIN}


def test_payment_methods_follow_their_own_events_and_a_detached_one_arrives_deleted(stripe):
    attached = stripe_object("payment_method", id="pm_new", customer="cus_1")
    detached = stripe_object("payment_method", id="pm_gone", customer=None)
    stripe.lists("customers", [], NOW)
    stripe.lists("events", [event("payment_method.attached", attached, NOW - 200), event("payment_method.detached", detached, NOW - 100)], NOW)

    output = read_incrementally(config(), "payment_methods", state={"payment_methods": {"created": NOW - DAY, "events": NOW - DAY}})

    assert sorted((r["id"], r.get("customer"), r["is_deleted"]) for r in records_of(output, "payment_methods")) == [
        ("pm_gone", None, True),
        ("pm_new", "cus_1", False),
    ]


def test_customer_source_events_of_a_card_are_not_a_bank_accounts_row(stripe):
    saved = stripe_object("bank_account", id="ba_1", customer="cus_1")
    card = stripe_object("card", id="card_1", customer="cus_1")
    stripe.lists("customers", [], NOW)
    stripe.lists("events", [event("customer.source.created", saved, NOW - 200), event("customer.source.created", card, NOW - 100)], NOW)

    output = read_incrementally(config(), "bank_accounts", state={"bank_accounts": {"created": NOW - DAY, "events": NOW - DAY}})

    assert ids_of(output, "bank_accounts") == ["ba_1"]


@pytest.mark.parametrize("found", [True, False], ids=["still_attached", "detached_since"])
def test_a_payment_method_event_in_another_api_version_is_fetched_again_from_its_customers_list(stripe, requests_mock, found):
    renewed = stripe_object("payment_method", id="pm_1", customer="cus_1", metadata={"renewed": "yes"})
    stripe.lists("customers", [], NOW)
    stripe.lists("events", [event("payment_method.automatically_updated", renewed, NOW - 100, api_version="2020-08-27")], NOW)
    if found:
        requests_mock.get(stripe.url("customers/cus_1/payment_methods/pm_1"), json=renewed)
    else:
        stripe.answers_error("customers/cus_1/payment_methods/pm_1", 404, "No such PaymentMethod: 'pm_1'", "resource_missing")

    output = read_incrementally(config(), "payment_methods", state={"payment_methods": {"created": NOW - DAY, "events": NOW - DAY}})

    (record,) = records_of(output, "payment_methods")
    assert (record["id"], record["is_deleted"], record["observed_at"] > (NOW - 100) * 1000) == ("pm_1", not found, True)


def test_fee_refunds_follow_their_fees_refunded_event_and_their_own_updated_event(stripe):
    made = stripe_object("fee_refund", id="fr_new", fee="fee_1", metadata={})
    relabelled = stripe_object("fee_refund", id="fr_old", fee="fee_2", metadata={"note": "goodwill"})
    fee = stripe_object("application_fee", id="fee_1", created=NOW - 400 * DAY, refunds=embedded_list([made]))
    stripe.lists("application_fees", [], NOW)
    stripe.lists("events", [
        event("application_fee.refunded", fee, NOW - 200),
        event("application_fee.refund.updated", relabelled, NOW - 100, previous_attributes={"metadata": {}}),
    ], NOW)  # fmt: skip

    output = read_incrementally(config(), "application_fees_refunds", state={"application_fees_refunds": {"created": NOW - DAY, "events": NOW - DAY}})

    assert sorted((r["id"], r["fee"], r["metadata"], r["is_deleted"]) for r in records_of(output, "application_fees_refunds")) == [
        ("fr_new", "fee_1", {}, False),
        ("fr_old", "fee_2", {"note": "goodwill"}, False),
    ]


def test_a_fee_is_fetched_again_when_one_of_its_refunds_changes_which_sends_no_event_of_the_fees(stripe, requests_mock):
    relabelled = stripe_object("fee_refund", id="fr_1", fee="fee_1", metadata={"note": "goodwill"})
    current = stripe_object("application_fee", id="fee_1", created=NOW - 400 * DAY, refunds=embedded_list([relabelled]))
    stripe.lists("application_fees", [], NOW)
    stripe.lists("events", [event("application_fee.refund.updated", relabelled, NOW - 100, previous_attributes={"metadata": {}})], NOW)
    fetched = requests_mock.get(stripe.url("application_fees/fee_1"), json=current, headers={"Date": formatdate(NOW, usegmt=True)})

    output = read_incrementally(config(), "application_fees", state={"application_fees": {"created": NOW - DAY, "events": NOW - DAY}})

    (record,) = records_of(output, "application_fees")
    assert (record["id"], record["refunds"]["data"][0]["metadata"]) == ("fee_1", {"note": "goodwill"})
    assert fetched.call_count == 1 and record["observed_at"] == NOW * 1000 - 1


def test_a_customers_balance_transactions_are_listed_again_only_when_its_balance_changed(stripe, requests_mock):
    credited = customer("credited", NOW - 400 * DAY, balance=-2500)
    renamed = customer("renamed", NOW - 300 * DAY, name="New name")
    stripe.lists("customers", [], NOW)
    stripe.lists("events", [
        event("customer.updated", credited, NOW - 200, previous_attributes={"balance": 0}),
        event("customer.updated", renamed, NOW - 100, previous_attributes={"name": "Old"}),
    ], NOW)  # fmt: skip
    credit = stripe_object("customer_balance_transaction", id="cbtxn_1", customer="cus_credited", amount=-2500)
    listed = stripe.serves_list("customers/cus_credited/balance_transactions", [credit])

    output = read_incrementally(config(), "customer_balance_transactions", state={"customer_balance_transactions": {"created": NOW - DAY, "events": NOW - DAY}})

    assert ids_of(output, "customer_balance_transactions") == ["cbtxn_1"]
    assert listed[0].call_count == 1
    assert stripe.requests_to("customers/cus_renamed/balance_transactions") == []


def test_a_renamed_coupon_has_its_promotion_codes_listed_again_since_they_embed_it_without_an_event_of_theirs(stripe, requests_mock):
    renamed = stripe_object("coupon", id="SPRING", name="Spring sale")
    code = stripe_object("promotion_code", id="promo_1", created=NOW - 400 * DAY, coupon=renamed)
    stripe.lists("promotion_codes", [], NOW)
    stripe.lists("events", [event("coupon.updated", renamed, NOW - 100, previous_attributes={"name": "Spring"})], NOW)
    listed_by_coupon = stripe.serves_list("promotion_codes", [code], coupon="SPRING")

    output = read_incrementally(config(), "promotion_codes", state={"promotion_codes": {"created": NOW - DAY, "events": NOW - DAY}})

    assert [(r["id"], r["coupon"]["name"], r["is_deleted"]) for r in records_of(output, "promotion_codes")] == [("promo_1", "Spring sale", False)]
    assert listed_by_coupon[0].call_count == 1
    assert "coupon.updated" in event_requests(stripe)[0]["types[]"]


def test_a_transactions_change_has_its_cards_authorizations_listed_again_since_they_embed_it(stripe, requests_mock):
    relabelled = stripe_object("issuing.transaction", id="ipi_1", card="ic_1", metadata={"receipt": "attached"})
    authorization = stripe_object("issuing.authorization", id="iauth_1", created=NOW - 400 * DAY, transactions=[relabelled])
    stripe.lists("issuing/authorizations", [], NOW)
    stripe.lists("events", [event("issuing_transaction.updated", relabelled, NOW - 100, previous_attributes={"metadata": {}})], NOW)
    listed_by_card = stripe.serves_list("issuing/authorizations", [authorization], card="ic_1")

    output = read_incrementally(config(), "authorizations", state={"authorizations": {"created": NOW - DAY, "events": NOW - DAY}})

    assert [r["transactions"][0]["metadata"] for r in records_of(output, "authorizations")] == [{"receipt": "attached"}]
    assert listed_by_card[0].call_count == 1


def test_several_changes_of_a_subscription_in_one_second_leave_its_current_items_and_delete_the_dropped_one(stripe, requests_mock):
    kept, dropped = stripe_object("subscription_item", id="si_kept", quantity=1), stripe_object("subscription_item", id="si_dropped")
    changed = {**kept, "quantity": 5}
    before = stripe_object("subscription", id="sub_1", created=NOW - 500 * DAY, items=embedded_list([kept, dropped]))
    after_quantity = {**before, "items": embedded_list([changed, dropped])}
    after_drop = {**before, "items": embedded_list([changed])}
    stripe.lists("subscriptions", [], NOW)
    stripe.lists(
        "events",
        [
            event("customer.subscription.updated", after_quantity, NOW - 100, sequence=2, previous_attributes={"items": before["items"]}),
            event("customer.subscription.updated", after_drop, NOW - 100, sequence=1, previous_attributes={"items": after_quantity["items"]}),
        ],
        NOW,
    )
    requests_mock.get(stripe.url("subscriptions/sub_1"), json=after_drop, headers={"Date": formatdate(NOW, usegmt=True)})

    output = read_incrementally(config(), "subscription_items", state={"subscription_items": {"created": NOW - DAY, "events": NOW - DAY}})

    records = {record["id"]: record for record in records_of(output, "subscription_items")}
    assert sorted((r["id"], r["is_deleted"], r["observed_at"]) for r in records.values()) == [
        ("si_dropped", True, NOW * 1000 - 1),
        ("si_kept", False, NOW * 1000 - 1),
    ]
    assert records["si_kept"]["quantity"] == 5


def test_a_subscription_fetched_again_for_its_same_second_events_is_fetched_once_for_every_table_reading_it(stripe, requests_mock):
    subscription = stripe_object("subscription", id="sub_1", created=NOW - 500 * DAY, items=embedded_list([stripe_object("subscription_item", id="si_1")]))
    stripe.lists("subscriptions", [], NOW)
    versions = [{**subscription, "metadata": {"version": str(n)}} for n in (1, 2)]
    stripe.lists("events", [event("customer.subscription.updated", version, NOW - 100, sequence=n) for n, version in enumerate(versions)], NOW)
    refetch = requests_mock.get(stripe.url("subscriptions/sub_1"), json=subscription, headers={"Date": formatdate(NOW, usegmt=True)})
    tables = ("subscriptions", "subscription_items", "usage_record_summaries")

    output = read_incrementally(config(), *tables, state={table: {"created": NOW - DAY, "events": NOW - DAY} for table in tables})

    assert ids_of(output, "subscriptions") == ["sub_1"] and ids_of(output, "subscription_items") == ["si_1"]
    assert refetch.call_count == 1


def test_events_older_than_stripes_30_days_make_the_table_read_again_with_a_warning(stripe, serve):
    serve([customer("ancient", START_TS + 1)])

    output = read_incrementally(config(start_date=START), "customers", state={"customers": {"created": NOW - 40 * DAY, "events": NOW - 40 * DAY}})

    assert ids_of(output, "customers") == ["cus_ancient"]
    assert created_filters(stripe, "customers")[0][0] == START_TS
    assert event_requests(stripe) == []
    assert any("older than the 30 days Stripe keeps events" in warning for warning in warnings_of(output))
    assert final_state(output, "customers")["events"] == SETTLED


def test_without_events_permission_new_and_lookback_objects_are_read_and_the_user_is_told_once(stripe, requests_mock):
    stripe.lists("customers", [customer("recent", NOW - DAY)], NOW)
    stripe.lists("products", [], NOW)
    requests_mock.get(stripe.url("events", limit=1), **stripe_error(403, missing_permission("rak_event_read")))

    output = read_incrementally(
        config(lookback_window_days=3), "customers", "products", state={"customers": {"created": NOW - DAY, "events": NOW - DAY}}
    )

    assert ids_of(output, "customers") == ["cus_recent"]
    assert created_filters(stripe, "customers") == [(NOW - 4 * DAY, None)]
    assert len([warning for warning in warnings_of(output) if "cannot read Events" in warning]) == 1
    assert error_messages(output) == []


def test_without_events_permission_the_sync_keeps_to_stripes_time_which_its_refusal_gives(stripe, requests_mock):
    stripe.lists("subscriptions", [], NOW)
    refusal = stripe_error(403, missing_permission("rak_event_read"), Date=formatdate(NOW, usegmt=True))
    requests_mock.get(stripe.url("events", limit=1), **refusal)

    output = read_incrementally(config(), "usage_record_summaries", state={"usage_record_summaries": {"created": NOW - DAY}})

    assert error_messages(output) == []
    assert final_state(output, "usage_record_summaries")["running_usage"] == NOW, "not this machine's clock"
    assert final_state(output, "usage_record_summaries")["created"] <= NOW


@pytest.mark.parametrize(
    "earlier_state, expected_created_from, expected_events_from",
    [
        ({"updated": NOW - DAY}, NOW - DAY, NOW - DAY),
        ({"created": NOW - DAY}, NOW - DAY, NOW - DAY),
        ({"states": [{"partition": {"parent_slice": {}}, "cursor": {"updated": NOW - 2 * DAY}}], "parent_state": {}}, NOW - 2 * DAY, NOW - 2 * DAY),
    ],
    ids=["events_based_stream", "created_based_stream", "per_parent_child_stream"],
)
def test_state_of_airbytes_earlier_stripe_connector_is_migrated(stripe, serve, earlier_state, expected_created_from, expected_events_from):
    serve(path="coupons")

    read_incrementally(config(lookback_window_days=0), "coupons", state={"coupons": earlier_state})

    assert created_filters(stripe, "coupons") == [(expected_created_from, None)]
    assert int(event_requests(stripe)[0]["created[gte]"][0]) == expected_events_from


def test_where_events_begin_is_saved_before_the_first_record(serve):
    serve([customer("first", NOW - 100)])

    output = read_incrementally(config(), "customers")

    kinds = [message.type.value for message in output.records_and_state_messages]
    assert kinds[0] == "STATE"
    assert output.state_messages[0].state.stream.stream_state.__dict__ == {"events": SETTLED}


def test_a_sync_stopped_before_its_first_slice_finished_is_read_again_and_its_deletions_replayed(stripe, serve):
    # {"events": E} alone: that sync may have sent objects deleted since E, which the new full read no longer lists.
    gone = customer("gone", NOW - 800 * DAY)
    serve([customer("kept", NOW - 700 * DAY)], [event("customer.deleted", gone, NOW - 400)])

    output = read_incrementally(config(start_date=START), "customers", state={"customers": {"events": NOW - DAY}})

    records = {record["id"]: record for record in records_of(output, "customers")}
    assert records["cus_kept"]["is_deleted"] is False
    assert records["cus_gone"]["is_deleted"] is True
    assert created_filters(stripe, "customers")[0][0] == START_TS
    assert final_state(output, "customers") == {"created": NOW - DAY, "events": SETTLED}, "listed whole up to its events' start"


def test_a_state_in_the_future_is_read_as_now(stripe, serve):
    serve(path="coupons")

    output = read_incrementally(config(lookback_window_days=0), "coupons", state={"coupons": {"created": NOW + 99 * DAY, "events": NOW + 99 * DAY}})

    assert error_messages(output) == []
    assert created_filters(stripe, "coupons") == [(NOW, None)]
    assert any("lies in the future" in warning for warning in warnings_of(output))


@pytest.mark.parametrize("broken", [{"created": "yesterday"}, {"created": -5}, {"events": True, "created": 1}])
def test_a_malformed_state_is_a_config_error_that_names_the_stream(serve, broken):
    serve()

    output = read_incrementally(config(), "customers", state={"customers": broken}, expect_failure=True)

    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.config_error
    assert "saved state of customers" in error.message


def test_state_for_a_table_this_connector_does_not_have_is_ignored_with_a_warning(serve):
    serve()

    output = read_incrementally(config(), "customers", state={"a_table_it_never_had": {"created": NOW - DAY}})

    assert error_messages(output) == []
    assert any("'a_table_it_never_had'" in warning and "ignored" in warning for warning in warnings_of(output))


def test_a_sync_up_to_an_end_date_moves_the_created_position_no_further_than_it_listed(serve):
    end = START_TS + 30 * DAY
    serve([customer("old", START_TS + 10)])

    state = {"customers": {"created": START_TS + 5, "events": NOW - DAY}}
    output = read_incrementally(config(start_date=START, end_date="2024-01-31T00:00:00Z"), "customers", state=state)

    assert ids_of(output, "customers") == ["cus_old"]
    assert final_state(output, "customers")["created"] == end, "not where events begin: nothing after the end date was listed"
