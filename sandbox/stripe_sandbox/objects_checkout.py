"""The objects of Stripe Checkout: sessions and the items they sell."""

from __future__ import annotations

from typing import Any

from .realism import ALNUM, DAY


class CheckoutObjects:
    """Part of Factory (see factory.py)."""

    def checkout_session(
        self, session_id: str, created: int, customer: dict[str, Any] | None, mode: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """An open session selling `items` (checkout_item's, made for `session_id`); it expires in a day."""
        obj = self._base("checkout.session", created)
        obj["id"] = session_id
        total = sum(item["amount_total"] for item in items)
        obj.update(
            amount_subtotal=total if mode != "setup" else None,
            amount_total=total if mode != "setup" else None,
            currency=items[0]["currency"] if items else None,
            customer=customer and customer["id"],
            customer_details={**obj["customer_details"], "email": customer and customer["email"], "name": customer and customer["name"]},
            expires_at=created + DAY,
            mode=mode,
            payment_intent=None,
            subscription=None,
            setup_intent=None,
            payment_status="no_payment_required" if mode == "setup" else "unpaid",
            status="open",
            url=f"https://checkout.stripe.com/c/pay/{obj['id']}",
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0} if mode != "setup" else None,
            metadata={},
        )
        return obj

    def checkout_session_id(self) -> str:
        mode = "live" if self.livemode else "test"
        while True:
            candidate = f"cs_{mode}_" + "".join(self.rng.choices(ALNUM, k=58))
            if candidate not in self._used_ids:
                self.claim_id(candidate)
                return candidate

    def checkout_item(self, session_id: str, price: dict[str, Any], description: str, quantity: int | None) -> dict[str, Any]:
        """A line of a session (a metered price's has no quantity, and costs nothing up front); Stripe's item does not
        name its session, which the sandbox keeps to index it by."""
        obj = self._base("item", None)
        amount = (price["unit_amount"] or 0) * (quantity or 0)
        obj.update(
            amount_discount=0,
            amount_subtotal=amount,
            amount_tax=0,
            amount_total=amount,
            currency=price["currency"],
            description=description,
            price=price,
            quantity=quantity,
            checkout_session=session_id,
        )
        return obj
