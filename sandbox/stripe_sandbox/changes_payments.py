"""Creates and updates of payments: intents, refunds, disputes and setups, with the events Stripe sends for them
(part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .history_payments import PAYMENT_INTENT_EVENTS, SETUP_INTENT_EVENTS

CLOSED_DISPUTE_STATUSES = {"won", "lost", "warning_closed", "charge_refunded"}


class PaymentChanges:
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

    def _updated_payment_intents(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] != new["status"] and new["status"] in PAYMENT_INTENT_EVENTS:
            self._emit(now, PAYMENT_INTENT_EVENTS[new["status"]], new)

    def _updated_setup_intents(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] != new["status"] and new["status"] in SETUP_INTENT_EVENTS:
            self._emit(now, SETUP_INTENT_EVENTS[new["status"]], new)

    def _updated_refunds(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "refund.updated", new, previous)
        self._emit(now, "charge.refund.updated", new, previous)

    def _updated_disputes(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] != new["status"] and new["status"] in CLOSED_DISPUTE_STATUSES:
            self._emit(now, "charge.dispute.closed", new)
            if new["status"] == "won":
                self._emit(now, "charge.dispute.funds_reinstated", new)
        else:
            self._emit(now, "charge.dispute.updated", new, previous)
