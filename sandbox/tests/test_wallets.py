"""Customers' wallets as Stripe keeps them: payment methods listed per customer, with events of their own (attached,
updated, detached: gone from the list); credit balance transactions listed per customer with no events at all, each
changing the customer's balance, which customer.updated says."""

from __future__ import annotations

import pytest


def test_payment_methods_belong_to_their_customer_whose_default_is_one_of_them(shared, api):
    truth = shared.truth()
    customers = {c["id"]: c for c in truth["customers"]}
    methods = truth["payment_methods"]
    assert methods and all(m["customer"] in customers for m in methods)
    customer = customers[methods[0]["customer"]]
    listed = api.all(f"/v1/customers/{customer['id']}/payment_methods")
    assert {m["id"] for m in listed} == {m["id"] for m in methods if m["customer"] == customer["id"]}
    assert customer["invoice_settings"]["default_payment_method"] in {m["id"] for m in listed}
    assert api.ok(f"/v1/customers/{customer['id']}/payment_methods/{listed[0]['id']}") == listed[0]
    other = next(c for c in customers if c != customer["id"])
    api.error(f"/v1/customers/{other}/payment_methods/{listed[0]['id']}", 404)


def test_a_detached_payment_method_leaves_its_customers_list_with_an_event_naming_no_customer(sandbox, client):
    method = sandbox.create("payment_methods")
    sandbox.advance_clock(60)
    sandbox.update("payment_methods", method["id"], metadata={"label": "work"})
    sandbox.advance_clock(60)
    sandbox.delete("payment_methods", method["id"])
    owner = method["customer"]
    assert method["id"] not in {m["id"] for m in client.all(f"/v1/customers/{owner}/payment_methods")}
    client.error(f"/v1/customers/{owner}/payment_methods/{method['id']}", 404)
    events = client.events_of(method["id"])
    assert [e["type"] for e in events] == ["payment_method.detached", "payment_method.updated", "payment_method.attached"]
    assert events[0]["data"]["object"]["customer"] is None


def test_a_customers_newest_balance_transaction_ends_at_its_balance(shared):
    truth = shared.truth()
    balances = {c["id"]: c["balance"] for c in truth["customers"]}
    newest = {}
    for txn in truth["customer_balance_transactions"]:  # newest first
        newest.setdefault(txn["customer"], txn)
    assert newest and all(txn["ending_balance"] == balances[customer] for customer, txn in newest.items())
    assert all(customer in newest for customer, balance in balances.items() if balance)


def test_a_credit_changes_the_customers_balance_which_only_customer_updated_says(sandbox, client):
    customer = sandbox.create("customers")
    sandbox.advance_clock(60)
    credit = sandbox.create("customer_balance_transactions", customer=customer["id"], amount=-2500)
    assert (credit["ending_balance"], client.ok(f"/v1/customers/{customer['id']}")["balance"]) == (-2500, -2500)
    updated = client.events_of(customer["id"])[0]
    assert (updated["type"], updated["data"]["previous_attributes"]) == ("customer.updated", {"balance": 0})
    sandbox.advance_clock(60)
    sandbox.update("customer_balance_transactions", credit["id"], description="Goodwill")
    assert client.events_of(credit["id"]) == []
    with pytest.raises(RuntimeError, match="description and metadata"):
        sandbox.update("customer_balance_transactions", credit["id"], amount=5)


def test_a_deleted_customers_wallet_stays_though_no_list_shows_it_and_no_event_says_so(sandbox, client):
    method = sandbox.create("payment_methods")
    credit = sandbox.create("customer_balance_transactions", customer=method["customer"])
    sandbox.advance_clock(60)
    sandbox.delete("customers", method["customer"])
    truth = sandbox.truth()
    assert method["id"] in {m["id"] for m in truth["payment_methods"]}
    assert credit["id"] in {t["id"] for t in truth["customer_balance_transactions"]}
    client.error(f"/v1/customers/{method['customer']}/payment_methods", 404)
    client.error(f"/v1/customers/{method['customer']}/balance_transactions", 404)
    assert [e["type"] for e in client.events_of(method["id"])] == ["payment_method.attached"]
