"""The history of a Connect platform's money (transfers to its connected accounts, a few reversed; fees on the larger
accounts' charges, a few refunded; top-ups of its balance), of Radar's reviews and early fraud warnings on charges,
and of uploaded files and their links (part of Generator, see data.py).

It is generated after everything else, so that adding it left the other tables' random draws as they were. The money
it moves was paid out long ago: it is recorded without joining a payout the ledger has yet to make."""

from __future__ import annotations

from typing import Any

from .objects_platform import with_fee_refunds, with_reversals
from .realism import DAY, weighted

TOPUP_STATUSES = (("succeeded", 0.85), ("failed", 0.05), ("canceled", 0.05), ("pending", 0.05))
TOPUP_EVENTS = {"succeeded": "topup.succeeded", "failed": "topup.failed", "canceled": "topup.canceled"}
REVIEW_CLOSED_REASONS = ("approved", "approved", "refunded", "refunded_as_fraud", "disputed")
FEE_SHARE = 0.1  # of a charge, the platform's application fee


class PlatformHistory:
    def platform(self) -> None:
        """Money moves only on a platform, to or from its `connected` accounts; it takes fees on `connected_charges`,
        made before the event window (so that no event of theirs shows a charge without its fee)."""
        if self.connected:
            self.application_id = self.factory.new_id("application")
            self._transfers(self.connected)
            self._top_ups()
            for account, charges in sorted(self.connected_charges.items()):
                self._application_fees(account, charges)
        self._radar()
        self._files()

    def _record(self, at: int, kind: str, source: str, amount: int, txn_id: str | None) -> None:
        self.ledger.record(at, kind, source, amount, "usd", txn_id=txn_id, available_on=at, paid_out_by_next_payout=False)

    def _transfers(self, connected: tuple[str, ...]) -> None:
        rng, factory, moments = self.rng, self.factory, self.moments()
        for n in range(self.count("transfers")):
            transfer = factory.transfer(moments.next(), factory.amount() * 5, rng.choice(connected))
            self._record(transfer["created"], "transfer", transfer["id"], -transfer["amount"], transfer["balance_transaction"])
            changes, reversals = [], []
            if rng.random() < 0.15 or n == 0:  # however small the account, one is reversed
                for _ in range(rng.choice((1, 1, 2, 12))):  # now and then more than a transfer embeds
                    left = transfer["amount"] - sum(r["amount"] for r in reversals)
                    if left <= 0:
                        break
                    at = self.after(reversals[-1]["created"] if reversals else transfer["created"], 10 * DAY)
                    reversal = factory.transfer_reversal(at, transfer, min(left, transfer["amount"] // rng.choice((1, 4, 10))))
                    before = with_reversals(transfer, reversals)
                    reversals.append(reversal)
                    changes.append((at, ("transfer.reversed",), {key: before[key] for key in ("reversals", "amount_reversed", "reversed")}))
                    self._record(at, "transfer_refund", reversal["id"], reversal["amount"], reversal["balance_transaction"])
            final = with_reversals(transfer, reversals)
            self.timeline(final, ("transfer.created",), changes)
            self.tables["transfers"].append(final)
            self.tables["transfer_reversals"].extend(reversals)

    def _top_ups(self) -> None:
        rng, moments = self.rng, self.moments()
        for _ in range(self.count("top_ups")):
            created = moments.next()
            status = weighted(rng, TOPUP_STATUSES)
            topup = self.factory.topup(created, status)
            changes = []
            if status != "pending":
                pending = {"status": "pending", "balance_transaction": None, "failure_code": None, "failure_message": None}
                changes.append((self.after(created, 3 * DAY), (TOPUP_EVENTS[status],), pending))
            self.timeline(topup, ("topup.created",), changes)
            self.tables["top_ups"].append(topup)
            if topup["balance_transaction"]:
                self._record(topup["created"], "topup", topup["id"], topup["amount"], topup["balance_transaction"])

    def _application_fees(self, account: str, charges: list[dict[str, Any]]) -> None:
        """Fees on a third of the account's captured charges; a few refunded to it, in part or whole."""
        rng, factory = self.rng, self.factory
        application = self.application_id
        for charge in charges:
            if not charge["captured"] or rng.random() < 0.67:
                continue
            fee = factory.application_fee(charge["created"], {**charge, "application_fee_amount": round(charge["amount"] * FEE_SHARE)}, account, application)
            self._record(fee["created"], "application_fee", fee["id"], fee["amount"], fee["balance_transaction"])
            changes, refunds = [], []
            if rng.random() < 0.1 or not self.tables["application_fees_refunds"]:  # however few fees, one refunded
                at = self.after(fee["created"], 5 * DAY)
                refund = factory.fee_refund(at, fee, fee["amount"] // rng.choice((1, 2)))
                changes.append((at, ("application_fee.refunded",), {key: fee[key] for key in ("refunds", "amount_refunded", "refunded")}))
                refunds.append(refund)
                self._record(at, "application_fee_refund", refund["id"], -refund["amount"], refund["balance_transaction"])
            final = with_fee_refunds(fee, refunds)
            self.timeline(final, ("application_fee.created",), changes)
            self.tables["application_fees"].append(final)
            self.tables["application_fees_refunds"].extend(refunds)
            self.fees_taken.append((account, charge["id"], final["id"], final["amount"]))

    def _radar(self) -> None:
        """Radar holds a few captured card payments for review as they are made, most closed since; card issuers warn
        of fraud on a few, days later."""
        rng, factory = self.rng, self.factory
        for charge in self.tables["charges"]:
            if charge["status"] != "succeeded":
                continue
            if rng.random() < 0.03 or not self.tables["reviews"]:  # however few charges, one reviewed
                review = factory.review(charge["created"], charge)
                changes = []
                if rng.random() < 0.8:
                    closed = {"open": False, "closed_reason": rng.choice(REVIEW_CLOSED_REASONS)}
                    changes.append((self.after(charge["created"], DAY), ("review.closed",), {"open": True, "closed_reason": None}))
                    review.update(closed)
                self.timeline(review, ("review.opened",), changes)
                self.tables["reviews"].append(review)
                charge["review"] = review["id"]  # the charge is final here: its last event holds this very dict
            if rng.random() < 0.01 or not self.tables["early_fraud_warnings"]:  # and one warned of
                warning = factory.early_fraud_warning(self.after(charge["created"], 20 * DAY), charge)
                changes = []
                if rng.random() < 0.3:  # acted on: the charge refunded or disputed since
                    changes.append((self.after(warning["created"], 3 * DAY), ("radar.early_fraud_warning.updated",), {"actionable": True}))
                    warning["actionable"] = False
                self.timeline(warning, ("radar.early_fraud_warning.created",), changes)
                self.tables["early_fraud_warnings"].append(warning)

    def _files(self) -> None:
        """Uploads, a few shared through links: some expire, some expired already."""
        rng, factory, moments = self.rng, self.factory, self.moments()
        for _ in range(self.count("files")):
            file = factory.file(moments.next())
            self.timeline(file, ("file.created",))
            self.tables["files"].append(file)
            if rng.random() < 0.3 or not self.tables["file_links"]:  # however few files, one shared
                created = self.after(file["created"], 10 * DAY)
                expires_at = rng.choice((None, created + 30 * DAY, created + 365 * DAY))
                self.tables["file_links"].append(factory.file_link(created, file["id"], expires_at, self.now))
