"""Deterministic generation of a whole Stripe account's data, and its last 30 days of events, from
(seed, size)."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from typing import Any

from .factory import DAY, MONTH, Factory, subscription_items_list, weighted
from .spec import TABLES, Spec

EVENT_WINDOW = 30 * DAY  # Stripe keeps events for 30 days
HISTORY = 4 * 365 * DAY  # how far back generated objects reach
OLD_EVENT_SHARE = 0.05  # events rendered at the account's earlier API version

# The event Stripe sends when a payment or setup intent reaches a status (there is no `*.updated`
# for intents); back in requires_payment_method means the attempt failed.
PAYMENT_INTENT_EVENTS = {
    "succeeded": "payment_intent.succeeded",
    "canceled": "payment_intent.canceled",
    "processing": "payment_intent.processing",
    "requires_action": "payment_intent.requires_action",
    "requires_capture": "payment_intent.amount_capturable_updated",
    "requires_payment_method": "payment_intent.payment_failed",
}
SETUP_INTENT_EVENTS = {
    "succeeded": "setup_intent.succeeded",
    "canceled": "setup_intent.canceled",
    "requires_action": "setup_intent.requires_action",
    "requires_payment_method": "setup_intent.setup_failed",
}


@dataclass
class Generated:
    tables: dict[str, list[dict[str, Any]]]
    events: list[dict[str, Any]]
    deleted: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class _Moments:
    """Creation times for one table: four years back, denser toward now, with same-second bursts."""

    def __init__(self, rng: random.Random, now: int):
        self.rng, self.now = rng, now
        self._burst_left, self._last = 0, None

    def next(self) -> int:
        rng = self.rng
        if self._burst_left:
            self._burst_left -= 1
            return self._last
        r = rng.random()
        if r < 0.06 and self._last is not None:
            return self._last  # two objects in the same second
        self._last = self.now - 1 - int(HISTORY * rng.random() ** 2)
        if r < 0.075:
            self._burst_left = rng.randrange(3, 30)  # e.g. an import or a batch job
        return self._last


class Generator:
    """Builds one dataset (an account in one mode): objects in their final state plus the events of
    the last 30 days, each event holding the object as it was then, consistent with the final state."""

    # Share of `size` per top-level table; the child tables (items, usage summaries, refunds,
    # disputes, setup attempts) follow from their parents and make up the remainder.
    SHARES = {
        "customers": 0.13,
        "products": 0.025,
        "shipping_rates": 0.01,
        "subscriptions": 0.075,
        "payment_intents": 0.22,
        "setup_intents": 0.08,
        "order_returns": 0.005,
    }

    def __init__(self, spec: Spec, *, seed: int, size: int, mode: str, account_id: str, now: int):
        self.rng = random.Random(f"stripe-sandbox/{seed}/{account_id}/{mode}")
        self.factory = Factory(spec, self.rng, livemode=mode == "live")
        self.size, self.now = size, now
        self.window_start = now - EVENT_WINDOW
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.deleted: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TABLES}
        self.events: list[dict[str, Any]] = []

    def count(self, table: str) -> int:
        return max(3, round(self.size * self.SHARES[table]))

    def recent(self, earliest: int, within: int) -> int:
        """A moment after `earliest`, at most `within` seconds before now and never in the future."""
        low = max(earliest + 1, self.now - within)
        return self.rng.randrange(low, self.now + 1) if low <= self.now else self.now

    def after(self, t: int, mean: float) -> int:
        return min(self.now, t + 1 + int(self.rng.expovariate(1 / mean)))

    # -- events ------------------------------------------------------------------------------

    def emit(self, t: int, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        if self.window_start <= t <= self.now:
            older = self.rng.random() < OLD_EVENT_SHARE
            self.events.append(self.factory.event(t, event_type, obj, previous, older_version=older))

    def timeline(
        self,
        final: dict[str, Any],
        created_types: tuple[str, ...],
        changes: list[tuple[int, tuple[str, ...], dict[str, Any]]] = (),
    ) -> None:
        """Emit an object's events. Each change is (time, event types, the attributes it overwrote),
        so walking the changes backwards from the final state recovers every earlier state.

        Changes drawn near `now` can pile up on the same second; they are spread so each comes
        strictly after the previous one (moving the creation earlier if needed), because a reader
        ordering events by time must end up at the final state."""
        times, last = [], self.now + 1
        for t, _, _ in reversed(changes):
            last = min(t, last - 1)
            times.append(last)
        times.reverse()
        if times and final["created"] >= times[0]:
            final["created"] = times[0] - 1
        states = [final]
        for _, _, overwritten in reversed(changes):
            states.append({**states[-1], **overwritten})
        states.reverse()
        for event_type in created_types:
            self.emit(final["created"], event_type, states[0])
        for t, (_, event_types, overwritten), state in zip(times, changes, states[1:], strict=True):
            for event_type in event_types:
                is_update = event_type.endswith(".updated")
                self.emit(t, event_type, state, overwritten if is_update else None)

    # -- tables ------------------------------------------------------------------------------

    def run(self) -> Generated:
        self.customers()
        self.products_and_prices()
        self.shipping_rates()
        self.subscriptions()
        self.payment_intents()
        self.setup_intents()
        self.order_returns()
        return Generated(tables=self.tables, events=self.events, deleted=self.deleted)

    def customers(self) -> None:
        moments = _Moments(self.rng, self.now)
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
        moments = _Moments(rng, self.now)
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
        moments = _Moments(self.rng, self.now)
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
        rng, factory, now = self.rng, self.factory, self.now
        recurring = sorted(
            (p for p in self.tables["prices"] if p["recurring"] and p["active"]), key=lambda p: p["created"]
        )
        price_times = [p["created"] for p in recurring]
        moments = _Moments(rng, now)
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
            self.timeline(sub, ("customer.subscription.created",), changes)
            self.tables["subscriptions"].append(sub)
            self.tables["subscription_items"].extend(items)
            for item in items:
                if "quantity" not in item:
                    self._usage_summaries(item, sub)

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

    PAYMENT_INTENT_STATUSES = (
        ("succeeded", 0.62),
        ("canceled", 0.1),
        ("requires_payment_method", 0.12),
        ("requires_action", 0.04),
        ("processing", 0.04),
        ("requires_capture", 0.04),
        ("requires_confirmation", 0.04),
    )

    def payment_intents(self) -> None:
        rng, factory = self.rng, self.factory
        moments = _Moments(rng, self.now)
        for _ in range(self.count("payment_intents")):
            created = moments.next()
            customer = self.customer_before(created) if rng.random() < 0.75 else None
            status = weighted(rng, self.PAYMENT_INTENT_STATUSES)
            pi = factory.payment_intent(created, customer, status)
            # Every intent starts waiting for a payment method; its later events carry the outcome.
            before = {
                "status": "requires_payment_method",
                "amount_received": 0,
                "amount_capturable": 0,
                "latest_charge": None,
                "payment_method": None,
            }
            changes = []
            if status == "succeeded" and rng.random() < 0.15:
                # Bank debits pass through processing before they succeed.
                changes.append((self.after(created, 60), ("payment_intent.processing",), before))
                changes.append(
                    (
                        self.after(changes[-1][0], 2 * DAY),
                        ("payment_intent.succeeded",),
                        {"status": "processing", "amount_received": 0},
                    )
                )
            elif status == "canceled":
                pi.update(
                    canceled_at=self.after(created, 3 * DAY),
                    cancellation_reason=rng.choice(("abandoned", "requested_by_customer", "duplicate")),
                )
                changes.append(
                    (
                        pi["canceled_at"],
                        ("payment_intent.canceled",),
                        {**before, "canceled_at": None, "cancellation_reason": None},
                    )
                )
            elif status in ("requires_action", "processing", "requires_capture", "succeeded"):
                changes.append((self.after(created, 120), (PAYMENT_INTENT_EVENTS[status],), before))
            elif status == "requires_payment_method" and rng.random() < 0.5:
                pi["last_payment_error"] = {
                    "code": "card_declined",
                    "decline_code": rng.choice(("generic_decline", "insufficient_funds", "expired_card")),
                    "message": "Your card was declined.",
                    "type": "card_error",
                }
                changes.append(
                    (self.after(created, 120), (PAYMENT_INTENT_EVENTS[status],), {"last_payment_error": None})
                )
            elif status == "requires_payment_method" and rng.random() < 0.1:
                pi["payment_method_types"] = ["customer_balance"]
                changes.append((self.after(created, DAY), ("payment_intent.partially_funded",), {}))
            self.timeline(pi, ("payment_intent.created",), changes)
            self.tables["payment_intents"].append(pi)
            if status == "succeeded":
                if rng.random() < 0.3:
                    self._refunds(pi)
                if rng.random() < 0.07:
                    self._dispute(pi)

    REFUND_STATUSES = (
        ("succeeded", 0.82),
        ("pending", 0.07),
        ("failed", 0.05),
        ("canceled", 0.03),
        ("requires_action", 0.03),
    )

    def _refunds(self, pi: dict[str, Any]) -> None:
        rng = self.rng
        refunded = 0
        created = pi["created"]
        for _ in range(1 if rng.random() < 0.85 else 2):
            created = self.after(created, 10 * DAY)
            amount = pi["amount"] if rng.random() < 0.6 else max(1, (pi["amount"] - refunded) // 2)
            status = weighted(rng, self.REFUND_STATUSES)
            refund = self.factory.refund(created, pi, amount, status)
            refunded += amount if status in ("succeeded", "pending") else 0
            changes = []
            if status in ("succeeded", "failed", "canceled") and rng.random() < 0.3:
                overwritten = {"status": "pending"}
                if status == "failed":
                    overwritten["failure_reason"] = None
                changes.append((self.after(created, DAY), ("refund.updated", "charge.refund.updated"), overwritten))
            self.timeline(refund, ("refund.created",), changes)
            created = refund["created"]
            self.emit(created, "charge.refunded", self.factory.charge(pi["created"], pi, refunded))
            self.tables["refunds"].append(refund)
            if refunded >= pi["amount"]:
                break

    DISPUTE_STATUSES = (
        ("needs_response", 0.15),
        ("under_review", 0.15),
        ("won", 0.25),
        ("lost", 0.2),
        ("warning_needs_response", 0.08),
        ("warning_under_review", 0.07),
        ("warning_closed", 0.1),
    )

    def _dispute(self, pi: dict[str, Any]) -> None:
        rng = self.rng
        created = self.after(pi["created"], 20 * DAY)
        status = weighted(rng, self.DISPUTE_STATUSES)
        dispute = self.factory.dispute(created, pi, status)
        warning = status.startswith("warning")
        opened = "warning_needs_response" if warning else "needs_response"
        fresh_evidence = {**dispute["evidence_details"], "has_evidence": False, "submission_count": 0}
        changes = []
        if status in ("under_review", "won", "lost", "warning_under_review"):
            review = self.after(created, 5 * DAY)
            changes.append(
                (review, ("charge.dispute.updated",), {"status": opened, "evidence_details": fresh_evidence})
            )
            if status in ("won", "lost"):
                closed = (
                    ("charge.dispute.closed", "charge.dispute.funds_reinstated")
                    if status == "won"
                    else ("charge.dispute.closed",)
                )
                changes.append((self.after(review, 20 * DAY), closed, {"status": "under_review"}))
        elif status == "warning_closed":
            changes.append((self.after(created, 30 * DAY), ("charge.dispute.closed",), {"status": opened}))
        created_types = (
            ("charge.dispute.created",) if warning else ("charge.dispute.created", "charge.dispute.funds_withdrawn")
        )
        self.timeline(dispute, created_types, changes)
        self.tables["disputes"].append(dispute)

    SETUP_INTENT_STATUSES = (
        ("succeeded", 0.5),
        ("requires_payment_method", 0.25),
        ("canceled", 0.12),
        ("requires_action", 0.05),
        ("processing", 0.04),
        ("requires_confirmation", 0.04),
    )

    def setup_intents(self) -> None:
        rng, factory = self.rng, self.factory
        moments = _Moments(rng, self.now)
        for _ in range(self.count("setup_intents")):
            created = moments.next()
            customer = self.customer_before(created) if rng.random() < 0.8 else None
            status = weighted(rng, self.SETUP_INTENT_STATUSES)
            seti = factory.setup_intent(created, customer, status)
            failed = status == "requires_payment_method" and rng.random() < 0.4
            # Many setup intents never see an attempt; the ones that reached a payment method do.
            attempt_statuses = {
                "succeeded": ["succeeded"] if rng.random() < 0.8 else ["failed", "succeeded"],
                "requires_action": ["requires_action"],
                "processing": ["processing"],
                "canceled": ["abandoned"] if rng.random() < 0.3 else [],
            }.get(status, ["failed"] if failed else [])
            at = created
            attempts = []
            for attempt_status in attempt_statuses:
                at = self.after(at, 300)
                attempts.append(factory.setup_attempt(at, seti, attempt_status))
            before = {"status": "requires_payment_method", "payment_method": None, "latest_attempt": None}
            if attempts:
                seti["latest_attempt"] = attempts[-1]["id"]
            if failed:
                seti["last_setup_error"] = attempts[-1]["setup_error"]
                before["last_setup_error"] = None
            reached = status in ("succeeded", "canceled", "requires_action") or failed
            event_type = SETUP_INTENT_EVENTS[status] if reached else None
            changes = (
                [(attempts[-1]["created"] if attempts else self.after(created, DAY), (event_type,), before)]
                if event_type
                else []
            )
            self.timeline(seti, ("setup_intent.created",), changes)
            self.tables["setup_intents"].append(seti)
            self.tables["setup_attempts"].extend(attempts)

    def order_returns(self) -> None:
        # The legacy Orders API was retired in 2022, so its returns are all older than that.
        end = min(self.now, 1_651_363_200)  # 2022-05-01
        for _ in range(self.count("order_returns")):
            created = end - self.rng.randrange(0, 3 * 365 * DAY)
            self.tables["order_returns"].append(self.factory.order_return(created))
