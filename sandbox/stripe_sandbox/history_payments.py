"""The history of an account's payments: intents, refunds, disputes and setups, and the events of their changes
(part of Generator, see data.py)."""

from __future__ import annotations

from typing import Any

from .realism import DAY, weighted

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
# The status of an intent's latest charge, by the intent's status.
CHARGE_STATUSES = {
    "succeeded": "succeeded",
    "requires_capture": "succeeded",
    "processing": "pending",
    "requires_payment_method": "failed",
}


class PaymentHistory:
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
        moments = self.moments()
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
                pi["latest_charge"] = factory.new_id("charge")  # the declined attempt
                pi["last_payment_error"] = {
                    "code": "card_declined",
                    "decline_code": rng.choice(("generic_decline", "insufficient_funds", "expired_card")),
                    "message": "Your card was declined.",
                    "type": "card_error",
                }
                changes.append(
                    (
                        self.after(created, 120),
                        (PAYMENT_INTENT_EVENTS[status],),
                        {"last_payment_error": None, "latest_charge": None},
                    )
                )
            elif status == "requires_payment_method" and rng.random() < 0.1:
                pi["payment_method_types"] = ["customer_balance"]
                changes.append((self.after(created, DAY), ("payment_intent.partially_funded",), {}))
            self.timeline(pi, ("payment_intent.created",), changes)
            self.tables["payment_intents"].append(pi)
            if pi["latest_charge"]:
                # The charge is made when the intent is confirmed, its first change; a bank debit's settles later.
                self._charge(pi, attempted_at=changes[0][0], settled_at=changes[1][0] if len(changes) > 1 else None)

    def _charge(self, pi: dict[str, Any], attempted_at: int, settled_at: int | None) -> None:
        status = CHARGE_STATUSES[pi["status"]]
        charge = self.factory.charge(attempted_at, pi, status)
        created_types = (f"charge.{status}",)
        changes: list[tuple[int, tuple[str, ...], dict[str, Any]]] = []
        if settled_at is not None:
            created_types = ("charge.pending",)
            changes.append((settled_at, ("charge.succeeded",), {"status": "pending", "paid": False}))
        if status == "succeeded" and charge["captured"] and self.rng.random() < 0.3:
            refunded = 0
            for at, amount in self._refunds(pi, settled_at or attempted_at):
                changes.append((at, ("charge.refunded",), {"amount_refunded": refunded, "refunded": False}))
                refunded += amount
            charge.update(amount_refunded=refunded, refunded=refunded >= charge["amount"])
        self.timeline(charge, created_types, changes)
        self.tables["charges"].append(charge)
        if charge["balance_transaction"]:
            self.ledger.charged(charge, charge["created"])
        if charge["captured"] and self.rng.random() < 0.07:
            self._dispute(pi)

    def legacy_charges(self) -> None:
        """Charges made through the Charges API, without a payment intent: older integrations still make them."""
        moments = self.moments()
        for _ in range(self.count("legacy_charges")):
            charge = self.factory.charge(moments.next(), None, "succeeded" if self.rng.random() < 0.9 else "failed")
            charge["customer"] = self.customer_before(charge["created"])
            self.timeline(charge, (f"charge.{charge['status']}",))
            self.tables["charges"].append(charge)
            if charge["balance_transaction"]:
                self.ledger.charged(charge, charge["created"])

    REFUND_STATUSES = (
        ("succeeded", 0.82),
        ("pending", 0.07),
        ("failed", 0.05),
        ("canceled", 0.03),
        ("requires_action", 0.03),
    )

    def _refunds(self, pi: dict[str, Any], paid_at: int) -> list[tuple[int, int]]:
        """Refunds of a paid intent; returns when each one moved money back, and how much."""
        rng = self.rng
        moved: list[tuple[int, int]] = []
        remaining, created = pi["amount"], paid_at
        for _ in range(1 if rng.random() < 0.85 else 2):
            created = self.after(created, 10 * DAY)
            amount = remaining if rng.random() < 0.6 else max(1, remaining // 2)
            status = weighted(rng, self.REFUND_STATUSES)
            refund = self.factory.refund(created, pi, amount, status)
            changes = []
            if status in ("succeeded", "failed", "canceled") and rng.random() < 0.3:
                overwritten = {"status": "pending"}
                if status == "failed":
                    overwritten.update(failure_reason=None, failure_balance_transaction=None)
                changes.append((self.after(created, DAY), ("refund.updated", "charge.refund.updated"), overwritten))
            if refund["balance_transaction"]:
                self.ledger.refunded(refund, created)
            if status == "failed":
                failed_at = changes[-1][0] if changes else created
                refund["failure_balance_transaction"] = self.ledger.refund_failed(refund, failed_at)["id"]
            self.timeline(refund, ("refund.created",), changes)
            created = refund["created"]
            self.tables["refunds"].append(refund)
            if status in ("succeeded", "pending"):
                moved.append((created, amount))
                remaining -= amount
            if remaining <= 0:
                break
        return moved

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
        # An inquiry (a warning) moves no money; a dispute takes the amount and a fee, and gives both back if won.
        if not warning:
            dispute["balance_transactions"] = [self.ledger.dispute_withdrew(dispute, created)]
        changes = []
        if status in ("under_review", "won", "lost", "warning_under_review"):
            review = self.after(created, 5 * DAY)
            changes.append(
                (review, ("charge.dispute.updated",), {"status": opened, "evidence_details": fresh_evidence})
            )
            if status in ("won", "lost"):
                closed_at, withdrawn = self.after(review, 20 * DAY), dispute["balance_transactions"]
                if status == "won":
                    reinstated = self.ledger.dispute_reinstated(dispute, closed_at)
                    dispute["balance_transactions"] = [*withdrawn, reinstated]
                    closed = ("charge.dispute.closed", "charge.dispute.funds_reinstated")
                else:
                    closed = ("charge.dispute.closed",)
                changes.append((closed_at, closed, {"status": "under_review", "balance_transactions": withdrawn}))
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
        moments = self.moments()
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
