"""Creates, updates and deletes of customers, the catalog, subscriptions and their schedules, with the events Stripe
sends for them (part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .factory import subscription_items_list
from .realism import MONTH
from .store import AdminError


class CatalogChanges:
    def _new_customers(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("customers", self.factory.customer(created), fields)
        self._emit(now, "customer.created", obj)
        return obj

    def _new_products(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("products", {**self.factory.product(created), "updated": created}, fields)
        self._emit(now, "product.created", obj)
        return obj

    def _new_prices(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        product = self._pick("products", fields.pop("product", None))
        metered = bool(fields.get("recurring") and fields["recurring"].get("usage_type") == "metered")
        recurring = fields.get("type", "recurring") == "recurring"
        obj = self.factory.price(created, product["id"], recurring=recurring, metered=metered)
        obj = self._finish_new("prices", obj, fields)
        self._emit(now, "price.created", obj)
        if obj["recurring"]:  # Stripe shows it as a plan too, with events of its own
            plan = self.factory.plan(obj)
            self.tables["plans"].put(plan)
            self._emit(now, "plan.created", plan)
        return obj

    def _new_plans(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "A plan is a recurring price: create the price")

    def _revise_plans(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "A plan is a recurring price: update the price")

    def _new_shipping_rates(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("shipping_rates", self.factory.shipping_rate(created), fields)
        self._emit(now, "shipping_rate.created", obj)
        return obj

    def _recurring_price(self, price_id: str | None, exclude: set[str] = frozenset()) -> dict[str, Any]:
        return self._pick("prices", price_id, lambda p: bool(p["recurring"]) and p["id"] not in exclude)

    def _new_subscriptions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        customer = self._pick("customers", fields.pop("customer", None))
        price_ids = fields.pop("items", None) or [None]
        sub = self.factory.subscription(created, customer["id"], fields.get("status", "active"))
        sub.update(current_period_start=created, current_period_end=created + MONTH)
        if "id" in fields:
            sub["id"] = fields["id"]
        used: set[str] = set()
        for price_id in price_ids:
            price = self._recurring_price(price_id, used)
            used.add(price["id"])
            self.tables["subscription_items"].put(self.factory.subscription_item(created, sub["id"], price))
        sub["items"] = self._items_of(sub["id"])
        obj = self._finish_new("subscriptions", sub, fields)
        self._emit(now, "customer.subscription.created", obj)
        return obj

    def _items_of(self, subscription_id: str) -> dict[str, Any]:
        items = self.tables["subscription_items"]
        return subscription_items_list(subscription_id, [items.objects[k[-1]] for k in items.keys(subscription_id)])

    def _refresh_subscription(self, subscription_id: str, now: int) -> None:
        """Re-embed a subscription's items after one of them changed, as Stripe's subscription does."""
        sub = self.tables["subscriptions"].objects.get(subscription_id)
        if sub is None:
            return
        items = self._items_of(subscription_id)
        updated = {**sub, "items": items}
        self.tables["subscriptions"].put(updated)
        self._emit(now, "customer.subscription.updated", updated, {"items": sub["items"]})

    def _new_subscription_items(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        sub = self._pick("subscriptions", fields.pop("subscription", None), lambda s: s["status"] != "canceled")
        taken = {
            self.tables["subscription_items"].objects[k[-1]]["price"]["id"]
            for k in self.tables["subscription_items"].keys(sub["id"])
        }
        price = fields.pop("price", None)
        price = price if isinstance(price, dict) else self._recurring_price(price, taken)
        obj = self._finish_new("subscription_items", self.factory.subscription_item(created, sub["id"], price), fields)
        self._refresh_subscription(sub["id"], now)
        return obj

    def _new_usage_record_summaries(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        item = self._pick("subscription_items", fields.pop("subscription_item", None), lambda i: "quantity" not in i)
        start = created - created % MONTH
        summary = self.factory.usage_record_summary(item["id"], start, start + MONTH, invoiced=False)
        return self._finish_new("usage_record_summaries", summary, fields)

    def _new_order_returns(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        return self._finish_new("order_returns", self.factory.order_return(created), fields)

    def _revise_products(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        changes = any(current.get(name) != value for name, value in fields.items())
        return {**fields, "updated": now} if changes else fields

    def _revise_subscriptions(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if fields.get("status") != "canceled" or current["status"] == "canceled":
            return fields
        return {"canceled_at": current.get("canceled_at") or now, "ended_at": current.get("ended_at") or now, **fields}

    def _revise_subscription_items(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if isinstance(fields.get("price"), str):
            return {**fields, "price": self._recurring_price(fields["price"])}  # items embed the price
        return fields

    def _updated_customers(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "customer.updated", new, previous)

    def _updated_products(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "product.updated", new, previous)

    def _updated_prices(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "price.updated", new, previous)
        if new["recurring"]:
            was, plan = self.factory.plan(old), self.factory.plan(new)
            undone = {name: was[name] for name in plan if was[name] != plan[name]}
            if undone:
                self.tables["plans"].put(plan)
                self._emit(now, "plan.updated", plan, undone)

    def _updated_shipping_rates(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "shipping_rate.updated", new, previous)

    def _updated_subscriptions(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if new["status"] == "canceled" and old["status"] != "canceled":
            self._emit(now, "customer.subscription.deleted", new)
            if new["schedule"]:  # a canceled subscription's schedule ends with it
                self._end_schedule(self.factory.schedule_canceled(self.tables["subscription_schedule"].objects[new["schedule"]], now), now)
        else:
            self._emit(now, "customer.subscription.updated", new, previous)

    def _new_subscription_schedule(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A schedule of a subscription to start `start_date` (a month from now unless given); one starting now starts
        its subscription at once, as Stripe does."""
        customer = self._pick("customers", fields.pop("customer", None))
        price = self._recurring_price(fields.pop("price", None))
        start = int(fields.pop("start_date", now + MONTH))
        schedule = self.factory.subscription_schedule(created, customer["id"], [(price["id"], 1)], start, start + 12 * MONTH)
        if start <= now:
            # The subscription a schedule starts names it from the first: its created event says so.
            sub = self._new_subscriptions(created, {"customer": customer["id"], "items": [price["id"]], "schedule": schedule["id"]}, now)
            schedule = self.factory.schedule_started(schedule, sub["id"])
        obj = self._finish_new("subscription_schedule", schedule, fields)
        self._emit(now, "subscription_schedule.created", obj)
        return obj

    def _revise_subscription_schedule(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """Its metadata and end behaviour change, or it ends: `status: canceled` before it starts, `status: released`
        while it runs (its subscription goes on alone)."""
        if set(fields) - {"metadata", "end_behavior", "status"}:
            raise AdminError(400, "Only a schedule's metadata and end_behavior change here, or its status (canceled, released)")
        status = fields.get("status", current["status"])
        if status == current["status"]:
            return fields
        if (current["status"], status) == ("not_started", "canceled"):
            ended = self.factory.schedule_canceled(current, now)
        elif (current["status"], status) == ("active", "released"):
            ended = self.factory.schedule_released(current, now)
        else:
            raise AdminError(400, f"This sandbox cancels a not_started schedule or releases an active one, not {current['status']} to {status}")
        return {**{name: value for name, value in ended.items() if current.get(name) != value}, **fields}

    def _updated_subscription_schedule(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] == new["status"]:
            self._emit(now, "subscription_schedule.updated", new, previous)
            return
        self._emit(now, f"subscription_schedule.{new['status']}", new)
        if new["status"] == "released":
            self._unschedule(new["released_subscription"], now)

    def _end_schedule(self, ended: dict[str, Any], now: int) -> None:
        self.tables["subscription_schedule"].put(ended)
        self._emit(now, f"subscription_schedule.{ended['status']}", ended)

    def _unschedule(self, subscription_id: str, now: int) -> None:
        sub = self.tables["subscriptions"].objects[subscription_id]
        alone = {**sub, "schedule": None}
        self.tables["subscriptions"].put(alone)
        self._emit(now, "customer.subscription.updated", alone, {"schedule": sub["schedule"]})

    def _updated_subscription_items(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        for subscription_id in {old["subscription"], new["subscription"]}:
            self._refresh_subscription(subscription_id, now)

    def _delete_subscriptions(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        if current["status"] == "canceled":
            raise AdminError(400, f"subscription {current['id']} is already canceled")
        return self.update("subscriptions", current["id"], {"status": "canceled"}, now)

    def _delete_customers(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        # Deleting a customer cancels its subscriptions first, as Stripe does.
        for sub in list(self.tables["subscriptions"].objects.values()):
            if sub["customer"] == current["id"] and sub["status"] != "canceled":
                self.update("subscriptions", sub["id"], {"status": "canceled"}, now)
        # Its payment methods and balance transactions stay in Stripe, without an event, but no list shows them now.
        self._emit(now, "customer.deleted", self.tables["customers"].remove(current["id"]))
        return deleted(current)

    def _delete_products(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        for price in [p for p in self.tables["prices"].objects.values() if p["product"] == current["id"]]:
            self._delete_prices(price, now)
        self._emit(now, "product.deleted", self.tables["products"].remove(current["id"]))
        return deleted(current)

    def _delete_prices(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        self._emit(now, "price.deleted", self.tables["prices"].remove(current["id"]))
        if current["id"] in self.tables["plans"].objects:
            self._emit(now, "plan.deleted", self.tables["plans"].remove(current["id"]))
        return deleted(current)

    def _delete_plans(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        """Deleting a plan deletes the price it is, as Stripe's DELETE /v1/plans does."""
        return self._delete_prices(self.tables["prices"].objects[current["id"]], now)

    def _delete_subscription_items(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        self.tables["subscription_items"].remove(current["id"])
        self._refresh_subscription(current["subscription"], now)
        return deleted(current)


def deleted(obj: dict[str, Any]) -> dict[str, Any]:
    """What Stripe answers to a delete."""
    return {"id": obj["id"], "object": obj["object"], "deleted": True}
