"""Coupons and tax rates as Stripe keeps them: what may change, and the events that say so."""

from __future__ import annotations

import re

import pytest



def test_coupons_have_ids_of_eight_capitals_and_are_valid_until_redeemed_out_or_expired(shared):
    coupons = shared.truth()["coupons"]
    assert coupons and all(re.fullmatch(r"[A-Z0-9]{8}", c["id"]) for c in coupons)
    now = shared.now
    for coupon in coupons:
        expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= now
        used_up = coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
        assert coupon["valid"] == (not expired and not used_up)
        assert (coupon["percent_off"] is None) == (coupon["amount_off"] is not None)


def test_deleted_coupons_leave_their_deletion_events(shared, api):
    deleted = shared.deleted()["coupons"]
    assert deleted
    assert {e["data"]["object"]["id"] for e in api.all("/v1/events", type="coupon.deleted")} == set(deleted)


def test_only_a_coupons_name_and_metadata_change(sandbox, client):
    coupon = sandbox.create("coupons")
    sandbox.advance_clock(60)
    sandbox.update("coupons", coupon["id"], name="Renamed", metadata={"campaign": "x"})
    updated = client.events_of(coupon["id"])[0]
    assert updated["type"] == "coupon.updated" and updated["data"]["previous_attributes"]["name"] == coupon["name"]
    with pytest.raises(RuntimeError, match="Only a coupon's name and metadata"):
        sandbox.update("coupons", coupon["id"], percent_off=99)
    sandbox.advance_clock(60)
    sandbox.delete("coupons", coupon["id"])
    assert client.events_of(coupon["id"])[0]["type"] == "coupon.deleted"


def test_a_tax_rate_is_archived_not_changed(sandbox, client):
    rate = sandbox.create("tax_rates")
    with pytest.raises(RuntimeError, match="cannot change"):
        sandbox.update("tax_rates", rate["id"], percentage=1)
    sandbox.advance_clock(60)
    sandbox.update("tax_rates", rate["id"], active=False)
    assert [e["type"] for e in client.events_of(rate["id"])] == ["tax_rate.updated", "tax_rate.created"]
    with pytest.raises(RuntimeError, match="cannot delete tax_rates"):
        sandbox.delete("tax_rates", rate["id"])
