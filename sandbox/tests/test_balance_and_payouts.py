"""The balance as Stripe keeps it: a balance transaction for every movement of money, available days later without
an event, and automatic payouts that go out every midnight, arrive, and list what they paid out once reconciled."""

from __future__ import annotations

from collections import defaultdict

import pytest

DAY = 86_400


def fund(sandbox):
    """Money available to pay out: a large charge old enough to be available (generated refunds may have left the
    balance negative)."""
    sandbox.create("charges", amount=10**7, created=sandbox.now - 3 * DAY)


def test_every_charge_refund_dispute_and_payout_has_its_balance_transaction(shared):
    truth = shared.truth()
    transactions = {t["id"]: t for t in truth["balance_transactions"]}
    moved = [(c, c["balance_transaction"]) for c in truth["charges"] if c["balance_transaction"]]
    moved += [(r, r["balance_transaction"]) for r in truth["refunds"] if r["balance_transaction"]]
    moved += [(p, p["balance_transaction"]) for p in truth["payouts"]]
    moved += [(d, t["id"]) for d in truth["disputes"] for t in d["balance_transactions"]]
    assert {obj["object"] for obj, _ in moved} == {"charge", "refund", "payout", "dispute"}
    for obj, txn_id in moved:
        assert transactions[txn_id]["source"] == obj["id"]
    assert all(transactions[c["balance_transaction"]]["amount"] > 0 for c in truth["charges"] if c["balance_transaction"])
    assert all(transactions[p["balance_transaction"]]["amount"] == -p["amount"] for p in truth["payouts"])
    assert not [c for c in truth["charges"] if c["status"] == "failed" and c["balance_transaction"]]


def test_an_automatic_payout_lists_what_it_paid_out_its_own_transaction_included_once_reconciled(shared, api):
    payouts = [p for p in shared.truth()["payouts"] if p["automatic"] and p["reconciliation_status"] == "completed"]
    assert payouts
    for payout in payouts[:5]:
        listed = api.all("/v1/balance_transactions", payout=payout["id"])
        assert payout["balance_transaction"] in {t["id"] for t in listed}
        assert sum(t["net"] for t in listed) == 0, "a payout takes exactly what it lists"
        assert all(t["status"] == "available" and "payout" not in t for t in listed)


def test_a_manual_payouts_transactions_cannot_be_listed_and_an_unknown_payout_is_missing(sandbox, client):
    fund(sandbox)
    manual = sandbox.create("payouts", method="instant")
    assert not manual["automatic"] and manual["reconciliation_status"] == "not_applicable"
    refused = client.error("/v1/balance_transactions", 400, payout=manual["id"])
    assert refused["message"] == "Balance transaction history can only be filtered on automatic transfers, not manual."
    missing = client.error("/v1/balance_transactions", 404, payout="po_unknown")
    assert missing["code"] == "resource_missing" and missing["param"] == "payout"


def test_time_makes_money_available_and_pays_it_out_with_events_but_none_for_the_transactions(sandbox, client):
    fund(sandbox)
    charge = sandbox.create("charges")
    txn = client.ok(f"/v1/balance_transactions/{charge['balance_transaction']}")
    assert txn["status"] == "pending" and txn["available_on"] % DAY == 0 and txn["available_on"] > sandbox.now
    sandbox.advance_clock(txn["available_on"] - sandbox.now)
    assert client.ok(f"/v1/balance_transactions/{txn['id']}")["status"] == "available"
    assert not client.events_of(txn["id"])
    # That midnight's automatic payout takes it at once.
    payout = next(p for p in client.all("/v1/payouts") if p["automatic"] and p["created"] == txn["available_on"])
    assert payout["status"] == "pending" and payout["reconciliation_status"] == "in_progress"
    assert client.all("/v1/balance_transactions", payout=payout["id"]) == [], "nothing listed before reconciliation"
    assert [e["type"] for e in client.events_of(payout["id"])] == ["payout.created"]

    sandbox.advance_clock(3 * DAY)
    payout = client.ok(f"/v1/payouts/{payout['id']}")
    assert payout["status"] in ("paid", "failed") and payout["reconciliation_status"] == "completed"
    types = [e["type"] for e in client.events_of(payout["id"])]
    assert types == ["payout.reconciliation_completed", f"payout.{payout['status']}", "payout.created"]
    assert txn["id"] in {t["id"] for t in client.all("/v1/balance_transactions", payout=payout["id"])}


def test_a_pending_manual_payout_can_be_canceled_and_its_money_comes_back(sandbox, client):
    fund(sandbox)
    payout = sandbox.create("payouts", amount=100)
    sandbox.advance_clock(60)
    canceled = sandbox.update("payouts", payout["id"], status="canceled")
    returned = client.ok(f"/v1/balance_transactions/{canceled['failure_balance_transaction']}")
    assert returned["type"] == "payout_cancel" and returned["amount"] == 100
    assert client.events_of(payout["id"])[0]["type"] == "payout.canceled"
    with pytest.raises(RuntimeError, match="only a pending manual payout can be canceled"):
        sandbox.update("payouts", payout["id"], status="paid")
    with pytest.raises(RuntimeError, match="insufficient funds"):
        sandbox.create("payouts", amount=10**12)


def test_balance_transactions_come_from_money_moving_not_from_requests(sandbox):
    with pytest.raises(RuntimeError, match="as money moves"):
        sandbox.create("balance_transactions")
    txn_id = sandbox.truth()["balance_transactions"][0]["id"]
    with pytest.raises(RuntimeError, match="never changes"):
        sandbox.update("balance_transactions", txn_id, description="x")


def test_a_won_dispute_gives_back_what_it_withdrew_fee_included(sandbox, client):
    dispute = sandbox.create("disputes")
    (withdrawn,) = dispute["balance_transactions"]
    assert withdrawn["net"] == withdrawn["amount"] - 1500 < 0 and withdrawn["reporting_category"] == "dispute"
    sandbox.advance_clock(60)
    won = sandbox.update("disputes", dispute["id"], status="won")
    reinstated = won["balance_transactions"][-1]
    assert reinstated["reporting_category"] == "dispute_reversal" and reinstated["net"] == -withdrawn["net"]
    assert client.ok(f"/v1/balance_transactions/{reinstated['id']}")["source"] == dispute["id"]


def test_payments_in_other_currencies_settle_in_the_accounts_at_the_days_rate(shared):
    truth = shared.truth()
    transactions = {t["id"]: t for t in truth["balance_transactions"]}
    foreign = [c for c in truth["charges"] if c["balance_transaction"] and c["currency"] != "usd"]
    assert foreign
    for charge in foreign:
        txn = transactions[charge["balance_transaction"]]
        assert txn["currency"] == "usd" and txn["amount"] == round(charge["amount"] * txn["exchange_rate"])


def test_each_balance_transaction_is_paid_out_once_at_most(shared):
    paid_by = defaultdict(list)
    for row in shared.truth()["payout_balance_transactions"]:
        paid_by[row["id"]].append(row["payout"])
    assert paid_by and all(len(payouts) == 1 for payouts in paid_by.values())
