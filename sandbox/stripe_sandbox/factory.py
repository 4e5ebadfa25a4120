"""Single Stripe objects, built from Stripe's example object for their type.

Every object starts as a copy of Stripe's example with ids, times, references, statuses and amounts
replaced. Objects are treated as immutable once built: a change always produces a new dict (see
store.py). That lets all objects of a type share the example's untouched nested values and lets an
event hold the very dict that was current when it happened, which keeps 100k-object datasets small
and fast to build.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from . import versions
from .spec import Spec

DAY = 86_400
MONTH = 30 * DAY

ALNUM = string.ascii_letters + string.digits

# Stripe-style id prefix and random-part length per object type.
ID_FORMATS = {
    "customer": ("cus_", 14),
    "product": ("prod_", 14),
    "price": ("price_", 24),
    "shipping_rate": ("shr_", 24),
    "subscription": ("sub_", 24),
    "subscription_item": ("si_", 14),
    "usage_record_summary": ("sis_", 24),
    "payment_intent": ("pi_", 24),
    "refund": ("re_", 24),
    "dispute": ("dp_", 24),
    "setup_intent": ("seti_", 24),
    "setup_attempt": ("setatt_", 24),
    "order_return": ("orret_", 24),
    "event": ("evt_", 24),
    "account": ("acct_", 16),
    "charge": ("ch_", 24),
    "payment_method": ("pm_", 24),
    "balance_transaction": ("txn_", 24),
    "invoice": ("in_", 24),
    "order": ("or_", 24),
    "sku": ("sku_", 24),
}

# fmt: off
FIRST_NAMES = (
    "Jenny", "Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Edsger", "Frances", "Donald", "Radia",
    "Tim", "Hedy", "Dennis", "Sophie", "Yukihiro", "Guido", "Anders", "Katherine", "Niklaus", "Shafi", "Leslie",
    "John", "Mary", "Ravi", "Wei", "Amara", "Lucia", "Omar",
)
LAST_NAMES = (
    "Rosen", "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Dijkstra", "Allen",
    "Knuth", "Perlman", "Berners-Lee", "Lamarr", "Ritchie", "Wilson", "Matsumoto", "Rossum", "Hejlsberg", "Johnson",
    "Wirth", "Goldwasser", "Lamport", "Backus", "Shaw", "Kannan", "Zhang", "Okafor", "Moreno", "Haddad",
)
ADJECTIVES = (
    "Basic", "Premium", "Pro", "Team", "Enterprise", "Starter", "Growth", "Classic", "Deluxe", "Annual", "Cloud",
    "Insight",
)
NOUNS = (
    "Plan", "Seat", "Storage", "Support", "Analytics", "Widget", "T-shirt", "Mug", "Hoodie", "License", "Credits",
    "Bandwidth",
)
# fmt: on
SHIPPING_NAMES = ("Ground shipping", "Express", "Next day air", "Economy", "International", "Free shipping")
CURRENCIES = ("usd",) * 7 + ("eur", "eur", "gbp")


def clone(value: Any) -> Any:
    return copy.deepcopy(value)


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(weight for _, weight in table)
    for value, weight in table:
        r -= weight
        if r < 0:
            return value
    return table[-1][0]


class Factory:
    """Builds one object of a type; used both by generation and by the admin API's create."""

    def __init__(self, spec: Spec, rng: random.Random, livemode: bool):
        self.rng = rng
        self.livemode = livemode
        self.api_version = spec.api_version
        # One private deep copy per type; objects shallow-copy it and replace what differs.
        self.templates = {name: clone(example) for name, example in spec.examples.items()}
        self._used_ids: set[str] = set()

    def new_id(self, object_type: str) -> str:
        prefix, length = ID_FORMATS[object_type]
        while True:
            candidate = prefix + "".join(self.rng.choices(ALNUM, k=length))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def claim_id(self, object_id: str) -> None:
        self._used_ids.add(object_id)

    def _base(self, object_type: str, created: int | None) -> dict[str, Any]:
        obj = dict(self.templates[object_type])
        obj["id"] = self.new_id(object_type)
        if "livemode" in obj:
            obj["livemode"] = self.livemode
        if created is not None:
            obj["created"] = created
        return obj

    def amount(self) -> int:
        return self.rng.choice((500, 900, 1000, 1500, 2000, 2500, 4900, 9900, 19900)) + self.rng.randrange(0, 3) * 100

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

    def subscription_item(self, created: int, subscription: str, price: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("subscription_item", created)
        obj.update(subscription=subscription, price=price, metadata={})
        if price["recurring"] and price["recurring"]["usage_type"] == "metered":
            del obj["quantity"]  # metered items have no quantity in Stripe
        else:
            obj["quantity"] = self.rng.choice((1, 1, 1, 2, 3, 5, 10, 25))
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

    def payment_intent(self, created: int, customer: str | None, status: str) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("payment_intent", created)
        amount = self.amount() * rng.choice((1, 1, 1, 2, 5))
        charged = status in ("succeeded", "requires_capture", "processing")
        obj.update(
            amount=amount,
            amount_received=amount if status == "succeeded" else 0,
            amount_capturable=amount if status == "requires_capture" else 0,
            capture_method="manual" if status == "requires_capture" else "automatic",
            client_secret=None,
            currency=rng.choice(CURRENCIES),
            customer=customer,
            description=rng.choice((None, "Order payment", "Subscription update", "Invoice payment")),
            status=status,
            canceled_at=None,
            cancellation_reason=None,
            latest_charge=self.new_id("charge") if charged else None,
            payment_method=None if status == "requires_payment_method" else self.new_id("payment_method"),
            metadata={} if rng.random() < 0.7 else {"order_id": str(rng.randrange(10**6))},
        )
        obj["client_secret"] = f"{obj['id']}_secret_{''.join(rng.choices(ALNUM, k=25))}"
        return obj

    def refund(self, created: int, payment_intent: dict[str, Any], amount: int, status: str) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("refund", created)
        obj.update(
            amount=amount,
            charge=payment_intent["latest_charge"],
            payment_intent=payment_intent["id"],
            currency=payment_intent["currency"],
            status=status,
            reason=rng.choice((None, "requested_by_customer", "requested_by_customer", "duplicate", "fraudulent")),
            balance_transaction=self.new_id("balance_transaction"),
            metadata={},
        )
        if status == "failed":
            obj["failure_reason"] = rng.choice(("expired_or_canceled_card", "lost_or_stolen_card", "unknown"))
        return obj

    def charge(self, created: int, payment_intent: dict[str, Any], amount_refunded: int) -> dict[str, Any]:
        obj = dict(self.templates["charge"])
        amount = payment_intent["amount"]
        obj.update(
            id=payment_intent["latest_charge"],
            livemode=self.livemode,
            created=created,
            amount=amount,
            amount_captured=amount,
            amount_refunded=amount_refunded,
            refunded=amount_refunded >= amount,
            captured=True,
            currency=payment_intent["currency"],
            customer=payment_intent["customer"],
            payment_intent=payment_intent["id"],
            refunds={
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{payment_intent['latest_charge']}/refunds",
            },
        )
        return obj

    def dispute(self, created: int, payment_intent: dict[str, Any], status: str) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("dispute", created)
        obj.update(
            amount=payment_intent["amount"],
            charge=payment_intent["latest_charge"],
            payment_intent=payment_intent["id"],
            currency=payment_intent["currency"],
            status=status,
            reason=rng.choice(
                (
                    "fraudulent",
                    "general",
                    "product_not_received",
                    "duplicate",
                    "subscription_canceled",
                    "credit_not_processed",
                )
            ),
            is_charge_refundable=status.startswith("warning"),
            evidence_details={
                "due_by": created + rng.randrange(7, 21) * DAY,
                "has_evidence": status in ("under_review", "won", "lost", "warning_under_review"),
                "past_due": False,
                "submission_count": 1 if status in ("under_review", "won", "lost", "warning_under_review") else 0,
            },
            metadata={},
        )
        return obj

    def setup_intent(self, created: int, customer: str | None, status: str) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("setup_intent", created)
        obj.update(
            customer=customer,
            status=status,
            usage=rng.choice(("off_session", "off_session", "on_session")),
            payment_method=self.new_id("payment_method") if status != "requires_payment_method" else None,
            cancellation_reason="requested_by_customer" if status == "canceled" else None,
            latest_attempt=None,
            metadata={},
        )
        obj["client_secret"] = f"{obj['id']}_secret_{''.join(rng.choices(ALNUM, k=32))}"
        return obj

    def setup_attempt(self, created: int, setup_intent: dict[str, Any], status: str) -> dict[str, Any]:
        obj = self._base("setup_attempt", created)
        obj.update(
            setup_intent=setup_intent["id"],
            customer=setup_intent["customer"],
            payment_method=setup_intent["payment_method"] or self.new_id("payment_method"),
            status=status,
            usage=setup_intent["usage"],
            setup_error=(
                {"code": "card_declined", "message": "Your card was declined.", "type": "card_error"}
                if status == "failed"
                else None
            ),
        )
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

    def event(
        self,
        created: int,
        event_type: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        older_version: bool = False,
    ) -> dict[str, Any]:
        version = self.api_version
        if older_version and versions.has_older_shape(obj["object"]):
            version, obj, previous = versions.downgrade(obj, previous)
        event = dict(self.templates["event"])
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event.update(
            id=self.new_id("event"),
            api_version=version,
            created=created,
            data=data,
            livemode=self.livemode,
            pending_webhooks=0,
            request={"id": None, "idempotency_key": None},
            type=event_type,
        )
        return event


def subscription_items_list(subscription_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The `items` list a subscription embeds: the first page of its `url`, so paging on from the last embedded item
    with starting_after continues it exactly, as Stripe's clients do."""
    newest_first = sorted(items, key=lambda item: (item["created"], item["id"]), reverse=True)
    return {
        "object": "list",
        "data": newest_first[:10],
        "has_more": len(items) > 10,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={subscription_id}",
    }


def account_object(spec: Spec, account_id: str, *, created: int, name: str, connected: bool) -> dict[str, Any]:
    obj = clone(spec.examples["account"])
    obj.update(
        id=account_id,
        created=created,
        email=f"billing@{name.lower().replace(' ', '-')}.example.com",
        type="express" if connected else "standard",
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        business_type="company",
    )
    obj["business_profile"]["name"] = name
    obj["settings"]["dashboard"]["display_name"] = name
    obj["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
    obj["requirements"].update(currently_due=[], eventually_due=[], disabled_reason=None)
    if connected:
        obj["controller"] = {"type": "application", "is_controller": True}
    return obj
