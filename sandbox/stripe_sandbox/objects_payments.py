"""The objects of an account's payments: intents, charges, refunds, disputes and setups."""

from __future__ import annotations

from typing import Any

from .realism import ALNUM, CURRENCIES, DAY


class PaymentObjects:
    """Part of Factory (see factory.py)."""

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

    def charge(self, created: int, payment_intent: dict[str, Any] | None, status: str) -> dict[str, Any]:
        """A payment intent's attempt to pay (it names the charge as its `latest_charge`), or without an intent a
        charge made through the legacy Charges API. `status` is succeeded, pending or failed; an intent waiting for
        capture has a succeeded charge that is not captured yet."""
        rng = self.rng
        obj = self._base("charge", created)
        del obj["refunds"]  # not included by default since API version 2022-11-15: it must be expanded
        if payment_intent is None:
            amount, currency, customer, method = self.amount(), rng.choice(CURRENCIES), None, self.new_id("payment_method")
        else:
            obj["id"] = payment_intent["latest_charge"]
            amount, currency = payment_intent["amount"], payment_intent["currency"]
            customer, method = payment_intent["customer"], payment_intent["payment_method"]
            obj["invoice"] = payment_intent.get("invoice")
        captured = status == "succeeded" and (payment_intent is None or payment_intent["capture_method"] == "automatic")
        obj.update(
            amount=amount,
            amount_captured=amount if captured else 0,
            amount_refunded=0,
            refunded=False,
            captured=captured,
            paid=status == "succeeded",
            status=status,
            currency=currency,
            customer=customer,
            payment_intent=payment_intent and payment_intent["id"],
            payment_method=method,
            description=payment_intent["description"] if payment_intent else rng.choice((None, "Legacy charge")),
            # Money moves (a balance transaction) once a charge is captured or, for bank debits, while it is pending.
            balance_transaction=self.new_id("balance_transaction") if captured or status == "pending" else None,
            failure_code="card_declined" if status == "failed" else None,
            failure_message="Your card was declined." if status == "failed" else None,
            metadata={},
            receipt_url=None,
        )
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
            # Money goes back once a refund is made (pending or succeeded); a failed one's comes back after.
            balance_transaction=self.new_id("balance_transaction") if status in ("succeeded", "pending", "failed") else None,
            metadata={},
        )
        if status == "failed":
            obj["failure_reason"] = rng.choice(("expired_or_canceled_card", "lost_or_stolen_card", "unknown"))
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
