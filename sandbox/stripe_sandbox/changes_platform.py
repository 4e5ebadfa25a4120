"""Creates and updates of a platform's transfers, fees and top-ups, of Radar's reviews and early fraud warnings, and of
files and their links, with the events Stripe sends for them (part of Dataset, see dataset.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .history_platform import TOPUP_EVENTS
from .objects_platform import with_fee_refunds, with_reversals
from .store import AdminError


def _only(table: str, fields: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    if set(fields) - allowed:
        raise AdminError(400, f"Only a {table} object's {', '.join(sorted(allowed))} change")
    return fields


class PlatformChanges:
    def _embedding_anew(self, parents: str, rows: str, parent_id: str, embed: Callable[..., dict[str, Any]]) -> dict[str, Any]:
        """The parent of `rows` (a transfer of its reversals, a fee of its refunds) embedding them as they are now."""
        embedding = embed(self.tables[parents].objects[parent_id], [self.tables[rows].objects[key[-1]] for key in self.tables[rows].keys(parent_id)])
        self.tables[parents].put(embedding)
        return embedding

    @staticmethod
    def _left(parent: dict[str, Any], returned: str, asked: Any, what: str) -> int:
        """What is asked back of `parent` (by default all that is left after what was `returned`), if that much is left."""
        left = parent["amount"] - parent[returned]
        amount = left if asked is None else int(asked)
        if not 0 < amount <= left:
            raise AdminError(400, f"{what} amount exceeds what is left of the {parent['object'].replace('_', ' ')}")
        return amount

    # -- transfers and their reversals ---------------------------------------------------------------------------

    def _new_transfers(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """Money sent to a connected account (one the platform lists, unless named), out of the balance at once."""
        destination = fields.pop("destination", None) or self._pick("accounts", None)["id"]
        amount = int(fields.pop("amount", self.factory.amount() * 5))
        obj = self._finish_new("transfers", self.factory.transfer(created, amount, destination), fields)
        self.ledger.record(now, "transfer", obj["id"], -amount, obj["currency"], txn_id=obj["balance_transaction"], available_on=now)
        self._emit(now, "transfer.created", obj)
        return obj

    def _revise_transfers(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        return _only("transfer", fields, {"description", "metadata"})

    def _updated_transfers(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "transfer.updated", new, previous)

    def _new_transfer_reversals(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """Part (`amount`) or, by default, all of what is left of a transfer taken back: the transfer embeds it."""
        transfer = self._pick("transfers", fields.pop("transfer", None), lambda t: not t["reversed"])
        amount = self._left(transfer, "amount_reversed", fields.pop("amount", None), "Transfer reversal")
        obj = self._finish_new("transfer_reversals", self.factory.transfer_reversal(created, transfer, amount), fields)
        self.ledger.record(now, "transfer_refund", obj["id"], amount, obj["currency"], txn_id=obj["balance_transaction"], available_on=now)
        self._emit(now, "transfer.reversed", self._embedding_anew("transfers", "transfer_reversals", transfer["id"], with_reversals))
        return obj

    def _revise_transfer_reversals(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        return _only("transfer reversal", fields, {"metadata"})

    def _updated_transfer_reversals(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        # Stripe sends no event for it, but its transfer embeds it as it is now.
        self._embedding_anew("transfers", "transfer_reversals", new["transfer"], with_reversals)

    # -- application fees and their refunds ----------------------------------------------------------------------

    def _new_application_fees(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """The fee on a connected account's charge, made with it (see SandboxState.take_fee): `charge` is that charge."""
        charge = fields.pop("charge")
        application = next((fee["application"] for fee in self.tables["application_fees"].objects.values()), None)
        fee = self.factory.application_fee(created, charge, fields.pop("account"), application or self.factory.new_id("application"))
        obj = self._finish_new("application_fees", fee, fields)
        self.ledger.record(now, "application_fee", obj["id"], obj["amount"], obj["currency"], txn_id=obj["balance_transaction"])
        self._emit(now, "application_fee.created", obj)
        return obj

    def _new_application_fees_refunds(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        fee = self._pick("application_fees", fields.pop("fee", None), lambda f: not f["refunded"])
        amount = self._left(fee, "amount_refunded", fields.pop("amount", None), "Refund")
        obj = self._finish_new("application_fees_refunds", self.factory.fee_refund(created, fee, amount), fields)
        self.ledger.record(now, "application_fee_refund", obj["id"], -amount, obj["currency"], txn_id=obj["balance_transaction"], available_on=now)
        self._emit(now, "application_fee.refunded", self._embedding_anew("application_fees", "application_fees_refunds", fee["id"], with_fee_refunds))
        return obj

    def _revise_application_fees_refunds(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        return _only("fee refund", fields, {"metadata"})

    def _updated_application_fees_refunds(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._embedding_anew("application_fees", "application_fees_refunds", new["fee"], with_fee_refunds)
        self._emit(now, "application_fee.refund.updated", new, previous)

    # -- top-ups ---------------------------------------------------------------------------------------------------

    def _new_top_ups(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("top_ups", self.factory.topup(created, "pending"), fields)
        self._emit(now, "topup.created", obj)
        return obj

    def _revise_top_ups(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        _only("top-up", fields, {"status", "description", "metadata"})
        status = fields.get("status", current["status"])
        if status != current["status"] and (current["status"] != "pending" or status not in TOPUP_EVENTS):
            raise AdminError(400, f"A {current['status']} top-up cannot become {status}")
        if status == "succeeded" and current["status"] == "pending":
            return {**fields, "balance_transaction": self.factory.new_id("balance_transaction")}
        return fields

    def _updated_top_ups(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        # Stripe has no topup.updated: a new description or metadata sends nothing.
        if new["status"] != old["status"]:
            if new["balance_transaction"]:
                self.ledger.record(now, "topup", new["id"], new["amount"], new["currency"], txn_id=new["balance_transaction"])
            self._emit(now, TOPUP_EVENTS[new["status"]], new)

    # -- Radar -----------------------------------------------------------------------------------------------------

    def _new_reviews(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A payment Radar holds for review as it is made: a new charge, naming its review from the start."""
        review_id = self.factory.new_id("review")
        charge = self._new_charges(created, {"review": review_id}, now)
        obj = self._finish_new("reviews", {**self.factory.review(created, charge), "id": review_id}, fields)
        self._emit(now, "review.opened", obj)
        return obj

    def _revise_reviews(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        _only("review", fields, {"closed_reason"})
        if not current["open"]:
            raise AdminError(400, "This review is already closed")
        return {**fields, "open": False}

    def _updated_reviews(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "review.closed", new)

    def _new_early_fraud_warnings(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        warned = {w["charge"] for w in self.tables["early_fraud_warnings"].objects.values()}
        charge = self._pick("charges", fields.pop("charge", None), lambda c: c["status"] == "succeeded" and c["id"] not in warned)
        obj = self._finish_new("early_fraud_warnings", self.factory.early_fraud_warning(created, charge), fields)
        self._emit(now, "radar.early_fraud_warning.created", obj)
        return obj

    def _revise_early_fraud_warnings(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        return _only("early fraud warning", fields, {"actionable"})

    def _updated_early_fraud_warnings(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "radar.early_fraud_warning.updated", new, previous)

    # -- files -----------------------------------------------------------------------------------------------------

    def _new_files(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("files", self.factory.file(created), fields)
        self._emit(now, "file.created", obj)
        return obj

    def _new_file_links(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A link to a file (Stripe sends no events for links), expiring at `expires_at` if given."""
        file = self._pick("files", fields.pop("file", None))
        link = self.factory.file_link(created, file["id"], fields.pop("expires_at", None), now)
        return self._finish_new("file_links", link, fields)

    def _revise_file_links(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        _only("file link", fields, {"expires_at", "metadata"})
        if current["expired"]:
            raise AdminError(400, "Expired links can no longer be updated")
        if "expires_at" in fields:
            return {**fields, "expired": fields["expires_at"] is not None and fields["expires_at"] <= now}
        return fields

    def _expire_file_links(self, now: int) -> None:
        """A link's expiry passing sends no event: only its `expired` says so."""
        links = self.tables["file_links"]
        for link in [link for link in links.objects.values() if not link["expired"] and (link["expires_at"] or now + 1) <= now]:
            links.put({**link, "expired": True})
