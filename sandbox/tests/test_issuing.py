"""Stripe Issuing as Stripe keeps it: only an account that uses Issuing has it (others are told so in a 400); cards
embed their cardholder and authorizations their card and transactions, as they are now, changing with them without an
event of their own."""

from __future__ import annotations

import pytest


def test_an_account_without_issuing_is_told_so_in_a_400(shared, api):
    connected = shared.connected_accounts[0]
    for path in ("/v1/issuing/cardholders", "/v1/issuing/cards", "/v1/issuing/authorizations", "/v1/issuing/transactions"):
        assert "not set up to use Issuing" in api.using(account=connected).error(path, 400)["message"]
        assert api.ok(path)["data"]


def test_a_cardholders_change_reaches_its_cards_and_their_authorizations_without_their_events(sandbox, client):
    card = sandbox.create("cards")
    authorization = sandbox.create("authorizations", card=card["id"])
    sandbox.advance_clock(60)
    sandbox.update("cardholders", card["cardholder"]["id"], email="new@example.com")
    assert client.ok(f"/v1/issuing/cards/{card['id']}")["cardholder"]["email"] == "new@example.com"
    assert client.ok(f"/v1/issuing/authorizations/{authorization['id']}")["card"]["cardholder"]["email"] == "new@example.com"
    assert client.events_of(card["id"])[0]["type"] == "issuing_card.created"
    assert client.events_of(authorization["id"])[0]["type"] == "issuing_authorization.created"


def test_a_capture_closes_its_authorization_and_a_later_refund_joins_it_without_its_event(sandbox, client):
    authorization = sandbox.create("authorizations")
    sandbox.advance_clock(60)
    closed = sandbox.update("authorizations", authorization["id"], status="closed")
    (capture,) = closed["transactions"]
    assert (capture["type"], capture["amount"]) == ("capture", -authorization["amount"])
    sandbox.advance_clock(60)
    refund = sandbox.create("transactions", authorization=authorization["id"])
    listed = client.ok(f"/v1/issuing/authorizations/{authorization['id']}")
    assert [t["id"] for t in listed["transactions"]] == [capture["id"], refund["id"]]
    assert [e["type"] for e in client.events_of(authorization["id"])] == ["issuing_authorization.updated", "issuing_authorization.created"]
    with pytest.raises(RuntimeError, match="cannot become"):
        sandbox.update("authorizations", authorization["id"], status="reversed")
