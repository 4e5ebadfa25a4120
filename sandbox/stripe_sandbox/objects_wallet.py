"""The objects of a customer's wallet: the payment methods attached to it and the transactions of its credit balance."""

from __future__ import annotations

from typing import Any

from .realism import ALNUM, weighted

BRANDS = (("visa", 0.5), ("mastercard", 0.3), ("amex", 0.15), ("discover", 0.05))
YEAR = 365 * 86_400
EPOCH_YEAR = 1970


class WalletObjects:
    """Part of Factory (see factory.py)."""

    def payment_method(self, created: int, customer: str) -> dict[str, Any]:
        """A card attached to `customer`, valid for a few years from when it was saved."""
        rng = self.rng
        obj = self._base("payment_method", created)
        brand = weighted(rng, BRANDS)
        card = {
            **obj["card"],
            "brand": brand,
            "last4": f"{rng.randrange(10**4):04d}",
            "exp_month": rng.randrange(1, 13),
            "exp_year": EPOCH_YEAR + created // YEAR + rng.randrange(1, 6),
            "fingerprint": "".join(rng.choices(ALNUM, k=16)),
            "country": rng.choice(("US", "US", "GB", "DE", "IE")),
            "networks": {"available": [brand], "preferred": None},
        }
        obj.update(type="card", card=card, customer=customer, metadata={})
        return obj

    def renewed_card(self, method: dict[str, Any]) -> dict[str, Any]:
        """The card as the network's updater renews it: a later expiry, sometimes a new number."""
        card = {**method["card"], "exp_year": method["card"]["exp_year"] + 3}
        if self.rng.random() < 0.3:
            card["last4"] = f"{self.rng.randrange(10**4):04d}"
        return {**method, "card": card}

    def customer_balance_transaction(
        self, created: int, customer: str, amount: int, ending_balance: int, kind: str, invoice: str | None = None
    ) -> dict[str, Any]:
        """A change of `amount` to a customer's credit balance (negative: credit the customer holds)."""
        obj = self._base("customer_balance_transaction", created)
        obj.update(
            customer=customer,
            amount=amount,
            ending_balance=ending_balance,
            type=kind,
            currency="usd",
            invoice=invoice,
            credit_note=None,
            description={"adjustment": "Goodwill credit", "applied_to_invoice": None}.get(kind),
            metadata={},
        )
        return obj
