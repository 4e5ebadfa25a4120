"""Creates and updates of payments: intents and their charges, refunds, disputes and setups, with the events Stripe
sends for them (part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .history_payments import CHARGE_STATUSES, PAYMENT_INTENT_EVENTS, SETUP_INTENT_EVENTS
from .store import AdminError

CLOSED_DISPUTE_STATUSES = {"won", "lost", "warning_closed", "charge_refunded"}


class PaymentChanges:
    def _new_payment_intents(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        customer = fields.pop("customer", None) or self._pick("customers", None)["id"]
        status = fields.get("status", "requires_payment_method")
        obj = self._finish_new("payment_intents", self.factory.payment_intent(created, customer, status), fields)
        self._emit(now, "payment_intent.created", obj)
        if status != "requires_payment_method" and status in PAYMENT_INTENT_EVENTS:
            self._emit(now, PAYMENT_INTENT_EVENTS[status], obj)
        if obj["latest_charge"]:
            self._charge_intent(obj, created, now)
        return obj

    def _charge_intent(self, pi: dict[str, Any], created: int, now: int) -> None:
        charge = self.factory.charge(created, pi, CHARGE_STATUSES[pi["status"]])
        self.tables["charges"].put(charge)
        self._emit(now, f"charge.{charge['status']}", charge)
        if charge["balance_transaction"]:
            self.ledger.charged(charge, now)

    def _revise_payment_intents(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """Confirming an intent makes a charge (its latest); succeeding receives the amount, captured or not."""
        status = fields.get("status", current["status"])
        if status == current["status"]:
            return fields
        revised = {**fields, "amount_received": current["amount"] if status == "succeeded" else 0}
        revised["amount_capturable"] = current["amount"] if status == "requires_capture" else 0
        charge = self.tables["charges"].objects.get(current["latest_charge"] or "")
        if status in ("succeeded", "processing", "requires_capture") and (charge is None or charge["status"] == "failed"):
            revised["latest_charge"] = self.factory.new_id("charge")
            revised["payment_method"] = current["payment_method"] or self.factory.new_id("payment_method")
        return revised

    def _updated_payment_intents(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] == new["status"]:
            return
        if new["status"] in PAYMENT_INTENT_EVENTS:
            self._emit(now, PAYMENT_INTENT_EVENTS[new["status"]], new)
        if new["latest_charge"] != old["latest_charge"]:
            self._charge_intent(new, now, now)
        elif new["status"] == "succeeded" and old["status"] == "requires_capture":
            self._change_charge(new["latest_charge"], "charge.captured", now, captured=True, amount_captured=new["amount"])
        elif new["status"] == "succeeded" and old["status"] == "processing":
            self._change_charge(new["latest_charge"], "charge.succeeded", now, status="succeeded", paid=True)

    def _change_charge(self, charge_id: str, event_type: str, now: int, **fields: Any) -> dict[str, Any]:
        charge = self.tables["charges"].objects[charge_id]
        previous = {name: charge.get(name) for name in fields}
        changed = {**charge, **fields}
        captured_now = changed["captured"] and not changed["balance_transaction"]
        if captured_now:
            changed["balance_transaction"] = self.factory.new_id("balance_transaction")
        self.tables["charges"].put(changed)
        if captured_now:
            self.ledger.charged(changed, now)
        self._emit(now, event_type, changed, previous if event_type == "charge.updated" else None)
        return changed

    def _new_charges(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A charge made through the legacy Charges API, without a payment intent."""
        charge = self.factory.charge(created, None, fields.get("status", "succeeded"))
        charge["customer"] = fields.pop("customer", None) or self._pick("customers", None)["id"]
        obj = self._finish_new("charges", charge, fields)
        self._emit(now, f"charge.{obj['status']}", obj)
        if obj["balance_transaction"]:
            self.ledger.charged(obj, now)
        return obj

    def _updated_charges(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "charge.updated", new, previous)

    def _succeeded_intent(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._pick("payment_intents", fields.pop("payment_intent", None), lambda p: p["status"] == "succeeded")

    def _new_refunds(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        charges = self.tables["charges"].objects
        refundable = lambda pi: charges[pi["latest_charge"]]["amount"] - charges[pi["latest_charge"]]["amount_refunded"]  # noqa: E731
        pi = self._pick("payment_intents", fields.pop("payment_intent", None), lambda p: p["status"] == "succeeded" and refundable(p) > 0)
        amount = int(fields.pop("amount", refundable(pi)))
        if not 0 < amount <= refundable(pi):
            raise AdminError(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable(pi)})")
        refund = self.factory.refund(created, pi, amount, fields.get("status", "succeeded"))
        if refund["balance_transaction"]:
            self.ledger.refunded(refund, now)
        if refund["status"] == "failed":
            refund["failure_balance_transaction"] = self.ledger.refund_failed(refund, now)["id"]
        obj = self._finish_new("refunds", refund, fields)
        self._emit(now, "refund.created", obj)
        charge = charges[pi["latest_charge"]]
        refunded = charge["amount_refunded"] + amount
        self._change_charge(charge["id"], "charge.refunded", now, amount_refunded=refunded, refunded=refunded >= charge["amount"])
        return obj

    def _new_disputes(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        pi = self._succeeded_intent(fields)
        status = fields.get("status", "needs_response")
        dispute = self.factory.dispute(created, pi, status)
        if not status.startswith("warning"):
            dispute["balance_transactions"] = [self.ledger.dispute_withdrew(dispute, now)]
        obj = self._finish_new("disputes", dispute, fields)
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

    def _updated_setup_intents(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] != new["status"] and new["status"] in SETUP_INTENT_EVENTS:
            self._emit(now, SETUP_INTENT_EVENTS[new["status"]], new)

    def _updated_refunds(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "refund.updated", new, previous)
        self._emit(now, "charge.refund.updated", new, previous)

    def _revise_disputes(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A dispute won gives back what it withdrew, the fee included."""
        if fields.get("status") == "won" and current["status"] != "won" and current["balance_transactions"]:
            reinstated = self.ledger.dispute_reinstated(current, now)
            return {**fields, "balance_transactions": [*current["balance_transactions"], reinstated]}
        return fields

    def _updated_disputes(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] != new["status"] and new["status"] in CLOSED_DISPUTE_STATUSES:
            self._emit(now, "charge.dispute.closed", new)
            if new["status"] == "won":
                self._emit(now, "charge.dispute.funds_reinstated", new)
        else:
            self._emit(now, "charge.dispute.updated", new, previous)
