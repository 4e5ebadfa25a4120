"""The objects of Stripe Issuing: cardholders, the cards issued to them (each embedding its cardholder as it is now),
authorizations of purchases (each embedding its card and its transactions as they are now) and the transactions that
move the money."""

from __future__ import annotations

from typing import Any

from .realism import FIRST_NAMES, LAST_NAMES

YEAR = 365 * 86_400
EPOCH_YEAR = 1970
MERCHANTS = (
    ("Rocket Rides", "taxicabs_limousines", "4121"),
    ("Corner Cafe", "eating_places_restaurants", "5812"),
    ("Office Supply Co", "stationery_stores_office_and_school_supply_stores", "5943"),
    ("Cloud Hosting Inc", "computer_network_services", "4816"),
)


class IssuingObjects:
    """Part of Factory (see factory.py)."""

    def cardholder(self, created: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        obj = self._base("issuing.cardholder", created)
        obj.update(name=f"{first} {last}", email=f"{first}.{last}@example.com".lower(), status="active", type="individual", metadata={})
        return obj

    def issuing_card(self, created: int, cardholder: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("issuing.card", created)
        obj.update(
            cardholder=cardholder,
            last4=f"{self.rng.randrange(10**4):04d}",
            exp_month=self.rng.randrange(1, 13),
            exp_year=EPOCH_YEAR + created // YEAR + 3,
            type=self.rng.choice(("virtual", "virtual", "physical")),
            status="active",
            metadata={},
        )
        return obj

    def authorization(self, created: int, card: dict[str, Any], approved: bool) -> dict[str, Any]:
        """A purchase with `card`, pending until captured (closed, with its transactions) or reversed."""
        name, category, code = self.rng.choice(MERCHANTS)
        amount = self.amount()
        obj = self._base("issuing.authorization", created)
        obj.update(
            amount=amount if approved else 0,
            merchant_amount=amount,
            approved=approved,
            card=card,
            cardholder=card["cardholder"]["id"],
            merchant_data={**obj["merchant_data"], "name": name, "category": category, "category_code": code},
            pending_request=None,
            request_history=[],
            balance_transactions=[],
            status="pending" if approved else "closed",
            transactions=[],
            metadata={},
        )
        return obj

    def issuing_transaction(self, created: int, authorization: dict[str, Any], kind: str, amount: int) -> dict[str, Any]:
        """A `capture` (negative: money out) or `refund` of an authorization's purchase."""
        obj = self._base("issuing.transaction", created)
        obj.update(
            amount=amount,
            merchant_amount=amount,
            authorization=authorization["id"],
            card=authorization["card"]["id"],
            cardholder=authorization["cardholder"],
            merchant_data=authorization["merchant_data"],
            balance_transaction=None,
            type=kind,
            wallet=None,
            metadata={},
        )
        return obj


def with_transactions(authorization: dict[str, Any], transactions: list[dict[str, Any]]) -> dict[str, Any]:
    """An authorization embeds its transactions as they are now, oldest first."""
    return {**authorization, "transactions": sorted(transactions, key=lambda txn: (txn["created"], txn["id"]))}
