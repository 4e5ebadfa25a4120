"""Creates, updates and deletes of customers, the catalog and subscriptions, with the events Stripe sends for them
(part of Dataset, see dataset.py)."""

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
        else:
            self._emit(now, "customer.subscription.updated", new, previous)

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
