"""Checkout sessions as Stripe keeps them: no event when one opens, a list without a created filter, items listed per
session that do not name it, and a session that completes into what its mode makes or expires a day later."""

from __future__ import annotations

import pytest

DAY = 86_400


def test_the_session_list_takes_no_created_filter(api):
    refused = api.error("/v1/checkout/sessions", 400, created={"gte": 1})
    assert refused["message"] == "Received unknown parameter: created[gte]"


def test_a_completed_payment_session_is_paid_by_an_intent_for_its_items_total(shared, api):
    truth = shared.truth()
    intents = {pi["id"]: pi for pi in truth["payment_intents"]}
    paid = [s for s in truth["checkout_sessions"] if s["mode"] == "payment" and s["status"] == "complete"]
    assert paid
    for session in paid[:5]:
        items = api.all(f"/v1/checkout/sessions/{session['id']}/line_items")
        assert items and all("checkout_session" not in item for item in items)
        assert sum(item["amount_total"] for item in items) == session["amount_total"]
        assert intents[session["payment_intent"]]["amount"] == session["amount_total"]
        assert intents[session["payment_intent"]]["status"] == "succeeded"


def test_sessions_that_started_subscriptions_or_saved_payment_methods_name_them(shared):
    truth = shared.truth()
    subscriptions = {s["id"] for s in truth["subscriptions"]}
    setups = {s["id"] for s in truth["setup_intents"]}
    started = [s for s in truth["checkout_sessions"] if s["mode"] == "subscription"]
    assert started and all(s["subscription"] in subscriptions for s in started if s["status"] == "complete")
    assert all(s["setup_intent"] in setups for s in truth["checkout_sessions"] if s["mode"] == "setup")
    sold = {item["checkout_session"] for item in truth["checkout_sessions_line_items"]}
    assert not [s for s in truth["checkout_sessions"] if s["mode"] == "setup" and s["id"] in sold]


def test_opening_a_session_sends_no_event_completing_it_makes_its_payment(sandbox, client):
    session = sandbox.create("checkout_sessions")
    assert session["status"] == "open" and session["id"].startswith("cs_test_")
    sandbox.advance_clock(60)
    assert client.events_of(session["id"]) == []
    completed = sandbox.update("checkout_sessions", session["id"], status="complete")
    assert completed["payment_status"] == "paid"
    assert client.ok(f"/v1/payment_intents/{completed['payment_intent']}")["amount"] == session["amount_total"]
    assert [e["type"] for e in client.events_of(session["id"])] == ["checkout.session.completed"]
    with pytest.raises(RuntimeError, match="Only an open checkout session changes"):
        sandbox.update("checkout_sessions", session["id"], status="expired")
    with pytest.raises(RuntimeError, match="items are set when it is opened"):
        sandbox.create("checkout_sessions_line_items")


def test_a_session_nobody_completes_expires_a_day_later_with_an_event(sandbox, client):
    session = sandbox.create("checkout_sessions", checkout_mode="subscription")
    sandbox.advance_clock(DAY + 60)
    assert client.ok(f"/v1/checkout/sessions/{session['id']}")["status"] == "expired"
    (expired,) = client.events_of(session["id"])
    assert expired["type"] == "checkout.session.expired" and expired["created"] == session["expires_at"]
