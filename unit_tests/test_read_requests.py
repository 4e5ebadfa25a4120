"""What a full-refresh read asks Stripe for, table by table, and that it reads every page."""

import pytest

from source_stripe.tables import by_name, manifest_tables

from unit_tests.stripe_api import (
    STRIPE_VERSION,
    TEST_KEY,
    config,
    embedded_list,
    error_messages,
    ids_of,
    objects,
    read,
    records_of,
    stripe_object,
)

TOP_LEVEL_TABLES = [table for table in manifest_tables() if table.is_top_level]
TABLES = by_name(manifest_tables())


@pytest.mark.parametrize("table", TOP_LEVEL_TABLES, ids=lambda table: table.name)
def test_top_level_table_is_listed_100_at_a_time_with_pinned_version_and_bearer_key(stripe, table):
    kind = table.stripe_object
    stripe.serves_list(table.path, objects(kind, 3, kind), **table.request_parameters)

    output = read(config(), table.name)

    assert ids_of(output, table.name) == [f"{kind}_0000", f"{kind}_0001", f"{kind}_0002"]
    (request,) = stripe.requests_to(table.path)
    assert request.qs == {"limit": ["100"], **{name: [value] for name, value in table.request_parameters.items()}}
    assert request.headers["Stripe-Version"] == STRIPE_VERSION
    assert request.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert "Stripe-Account" not in request.headers
    assert request.headers["Accept-Encoding"] == "gzip, deflate"  # what the connector decodes, whatever is installed


def test_listed_records_are_stamped_with_stripes_clock_and_not_deleted(stripe):
    stripe.serves_list("customers", objects("customer", 2, "cus"), headers={"Date": "Tue, 14 Nov 2023 22:13:20 GMT"})

    output = read(config(), "customers")

    assert [(record["observed_at"], record["is_deleted"]) for record in records_of(output, "customers")] == [
        (1_700_000_000_000 - 1, False),
        (1_700_000_000_000 - 1, False),
    ]


def test_connected_account_is_sent_as_stripe_account_header(stripe):
    stripe.serves_list("customers", objects("customer", 1, "cus"))

    read(config(account_id="acct_1Connected"), "customers")

    (request,) = stripe.requests_to("customers")
    assert request.headers["Stripe-Account"] == "acct_1Connected"


def test_every_page_is_read_by_following_starting_after_until_has_more_is_false(stripe):
    pages = stripe.serves_list("customers", objects("customer", 250, "cus"))

    output = read(config(), "customers")

    assert ids_of(output, "customers") == [f"cus_{i:04d}" for i in range(250)]
    assert [page.call_count for page in pages] == [1, 1, 1]


def test_an_empty_table_is_read_with_one_request(stripe):
    (page,) = stripe.serves_list("refunds", [])

    output = read(config(), "refunds")

    assert records_of(output, "refunds") == []
    assert page.call_count == 1


def test_canceled_subscriptions_are_read_with_status_all(stripe):
    active = stripe_object("subscription", id="sub_active", status="active", items=embedded_list([]))
    canceled = stripe_object("subscription", id="sub_canceled", status="canceled", items=embedded_list([]))
    stripe.serves_list("subscriptions", [active, canceled], status="all")

    output = read(config(), "subscriptions")

    assert ids_of(output, "subscriptions") == ["sub_active", "sub_canceled"]


def test_subscription_items_come_from_each_subscriptions_embedded_list_without_more_requests(stripe):
    first = stripe_object("subscription", id="sub_1", items=embedded_list(objects("subscription_item", 2, "si_a")))
    canceled = stripe_object(
        "subscription", id="sub_2", status="canceled", items=embedded_list(objects("subscription_item", 1, "si_b"))
    )
    stripe.serves_list("subscriptions", [first, canceled], status="all")

    output = read(config(), "subscription_items")

    assert sorted(ids_of(output, "subscription_items")) == ["si_a_0000", "si_a_0001", "si_b_0000"]
    assert stripe.requests_to("subscription_items") == []


def test_subscription_items_beyond_the_embedded_page_are_fetched_after_its_last_item(stripe):
    items = objects("subscription_item", 25, "si")
    subscription = stripe_object("subscription", id="sub_big", items=embedded_list(items[:10], has_more=True))
    stripe.serves_list("subscriptions", [subscription], status="all")
    stripe.serves_list("subscription_items", items[10:], subscription="sub_big", starting_after="si_0009")

    output = read(config(), "subscription_items")

    assert sorted(ids_of(output, "subscription_items")) == [item["id"] for item in items]


def test_an_invoices_lines_beyond_the_embedded_page_are_listed_under_it_and_every_line_names_its_invoice(stripe):
    lines = [stripe_object("line_item", id=f"il_{n:04d}") for n in range(25)]
    assert "invoice" not in lines[0], "Stripe's line item does not name its invoice"
    invoice = stripe_object("invoice", id="in_big", lines=embedded_list(lines[:10], has_more=True))
    stripe.serves_list("invoices", [invoice])
    stripe.serves_list("invoices/in_big/lines", lines[10:], starting_after="il_0009")

    output = read(config(), "invoice_line_items")

    assert sorted((record["id"], record["invoice"]) for record in records_of(output, "invoice_line_items")) == [
        (line["id"], "in_big") for line in lines
    ]


def test_setup_attempts_are_read_for_each_setup_intent_that_had_an_attempt(stripe):
    tried = stripe_object("setup_intent", id="seti_tried", latest_attempt="setatt_1")
    never_tried = stripe_object("setup_intent", id="seti_never", latest_attempt=None)
    stripe.serves_list("setup_intents", [tried, never_tried])
    stripe.serves_list("setup_attempts", objects("setup_attempt", 2, "setatt"), setup_intent="seti_tried")

    output = read(config(), "setup_attempts")

    assert ids_of(output, "setup_attempts") == ["setatt_0000", "setatt_0001"]
    assert [request.qs["setup_intent"] for request in stripe.requests_to("setup_attempts")] == [["seti_tried"]]


def test_usage_record_summaries_are_read_for_metered_subscription_items_only(stripe):
    metered_price = stripe_object("price", recurring={"usage_type": "metered", "interval": "month"})
    licensed_price = stripe_object("price", recurring={"usage_type": "licensed", "interval": "month"})
    items = [
        stripe_object("subscription_item", id="si_metered", price=metered_price),
        stripe_object("subscription_item", id="si_licensed", price=licensed_price),
        stripe_object("subscription_item", id="si_one_time", price=stripe_object("price", recurring=None)),
    ]
    stripe.serves_list("subscriptions", [stripe_object("subscription", items=embedded_list(items))], status="all")
    stripe.serves_list(
        "subscription_items/si_metered/usage_record_summaries", objects("usage_record_summary", 2, "sis")
    )

    output = read(config(), "usage_record_summaries")

    assert ids_of(output, "usage_record_summaries") == ["sis_0000", "sis_0001"]
    assert stripe.requests_to("subscription_items/si_licensed/usage_record_summaries") == []


def test_every_table_syncs_together(stripe):
    for table in TOP_LEVEL_TABLES:
        if table.name not in ("setup_intents", "subscriptions", "accounts"):  # served below, with children
            stripe.serves_list(table.path, objects(table.stripe_object, 2, table.stripe_object), **table.request_parameters)
    stripe.serves_list("setup_intents", objects("setup_intent", 1, "seti", latest_attempt="setatt_0000"))
    stripe.serves_list(
        "subscriptions", [stripe_object("subscription", items=embedded_list(objects("subscription_item", 1, "si")))], status="all"
    )
    stripe.serves_list("setup_attempts", objects("setup_attempt", 1, "setatt"), setup_intent="seti_0000")
    stripe.serves_list("accounts", objects("account", 1, "acct", controller={"type": "application", "is_controller": True}))
    stripe.serves_list("accounts/acct_0000/persons", objects("person", 1, "person"))
    stripe.serves_list("accounts/acct_0000/external_accounts", objects("bank_account", 1, "ba") + objects("card", 1, "card"))
    for payout in ("payout_0000", "payout_0001"):  # automatic and reconciled, as Stripe's example is
        stripe.serves_list("balance_transactions", objects("balance_transaction", 1, f"txn_{payout}"), payout=payout)
    for session in ("checkout.session_0000", "checkout.session_0001"):  # selling, as Stripe's example is
        stripe.serves_list(f"checkout/sessions/{session}/line_items", objects("item", 1, f"li_{session}"))
    for customer in ("customer_0000", "customer_0001"):  # which embed neither their payment methods, credits nor sources
        stripe.serves_list(f"customers/{customer}/payment_methods", objects("payment_method", 1, f"pm_{customer}"))
        stripe.serves_list(f"customers/{customer}/balance_transactions", objects("customer_balance_transaction", 1, f"cbtxn_{customer}"))
        stripe.serves_list(f"customers/{customer}/sources", objects("bank_account", 1, f"ba_{customer}"), object="bank_account")

    output = read(config())

    assert error_messages(output) == []
    # Children whose parent, as Stripe's example has it, embeds rows (an invoice its lines) have rows too.
    embedded_in_examples = {
        table.name
        for table in manifest_tables()
        if table.parent and table.parent.embedded_in and stripe_object(TABLES[table.parent.table].stripe_object)[table.parent.embedded_in]["data"]
    }
    assert {message.record.stream for message in output.records} == {table.name for table in TOP_LEVEL_TABLES} | {
        "subscription_items",
        "setup_attempts",
        "payout_balance_transactions",
        "checkout_sessions_line_items",
        "payment_methods",
        "customer_balance_transactions",
        "bank_accounts",
        "persons",
        "external_account_bank_accounts",
        "external_account_cards",
    } | embedded_in_examples


def test_setup_intents_pages_without_any_attempt_do_not_end_the_listing_of_parents(stripe):
    never_tried = objects("setup_intent", 100, "seti_never", latest_attempt=None)
    tried = stripe_object("setup_intent", id="seti_tried", created=1, latest_attempt="setatt_1")
    stripe.serves_list("setup_intents", never_tried + [tried])
    stripe.serves_list("setup_attempts", objects("setup_attempt", 1, "setatt"), setup_intent="seti_tried")

    output = read(config(), "setup_attempts")

    assert ids_of(output, "setup_attempts") == ["setatt_0000"]


def test_only_automatic_payouts_whose_reconciliation_completed_are_asked_for_their_transactions(stripe):
    reconciled = stripe_object("payout", id="po_reconciled", created=3, automatic=True, reconciliation_status="completed")
    reconciling = stripe_object("payout", id="po_reconciling", created=2, automatic=True, reconciliation_status="in_progress")
    manual = stripe_object("payout", id="po_manual", created=1, automatic=False, reconciliation_status="not_applicable")
    stripe.serves_list("payouts", [reconciled, reconciling, manual])
    paid_out = stripe.serves_list("balance_transactions", objects("balance_transaction", 2, "txn"), payout="po_reconciled")

    output = read(config(), "payout_balance_transactions")

    assert error_messages(output) == []
    assert [matcher.call_count for matcher in paid_out] == [1]
    assert len(stripe.requests_to("balance_transactions")) == 1, "Stripe refuses a manual payout's; a reconciling one's is partial"
    rows = records_of(output, "payout_balance_transactions")
    assert [(row["id"], row["payout"]) for row in rows] == [("txn_0000", "po_reconciled"), ("txn_0001", "po_reconciled")]


def test_metered_items_beyond_a_subscriptions_embedded_page_get_their_usage_summaries(stripe):
    licensed = stripe_object("price", recurring={"usage_type": "licensed", "interval": "month"})
    metered = stripe_object("price", recurring={"usage_type": "metered", "interval": "month"})
    embedded = objects("subscription_item", 10, "si_licensed", price=licensed)
    subscription = stripe_object("subscription", id="sub_big", items=embedded_list(embedded, has_more=True))
    stripe.serves_list("subscriptions", [subscription], status="all")
    stripe.serves_list(
        "subscription_items",
        [stripe_object("subscription_item", id="si_metered", price=metered)],
        subscription="sub_big",
        starting_after="si_licensed_0009",
    )
    stripe.serves_list("subscription_items/si_metered/usage_record_summaries", objects("usage_record_summary", 1, "sis"))

    output = read(config(), "usage_record_summaries")

    assert ids_of(output, "usage_record_summaries") == ["sis_0000"]


def test_subscriptions_are_listed_once_for_the_three_tables_that_scan_them_and_each_emits_its_own_copy(stripe):
    subscriptions = objects("subscription", 150, "sub", items=embedded_list(objects("subscription_item", 1, "si")))
    stripe.serves_list("subscriptions", subscriptions, status="all")

    output = read(config(), "subscriptions", "subscription_items", "usage_record_summaries")

    assert len(ids_of(output, "subscriptions")) == 150 and len(ids_of(output, "subscription_items")) == 150
    assert len(stripe.requests_to("subscriptions")) == 2
    embedded_items = [item for record in records_of(output, "subscriptions") for item in record["items"]["data"]]
    assert not any("observed_at" in item for item in embedded_items)


def test_setup_intents_are_listed_once_for_their_table_and_their_attempts(stripe):
    stripe.serves_list("setup_intents", objects("setup_intent", 150, "seti", latest_attempt=None))

    output = read(config(), "setup_intents", "setup_attempts")

    assert len(ids_of(output, "setup_intents")) == 150
    assert len(stripe.requests_to("setup_intents")) == 2


def test_items_beyond_a_subscriptions_embedded_page_are_listed_once_for_items_and_usage_summaries(stripe):
    items = objects("subscription_item", 25, "si")
    subscription = stripe_object("subscription", id="sub_big", items=embedded_list(items[:10], has_more=True))
    stripe.serves_list("subscriptions", [subscription], status="all")
    stripe.serves_list("subscription_items", items[10:], subscription="sub_big", starting_after="si_0009")

    output = read(config(), "subscription_items", "usage_record_summaries")

    assert len(ids_of(output, "subscription_items")) == 25
    assert len(stripe.requests_to("subscription_items")) == 1


def test_an_accounts_external_accounts_are_listed_once_for_its_bank_accounts_and_its_cards(stripe):
    controlled = stripe_object("account", id="acct_express", controller={"type": "application", "is_controller": True})
    standard = stripe_object("account", id="acct_standard", controller={"type": "account", "is_controller": False})
    stripe.serves_list("accounts", [controlled, standard])
    bank_account, card = stripe_object("bank_account", id="ba_1", account="acct_express"), stripe_object("card", id="card_1", account="acct_express")
    stripe.serves_list("accounts/acct_express/external_accounts", [bank_account, card])

    output = read(config(), "external_account_bank_accounts", "external_account_cards")

    assert (ids_of(output, "external_account_bank_accounts"), ids_of(output, "external_account_cards")) == (["ba_1"], ["card_1"])
    assert len(stripe.requests_to("accounts/acct_express/external_accounts")) == 1
    assert stripe.requests_to("accounts/acct_standard/external_accounts") == []
