"""The admin API: creating, changing and deleting objects (with their events), the clock, the truth."""

from __future__ import annotations

import pytest

from stripe_sandbox.data import Generator
from stripe_sandbox.spec import TABLE_FACTS, TABLES



def test_created_customer_is_listed_first_and_announced(sandbox, client):
    sandbox.advance_clock(60)
    customer = sandbox.create("customers", email="new@example.com")
    assert customer["id"].startswith("cus_") and customer["created"] == sandbox.now
    assert client.ok("/v1/customers", limit=1)["data"][0] == customer
    [event] = client.events_of(customer["id"])
    assert event["type"] == "customer.created" and event["data"]["object"] == customer


def test_update_merges_fields_and_emits_previous_attributes(sandbox, client):
    customer = sandbox.truth()["customers"][0]
    version = sandbox.versions()["customers"][customer["id"]]
    sandbox.advance_clock(60)
    updated = sandbox.update("customers", customer["id"], name="Renamed", metadata={"tier": "gold"})
    assert updated == {**customer, "name": "Renamed", "metadata": {"tier": "gold"}}
    assert "updated" not in updated, "Stripe customers have no updated field"
    assert client.ok(f"/v1/customers/{customer['id']}") == updated
    newest = client.events_of(customer["id"])[0]
    assert newest["type"] == "customer.updated" and newest["data"]["object"] == updated
    assert newest["data"]["previous_attributes"] == {"name": customer["name"], "metadata": customer["metadata"]}
    assert sandbox.versions()["customers"][customer["id"]] == version + 1


def test_deleted_customer_reads_as_deleted_and_leaves_lists(sandbox, client):
    customer = sandbox.truth()["customers"][3]
    sandbox.advance_clock(60)
    assert sandbox.delete("customers", customer["id"]) == {"id": customer["id"], "object": "customer", "deleted": True}
    assert client.ok(f"/v1/customers/{customer['id']}") == {"id": customer["id"], "object": "customer", "deleted": True}
    assert customer["id"] not in {c["id"] for c in client.all("/v1/customers")}
    assert customer["id"] in sandbox.deleted()["customers"]
    assert customer["id"] not in {c["id"] for c in sandbox.truth()["customers"]}
    event = client.events_of(customer["id"])[0]
    assert event["type"] == "customer.deleted" and event["data"]["object"] == customer


def test_deleting_a_customer_cancels_its_subscriptions(sandbox, client):
    sub = next(s for s in sandbox.truth()["subscriptions"] if s["status"] == "active")
    sandbox.advance_clock(60)
    sandbox.delete("customers", sub["customer"])
    assert client.ok(f"/v1/subscriptions/{sub['id']}")["status"] == "canceled"


def test_deleting_a_product_deletes_its_prices(sandbox, client):
    product = sandbox.create("products", name="Doomed")
    price = sandbox.create("prices", product=product["id"])
    sandbox.advance_clock(60)
    sandbox.delete("products", product["id"])
    assert client.error(f"/v1/products/{product['id']}", 404)["message"] == f"No such product: '{product['id']}'"
    assert client.get(f"/v1/prices/{price['id']}").status_code == 404
    types = [e["type"] for e in client.all("/v1/events", types=["price.deleted", "product.deleted"])]
    assert types.count("product.deleted") >= 1 and types.count("price.deleted") >= 1
    assert price["id"] in sandbox.deleted()["prices"]


def test_canceling_a_subscription_keeps_it_retrievable(sandbox, client):
    sub = next(s for s in sandbox.truth()["subscriptions"] if s["status"] == "active")
    sandbox.advance_clock(60)
    canceled = sandbox.delete("subscriptions", sub["id"])
    assert canceled["status"] == "canceled" and canceled["canceled_at"] == sandbox.now
    assert client.ok(f"/v1/subscriptions/{sub['id']}") == canceled
    assert sub["id"] not in {s["id"] for s in client.all("/v1/subscriptions")}
    assert client.events_of(sub["id"])[0]["type"] == "customer.subscription.deleted"


def test_subscription_item_changes_update_the_embedded_items(sandbox, client):
    sub = next(s for s in sandbox.truth()["subscriptions"] if s["status"] == "active")
    sandbox.advance_clock(60)
    item = sandbox.create("subscription_items", subscription=sub["id"])
    refreshed = client.ok(f"/v1/subscriptions/{sub['id']}")
    assert item["id"] in {i["id"] for i in refreshed["items"]["data"]}
    assert refreshed["items"]["total_count"] == sub["items"]["total_count"] + 1
    announced = client.events_of(sub["id"])[0]
    assert announced["type"] == "customer.subscription.updated" and announced["data"]["object"] == refreshed
    assert announced["data"]["previous_attributes"] == {"items": sub["items"]}

    sandbox.advance_clock(60)
    sandbox.delete("subscription_items", item["id"])
    assert client.get(f"/v1/subscription_items/{item['id']}").status_code == 404
    assert client.ok(f"/v1/subscriptions/{sub['id']}")["items"] == sub["items"]


def test_status_changes_emit_the_matching_stripe_event(sandbox, client):
    intent = sandbox.create("payment_intents")
    sandbox.advance_clock(60)
    sandbox.update("payment_intents", intent["id"], status="succeeded")
    assert [e["type"] for e in client.events_of(intent["id"])] == [
        "payment_intent.succeeded",
        "payment_intent.created",
    ]
    dispute = sandbox.create("disputes")
    sandbox.advance_clock(60)
    sandbox.update("disputes", dispute["id"], status="won")
    assert client.events_of(dispute["id"])[0]["type"] in (
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    )
    refund = sandbox.create("refunds", status="pending")
    sandbox.advance_clock(60)
    sandbox.update("refunds", refund["id"], status="succeeded")
    assert {e["type"] for e in client.events_of(refund["id"])} == {
        "refund.created",
        "refund.updated",
        "charge.refund.updated",
    }


@pytest.mark.parametrize(
    "table", ["shipping_rates", "setup_intents", "setup_attempts", "usage_record_summaries", "order_returns"]
)
def test_every_table_can_be_created_through_the_admin_api(sandbox, table):
    created = sandbox.create(table)
    assert created["id"] in {o["id"] for o in sandbox.truth()[table]} or table == "order_returns"


def test_a_new_setup_attempt_becomes_its_intents_latest(sandbox, client):
    intent = sandbox.create("setup_intents")
    attempt = sandbox.create("setup_attempts", setup_intent=intent["id"])
    assert client.ok(f"/v1/setup_intents/{intent['id']}")["latest_attempt"] == attempt["id"]


def test_objects_that_stripe_cannot_delete_are_refused(sandbox):
    intent = sandbox.truth()["payment_intents"][0]
    with pytest.raises(RuntimeError, match="cannot delete payment_intents"):
        sandbox.delete("payment_intents", intent["id"])


def test_clock_moves_only_forward_and_dates_responses(sandbox, client):
    start = sandbox.now
    assert sandbox.advance_clock(3600) == start + 3600
    assert sandbox.set_clock(start + 7200) == start + 7200
    with pytest.raises(RuntimeError, match="only moves forward"):
        sandbox.set_clock(start)
    assert client.get("/v1/customers").headers["Date"] == "Sun, 01 Nov 2026 02:00:00 GMT"


def test_truth_holds_every_table_and_the_generated_world_fills_the_ones_it_models(sandbox):
    truth = sandbox.truth()
    assert set(truth) == set(TABLES)
    modelled = {table for table in TABLES if table in Generator.SHARES or TABLE_FACTS[table]["parent"] in Generator.SHARES}
    assert all(truth[table] for table in modelled if table != "order_returns")
