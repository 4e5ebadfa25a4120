"""The objects of an account's customers, catalog and subscriptions, each built from Stripe's example object."""

from __future__ import annotations

from typing import Any

from .realism import ADJECTIVES, CURRENCIES, FIRST_NAMES, LAST_NAMES, NOUNS, SHIPPING_NAMES, weighted


class CatalogObjects:
    """Part of Factory (see factory.py)."""

    def customer(self, created: int) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("customer", created)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        has_address = rng.random() < 0.3
        obj.update(
            name=f"{first} {last}" if rng.random() < 0.9 else None,
            email=f"{first.lower()}.{last.lower()}{rng.randrange(10_000)}@example.com",
            description=rng.choice((None, None, "Imported from the old billing system", "VIP customer")),
            phone=f"+1555{rng.randrange(10**7):07d}" if rng.random() < 0.4 else None,
            balance=0 if rng.random() < 0.9 else -rng.randrange(1, 50) * 100,
            currency=rng.choice(CURRENCIES) if rng.random() < 0.7 else None,
            delinquent=rng.random() < 0.05,
            invoice_prefix="".join(rng.choices("0123456789ABCDEF", k=8)),
            next_invoice_sequence=rng.randrange(1, 40),
            preferred_locales=["en"] if rng.random() < 0.2 else [],
            metadata={"crm_id": str(rng.randrange(10**6))} if rng.random() < 0.3 else {},
            address=(
                {
                    "city": rng.choice(("San Francisco", "Dublin", "Berlin", "Austin")),
                    "country": rng.choice(("US", "IE", "DE")),
                    "line1": f"{rng.randrange(1, 999)} Market Street",
                    "line2": None,
                    "postal_code": f"{rng.randrange(10**5):05d}",
                    "state": None,
                }
                if has_address
                else None
            ),
        )
        return obj

    def product(self, created: int) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("product", created)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        obj.update(
            name=name,
            description=f"{name} for {rng.choice(('teams', 'individuals', 'startups', 'everyone'))}",
            active=rng.random() < 0.9,
            default_price=None,
            updated=created,
            metadata={} if rng.random() < 0.8 else {"sku_group": str(rng.randrange(100))},
            unit_label=rng.choice((None, None, "seat", "GB")),
        )
        return obj

    def price(
        self, created: int, product: str, *, recurring: bool = True, metered: bool = False, currency: str = "usd"
    ) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("price", created)
        amount = self.amount() if not metered else rng.choice((1, 5, 10, 25))
        obj.update(
            product=product,
            currency=currency,
            unit_amount=amount,
            unit_amount_decimal=str(amount),
            type="recurring" if recurring else "one_time",
            recurring=(
                {
                    "aggregate_usage": "sum" if metered else None,
                    "interval": weighted(rng, (("month", 0.75), ("year", 0.2), ("week", 0.05))),
                    "interval_count": 1,
                    "usage_type": "metered" if metered else "licensed",
                }
                if recurring
                else None
            ),
            nickname=rng.choice((None, None, "Standard", "Discounted", "Legacy")),
            lookup_key=None,
            active=True,
            metadata={},
        )
        return obj

    def plan(self, price: dict[str, Any]) -> dict[str, Any]:
        """A recurring price as Stripe's older Plans API shows it, under the same id."""
        recurring = price["recurring"]
        obj = dict(self.templates["plan"])
        obj.update(
            id=price["id"],
            active=price["active"],
            aggregate_usage=recurring["aggregate_usage"],
            amount=price["unit_amount"],
            amount_decimal=price["unit_amount_decimal"],
            billing_scheme=price["billing_scheme"],
            created=price["created"],
            currency=price["currency"],
            interval=recurring["interval"],
            interval_count=recurring["interval_count"],
            livemode=price["livemode"],
            metadata=price["metadata"],
            nickname=price["nickname"],
            product=price["product"],
            tiers_mode=price["tiers_mode"],
            transform_usage=price["transform_quantity"],
            trial_period_days=recurring.get("trial_period_days"),
            usage_type=recurring["usage_type"],
        )
        return obj

    def shipping_rate(self, created: int) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("shipping_rate", created)
        days = rng.randrange(1, 6)
        obj.update(
            display_name=rng.choice(SHIPPING_NAMES),
            fixed_amount={"amount": rng.choice((0, 500, 799, 1500, 2500)), "currency": rng.choice(CURRENCIES)},
            active=rng.random() < 0.85,
            delivery_estimate=(
                {
                    "maximum": {"unit": "business_day", "value": days + 2},
                    "minimum": {"unit": "business_day", "value": days},
                }
                if rng.random() < 0.6
                else None
            ),
        )
        return obj

    def subscription(self, created: int, customer: str, status: str, currency: str = "usd") -> dict[str, Any]:
        rng = self.rng
        obj = self._base("subscription", created)
        obj.update(
            customer=customer,
            status=status,
            currency=currency,
            start_date=created,
            billing_cycle_anchor=created,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            ended_at=None,
            trial_start=None,
            trial_end=None,
            next_pending_invoice_item_invoice=None,
            collection_method="charge_automatically" if rng.random() < 0.85 else "send_invoice",
            latest_invoice=self.new_id("invoice"),
            default_payment_method=self.new_id("payment_method") if rng.random() < 0.7 else None,
            metadata={} if rng.random() < 0.8 else {"plan_tier": rng.choice(("gold", "silver"))},
        )
        if obj["collection_method"] == "send_invoice":
            obj["days_until_due"] = 30
        return obj

    def subscription_schedule(self, created: int, customer: str, items: list[tuple[str, int]], start: int, end: int) -> dict[str, Any]:
        """A schedule of one phase billing `items` (price id, quantity) from `start` to `end`, not started yet:
        `schedule_started`, `schedule_released` and `schedule_canceled` give its later states."""
        obj = self._base("subscription_schedule", created)
        template = obj["phases"][0]
        phase = {
            **template,
            "start_date": start,
            "end_date": end,
            "items": [{**template["items"][0], "price": price, "quantity": quantity} for price, quantity in items],
        }
        obj.update(
            customer=customer,
            status="not_started",
            subscription=None,
            current_phase=None,
            phases=[phase],
            end_behavior="release" if self.rng.random() < 0.8 else "cancel",
            canceled_at=None,
            completed_at=None,
            released_at=None,
            released_subscription=None,
            metadata={},
        )
        return obj

    @staticmethod
    def schedule_started(schedule: dict[str, Any], subscription: str) -> dict[str, Any]:
        phase = schedule["phases"][0]
        current = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
        return {**schedule, "status": "active", "subscription": subscription, "current_phase": current}

    @staticmethod
    def schedule_released(schedule: dict[str, Any], at: int) -> dict[str, Any]:
        """Its subscription goes on without it."""
        released = {"released_at": at, "released_subscription": schedule["subscription"], "subscription": None}
        return {**schedule, **released, "status": "released", "current_phase": None}

    @staticmethod
    def schedule_canceled(schedule: dict[str, Any], at: int) -> dict[str, Any]:
        return {**schedule, "status": "canceled", "canceled_at": at, "current_phase": None}

    def subscription_item(self, created: int, subscription: str, price: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("subscription_item", created)
        obj.update(subscription=subscription, price=price, metadata={})
        if price["recurring"] and price["recurring"]["usage_type"] == "metered":
            del obj["quantity"]  # metered items have no quantity in Stripe
        else:
            obj["quantity"] = self.rng.choice((1, 1, 1, 2, 3, 5, 10, 25))
        return obj

    def usage_record_summary(self, subscription_item: str, start: int, end: int, invoiced: bool) -> dict[str, Any]:
        obj = self._base("usage_record_summary", None)
        obj.update(
            subscription_item=subscription_item,
            period={"start": start, "end": end},
            invoice=self.new_id("invoice") if invoiced else None,
            total_usage=self.rng.randrange(0, 5000),
        )
        return obj

    def order_return(self, created: int) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("order_return", created)
        lines = [
            {
                "amount": self.amount(),
                "currency": "usd",
                "description": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
                "object": "order_item",
                "parent": self.new_id("sku"),
                "quantity": rng.randrange(1, 3),
                "type": "sku",
            }
            for _ in range(rng.randrange(1, 4))
        ]
        obj.update(
            order=self.new_id("order"),
            items=lines,
            amount=sum(line["amount"] * line["quantity"] for line in lines),
            currency="usd",
            refund=self.new_id("refund") if rng.random() < 0.8 else None,
        )
        return obj
