"""Plans as Stripe keeps them: every recurring price shown again by the older Plans API, under the same id, with
plan.* events beside the price's own."""

from __future__ import annotations

import pytest


def test_every_recurring_price_is_a_plan_with_its_id_and_amount(shared):
    truth = shared.truth()
    recurring = {p["id"]: p for p in truth["prices"] if p["recurring"]}
    plans = {p["id"]: p for p in truth["plans"]}
    assert plans and set(plans) == set(recurring)
    for plan_id, plan in plans.items():
        price = recurring[plan_id]
        assert (plan["amount"], plan["interval"], plan["usage_type"]) == (price["unit_amount"], price["recurring"]["interval"], price["recurring"]["usage_type"])
        assert plan["active"] == price["active"]


def test_a_recurring_prices_changes_send_plan_events_too(sandbox, client):
    price = sandbox.create("prices", type="recurring")
    sandbox.advance_clock(60)
    sandbox.update("prices", price["id"], active=False)
    sandbox.advance_clock(60)
    assert [e["type"] for e in client.events_of(price["id"])] == ["price.updated", "plan.updated", "price.created", "plan.created"]
    assert client.ok(f"/v1/plans/{price['id']}")["active"] is False
    sandbox.delete("plans", price["id"])
    assert {e["type"] for e in client.events_of(price["id"])[:2]} == {"price.deleted", "plan.deleted"}
    client.error(f"/v1/prices/{price['id']}", 404)


def test_a_one_off_price_is_no_plan_and_plans_change_through_their_price(sandbox, client):
    price = sandbox.create("prices", type="one_time", recurring=None)
    client.error(f"/v1/plans/{price['id']}", 404)
    with pytest.raises(RuntimeError, match="A plan is a recurring price"):
        sandbox.create("plans")
