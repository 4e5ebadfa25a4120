"""Charges as Stripe keeps them: one per confirmed payment intent (its `latest_charge`), refunded by the sum of its
refunds, and changed only by events that carry the charge as it then was."""

from __future__ import annotations

from collections import defaultdict

import pytest

from stripe_sandbox.spec import load_spec



def test_every_confirmed_intent_names_its_charge_and_the_charge_names_the_intent(shared):
    truth = shared.truth()
    charges = {c["id"]: c for c in truth["charges"]}
    expected_status = {"succeeded": "succeeded", "requires_capture": "succeeded", "processing": "pending"}
    charged = [pi for pi in truth["payment_intents"] if pi["latest_charge"]]
    assert {pi["status"] for pi in charged} >= {*expected_status, "requires_payment_method"}
    for pi in charged:
        charge = charges[pi["latest_charge"]]
        assert (charge["payment_intent"], charge["amount"], charge["customer"]) == (pi["id"], pi["amount"], pi["customer"])
        assert charge["status"] == expected_status.get(pi["status"], "failed")
        assert charge["captured"] == (pi["status"] == "succeeded")
    legacy = [c for c in truth["charges"] if c["payment_intent"] is None]
    assert legacy, "older integrations' charges have no payment intent"


def test_a_charge_has_refunded_the_sum_of_its_succeeded_and_pending_refunds(shared):
    truth = shared.truth()
    refunded = defaultdict(int)
    for refund in truth["refunds"]:
        if refund["status"] in ("succeeded", "pending"):
            refunded[refund["charge"]] += refund["amount"]
    assert refunded
    for charge in truth["charges"]:
        assert charge["amount_refunded"] == refunded[charge["id"]] <= charge["amount"]
        assert charge["refunded"] == (refunded[charge["id"]] == charge["amount"])


def test_a_charges_newest_event_holds_the_charge_as_it_is_listed(shared, api):
    pinned = load_spec().api_version
    newest: dict[str, dict] = {}
    for event in api.all("/v1/events", type="charge.*"):  # newest first
        if event["data"]["object"]["object"] == "charge":
            newest.setdefault(event["data"]["object"]["id"], event)
    assert {e["type"] for e in newest.values()} >= {"charge.succeeded", "charge.refunded", "charge.failed"}
    charges = {c["id"]: c for c in shared.truth()["charges"]}
    for charge_id, event in newest.items():
        if event["api_version"] == pinned:
            assert event["data"]["object"] == charges[charge_id]


def test_charges_do_not_embed_their_refunds_at_the_pinned_version(api):
    assert all("refunds" not in charge for charge in api.ok("/v1/charges", limit=100)["data"])


def test_a_refund_raises_the_charges_refunded_amount_and_says_so_in_charge_refunded(sandbox, client):
    pi = sandbox.create("payment_intents", status="succeeded")
    sandbox.advance_clock(60)
    refund = sandbox.create("refunds", payment_intent=pi["id"], amount=pi["amount"] - 100)
    charge = client.ok(f"/v1/charges/{refund['charge']}")
    assert (charge["amount_refunded"], charge["refunded"]) == (pi["amount"] - 100, False)
    refunded_event = client.events_of(charge["id"])[0]
    assert refunded_event["type"] == "charge.refunded" and refunded_event["data"]["object"] == charge
    with pytest.raises(RuntimeError, match="greater than unrefunded amount"):
        sandbox.create("refunds", payment_intent=pi["id"], amount=101)


def test_capturing_an_intent_captures_its_charge(sandbox, client):
    pi = sandbox.create("payment_intents", status="requires_capture")
    charge = client.ok(f"/v1/charges/{pi['latest_charge']}")
    assert (charge["status"], charge["captured"], charge["amount_captured"]) == ("succeeded", False, 0)
    sandbox.advance_clock(60)
    sandbox.update("payment_intents", pi["id"], status="succeeded")
    captured = client.ok(f"/v1/charges/{pi['latest_charge']}")
    assert (captured["captured"], captured["amount_captured"]) == (True, pi["amount"])
    assert [e["type"] for e in client.events_of(charge["id"])] == ["charge.captured", "charge.succeeded"]


def test_confirming_an_intent_makes_its_charge(sandbox, client):
    pi = sandbox.create("payment_intents")
    assert pi["latest_charge"] is None
    sandbox.advance_clock(60)
    succeeded = sandbox.update("payment_intents", pi["id"], status="succeeded")
    charge = client.ok(f"/v1/charges/{succeeded['latest_charge']}")
    assert (charge["payment_intent"], charge["status"], succeeded["amount_received"]) == (pi["id"], "succeeded", pi["amount"])
    assert [e["type"] for e in client.events_of(charge["id"])] == ["charge.succeeded"]
