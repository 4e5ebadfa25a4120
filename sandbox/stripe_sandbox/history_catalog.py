"""The history of an account's customers, catalog and subscriptions: their objects and the events of their
changes (part of Generator, see data.py)."""

from __future__ import annotations

import bisect
from typing import Any

from .factory import subscription_items_list
from .realism import DAY, MONTH, weighted
from .spec import EVENT_WINDOW


class CatalogHistory:
    def customers(self) -> None:
        moments = self.moments()
        for _ in range(self.count("customers")):
            customer = self.factory.customer(moments.next())
            changes = []
            if self.rng.random() < 0.15:
                t = self.recent(customer["created"], 45 * DAY)
                field_name = self.rng.choice(("email", "name", "metadata", "balance"))
                before = {"email": "old.address@example.com", "name": None, "metadata": {}, "balance": 0}
                if customer[field_name] != before[field_name]:
                    changes.append((t, ("customer.updated",), {field_name: before[field_name]}))
            self.timeline(customer, ("customer.created",), changes)
            self.tables["customers"].append(customer)
        for _ in range(max(1, self.count("customers") // 30)):
            customer = self.factory.customer(moments.next())
            self.timeline(customer, ("customer.created",))
            self.emit(self.recent(customer["created"], EVENT_WINDOW), "customer.deleted", customer)
            self.deleted["customers"][customer["id"]] = customer
        self.tables["customers"].sort(key=lambda c: c["created"])
        self._customer_times = [c["created"] for c in self.tables["customers"]]

    def customer_before(self, t: int) -> str | None:
        """A random customer that already existed at `t`, or None if there was none yet."""
        eligible = bisect.bisect_right(self._customer_times, t)
        return self.tables["customers"][self.rng.randrange(eligible)]["id"] if eligible else None

    def products_and_prices(self) -> None:
        rng, factory = self.rng, self.factory
        moments = self.moments()
        for _ in range(self.count("products")):
            product = factory.product(moments.next())
            prices = []
            for n in range(rng.choice((1, 1, 2, 2, 3, 4))):
                # The first price is created with its product, as the Dashboard does.
                created = product["created"] if n == 0 else self.after(product["created"], 60 * DAY)
                recurring = rng.random() < 0.8
                metered = recurring and rng.random() < 0.2
                price = factory.price(created, product["id"], recurring=recurring, metered=metered)
                changes = []
                if rng.random() < 0.1:
                    changes.append((self.recent(created, 40 * DAY), ("price.updated",), {"active": True}))
                    price["active"] = False
                self.timeline(price, ("price.created",), changes)
                prices.append(price)
                if recurring:  # Stripe shows it as a plan too, with events of its own
                    plan = factory.plan(price)
                    self.timeline(plan, ("plan.created",), [(t, ("plan.updated",), undone) for t, _, undone in changes])
                    self.tables["plans"].append(plan)
            product["default_price"] = prices[0]["id"]
            changes = []
            if rng.random() < 0.15:
                t = self.recent(product["created"], 40 * DAY)
                changes.append((t, ("product.updated",), {"description": "Coming soon", "updated": product["created"]}))
                product["updated"] = t
            self.timeline(product, ("product.created",), changes)
            self.tables["products"].append(product)
            self.tables["prices"].extend(prices)
        # Retired products: deleting a product takes its prices with it.
        for _ in range(max(1, self.count("products") // 30)):
            product = factory.product(moments.next())
            price = factory.price(product["created"], product["id"], recurring=False)
            product["default_price"] = price["id"]
            self.timeline(price, ("price.created",))
            self.timeline(product, ("product.created",))
            gone = self.recent(product["created"], EVENT_WINDOW)
            self.emit(gone, "price.deleted", price)
            self.emit(gone, "product.deleted", product)
            self.deleted["prices"][price["id"]] = price
            self.deleted["products"][product["id"]] = product

    def shipping_rates(self) -> None:
        moments = self.moments()
        for _ in range(self.count("shipping_rates")):
            rate = self.factory.shipping_rate(moments.next())
            changes = []
            if self.rng.random() < 0.1:
                changes.append(
                    (self.recent(rate["created"], 40 * DAY), ("shipping_rate.updated",), {"active": not rate["active"]})
                )
            self.timeline(rate, ("shipping_rate.created",), changes)
            self.tables["shipping_rates"].append(rate)

    SUBSCRIPTION_STATUSES = (
        ("active", 0.55),
        ("canceled", 0.2),
        ("past_due", 0.07),
        ("trialing", 0.06),
        ("incomplete_expired", 0.04),
        ("unpaid", 0.04),
        ("paused", 0.03),
        ("incomplete", 0.01),
    )

    def subscriptions(self) -> None:
        rng, factory = self.rng, self.factory
        recurring = sorted(
            (p for p in self.tables["prices"] if p["recurring"] and p["active"]), key=lambda p: p["created"]
        )
        price_times = [p["created"] for p in recurring]
        moments = self.moments()
        for _ in range(self.count("subscriptions")):
            created = moments.next()
            customer = self.customer_before(created)
            available = recurring[: bisect.bisect_right(price_times, created)]
            if customer is None or not available:
                continue
            status = weighted(rng, self.SUBSCRIPTION_STATUSES)
            sub = factory.subscription(created, customer, status)
            changes = self._subscription_history(sub)
            # Most subscriptions have a few items; a few large ones page past the ten embedded.
            n_items = rng.randrange(12, 26) if rng.random() < 0.03 else rng.choice((1, 1, 1, 2, 2, 3))
            items = [
                factory.subscription_item(created, sub["id"], price)
                for price in rng.sample(available, min(n_items, len(available)))
            ]
            sub["items"] = subscription_items_list(sub["id"], items)
            self.subscription_invoices(sub, items)
            self.timeline(sub, ("customer.subscription.created",), changes)
            self.tables["subscriptions"].append(sub)
            self.tables["subscription_items"].extend(items)
            for item in items:
                if "quantity" not in item:
                    self._usage_summaries(item, sub)

    def subscription_schedules(self) -> None:
        """After the rest, so that adding them left the other tables' random draws as they were."""
        for sub in self.tables["subscriptions"]:
            if sub["status"] in ("active", "trialing", "past_due") and self.rng.random() < 0.1:
                self._schedule_of(sub, sub["items"]["data"])
        self._schedules_not_started([p for p in self.tables["prices"] if p["recurring"] and p["active"]])

    def _schedule_of(self, sub: dict[str, Any], items: list[dict[str, Any]]) -> None:
        """The schedule that started a subscription for a year: released when the year is over, the subscription
        going on without it, or still running, named by the subscription."""
        phase_items = [(item["price"]["id"], item.get("quantity", 1)) for item in items]
        end = sub["created"] + 12 * MONTH
        made = self.factory.subscription_schedule(sub["created"], sub["customer"], phase_items, sub["created"], end)
        running = self.factory.schedule_started(made, sub["id"])
        if end > self.now:
            sub["schedule"] = running["id"]
            self.timeline(running, ("subscription_schedule.created",))
        else:
            released = self.factory.schedule_released(running, end)
            overwritten = {name: running[name] for name in ("status", "subscription", "current_phase", "released_at", "released_subscription")}
            self.timeline(released, ("subscription_schedule.created",), [(end, ("subscription_schedule.released",), overwritten)])
            running = released
        self.tables["subscription_schedule"].append(running)

    def _schedules_not_started(self, recurring: list[dict[str, Any]]) -> None:
        """Schedules of subscriptions to start weeks from now; a few were canceled before they began."""
        moments = self.moments()
        for _ in range(max(1, self.count("subscriptions") // 15) if recurring else 0):
            created = max(moments.next(), self.now - 60 * DAY)
            customer = self.customer_before(created)
            if customer is None:
                continue
            start = self.now + self.rng.randrange(10, 60) * DAY
            price = self.rng.choice(recurring)["id"]
            schedule = self.factory.subscription_schedule(created, customer, [(price, 1)], start, start + 12 * MONTH)
            changes = []
            if self.rng.random() < 0.2:
                canceled_at = self.recent(created, 20 * DAY)
                changes.append((canceled_at, ("subscription_schedule.canceled",), {"status": "not_started", "canceled_at": None}))
                schedule = self.factory.schedule_canceled(schedule, canceled_at)
            self.timeline(schedule, ("subscription_schedule.created",), changes)
            self.tables["subscription_schedule"].append(schedule)

    def _subscription_history(self, sub: dict[str, Any]) -> list[tuple[int, tuple[str, ...], dict[str, Any]]]:
        """Set the fields that follow from the subscription's final status and return the status
        changes that led there (as overwritten attributes)."""
        rng, now, created, status = self.rng, self.now, sub["created"], sub["status"]
        updated = ("customer.subscription.updated",)
        changes: list[tuple[int, tuple[str, ...], dict[str, Any]]] = []
        if status == "incomplete" and now - created > DAY:
            status = sub["status"] = "incomplete_expired"  # Stripe expires incomplete ones after 23 hours
        if status == "trialing":
            sub.update(trial_start=created, trial_end=max(created + 14 * DAY, now + rng.randrange(1, 14) * DAY))
        elif status in ("paused", "active") and rng.random() < (1.0 if status == "paused" else 0.3):
            trial_end = min(created + 14 * DAY, now)
            sub.update(trial_start=created, trial_end=trial_end)
            changes.append((trial_end, updated, {"status": "trialing"}))
        elif status == "active" and rng.random() < 0.2:
            changes.append((self.after(created, 600), updated, {"status": "incomplete"}))
        elif status == "incomplete_expired":
            changes.append((min(created + 23 * 3600, now), updated, {"status": "incomplete"}))
        elif status in ("past_due", "unpaid"):
            went_past_due = self.recent(created, 60 * DAY)
            changes.append((went_past_due, updated, {"status": "active"}))
            if status == "unpaid":
                changes.append((self.recent(went_past_due, 30 * DAY), updated, {"status": "past_due"}))
        elif status == "canceled":
            ended = self.recent(created, 2 * 365 * DAY)
            reason = rng.choice(("cancellation_requested", "payment_failed", "payment_disputed"))
            sub.update(
                canceled_at=ended,
                ended_at=ended,
                cancellation_details={"comment": None, "feedback": None, "reason": reason},
            )
            changes.append(
                (
                    ended,
                    ("customer.subscription.deleted",),
                    {
                        "status": "active",
                        "canceled_at": None,
                        "ended_at": None,
                        "cancellation_details": self.factory.templates["subscription"]["cancellation_details"],
                    },
                )
            )
        anchor = sub["trial_end"] if sub["trial_end"] and sub["trial_end"] <= now else created
        period_end_of = sub["ended_at"] or now
        periods = max(0, (period_end_of - anchor) // MONTH)
        sub.update(
            billing_cycle_anchor=anchor,
            current_period_start=anchor + periods * MONTH,
            current_period_end=anchor + (periods + 1) * MONTH,
        )
        return changes

    def _usage_summaries(self, item: dict[str, Any], sub: dict[str, Any]) -> None:
        start = sub["billing_cycle_anchor"]
        end_of_life = sub["ended_at"] or self.now
        periods = (end_of_life - start) // MONTH + 1
        for n in range(max(0, periods - self.rng.randrange(1, 5)), periods):
            period_start = start + n * MONTH
            invoiced = period_start + MONTH <= end_of_life
            summary = self.factory.usage_record_summary(item["id"], period_start, period_start + MONTH, invoiced)
            self.tables["usage_record_summaries"].append(summary)

    def order_returns(self) -> None:
        # The legacy Orders API was retired in 2022, so its returns are all older than that.
        end = min(self.now, 1_651_363_200)  # 2022-05-01
        for _ in range(self.count("order_returns")):
            created = end - self.rng.randrange(0, 3 * 365 * DAY)
            self.tables["order_returns"].append(self.factory.order_return(created))
