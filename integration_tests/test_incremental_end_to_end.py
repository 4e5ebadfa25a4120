"""Incremental syncs of the real entry point against the local Stripe sandbox.

Whatever changes, however often the connector syncs and wherever a sync dies, what an append-dedup destination keeps
(`what_the_destination_keeps`) must equal what Stripe holds (`truth`). The sandbox clock moves only when a test moves
it: each change gets a second of its own (Stripe orders events of one second by id, not by time), and the clock moves
on before each sync so that reads and the events they follow never share a second.
"""

import json
import random
import time
import urllib.parse
import urllib.request
from collections import Counter

import pytest

from integration_tests.connector_process import (
    ALL_BUT_EVENTS,
    ALL_STREAMS,
    ConnectorRun,
    after_records,
    assert_destination_equals_stripe,
    committed_records,
    read_until_killed,
    run_connector,
    states_by_stream,
    what_the_destination_keeps,
)
from stripe_sandbox import Sandbox, SandboxProcess, keys
from source_stripe.children import ParentStep
from source_stripe.tables import by_name, lineage, manifest_tables

pytestmark = pytest.mark.end_to_end

DAY = 86_400
LOOKBACK_DAYS = 7
START_DATE = "2019-01-01T00:00:00Z"  # before the sandbox's oldest object (legacy order returns), so all is in scope
TABLES = by_name(manifest_tables())
# Subscriptions whose metered usage still accrues, as the entry whose quirk re-reads running usage lists them.
RUNNING = next(tuple(table.quirk["statuses"]) for table in TABLES.values() if table.quirk and "statuses" in table.quirk)
# Each child table and the top-level table whose list finds its rows.
SCANNED = {name: lineage(table, TABLES)[0].name for name, table in TABLES.items() if table.parent}
PINNED_API_VERSION = "2023-08-16"
STATE_MESSAGE_SIZES = []  # bytes of every STATE message seen, for the report at the end of the module


@pytest.fixture
def sandbox():
    with Sandbox(seed=23, size=1500, orders_api=True) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def report_state_sizes():
    yield
    if STATE_MESSAGE_SIZES:
        print(f"\nlargest STATE message: {max(STATE_MESSAGE_SIZES)} bytes ({len(STATE_MESSAGE_SIZES)} seen)")


def live_config(sandbox, **overrides):
    return {
        "api_key": keys.SECRET_LIVE,
        "environment": "live",
        "api_base_url": sandbox.url,
        "start_date": START_DATE,
        "lookback_window_days": LOOKBACK_DAYS,
        **overrides,
    }


def sync(config, state=None, **kwargs) -> ConnectorRun:
    run = run_connector("read", config, state=state, incremental=True, **kwargs)
    assert run.exit_code == 0, run.errors or run.stderr[-3000:]
    assert run.errors == []
    note_state_sizes(run)
    return run


def note_state_sizes(run):
    STATE_MESSAGE_SIZES.extend(len(line) for line in run.stdout.splitlines() if line.startswith('{"type":"STATE"'))


def assert_deleted_objects_are_gone(destination, sandbox, deleted_after_first_sync):
    """Every object Stripe deleted is, in the destination, a row marked deleted or (if never synced) absent; those
    deleted after the first sync read them must be marked deleted."""
    for stream, ids in sandbox.deleted(mode="live").items():
        still_there = {id_ for id_ in ids if id_ in destination.kept.get(stream, {})} - destination.deleted_ids(stream)
        assert not still_there, f"{stream}: deleted in Stripe but not in the destination: {sorted(still_there)}"
    for stream, ids in deleted_after_first_sync.items():
        assert set(ids) <= destination.deleted_ids(stream), f"{stream}: no is_deleted row for {sorted(ids)}"


def assert_resumed_sync_loses_nothing(sandbox, truth, interrupted, resumed, deleted_meanwhile):
    """Whether the destination kept all an interrupted sync emitted or only what its last states covered, it equals
    Stripe after the resumed sync, and the objects deleted in between that it had received are marked deleted."""
    for records_before in (committed_records(interrupted), interrupted.records):
        destination = what_the_destination_keeps(records_before, resumed.records)
        assert_destination_equals_stripe(destination, truth)
        synced = {t: [i for i in ids if i in {r["id"] for r in records_before.get(t, [])}] for t, ids in deleted_meanwhile.items()}
        assert_deleted_objects_are_gone(destination, sandbox, synced)


def tick(sandbox, seconds=1):
    sandbox.advance_clock(seconds)


def running_subscriptions(truth):
    return [s for s in truth["subscriptions"] if s["status"] in RUNNING]


def is_metered(item):
    return ((item.get("price") or {}).get("recurring") or {}).get("usage_type") == "metered"


class Picker:
    """Picks distinct existing objects by a rule, the same ones every run; an object changed once is not picked
    again, so no two changes in a test touch one object (or one subscription through its items)."""

    def __init__(self, truth, seed=7):
        self.truth, self.rng, self.used = truth, random.Random(seed), set()

    def __call__(self, table, rule=lambda obj: True, then_skip=()):
        candidates = sorted(
            (obj for obj in self.truth[table] if obj["id"] not in self.used and rule(obj)), key=lambda obj: obj["id"]
        )
        assert candidates, f"no {table} to change"
        chosen = self.rng.choice(candidates)
        self.used.update([chosen["id"], *then_skip])
        return chosen


# -- 1. with events -------------------------------------------------------------------------------------------------


def fund_payouts(sandbox):
    """A payment old enough to be available, to pay out by hand: generated refunds may leave the balance negative."""
    sandbox.create("charges", amount=10**7, created=sandbox.now - 3 * DAY, mode="live")


def arrange_objects_to_change(sandbox):
    """What change_every_table needs besides the generated data: objects created two days ago (inside the lookback
    window) in the tables whose changes Stripe sends no event for, which the next sync catches by reading that window
    again; and objects rare in generated data, created long ago."""
    two_days_ago, long_ago = sandbox.now - 2 * DAY, sandbox.now - 100 * DAY
    recent = {
        table: sandbox.create(table, created=two_days_ago, mode="live")
        for table in ("shipping_rates", "order_returns", "payment_intents", "setup_intents", "invoice_items")
    }
    recent["setup_attempts"] = sandbox.create(
        "setup_attempts", setup_intent=recent["setup_intents"]["id"], created=two_days_ago, mode="live"
    )
    for status in ("won", "under_review"):
        sandbox.create("disputes", status=status, created=long_ago, mode="live")
    truth = sandbox.truth(mode="live")
    licensed = [p["id"] for p in truth["prices"] if p["recurring"] and not is_metered(p)]
    sandbox.create("subscriptions", items=licensed[:12], created=long_ago, mode="live")  # pages past its embedded items
    for n in range(8):  # running, with two licensed items: what the subscription changes pick from
        sandbox.create("subscriptions", items=licensed[2 * n : 2 * n + 2], created=long_ago, mode="live")
    sandbox.create("prices", created=long_ago, mode="live")  # a plan no subscription uses, to delete
    for _ in range(2):  # open invoices, to pay and to void
        sandbox.update("invoices", sandbox.create("invoices", created=long_ago, mode="live")["id"], status="open", mode="live")
    # A running subscription billing usage, with some reported.
    metered = {"aggregate_usage": "sum", "interval": "month", "interval_count": 1, "usage_type": "metered"}
    price = sandbox.create("prices", recurring=metered, created=long_ago, mode="live")
    billing_usage = sandbox.create("subscriptions", items=[price["id"]], created=long_ago, mode="live")
    sandbox.create("usage_record_summaries", subscription_item=billing_usage["items"]["data"][0]["id"], mode="live")
    for _ in range(2):
        sandbox.create("credit_notes", created=long_ago, mode="live")
    fund_payouts(sandbox)
    sandbox.create("promotion_codes", created=long_ago, mode="live")
    new_customer = sandbox.create("customers", created=two_days_ago, mode="live")
    recent["customer_balance_transactions"] = sandbox.create(
        "customer_balance_transactions", customer=new_customer["id"], created=two_days_ago, mode="live"
    )
    sandbox.create("subscription_schedule", created=long_ago, start_date=long_ago, mode="live")  # running
    sandbox.create("subscription_schedule", created=long_ago, mode="live")  # to start in a month
    for _ in range(2):  # drafts whose items change, which only the lookback window sees (invoice.updated does not say)
        draft = sandbox.create("invoices", created=two_days_ago, mode="live")
        for _ in range(2):
            sandbox.create("invoice_items", invoice=draft["id"], created=two_days_ago, mode="live")
    # A platform's money: a transfer with more reversals than it embeds, a recent one reversed in part (a reversal's
    # metadata changes without an event), a fee refunded in part, a recent top-up (its metadata changes silently).
    crowded_transfer = sandbox.create("transfers", created=long_ago, mode="live")
    for _ in range(11):
        sandbox.create("transfer_reversals", transfer=crowded_transfer["id"], amount=100, created=long_ago, mode="live")
    recent_transfer = sandbox.create("transfers", created=two_days_ago, mode="live")
    recent["transfer_reversals"] = sandbox.create("transfer_reversals", transfer=recent_transfer["id"], amount=100, created=two_days_ago, mode="live")
    fee = sandbox.create("application_fees", created=long_ago, mode="live")
    sandbox.create("application_fees_refunds", fee=fee["id"], amount=fee["amount"] // 4, created=long_ago, mode="live")
    recent["top_ups"] = sandbox.create("top_ups", created=two_days_ago, mode="live")
    for table in ("reviews", "early_fraud_warnings", "file_links", "authorizations", "bank_accounts", "bank_accounts"):
        sandbox.create(table, created=long_ago, mode="live")  # open, actionable, unexpired, pending, to change and remove
    captured = sandbox.create("authorizations", created=long_ago, mode="live")
    sandbox.update("authorizations", captured["id"], status="closed", mode="live")  # with a transaction
    tick(sandbox, 60)
    return recent


def change_platform_tables(sandbox, change, pick, recent):
    """A platform's transfers, fees and top-ups, Radar's reviews and warnings, files and their links: each created,
    updated and (where Stripe sends none) changed without an event inside the lookback window."""
    # What the platform sees of the accounts it controls changes without an event of its own.
    change("update", "persons", pick("persons")["id"], metadata={"kyc": "reviewed"})
    change("update", "external_account_bank_accounts", pick("external_account_bank_accounts")["id"], metadata={"payroll": "yes"})
    change("update", "external_account_cards", pick("external_account_cards")["id"], metadata={"instant": "yes"})
    crowded = pick("transfers", rule=lambda t: t["reversals"]["has_more"] and not t["reversed"])
    change("create", "transfer_reversals", transfer=crowded["id"], amount=100)
    change("create", "transfers")
    change("update", "transfers", pick("transfers")["id"], description="Relabelled", metadata={"batch": "7"})
    change("create", "transfer_reversals", transfer=pick("transfers", rule=lambda t: not t["reversed"])["id"], amount=100)
    change("update", "transfer_reversals", recent["transfer_reversals"]["id"], metadata={"reason": "chargeback"})
    change("create", "application_fees")
    change("create", "application_fees_refunds", fee=pick("application_fees", rule=lambda f: not f["refunded"])["id"], amount=10)
    change("update", "application_fees_refunds", pick("application_fees_refunds")["id"], metadata={"note": "goodwill"})
    change("update", "top_ups", change("create", "top_ups")["id"], status="succeeded")
    change("update", "top_ups", recent["top_ups"]["id"], metadata={"purpose": "payroll"})
    change("create", "reviews")
    change("update", "reviews", pick("reviews", rule=lambda r: r["open"])["id"], closed_reason="approved")
    change("create", "early_fraud_warnings")
    change("update", "early_fraud_warnings", pick("early_fraud_warnings", rule=lambda w: w["actionable"])["id"], actionable=False)
    change("create", "files")
    # A link that expires within the hour: Stripe sends nothing when it does.
    change("create", "file_links", expires_at=sandbox.now + 600)
    change("update", "file_links", pick("file_links", rule=lambda link: not link["expired"])["id"], metadata={"shared_with": "auditor"})
    # Issuing: a cardholder's change reaches its cards and their authorizations without their events; a capture
    # closes an authorization, and a later refund joins it without the authorization's event.
    change("create", "cardholders")
    change("update", "cardholders", pick("cardholders")["id"], email="renamed@example.com", metadata={"team": "ops"})
    change("update", "cards", change("create", "cards")["id"], status="inactive")
    change("update", "cards", pick("cards", rule=lambda c: c["status"] == "active")["id"], metadata={"cost_center": "42"})
    change("create", "authorizations")
    change("update", "authorizations", pick("authorizations", rule=lambda a: a["status"] == "pending")["id"], status="closed")
    change("create", "transactions", authorization=pick("authorizations", rule=lambda a: a["status"] == "closed" and a["approved"])["id"])
    change("update", "transactions", pick("transactions")["id"], metadata={"receipt": "attached"})


def change_every_table(sandbox, recent, days_between_changes=1):
    """Creates, updates and (where Stripe can) deletes objects in every table, one change a second, with a day in
    between the two halves so the changes span more than one day of events. Returns the ids deleted per table."""
    truth = sandbox.truth(mode="live")
    pick = Picker(truth)
    deleted = {}

    def change(kind, table, *args, **fields):
        result = getattr(sandbox, kind)(table, *args, mode="live", **fields)
        tick(sandbox)
        return result

    # Usage accrues without events: summaries of running subscriptions' metered items are read again every sync. Its
    # subscription (and its customer) are kept out of the changes below.
    running = {s["id"]: s for s in running_subscriptions(truth)}
    subscription_of = {item["id"]: item["subscription"] for item in truth["subscription_items"]}
    metered_items = {i["id"] for s in running.values() for i in s["items"]["data"] if is_metered(i)}
    summary = pick("usage_record_summaries", rule=lambda u: u["subscription_item"] in metered_items)
    billing_usage = running[subscription_of[summary["subscription_item"]]]
    pick.used.update([billing_usage["id"], billing_usage["customer"]])
    crowded = pick("subscriptions", rule=lambda s: s["status"] in RUNNING and s["items"]["has_more"])
    pick.used.add(crowded["customer"])  # changed below, after its customer could have been deleted
    change("update", "usage_record_summaries", summary["id"], total_usage=summary["total_usage"] + 1234)
    change("create", "usage_record_summaries", subscription_item=summary["subscription_item"])

    # Customers: deleting one also cancels its subscriptions, which must not be picked for other changes.
    subscriptions_of = lambda customer: [s["id"] for s in truth["subscriptions"] if s["customer"] == customer["id"]]  # noqa: E731
    change("create", "customers", email="new@example.com")
    change("update", "customers", pick("customers")["id"], email="changed@example.com", metadata={"changed": "yes"})
    gone_customer = pick("customers", rule=subscriptions_of)
    pick.used.update(subscriptions_of(gone_customer))
    change("delete", "customers", gone_customer["id"])
    deleted["customers"] = [gone_customer["id"]]

    # Products and prices: deleting a product deletes its prices too. A plan no subscription uses is kept for
    # deleting below, with its product.
    in_use = {item["price"]["id"] for item in truth["subscription_items"]}
    gone_plan = pick("plans", rule=lambda p: p["id"] not in in_use)
    pick.used.add(gone_plan["product"])
    product = change("create", "products", name="Brand new product")
    change("update", "products", pick("products")["id"], name="Renamed product", active=False)
    gone_product = pick("products")
    gone_prices = [p["id"] for p in truth["prices"] if p["product"] == gone_product["id"]]
    pick.used.update(gone_prices)
    change("delete", "products", gone_product["id"])
    change("create", "prices", product=product["id"], type="one_time", recurring=None)
    change("update", "prices", pick("prices", rule=lambda p: not p["recurring"])["id"], nickname="renamed", metadata={"a": "b"})
    gone_price = pick("prices", rule=lambda p: not p["recurring"])
    change("delete", "prices", gone_price["id"])
    # A recurring price is a plan too: its changes reach both tables, and deleting the plan deletes the price.
    monthly = change("create", "prices", product=product["id"])
    change("update", "prices", monthly["id"], nickname="Monthly")
    change("delete", "plans", gone_plan["id"])
    deleted["prices"] = gone_prices + [gone_price["id"], gone_plan["id"]]
    deleted["plans"] = [p["id"] for p in truth["plans"] if p["id"] in gone_prices] + [gone_plan["id"]]

    change("create", "shipping_rates")
    change("update", "shipping_rates", recent["shipping_rates"]["id"], display_name="Overnight", active=False)
    # Wallets: a card attached, one changed, one detached (gone from its customer's list); a credit granted by hand,
    # which changes its customer's balance (customer.updated), and a recent one's description, which sends no event.
    change("create", "payment_methods")
    change("update", "payment_methods", pick("payment_methods", rule=lambda m: m["customer"] not in pick.used)["id"], metadata={"label": "work"})
    gone_method = pick("payment_methods", rule=lambda m: m["customer"] not in pick.used)
    change("delete", "payment_methods", gone_method["id"])
    deleted["payment_methods"] = [gone_method["id"]]
    change("create", "customer_balance_transactions", amount=-2500)
    change("update", "customer_balance_transactions", recent["customer_balance_transactions"]["id"], description="Corrected")
    change("create", "bank_accounts")
    change("update", "bank_accounts", pick("bank_accounts", rule=lambda b: b["customer"] not in pick.used)["id"], status="verified")
    gone_bank_account = pick("bank_accounts", rule=lambda b: b["customer"] not in pick.used)
    change("delete", "bank_accounts", gone_bank_account["id"])
    deleted["bank_accounts"] = [gone_bank_account["id"]]

    # A promotion code embeds its coupon as it is now: renaming the coupon changes its codes without their events.
    change("create", "promotion_codes")
    change("update", "promotion_codes", pick("promotion_codes", rule=lambda c: c["active"])["id"], active=False)
    coded = pick("promotion_codes")["coupon"]["id"]
    pick.used.add(coded)
    change("update", "coupons", coded, name="Renamed under its codes")
    change("create", "coupons")
    change("update", "coupons", pick("coupons")["id"], name="Renamed coupon", metadata={"campaign": "changed"})
    gone_coupon = pick("coupons")
    change("delete", "coupons", gone_coupon["id"])
    deleted["coupons"] = [gone_coupon["id"]]
    change("create", "tax_rates")
    change("update", "tax_rates", pick("tax_rates", rule=lambda r: r["active"])["id"], active=False)

    # Payouts asked for by hand, one relabelled and one canceled. The day below does the rest without a request:
    # pending balance transactions become available, an automatic payout goes out, earlier ones arrive and are
    # reconciled (their balance transactions can then be listed).
    manual = change("create", "payouts", amount=5000)
    change("update", "payouts", manual["id"], description="Office rent", metadata={"purpose": "rent"})
    change("update", "payouts", change("create", "payouts", amount=4000)["id"], status="canceled")
    change("update", "payouts", pick("payouts", rule=lambda p: p["automatic"])["id"], metadata={"checked": "yes"})

    # Checkout sessions open without an event (found by listing) and complete with one; the day below expires the
    # one left open, with an event.
    change("create", "checkout_sessions", checkout_mode="subscription")
    change("update", "checkout_sessions", change("create", "checkout_sessions")["id"], status="complete")

    # Subscription schedules: one starts its subscription at once, a running one is released (its subscription goes
    # on alone, changed), one not started is canceled.
    change("create", "subscription_schedule", start_date=sandbox.now)
    change("create", "subscription_schedule")
    running_schedule = pick("subscription_schedule", rule=lambda s: s["status"] == "active" and s["customer"] not in pick.used)
    pick.used.add(running_schedule["subscription"])
    change("update", "subscription_schedule", running_schedule["id"], status="released")
    change("update", "subscription_schedule", pick("subscription_schedule", rule=lambda s: s["status"] == "not_started")["id"], status="canceled")
    change("update", "subscription_schedule", pick("subscription_schedule")["id"], metadata={"note": "reviewed"})

    tick(sandbox, days_between_changes * DAY)

    # Subscriptions and their items; each change to an item rewrites (and sends an event for) its subscription.
    licensed = [p for p in truth["prices"] if p["recurring"] and not is_metered(p) and p["id"] not in pick.used]
    simple = lambda s: s["status"] in RUNNING and not s["items"]["has_more"]  # noqa: E731
    change("create", "subscriptions", items=[licensed[0]["id"], licensed[1]["id"]])
    change("update", "subscriptions", pick("subscriptions", rule=simple)["id"], metadata={"plan": "upgraded"})
    change("delete", "subscriptions", pick("subscriptions", rule=simple)["id"])  # cancels: still in Stripe
    change("create", "subscription_items", subscription=pick("subscriptions", rule=simple)["id"], price=licensed[2]["id"])
    with_licensed_item = lambda s: simple(s) and any(not is_metered(i) for i in s["items"]["data"])  # noqa: E731
    item = next(i for i in pick("subscriptions", rule=with_licensed_item)["items"]["data"] if not is_metered(i))
    change("update", "subscription_items", item["id"], quantity=item.get("quantity", 1) + 5)
    with_two_items = lambda s: simple(s) and s["items"]["total_count"] >= 2  # noqa: E731
    gone_item = pick("subscriptions", rule=with_two_items)["items"]["data"][0]
    change("delete", "subscription_items", gone_item["id"])
    # A subscription with more items than it embeds (has_more): the item is on the embedded first page.
    gone_from_crowded = crowded["items"]["data"][0]
    change("delete", "subscription_items", gone_from_crowded["id"])
    deleted["subscription_items"] = [gone_item["id"], gone_from_crowded["id"]]

    # Payment and setup intents send events for status changes only; their metadata changes are caught in the window.
    change("create", "payment_intents", status="succeeded")
    change("update", "payment_intents", pick("payment_intents", rule=lambda p: p["status"].startswith("requires_"))["id"], status="succeeded")
    change("update", "payment_intents", recent["payment_intents"]["id"], metadata={"order": "42"}, description="metadata only")
    change("create", "setup_intents")
    change("update", "setup_intents", pick("setup_intents", rule=lambda s: s["status"] == "requires_payment_method")["id"], status="succeeded")
    change("update", "setup_intents", recent["setup_intents"]["id"], metadata={"source": "sandbox"})
    change("update", "setup_attempts", recent["setup_attempts"]["id"], status="failed")
    change("create", "setup_attempts", setup_intent=recent["setup_intents"]["id"])

    charges = {c["id"]: c for c in truth["charges"]}
    unrefunded = lambda p: p["status"] == "succeeded" and not charges[p["latest_charge"]]["amount_refunded"]  # noqa: E731
    change("create", "charges")  # through the legacy Charges API, without an intent
    change("update", "charges", pick("charges")["id"], metadata={"order": "7"}, description="relabelled")
    change("create", "refunds", payment_intent=pick("payment_intents", rule=unrefunded)["id"])
    change("update", "refunds", pick("refunds")["id"], metadata={"ticket": "T-1"}, reason="duplicate")
    change("create", "disputes", payment_intent=pick("payment_intents", rule=unrefunded)["id"])
    change("update", "disputes", pick("disputes", rule=lambda d: d["status"] in ("won", "lost"))["id"], metadata={"x": "y"})
    change("update", "disputes", pick("disputes", rule=lambda d: d["status"] == "under_review")["id"], status="won")

    # Invoices move from draft to open to paid or void; a draft's lines change with its invoice items, and a deleted
    # draft takes its lines and items with it. Invoice items send no event when updated: the recent one is re-read.
    draft = change("create", "invoices")
    change("create", "invoice_items", invoice=draft["id"])
    change("update", "invoices", draft["id"], status="open")
    change("update", "invoices", pick("invoices", rule=lambda i: i["status"] == "open")["id"], status="paid")
    change("update", "invoices", pick("invoices", rule=lambda i: i["status"] == "open")["id"], status="void")
    change("update", "invoices", pick("invoices", rule=lambda i: i["status"] == "paid")["id"], metadata={"po": "42"})
    drafts = [i for i in truth["invoices"] if i["status"] == "draft" and i["lines"]["total_count"] and i["id"] not in pick.used]
    item_on_draft = next(ii for ii in truth["invoice_items"] if ii["invoice"] == drafts[0]["id"])
    change("update", "invoice_items", item_on_draft["id"], quantity=7)
    pick.used.add(drafts[0]["id"])
    gone_draft = pick("invoices", rule=lambda i: i["status"] == "draft" and i["lines"]["total_count"])
    change("delete", "invoices", gone_draft["id"])
    deleted["invoices"] = [gone_draft["id"]]
    deleted["invoice_line_items"] = [line["id"] for line in truth["invoice_line_items"] if line["invoice"] == gone_draft["id"]]
    change("create", "credit_notes", invoice=pick("invoices", rule=lambda i: i["status"] == "paid" and i["lines"]["total_count"])["id"])
    change("update", "credit_notes", pick("credit_notes", rule=lambda n: n["status"] == "issued")["id"], memo="Goodwill credit")
    change("update", "credit_notes", pick("credit_notes", rule=lambda n: n["status"] == "issued")["id"], status="void")
    change("create", "invoice_items")
    change("update", "invoice_items", recent["invoice_items"]["id"], quantity=3, description="changed without an event")
    gone_item = pick("invoice_items", rule=lambda ii: ii["invoice"] is None)
    change("delete", "invoice_items", gone_item["id"])
    deleted["invoice_items"] = [gone_item["id"]] + [ii["id"] for ii in truth["invoice_items"] if ii["invoice"] == gone_draft["id"]]

    change("create", "order_returns")
    change("update", "order_returns", recent["order_returns"]["id"], amount=4242)
    change_platform_tables(sandbox, change, pick, recent)
    return deleted


def test_incremental_syncs_keep_the_destination_equal_to_stripe_with_events(sandbox):
    recent = arrange_objects_to_change(sandbox)
    config = live_config(sandbox)
    first = sync(config)
    assert_destination_equals_stripe(what_the_destination_keeps(first.records), sandbox.truth(mode="live"))

    deleted = change_every_table(sandbox, recent)
    sandbox.advance_clock(3600)
    second = sync(config, state=first.final_state())

    destination = what_the_destination_keeps(first.records, second.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert_deleted_objects_are_gone(destination, sandbox, deleted)
    assert all(second.records[stream] for stream in ALL_STREAMS), "every table had a change to read"

    # A second round of changes on top of the first incremental state.
    deleted_again = change_every_table(sandbox, recent=arrange_objects_to_change(sandbox))
    sandbox.advance_clock(600)
    third = sync(config, state=second.final_state())
    destination = what_the_destination_keeps(first.records, second.records, third.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert_deleted_objects_are_gone(destination, sandbox, deleted_again)


# -- 2. without events ----------------------------------------------------------------------------------------------


def create_recent_objects_in_every_table(sandbox):
    """One object per table created two days ago, inside the lookback window, so later changes to it are re-read."""
    two_days_ago = sandbox.now - 2 * DAY
    truth = sandbox.truth(mode="live")
    licensed = [p["id"] for p in truth["prices"] if p["recurring"] and not is_metered(p)][:3]
    make = lambda table, **fields: sandbox.create(table, created=two_days_ago, mode="live", **fields)  # noqa: E731
    recent = {
        table: make(table)
        for table in ("customers", "products", "shipping_rates", "coupons", "tax_rates", "payment_intents", "charges", "order_returns")
    }
    recent["prices"] = make("prices", product=recent["products"]["id"], type="one_time", recurring=None)
    recent["plans"] = make("prices", product=recent["products"]["id"])  # recurring: a plan too
    recent["subscriptions"] = make("subscriptions", customer=recent["customers"]["id"], items=licensed[:2])
    recent["setup_intents"] = make("setup_intents", customer=recent["customers"]["id"])
    recent["setup_attempts"] = make("setup_attempts", setup_intent=recent["setup_intents"]["id"])
    succeeded = make("payment_intents", status="succeeded", customer=recent["customers"]["id"])
    recent["refunds"] = make("refunds", payment_intent=succeeded["id"], amount=100)
    recent["disputes"] = make("disputes", payment_intent=succeeded["id"])
    recent["invoices"] = make("invoices", customer=recent["customers"]["id"])
    recent["invoice_items"] = make("invoice_items", invoice=recent["invoices"]["id"])
    recent["credit_notes"] = make("credit_notes")
    recent["promotion_codes"] = make("promotion_codes", coupon=recent["coupons"]["id"])
    recent["payment_methods"] = make("payment_methods", customer=recent["customers"]["id"])
    recent["customer_balance_transactions"] = make("customer_balance_transactions", customer=recent["customers"]["id"])
    recent["subscription_schedule"] = make("subscription_schedule", customer=recent["customers"]["id"])
    fund_payouts(sandbox)
    recent["payouts"] = make("payouts", amount=5000)
    for table in ("transfers", "application_fees", "top_ups", "reviews", "early_fraud_warnings", "cards", "authorizations"):
        recent[table] = make(table)
    tick(sandbox, 60)
    return recent, licensed[2]


def test_incremental_syncs_without_events_permission_still_equal_stripe_within_the_lookback_window(sandbox):
    recent, spare_price = create_recent_objects_in_every_table(sandbox)
    sandbox.set_key_permissions(keys.RESTRICTED_LIVE, ALL_BUT_EVENTS)
    config = live_config(sandbox, api_key=keys.RESTRICTED_LIVE)
    first = sync(config, streams=ALL_BUT_EVENTS)
    assert all("events" not in state["stream"]["stream_state"] for state in first.final_state())

    def change(kind, table, *args, **fields):
        result = getattr(sandbox, kind)(table, *args, mode="live", **fields)
        tick(sandbox)
        return result

    for table in ("customers", "products", "shipping_rates", "coupons", "tax_rates", "payment_intents", "charges", "setup_intents", "order_returns"):
        change("create", table)
    change("create", "prices", product=recent["products"]["id"], type="one_time", recurring=None)
    change("create", "subscriptions", customer=recent["customers"]["id"], items=[spare_price])
    # A refund changes its charge, which only a read of the lookback window sees: refund a recent charge.
    change("create", "refunds", payment_intent=recent["refunds"]["payment_intent"])
    change("create", "disputes")
    change("update", "customers", recent["customers"]["id"], email="changed@example.com")
    change("update", "products", recent["products"]["id"], name="Renamed")
    change("update", "prices", recent["prices"]["id"], nickname="renamed")
    change("update", "prices", recent["plans"]["id"], nickname="Yearly")
    change("create", "prices", product=recent["products"]["id"])
    change("update", "shipping_rates", recent["shipping_rates"]["id"], display_name="Overnight")
    change("update", "coupons", recent["coupons"]["id"], name="Renamed")  # and its recent promotion code with it
    change("create", "promotion_codes")
    change("update", "promotion_codes", recent["promotion_codes"]["id"], metadata={"channel": "newsletter"})
    change("create", "subscription_schedule")
    change("update", "subscription_schedule", recent["subscription_schedule"]["id"], status="canceled")
    # Without events a detached payment method is not seen (its customer's list no longer shows it): none here.
    change("create", "payment_methods", customer=recent["customers"]["id"])
    change("update", "payment_methods", recent["payment_methods"]["id"], metadata={"label": "home"})
    change("create", "customer_balance_transactions", customer=recent["customers"]["id"])
    change("update", "customer_balance_transactions", recent["customer_balance_transactions"]["id"], description="Corrected")
    change("update", "tax_rates", recent["tax_rates"]["id"], active=False)
    change("update", "subscriptions", recent["subscriptions"]["id"], metadata={"tier": "gold"})
    change("create", "subscription_items", subscription=recent["subscriptions"]["id"], price=spare_price)
    first_item = recent["subscriptions"]["items"]["data"][0]
    change("update", "subscription_items", first_item["id"], quantity=first_item.get("quantity", 1) + 3)
    change("update", "payment_intents", recent["payment_intents"]["id"], metadata={"only": "metadata"})
    change("update", "setup_intents", recent["setup_intents"]["id"], status="succeeded")
    change("update", "setup_attempts", recent["setup_attempts"]["id"], status="failed")
    change("create", "setup_attempts", setup_intent=recent["setup_intents"]["id"])
    change("update", "charges", recent["charges"]["id"], metadata={"order": "8"})
    change("update", "refunds", recent["refunds"]["id"], reason="duplicate")
    change("update", "disputes", recent["disputes"]["id"], status="won")
    change("update", "order_returns", recent["order_returns"]["id"], amount=4242)
    change("create", "invoices")
    change("create", "invoice_items")
    change("update", "invoice_items", recent["invoice_items"]["id"], quantity=4)
    change("update", "invoices", recent["invoices"]["id"], status="open")
    change("create", "credit_notes")
    change("update", "credit_notes", recent["credit_notes"]["id"], memo="Changed")
    change("create", "payouts", amount=3000)
    change("update", "payouts", recent["payouts"]["id"], metadata={"purpose": "rent"})
    change("create", "checkout_sessions")
    change("update", "checkout_sessions", change("create", "checkout_sessions")["id"], status="complete")
    # Usage of any running subscription is re-read every sync, however old the subscription.
    truth = sandbox.truth(mode="live")
    summarized = {u["subscription_item"] for u in truth["usage_record_summaries"]}
    metered = next(i for s in running_subscriptions(truth) for i in s["items"]["data"] if is_metered(i) and i["id"] in summarized)
    summary = next(u for u in truth["usage_record_summaries"] if u["subscription_item"] == metered["id"])
    change("update", "usage_record_summaries", summary["id"], total_usage=summary["total_usage"] + 99)
    change("create", "usage_record_summaries", subscription_item=metered["id"])
    change("create", "transfers")
    change("update", "transfers", recent["transfers"]["id"], description="Relabelled")
    change("create", "transfer_reversals", transfer=recent["transfers"]["id"], amount=100)
    change("create", "application_fees")
    change("create", "application_fees_refunds", fee=recent["application_fees"]["id"], amount=10)
    change("update", "top_ups", recent["top_ups"]["id"], status="succeeded")
    change("create", "top_ups")
    change("update", "reviews", recent["reviews"]["id"], closed_reason="refunded")
    change("create", "reviews")
    change("update", "early_fraud_warnings", recent["early_fraud_warnings"]["id"], actionable=False)
    change("create", "early_fraud_warnings")
    change("create", "file_links", file=change("create", "files")["id"])
    change("update", "cards", recent["cards"]["id"], status="inactive")
    change("update", "authorizations", recent["authorizations"]["id"], status="closed")
    change("create", "transactions", authorization=recent["authorizations"]["id"])
    change("create", "authorizations")
    change("create", "cardholders")
    # A day passes: balance transactions become available and payouts move on, without events.
    sandbox.advance_clock(DAY + 3600)

    second = sync(config, state=first.final_state(), streams=ALL_BUT_EVENTS)

    destination = what_the_destination_keeps(first.records, second.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"), ALL_BUT_EVENTS)
    events_warnings = [log for log in second.logs if log["level"] == "WARN" and "Events" in log["message"]]
    assert len(events_warnings) == 1, events_warnings
    assert "Events: Read" in events_warnings[0]["message"]


# -- 3. cost of a sync with nothing to read -------------------------------------------------------------------------


def event_types_per_table():
    """Each table's event types, as its manifest entry names them (child tables name their parent's)."""
    return {table.name: table.event_types for table in manifest_tables()}


def stripe_events_since(sandbox, since):
    """Stripe's events at or after `since`, read from the sandbox's API as the connector would."""
    events, starting_after = [], None
    while True:
        query = {"created[gte]": since, "limit": 100, **({"starting_after": starting_after} if starting_after else {})}
        request = urllib.request.Request(
            f"{sandbox.url}/v1/events?{urllib.parse.urlencode(query)}",
            headers={"Authorization": f"Bearer {keys.SECRET_LIVE}", "Stripe-Version": PINNED_API_VERSION},
        )
        with urllib.request.urlopen(request) as response:
            page = json.loads(response.read())
        events += page["data"]
        if not page["has_more"]:
            return events
        starting_after = page["data"][-1]["id"]


def requests_a_no_change_sync_needs(sandbox, truth, final_state, lookback_seconds, rereads_running_usage=False):
    """What a sync after `final_state` needs when nothing changed since:
    - one request for Stripe's time (and whether the key reads events), and one for the key's account;
    - per table, one page of objects created in the lookback window, unless its events say every change;
    - one page of every table's events since the earliest position: the ones in the position's second come again (a
      position is re-read from its own second, so none of that second is lost), and those of another API version cost
      a retrieve of the object at the pinned one;
    - for children, through the objects re-read (the window's, and with `rereads_running_usage` every running
      subscription for the table whose quirk re-reads running usage, plus the list of those by status): at each step
      of its lineage, a list for each parent that embeds only its first page of rows, or that may have any."""
    positions = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in final_state}
    in_window = lambda table, scanned: [  # noqa: E731
        o for o in truth[scanned] if o[TABLES[scanned].created_field] >= positions[table]["created"] - lookback_seconds
    ]
    pages = lambda count: max(1, -(-count // 100))  # noqa: E731
    # A table whose events say every change lists nothing once it has been listed whole.
    lists = lambda table: not (TABLES[table].events_say_every_change and positions[table]["created"] >= positions[table]["events"])  # noqa: E731
    window_pages = sum(pages(len(in_window(table, SCANNED.get(table, table)))) for table in ALL_STREAMS if lists(table))
    # Every table's events come from one list, read once from the earliest position: of the sync's event types, or of
    # every event past the 20 types Stripe filters by. Tables with the same event types (a parent and its children)
    # retrieve an object once.
    per_table = {table: types for table, types in event_types_per_table().items() if types}
    replayed = set().union(*per_table.values())
    since = min(positions[table]["events"] for table in per_table)
    listed = [e for e in stripe_events_since(sandbox, since) if len(replayed) > 20 or e["type"] in replayed]
    event_pages, retrieves = pages(len(listed)), 0
    for types in set(per_table.values()):
        retrieves += len({e["data"]["object"]["id"] for e in listed if e["type"] in types and e["api_version"] != PINNED_API_VERSION})
    children = running_pages = 0
    for table in TABLES.values():
        if table.parent and lists(table.name):
            reread = in_window(table.name, SCANNED[table.name])
            if rereads_running_usage and table.quirk and "statuses" in table.quirk:
                reread = list({s["id"]: s for s in running_subscriptions(truth) + reread}.values())
                running_pages = sum(pages(sum(s["status"] == status for s in truth["subscriptions"])) for status in RUNNING)
            children += lists_of_children(truth, table, reread)
    return 2 + window_pages + event_pages + retrieves + children + running_pages


def lists_of_children(truth, table, scanned):
    """The lists that finding `table`'s rows through the top-level objects `scanned` takes, as its entry says."""
    parents, lists = scanned, 0
    for child in lineage(table, TABLES)[1:]:
        step = ParentStep(child, http=None)
        asked = [p for p in parents if step.embeds_only_some(p)] if child.parent.embedded_in else [p for p in parents if step.may_have_rows(p)]
        lists += len(asked)
        reached = {p["id"] for p in (parents if child.parent.embedded_in else asked)}
        parents = [row for row in truth[child.name] if row[child.parent.key] in reached]
    return lists


def a_sync_after_nothing_changed(sandbox, config):
    """A full sync, an hour without changes, and the incremental sync after it: both syncs, Stripe's objects, and the
    second sync's requests. An hour is within the default interval for re-reading running usage (12 hours)."""
    first = sync(config)
    sandbox.advance_clock(3600)
    truth = sandbox.truth(mode="live")
    sandbox.reset_stats()
    second = sync(config, state=first.final_state())
    return first, second, truth, sandbox.stats()


def test_a_no_change_incremental_sync_costs_a_few_requests_per_table(sandbox):
    first, second, truth, stats = a_sync_after_nothing_changed(sandbox, live_config(sandbox))

    by_path = {path: sum(counts.values()) for path, counts in stats["by_path"].items()}
    print("\nno-change incremental sync, requests per path:")
    for path, count in sorted(by_path.items()):
        print(f"  {count:4d}  {path}")
    expected = requests_a_no_change_sync_needs(sandbox, truth, first.final_state(), LOOKBACK_DAYS * DAY)
    print(f"  {stats['total']:4d}  total (expected at most {expected})")
    assert stats["total"] <= expected
    assert stats["rate_limited"] == 0
    # The probe, the events table's page since its position, then one page of every table's events.
    assert by_path["/v1/events"] == 2 + 1
    metered_lists = by_path.get("/v1/subscription_items/{subscription_item}/usage_record_summaries", 0)
    assert stats["total"] - metered_lists - by_path.get("/v1/setup_attempts", 0) <= 4 * len(ALL_STREAMS)
    # What was re-read is only the lookback window: nothing older.
    destination = what_the_destination_keeps(first.records, second.records)
    assert_destination_equals_stripe(destination, truth)
    assert sum(map(len, second.records.values())) < sum(map(len, first.records.values())) / 3


def test_with_a_refresh_interval_of_0_a_no_change_sync_rereads_the_usage_of_every_running_subscription(sandbox):
    first, second, truth, stats = a_sync_after_nothing_changed(sandbox, {**live_config(sandbox), "running_usage_refresh_hours": 0})

    within_the_interval = requests_a_no_change_sync_needs(sandbox, truth, first.final_state(), LOOKBACK_DAYS * DAY)
    expected = requests_a_no_change_sync_needs(sandbox, truth, first.final_state(), LOOKBACK_DAYS * DAY, rereads_running_usage=True)
    assert within_the_interval < stats["total"] <= expected
    assert_destination_equals_stripe(what_the_destination_keeps(first.records, second.records), truth)


# -- 4. interrupted syncs -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_sandbox():
    """Large enough (12,000 objects) that its densest tables split their `created` slices, so a sync can be killed
    after an older slice of a table finished but not its newest; no rate limit, as where a sync dies has nothing to do
    with its pace (the Stripe-paced syncs above keep the request budget)."""
    with SandboxProcess(seed=5, size=8_000, orders_api=True, rate_limit_live=0) as running:
        yield running


def change_some_objects_with_events(sandbox, sent=()):
    """Changes made while a sync lies dead, each with an event: they must reach the destination on resumption. The
    customer deleted is one the dead sync had sent (`sent`), where it sent any that can be deleted alone."""
    truth = sandbox.truth(mode="live")
    pick = Picker(truth, seed=sandbox.now)
    alone = {c["id"] for c in truth["customers"]} - {s["customer"] for s in truth["subscriptions"]}
    customer = pick("customers", rule=lambda c: c["id"] in (alone & set(sent) or alone))
    for kind, table, args, fields in (
        ("create", "customers", (), {"email": "while-dead@example.com"}),
        ("update", "customers", (pick("customers")["id"],), {"metadata": {"changed": "while dead"}}),
        ("delete", "customers", (customer["id"],), {}),
        ("update", "subscriptions", (pick("subscriptions", rule=lambda s: s["status"] == "active")["id"],), {"status": "past_due"}),
        ("create", "products", (), {}),
        ("update", "prices", (pick("prices")["id"],), {"nickname": "changed while dead"}),
        ("update", "payment_intents", (pick("payment_intents", rule=lambda p: p["status"] == "processing" or p["status"].startswith("requires_"))["id"],), {"status": "succeeded"}),
    ):
        getattr(sandbox, kind)(table, *args, mode="live", **fields)
        tick(sandbox)
    return {"customers": [customer["id"]]}


def at_a_state_without_created():
    """Kills at a STATE of a table some of whose slices finished, but not its first, after the table sent records: a
    position in events exists, none in `created` yet. (Every table says where its events begin before it reads, so
    its states before its own records are passed over. If no such state comes, the sync is killed at its 150th
    state, near its end.)"""
    records_of, states = Counter(), [0]

    def reached(message):
        if message["type"] == "RECORD":
            records_of[message["record"]["stream"]] += 1
        if message["type"] != "STATE":
            return False
        states[0] += 1
        stream, stream_state = message["state"]["stream"]["stream_descriptor"]["name"], message["state"]["stream"]["stream_state"]
        without_created = "events" in stream_state and "created" not in stream_state
        return (without_created and records_of[stream] > 0) or states[0] >= 150

    return reached


# Each a `kill_when`, given the number of objects the sync will read (about as many records as it sends).
KILL_POINTS = {
    "at_a_state_without_created": lambda objects: at_a_state_without_created(),
    "after_an_eighth_of_the_records": lambda objects: after_records(objects // 8),
    "after_half_of_the_records": lambda objects: after_records(objects // 2),
}


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_sync_killed_at_any_point_resumes_from_its_last_state_and_misses_nothing(large_sandbox, kill_point):
    config = live_config(large_sandbox, no_request_budget=True)
    objects = sum(map(len, large_sandbox.truth(mode="live").values()))
    started = time.monotonic()
    killed = read_until_killed(config, KILL_POINTS[kill_point](objects))
    killed_after = time.monotonic() - started
    assert killed.exit_code == -9, "the sync finished before it could be killed"
    note_state_sizes(killed)
    deleted = change_some_objects_with_events(large_sandbox, sent=killed.ids("customers"))
    large_sandbox.advance_clock(600)

    resumed = sync(config, state=states_by_stream(killed.final_state()))

    truth = large_sandbox.truth(mode="live")
    seen, committed = sum(map(len, killed.records.values())), sum(map(len, committed_records(killed).values()))
    print(
        f"\n{kill_point}: killed after {killed_after:.1f}s with {seen} records seen, {committed} committed, "
        f"{len(killed.states)} states; resumed with {sum(map(len, resumed.records.values()))} records"
    )
    assert_resumed_sync_loses_nothing(large_sandbox, truth, killed, resumed, deleted)


def test_an_incremental_sync_killed_midway_resumes_from_its_last_state_and_misses_nothing(sandbox):
    recent = arrange_objects_to_change(sandbox)
    config = live_config(sandbox, lookback_window_days=60)  # so the incremental sync has plenty to re-read
    first = sync(config)
    deleted = change_every_table(sandbox, recent)
    sandbox.advance_clock(3600)

    killed = read_until_killed(config, after_records(150), state=first.final_state())
    assert killed.exit_code == -9, "the sync finished before it could be killed"
    note_state_sizes(killed)
    deleted_later = change_some_objects_with_events(sandbox, sent=killed.ids("customers"))
    sandbox.advance_clock(600)
    resumed = sync(config, state=states_by_stream(first.final_state(), killed.final_state()))
    print(
        f"\nincremental sync killed after 150 records, {len(killed.states)} states; "
        f"resumed with {sum(map(len, resumed.records.values()))} records"
    )

    destination = what_the_destination_keeps(first.records, committed_records(killed), resumed.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert_deleted_objects_are_gone(destination, sandbox, {**deleted, "customers": deleted["customers"] + deleted_later["customers"]})


# -- 5. positions from elsewhere ------------------------------------------------------------------------------------


def stream_state(states, stream):
    return next(s["stream"]["stream_state"] for s in states if s["stream"]["stream_descriptor"]["name"] == stream)


def state_message(stream, stream_state):
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}


def earlier_connector_state(synced_at, subscription, setup_intent, item):
    """States as Airbyte's earlier Stripe connector left them: {"updated": t} for tables it followed through events,
    {"created": t} for the others, and child tables per parent (partition cursors and the parent's own state)."""
    per_parent = lambda key, parent_id, cursor, parent: {  # noqa: E731
        "states": [{"partition": {key: parent_id}, "cursor": {cursor: synced_at - 100}}],
        "parent_state": {parent: {cursor: synced_at}},
    }
    states = {table: {"updated": synced_at} for table in ALL_STREAMS}
    states.update(
        shipping_rates={"created": synced_at},
        order_returns={"created": synced_at},
        subscription_items=per_parent("subscription", subscription, "updated", "subscriptions"),
        setup_attempts=per_parent("setup_intent", setup_intent, "created", "setup_intents"),
        usage_record_summaries={"states": [{"partition": {"subscription_item": item}, "cursor": {"updated": synced_at}}]},
    )
    return [state_message(table, state) for table, state in states.items()]


def test_a_state_from_the_future_or_from_airbytes_earlier_stripe_connector_is_accepted(sandbox):
    config = live_config(sandbox)
    first = sync(config)  # stands in for what the earlier connector had synced
    synced_at = sandbox.now
    truth = sandbox.truth(mode="live")
    subscription = next(s for s in running_subscriptions(truth) if not s["items"]["has_more"])
    item = next(i for i in truth["subscription_items"] if is_metered(i))

    new_customer = sandbox.create("customers", mode="live")
    tick(sandbox)
    changed_customer = sandbox.update("customers", first.records["customers"][-1]["id"], mode="live", name="Changed")
    tick(sandbox)
    new_rate = sandbox.create("shipping_rates", mode="live")
    tick(sandbox)
    sandbox.create("subscription_items", subscription=subscription["id"], mode="live")
    sandbox.advance_clock(3600)

    migrated = sync(config, state=earlier_connector_state(synced_at, subscription["id"], truth["setup_intents"][0]["id"], item["id"]))

    destination = what_the_destination_keeps(first.records, migrated.records)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert {new_customer["id"], changed_customer["id"]} <= set(migrated.ids("customers"))
    assert new_rate["id"] in migrated.ids("shipping_rates")
    assert set(stream_state(migrated.final_state(), "customers")) == {"created", "events"}
    assert set(stream_state(migrated.final_state(), "shipping_rates")) == {"created"}

    # A position ten days ahead of Stripe's clock is read as now, with a warning; the sync after it misses nothing.
    ten_days_ahead = sandbox.now + 10 * DAY
    future = [state_message(stream, {"created": ten_days_ahead, "events": ten_days_ahead}) for stream in ALL_STREAMS]
    from_the_future = sync(config, state=future)
    assert any("lies in the future" in log["message"] for log in from_the_future.logs if log["level"] == "WARN")
    assert all(max(state["stream"]["stream_state"].values()) <= sandbox.now for state in from_the_future.final_state())
    deleted = change_every_table(sandbox, arrange_objects_to_change(sandbox))
    sandbox.advance_clock(600)
    after_the_future = sync(config, state=from_the_future.final_state())
    syncs = (first.records, migrated.records, from_the_future.records, after_the_future.records)
    destination = what_the_destination_keeps(*syncs)
    assert_destination_equals_stripe(destination, sandbox.truth(mode="live"))
    assert_deleted_objects_are_gone(destination, sandbox, deleted)


def test_a_state_left_before_any_slice_finished_reads_the_table_from_the_start_date(sandbox):
    """A sync killed before a table's first `created` slice finished, but after a later one did, leaves
    {"events": t} and no `created`: nothing is known to have been read, so the next sync reads all of the table."""
    config = live_config(sandbox)
    truth = sandbox.truth(mode="live")

    run = sync(config, state=[state_message("customers", {"events": sandbox.now})], streams=["customers"])

    assert_destination_equals_stripe(what_the_destination_keeps(run.records), truth, ["customers"])
