"""Payouts asked for by hand, and what Stripe refuses about the balance (part of Dataset, see dataset.py). Balance
transactions and automatic payouts come from money moving and time passing (ledger.py), never from a request."""

from __future__ import annotations

from typing import Any

from .store import AdminError

MOVED_BY_STRIPE = "Stripe records balance transactions as money moves: create a charge, refund, dispute or payout"


class BalanceChanges:
    def _new_payouts(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A manual payout, by default of half the available balance; Stripe refuses more than there is."""
        available = self.ledger.available_balance()
        amount = int(fields.pop("amount", available // 2))
        if not 0 < amount <= available:
            raise AdminError(400, f"You have insufficient funds in your Stripe account for this payout ({available} available).")
        payout = self.ledger.pay_out(now, amount, method=fields.pop("method", "standard"))
        return self._finish_new("payouts", payout, fields)

    def _revise_payouts(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """Only a pending manual payout can be canceled; every other status is Stripe's to set."""
        status = fields.get("status", current["status"])
        if status == current["status"]:
            return fields
        if status != "canceled" or current["status"] != "pending" or current["automatic"]:
            raise AdminError(400, f"A {current['status']} payout cannot become {status}: only a pending manual payout can be canceled")
        return {**fields, **self.ledger.cancel(current, now)}

    def _updated_payouts(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if new["status"] == "canceled" and old["status"] != "canceled":
            self._emit(now, "payout.canceled", new)
        else:
            self._emit(now, "payout.updated", new, previous)

    def _new_balance_transactions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, MOVED_BY_STRIPE)

    def _new_payout_balance_transactions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, MOVED_BY_STRIPE)

    def _revise_balance_transactions(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "A balance transaction never changes but for its status, which time moves")
