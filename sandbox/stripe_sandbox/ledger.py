"""An account's Stripe balance as time passes, which no API call drives: every movement of money is a balance
transaction, pending until it becomes available; every midnight an automatic payout sends what became available to
the bank, and once it has arrived its reconciliation completes, when Stripe lists the transactions it paid out.

Generation records the history's movements and then runs the ledger up to its `now`; the admin API records new ones
and Dataset.advance runs it on whenever the clock moves. The admin API may date an object in the past, as if made then;
the money it moves is recorded at the request, since no Stripe object appears in the past, and is available when the
object's date allows."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from typing import Any

from .realism import DAY, HOUR

# Card payments become available on a two-day rolling basis, at midnight UTC; money leaving is taken at once.
AVAILABLE_AFTER = 2 * DAY
IN_TRANSIT_AFTER = 2 * HOUR  # a payout is pending until it is submitted to the bank
ARRIVES_AFTER = {"standard": 2 * DAY, "instant": 30 * 60}
RECONCILED_AFTER = HOUR  # after an automatic payout arrives
FAILED_PAYOUT_SHARE = 0.02
INSTANT_PAYOUT_SHARE = 0.03  # days on which the account also asks for an instant payout of half its balance
DISPUTE_FEE = 1500

# What happens when, in this order within one second.
SETTLE, PAYOUT_RUN, IN_TRANSIT, ARRIVE, RECONCILE = range(5)

Get = Callable[[str, str], dict[str, Any]]
Put = Callable[[str, dict[str, Any]], None]
Emit = Callable[..., None]


def midnight(t: int) -> int:
    return t - t % DAY


class Ledger:
    def __init__(self, factory: Any, rng: random.Random):
        self.factory, self.rng = factory, rng
        self.destination = factory.new_id("bank_account")
        self._due: list[tuple[int, int, int, str]] = []  # (when, what, sequence, object id)
        self._sequence = itertools.count()
        self.unpaid: list[str] = []  # available transactions no payout has taken yet, oldest first
        self.paid_out: dict[str, list[str]] = {}  # an automatic payout's transactions, listed once reconciled
        self._earliest: int | None = None  # the first movement's time: payouts run from the midnight after it
        self._now: int | None = None  # how far the ledger has run
        self._runs_started = False

    def bind(self, get: Get, put: Put, emit: Emit) -> None:
        """Where objects are read and written and events sent: generation's lists, then a dataset's tables."""
        self._get, self._put, self._emit = get, put, emit

    def _at(self, when: int, what: int, object_id: str = "") -> None:
        heapq.heappush(self._due, (when, what, next(self._sequence), object_id))

    # -- money moving ------------------------------------------------------------------------

    def record(self, at: int, kind: str, source: str, amount: int, currency: str, *, txn_id: str | None = None,
               fee: int = 0, available_on: int | None = None, category: str | None = None,
               paid_out_by_next_payout: bool = True) -> dict[str, Any]:  # fmt: skip
        """Generation records its history out of time order: what a movement adds to the balance waits in the queue
        for its time, unless the ledger has run past it."""
        if available_on is None:
            available_on = midnight(at) + AVAILABLE_AFTER if amount > 0 else at
        txn = self.factory.balance_transaction(
            txn_id, at, available_on, kind, source, amount, currency, fee=fee, category=category
        )
        self._put("balance_transactions", txn)
        if paid_out_by_next_payout and self._now is not None and available_on <= self._now:
            self._settle(txn["id"])
        elif paid_out_by_next_payout:
            self._at(available_on, SETTLE, txn["id"])
        self._earliest = at if self._earliest is None else min(self._earliest, at)
        return txn

    def charged(self, charge: dict[str, Any], at: int) -> dict[str, Any]:
        """A payment's money, available two midnights after the charge was made."""
        fee = round(charge["amount"] * 0.029) + 30
        return self.record(at, "charge", charge["id"], charge["amount"], charge["currency"], txn_id=charge["balance_transaction"],
                           fee=fee, available_on=midnight(charge["created"]) + AVAILABLE_AFTER)  # fmt: skip

    def refunded(self, refund: dict[str, Any], at: int) -> dict[str, Any]:
        return self.record(at, "refund", refund["id"], -refund["amount"], refund["currency"], txn_id=refund["balance_transaction"])

    def refund_failed(self, refund: dict[str, Any], at: int) -> dict[str, Any]:
        return self.record(at, "refund_failure", refund["id"], refund["amount"], refund["currency"], available_on=at)

    def dispute_withdrew(self, dispute: dict[str, Any], at: int) -> dict[str, Any]:
        return self.record(at, "adjustment", dispute["id"], -dispute["amount"], dispute["currency"], fee=DISPUTE_FEE)

    def dispute_reinstated(self, dispute: dict[str, Any], at: int) -> dict[str, Any]:
        return self.record(at, "adjustment", dispute["id"], dispute["amount"], dispute["currency"], fee=-DISPUTE_FEE,
                           available_on=at, category="dispute_reversal")  # fmt: skip

    def available_balance(self) -> int:
        return sum(self._get("balance_transactions", txn_id)["net"] for txn_id in self.unpaid)

    def pay_out(self, at: int, amount: int, *, automatic: bool = False, method: str = "standard") -> dict[str, Any]:
        """A payout of `amount` from the available balance; a manual one's own transaction goes with the next
        automatic payout, an automatic one takes every available transaction with it."""
        payout = self.factory.payout(at, amount, automatic=automatic, method=method,
                                     arrival_date=at + ARRIVES_AFTER[method], destination=self.destination)  # fmt: skip
        # An automatic payout's own transaction goes out with it; a manual one's, with the next automatic payout.
        txn = self.record(at, "payout", payout["id"], -amount, payout["currency"], available_on=at,
                          paid_out_by_next_payout=not automatic)  # fmt: skip
        payout["balance_transaction"] = txn["id"]
        if automatic:
            self.paid_out[payout["id"]] = [*self.unpaid, txn["id"]]
            self.unpaid = []
        self._put("payouts", payout)
        self._emit(at, "payout.created", payout)
        self._at(at + IN_TRANSIT_AFTER, IN_TRANSIT, payout["id"])
        self._at(payout["arrival_date"], ARRIVE, payout["id"])
        return payout

    def cancel(self, payout: dict[str, Any], at: int) -> dict[str, Any]:
        txn = self.record(at, "payout_cancel", payout["id"], payout["amount"], payout["currency"], available_on=at)
        return {"status": "canceled", "failure_balance_transaction": txn["id"]}

    # -- time passing ------------------------------------------------------------------------

    def advance(self, now: int) -> None:
        if not self._runs_started and self._earliest is not None:
            self._runs_started = True
            self._at(midnight(self._earliest) + DAY, PAYOUT_RUN)
        self._now = now
        while self._due and self._due[0][0] <= now:
            when, what, _, object_id = heapq.heappop(self._due)
            if what == SETTLE:
                self._settle(object_id)
            elif what == PAYOUT_RUN:
                self._payout_run(when)
            elif what == IN_TRANSIT:
                self._in_transit(self._get("payouts", object_id))
            elif what == ARRIVE:
                self._arrive(self._get("payouts", object_id), when)
            else:
                self._reconcile(self._get("payouts", object_id), when)

    def _settle(self, txn_id: str) -> None:
        txn = self._get("balance_transactions", txn_id)
        if txn["status"] == "pending":
            self._put("balance_transactions", {**txn, "status": "available"})
        self.unpaid.append(txn_id)

    def _payout_run(self, at: int) -> None:
        self._at(at + DAY, PAYOUT_RUN)
        if self.rng.random() < INSTANT_PAYOUT_SHARE and self.available_balance() > 200:
            self.pay_out(at, self.available_balance() // 2, method="instant")
        balance = self.available_balance()
        if balance > 0:
            self.pay_out(at, balance, automatic=True)

    def _in_transit(self, payout: dict[str, Any]) -> None:
        if payout["status"] == "pending":  # not canceled meanwhile; Stripe sends no event for it
            self._put("payouts", {**payout, "status": "in_transit"})

    def _arrive(self, payout: dict[str, Any], at: int) -> None:
        if payout["status"] == "canceled":
            return
        if self.rng.random() < FAILED_PAYOUT_SHARE:
            returned = self.record(at, "payout_failure", payout["id"], payout["amount"], payout["currency"], available_on=at)
            changed = {**payout, "status": "failed", "failure_balance_transaction": returned["id"],
                       "failure_code": "account_closed", "failure_message": "The bank account has been closed."}  # fmt: skip
            self._put("payouts", changed)
            self._emit(at, "payout.failed", changed)
        else:
            changed = {**payout, "status": "paid"}
            self._put("payouts", changed)
            self._emit(at, "payout.paid", changed)
        if changed["automatic"]:
            self._at(at + RECONCILED_AFTER, RECONCILE, payout["id"])

    def _reconcile(self, payout: dict[str, Any], at: int) -> None:
        changed = {**payout, "reconciliation_status": "completed"}
        self._put("payouts", changed)
        self._emit(at, "payout.reconciliation_completed", changed)
        for txn_id in self.paid_out[payout["id"]]:
            self._put("payout_balance_transactions", {**self._get("balance_transactions", txn_id), "payout": payout["id"]})
