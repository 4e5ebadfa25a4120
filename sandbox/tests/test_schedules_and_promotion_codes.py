"""Subscription schedules and promotion codes as Stripe keeps them: a schedule names the subscription it runs and
ends released, canceled with it, or canceled before it starts; a promotion code embeds its coupon as the coupon is
now, so renaming a coupon changes its codes without an event of theirs."""

from __future__ import annotations

import pytest


def test_a_running_schedule_and_its_subscription_name_each_other(shared):
    truth = shared.truth()
    subscriptions = {s["id"]: s for s in truth["subscriptions"]}
    running = [s for s in truth["subscription_schedule"] if s["status"] == "active"]
    assert running and {s["status"] for s in truth["subscription_schedule"]} >= {"active", "released", "not_started"}
    for schedule in running:
        assert subscriptions[schedule["subscription"]]["schedule"] == schedule["id"]
        assert schedule["current_phase"]["end_date"] == schedule["phases"][0]["end_date"]
    for schedule in truth["subscription_schedule"]:
        if schedule["status"] == "released":
            assert schedule["subscription"] is None and schedule["released_subscription"] in subscriptions


def test_a_schedule_starting_now_starts_its_subscription(sandbox, client):
    schedule = sandbox.create("subscription_schedule", start_date=sandbox.now)
    assert schedule["status"] == "active"
    assert client.ok(f"/v1/subscriptions/{schedule['subscription']}")["schedule"] == schedule["id"]
    (created,) = [e for e in client.events_of(schedule["subscription"]) if e["type"] == "customer.subscription.created"]
    assert created["data"]["object"]["schedule"] == schedule["id"], "its created event names the schedule too"


def test_releasing_a_schedule_leaves_its_subscription_alone_with_events_for_both(sandbox, client):
    running = sandbox.create("subscription_schedule", start_date=sandbox.now)
    sandbox.advance_clock(60)
    released = sandbox.update("subscription_schedule", running["id"], status="released")
    assert (released["subscription"], released["released_subscription"]) == (None, running["subscription"])
    assert client.ok(f"/v1/subscriptions/{running['subscription']}")["schedule"] is None
    assert [e["type"] for e in client.events_of(running["id"])][:1] == ["subscription_schedule.released"]
    assert client.events_of(running["subscription"])[0]["data"]["previous_attributes"] == {"schedule": running["id"]}


def test_canceling_a_subscription_cancels_its_schedule(sandbox, client):
    running = sandbox.create("subscription_schedule", start_date=sandbox.now)
    sandbox.advance_clock(60)
    sandbox.delete("subscriptions", running["subscription"])
    assert client.ok(f"/v1/subscription_schedules/{running['id']}")["status"] == "canceled"
    assert client.events_of(running["id"])[0]["type"] == "subscription_schedule.canceled"


def test_a_schedule_not_started_can_be_canceled_but_not_released(sandbox, client):
    schedule = sandbox.create("subscription_schedule")
    sandbox.advance_clock(60)
    assert (schedule["status"], schedule["subscription"]) == ("not_started", None)
    with pytest.raises(RuntimeError, match="not_started to released"):
        sandbox.update("subscription_schedule", schedule["id"], status="released")
    sandbox.update("subscription_schedule", schedule["id"], status="canceled")
    assert [e["type"] for e in client.events_of(schedule["id"])] == ["subscription_schedule.canceled", "subscription_schedule.created"]


def test_a_promotion_code_embeds_its_coupon_and_lists_by_it(shared, api):
    truth = shared.truth()
    coupons = {c["id"]: c for c in truth["coupons"]}
    codes = truth["promotion_codes"]
    assert codes
    for code in codes:
        assert code["coupon"] == coupons[code["coupon"]["id"]]
    coupon = codes[0]["coupon"]["id"]
    listed = api.all("/v1/promotion_codes", coupon=coupon)
    assert {c["id"] for c in listed} == {c["id"] for c in codes if c["coupon"]["id"] == coupon}


def test_renaming_a_coupon_changes_its_codes_without_an_event_of_theirs(sandbox, client):
    code = sandbox.create("promotion_codes")
    sandbox.advance_clock(60)
    sandbox.update("coupons", code["coupon"]["id"], name="Renamed")
    assert client.ok(f"/v1/promotion_codes/{code['id']}")["coupon"]["name"] == "Renamed"
    assert [e["type"] for e in client.events_of(code["id"])] == ["promotion_code.created"]
    sandbox.update("promotion_codes", code["id"], active=False)
    assert client.events_of(code["id"])[0]["data"]["previous_attributes"] == {"active": True}
    with pytest.raises(RuntimeError, match="active flag and metadata"):
        sandbox.update("promotion_codes", code["id"], code="OTHER")
