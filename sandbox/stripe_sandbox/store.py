"""State of one account in one mode: its tables, the events they produced, and the changes made
through the admin API.

Objects are never changed in place. An update builds a new dict and puts it in the table, so an event
can keep a reference to the object as it was, and a page being serialised on another thread never
sees a half-applied change.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .data import PAYMENT_INTENT_EVENTS, SETUP_INTENT_EVENTS, Generated
from .factory import MONTH, Factory, subscription_items_list
from .spec import TABLE_FACTS, TABLE_OBJECTS

Key = tuple  # (created, id), or for events (created, -sequence, id): the id is always last

# Child tables Stripe lists per parent (`?subscription=`, `?setup_intent=`, or in the path): the field naming the
# parent, and the parent's table by that field.
PARENT_FIELDS = {name: facts["parent_field"] for name, facts in TABLE_FACTS.items() if facts["parent_field"]}
PARENT_TABLES = {facts["parent_field"]: facts["parent"] for facts in TABLE_FACTS.values() if facts["parent_field"]}

CLOSED_DISPUTE_STATUSES = {"won", "lost", "warning_closed", "charge_refunded"}


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def sort_key(obj: dict[str, Any]) -> Key:
    """Lists are newest first by `created`, ties by id; usage summaries by their period instead."""
    if obj["object"] == "usage_record_summary":
        return (obj["period"]["start"], obj["id"])
    return (obj["created"], obj["id"])


class Table:
    """Objects by id plus keys kept in ascending (created, id) order, overall and per parent."""

    def __init__(self, name: str, objects: Iterable[dict[str, Any]] = ()):
        self.name = name
        self.parent_field = PARENT_FIELDS.get(name)
        self.objects: dict[str, dict[str, Any]] = {}
        self.order: list[Key] = []
        self.children: dict[str, list[Key]] = defaultdict(list)
        self.versions: dict[str, int] = {}
        self.deleted: dict[str, dict[str, Any]] = {}
        for obj in objects:
            self.objects[obj["id"]] = obj
            self.versions[obj["id"]] = 1
        self.order = sorted(self.key(obj) for obj in self.objects.values())
        if self.parent_field:
            for key in self.order:
                self.children[self.objects[key[-1]][self.parent_field]].append(key)

    def key(self, obj: dict[str, Any]) -> Key:
        return sort_key(obj)

    def put(self, obj: dict[str, Any]) -> None:
        old = self.objects.get(obj["id"])
        if old is not None:
            self._unindex(old)
        self.objects[obj["id"]] = obj
        self.versions[obj["id"]] = self.versions.get(obj["id"], 0) + 1
        key = self.key(obj)
        bisect.insort(self.order, key)
        if self.parent_field:
            bisect.insort(self.children[obj[self.parent_field]], key)

    def remove(self, object_id: str) -> dict[str, Any]:
        obj = self.objects.pop(object_id)
        self._unindex(obj)
        self.versions[object_id] += 1
        self.deleted[object_id] = obj
        return obj

    def _unindex(self, obj: dict[str, Any]) -> None:
        key = self.key(obj)
        _discard(self.order, key)
        if self.parent_field:
            _discard(self.children[obj[self.parent_field]], key)

    def keys(self, parent: str | None = None) -> list[Key]:
        return self.order if parent is None else self.children.get(parent, [])

    def newest_first(self) -> list[dict[str, Any]]:
        return [self.objects[key[-1]] for key in reversed(self.order)]


class EventLog(Table):
    """Stripe's events, newest first by `created`, which is in whole seconds: the order of one second's events is
    not the order they happened in. Here each second lists its events oldest first, the order that a connector
    trusting the list (replaying it backwards) gets most wrong.

    Stripe's event list is also eventually consistent: an event can appear a few seconds after newer ones.
    `visible_at` holds when each held-back event appears (Dataset.emit, the `event_delay_seconds` knob)."""

    def __init__(self, events: Iterable[dict[str, Any]] = ()):
        events = list(events)
        self._sequence = {event["id"]: n for n, event in enumerate(events)}  # generated in the order they happened
        self.visible_at: dict[str, int] = {}
        super().__init__("events", events)

    def key(self, obj: dict[str, Any]) -> Key:
        return (obj["created"], -self._sequence[obj["id"]], obj["id"])

    def add(self, event: dict[str, Any], visible_at: int) -> None:
        self._sequence[event["id"]] = len(self._sequence)
        if visible_at > event["created"]:
            self.visible_at[event["id"]] = visible_at
        self.put(event)

    def is_listed(self, event: dict[str, Any], now: int) -> bool:
        return self.visible_at.get(event["id"], 0) <= now


def _discard(keys: list[Key], key: Key) -> None:
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        del keys[i]


def page(
    table: Table,
    keys: list[Key],
    *,
    limit: int,
    created: dict[str, int],
    starting_after: Key | None = None,
    ending_before: Key | None = None,
    accept: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a newest-first list, and whether more objects lie beyond it in the paging direction.

    `keys` ascend, so the newest-first list reads them from the end; the created bounds and cursors
    narrow the index range by bisection before any object is looked at."""
    lo, hi = 0, len(keys)
    if "gt" in created:
        lo = max(lo, bisect.bisect_left(keys, (created["gt"] + 1,)))
    if "gte" in created:
        lo = max(lo, bisect.bisect_left(keys, (created["gte"],)))
    if "lt" in created:
        hi = min(hi, bisect.bisect_left(keys, (created["lt"],)))
    if "lte" in created:
        hi = min(hi, bisect.bisect_left(keys, (created["lte"] + 1,)))
    if starting_after is not None:
        hi = min(hi, bisect.bisect_left(keys, starting_after))
    if ending_before is not None:
        lo = max(lo, bisect.bisect_right(keys, ending_before))
    # ending_before pages toward newer objects: take the ones just above the cursor.
    positions = range(lo, hi) if ending_before is not None else range(hi - 1, lo - 1, -1)
    found: list[dict[str, Any]] = []
    objects = table.objects
    for i in positions:
        obj = objects[keys[i][-1]]
        if accept is None or accept(obj):
            found.append(obj)
            if len(found) > limit:
                break
    has_more = len(found) > limit
    found = found[:limit]
    if ending_before is not None:
        found.reverse()
    return found, has_more


class Dataset:
    """One account's objects in one mode (live and test data are separate in Stripe)."""

    def __init__(
        self, account_id: str, mode: str, generated: Generated, factory: Factory, event_delay: Callable[[], int] = lambda: 0
    ):
        """`event_delay()`: how many seconds at most a new event may stay out of the list (the knob's value now)."""
        self.account_id, self.mode = account_id, mode
        self.factory = factory
        self.rng = factory.rng
        self._event_delay = event_delay
        self._delay_rng = random.Random(f"stripe-sandbox/event-delays/{account_id}/{mode}")
        self.lock = threading.RLock()
        self.tables = {name: Table(name, objects) for name, objects in generated.tables.items()}
        for name, gone in generated.deleted.items():
            self.tables[name].deleted.update(gone)
        self.events = EventLog(generated.events)
        for table in self.tables.values():
            for object_id in (*table.objects, *table.deleted):
                factory.claim_id(object_id)
        for event_id in self.events.objects:
            factory.claim_id(event_id)

    def _emit(self, now: int, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        longest = self._event_delay()
        delay = self._delay_rng.randint(0, longest) if longest else 0
        self.events.add(self.factory.event(now, event_type, obj, previous), visible_at=now + delay)

    # -- changes through the admin API ----------------------------------------------------------

    def create(self, table: str, fields: dict[str, Any], now: int) -> dict[str, Any]:
        with self.lock:
            fields = dict(fields)
            created = int(fields.pop("created", now))
            if "id" in fields and any(
                fields["id"] in t.objects or fields["id"] in t.deleted for t in self.tables.values()
            ):
                raise AdminError(400, f"id already in use: {fields['id']}")
            build = getattr(self, f"_new_{table}")
            obj = build(created, fields, now)
            return obj

    def _finish_new(self, table: str, obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        if "id" in fields:
            self.factory.claim_id(fields["id"])
        obj = {**obj, **fields}
        self.tables[table].put(obj)
        return obj

    def _pick(
        self, table: str, object_id: str | None, accept: Callable[[dict[str, Any]], bool] = lambda o: True
    ) -> dict[str, Any]:
        """The named object, or (when none is named) a random existing one that `accept`s."""
        objects = self.tables[table].objects
        if object_id is not None:
            if object_id not in objects:
                raise AdminError(400, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            return objects[object_id]
        candidates = [key[-1] for key in self.tables[table].order if accept(objects[key[-1]])]
        if not candidates:
            raise AdminError(400, f"no {table} to attach the new object to; create one first")
        return objects[self.rng.choice(candidates)]

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
        return obj

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

    def _new_payment_intents(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        customer = fields.pop("customer", None) or self._pick("customers", None)["id"]
        status = fields.get("status", "requires_payment_method")
        obj = self._finish_new("payment_intents", self.factory.payment_intent(created, customer, status), fields)
        self._emit(now, "payment_intent.created", obj)
        if status != "requires_payment_method" and status in PAYMENT_INTENT_EVENTS:
            self._emit(now, PAYMENT_INTENT_EVENTS[status], obj)
        return obj

    def _succeeded_intent(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._pick("payment_intents", fields.pop("payment_intent", None), lambda p: p["status"] == "succeeded")

    def _new_refunds(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        pi = self._succeeded_intent(fields)
        amount = int(fields.pop("amount", pi["amount"]))
        refund = self.factory.refund(created, pi, amount, fields.get("status", "succeeded"))
        obj = self._finish_new("refunds", refund, fields)
        self._emit(now, "refund.created", obj)
        self._emit(now, "charge.refunded", self.factory.charge(pi["created"], pi, amount))
        return obj

    def _new_disputes(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        pi = self._succeeded_intent(fields)
        status = fields.get("status", "needs_response")
        obj = self._finish_new("disputes", self.factory.dispute(created, pi, status), fields)
        self._emit(now, "charge.dispute.created", obj)
        if not status.startswith("warning"):
            self._emit(now, "charge.dispute.funds_withdrawn", obj)
        return obj

    def _new_setup_intents(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        customer = fields.pop("customer", None) or self._pick("customers", None)["id"]
        status = fields.get("status", "requires_payment_method")
        obj = self._finish_new("setup_intents", self.factory.setup_intent(created, customer, status), fields)
        self._emit(now, "setup_intent.created", obj)
        if status != "requires_payment_method" and status in SETUP_INTENT_EVENTS:
            self._emit(now, SETUP_INTENT_EVENTS[status], obj)
        return obj

    def _new_setup_attempts(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        seti = self._pick("setup_intents", fields.pop("setup_intent", None))
        attempt = self.factory.setup_attempt(created, seti, fields.get("status", "succeeded"))
        obj = self._finish_new("setup_attempts", attempt, fields)
        # The intent now names this attempt as its latest; Stripe sends no event for that alone.
        self.tables["setup_intents"].put({**seti, "latest_attempt": obj["id"]})
        return obj

    def _new_usage_record_summaries(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        item = self._pick("subscription_items", fields.pop("subscription_item", None), lambda i: "quantity" not in i)
        start = created - created % MONTH
        summary = self.factory.usage_record_summary(item["id"], start, start + MONTH, invoiced=False)
        return self._finish_new("usage_record_summaries", summary, fields)

    def _new_order_returns(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        return self._finish_new("order_returns", self.factory.order_return(created), fields)

    def update(self, table: str, object_id: str, fields: dict[str, Any], now: int) -> dict[str, Any]:
        with self.lock:
            current = self.tables[table].objects.get(object_id)
            if current is None:
                raise AdminError(404, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            if {"id", "object"} & set(fields):
                raise AdminError(400, "id and object cannot be changed")
            if table == "subscription_items" and isinstance(fields.get("price"), str):
                fields = {**fields, "price": self._recurring_price(fields["price"])}  # items embed the price
            previous = {name: current.get(name) for name, value in fields.items() if current.get(name) != value}
            if not previous:
                return current
            new = {**current, **fields}
            if table == "products":
                previous["updated"], new["updated"] = current["updated"], now
            if table == "subscriptions" and new["status"] == "canceled" and current["status"] != "canceled":
                new["canceled_at"] = new.get("canceled_at") or now
                new["ended_at"] = new.get("ended_at") or now
            self.tables[table].put(new)
            self._emit_update(table, current, new, previous, now)
            return new

    def _emit_update(
        self, table: str, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int
    ) -> None:
        status_changed = old.get("status") != new.get("status")
        simple = {
            "customers": "customer.updated",
            "products": "product.updated",
            "prices": "price.updated",
            "shipping_rates": "shipping_rate.updated",
        }
        if table in simple:
            self._emit(now, simple[table], new, previous)
        elif table == "subscriptions":
            if status_changed and new["status"] == "canceled":
                self._emit(now, "customer.subscription.deleted", new)
            else:
                self._emit(now, "customer.subscription.updated", new, previous)
        elif table == "subscription_items":
            for subscription_id in {old["subscription"], new["subscription"]}:
                self._refresh_subscription(subscription_id, now)
        elif table == "payment_intents" and status_changed and new["status"] in PAYMENT_INTENT_EVENTS:
            self._emit(now, PAYMENT_INTENT_EVENTS[new["status"]], new)
        elif table == "setup_intents" and status_changed and new["status"] in SETUP_INTENT_EVENTS:
            self._emit(now, SETUP_INTENT_EVENTS[new["status"]], new)
        elif table == "refunds":
            self._emit(now, "refund.updated", new, previous)
            self._emit(now, "charge.refund.updated", new, previous)
        elif table == "disputes":
            if status_changed and new["status"] in CLOSED_DISPUTE_STATUSES:
                self._emit(now, "charge.dispute.closed", new)
                if new["status"] == "won":
                    self._emit(now, "charge.dispute.funds_reinstated", new)
            else:
                self._emit(now, "charge.dispute.updated", new, previous)
        # Other changes (e.g. an intent's metadata, setup attempts, usage summaries) emit no event in
        # Stripe either, so they are only visible by listing the table again.

    def delete(self, table: str, object_id: str, now: int) -> dict[str, Any]:
        with self.lock:
            current = self.tables[table].objects.get(object_id)
            if current is None:
                raise AdminError(404, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            if table == "subscriptions":
                if current["status"] == "canceled":
                    raise AdminError(400, f"subscription {object_id} is already canceled")
                return self.update(table, object_id, {"status": "canceled"}, now)
            if table == "customers":
                # Deleting a customer cancels its subscriptions first, as Stripe does.
                for sub in list(self.tables["subscriptions"].objects.values()):
                    if sub["customer"] == object_id and sub["status"] != "canceled":
                        self.update("subscriptions", sub["id"], {"status": "canceled"}, now)
                self._emit(now, "customer.deleted", self.tables[table].remove(object_id))
            elif table == "products":
                for price in [p for p in self.tables["prices"].objects.values() if p["product"] == object_id]:
                    self._emit(now, "price.deleted", self.tables["prices"].remove(price["id"]))
                self._emit(now, "product.deleted", self.tables[table].remove(object_id))
            elif table == "prices":
                self._emit(now, "price.deleted", self.tables[table].remove(object_id))
            elif table == "subscription_items":
                self.tables[table].remove(object_id)
                self._refresh_subscription(current["subscription"], now)
            else:
                raise AdminError(400, f"Stripe cannot delete {table}; update their status instead")
            return {"id": object_id, "object": current["object"], "deleted": True}
