"""Creates and updates of Stripe Issuing's cardholders, cards, authorizations and transactions, with the events Stripe
sends for them. What embeds a changed object (a card its cardholder, an authorization its card and transactions)
changes with it, without an event of its own (part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .objects_issuing import with_transactions
from .store import AdminError


class IssuingChanges:
    def _embed_anew(self, table: str, field: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows of `table` embedding `obj` in `field`, rendered with it as it is now."""
        rows, changed = self.tables[table], []
        for row in [row for row in rows.objects.values() if row[field]["id"] == obj["id"]]:
            changed.append({**row, field: obj})
            rows.put(changed[-1])
        return changed

    def _transactions_of(self, authorization: dict[str, Any]) -> list[dict[str, Any]]:
        return [txn for txn in self.tables["transactions"].objects.values() if txn["authorization"] == authorization["id"]]

    def _new_cardholders(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("cardholders", self.factory.cardholder(created), fields)
        self._emit(now, "issuing_cardholder.created", obj)
        return obj

    def _revise_cardholders(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"email", "phone_number", "status", "metadata"}:
            raise AdminError(400, "Only a cardholder's email, phone number, status and metadata change here")
        return fields

    def _updated_cardholders(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "issuing_cardholder.updated", new, previous)
        for card in self._embed_anew("cards", "cardholder", new):
            self._embed_anew("authorizations", "card", card)

    def _new_cards(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        cardholder = self._pick("cardholders", fields.pop("cardholder", None), lambda c: c["status"] == "active")
        obj = self._finish_new("cards", self.factory.issuing_card(created, cardholder), fields)
        self._emit(now, "issuing_card.created", obj)
        return obj

    def _revise_cards(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"status", "cancellation_reason", "metadata"}:
            raise AdminError(400, "Only a card's status, cancellation reason and metadata change here")
        if current["status"] == "canceled":
            raise AdminError(400, "A canceled card cannot be changed")
        return fields

    def _updated_cards(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "issuing_card.updated", new, previous)
        self._embed_anew("authorizations", "card", new)

    def _new_authorizations(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A purchase approved on an active card, pending until captured (status closed) or reversed."""
        card = self._pick("cards", fields.pop("card", None), lambda c: c["status"] == "active")
        obj = self._finish_new("authorizations", self.factory.authorization(created, card, approved=True), fields)
        self._emit(now, "issuing_authorization.created", obj)
        return obj

    def _revise_authorizations(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"status", "metadata"}:
            raise AdminError(400, "Only an authorization's status (closed: captured, or reversed) and metadata change here")
        status = fields.get("status", current["status"])
        if status != current["status"] and (current["status"] != "pending" or status not in ("closed", "reversed")):
            raise AdminError(400, f"A {current['status']} authorization cannot become {status}")
        if status == "reversed" and current["status"] == "pending":
            return {**fields, "amount": 0}
        if status == "closed" and current["status"] == "pending":
            capture = self.factory.issuing_transaction(now, current, "capture", -current["amount"])
            self.tables["transactions"].put(capture)
            self._emit(now, "issuing_transaction.created", capture)
            return {**fields, "transactions": [capture]}
        return fields

    def _updated_authorizations(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "issuing_authorization.updated", new, previous)

    def _new_transactions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A refund of a captured purchase: its authorization lists it among its transactions, without an event."""
        authorization = self._pick("authorizations", fields.pop("authorization", None), lambda a: a["status"] == "closed" and a["approved"])
        refund = self.factory.issuing_transaction(created, authorization, "refund", authorization["amount"])
        obj = self._finish_new("transactions", refund, fields)
        self._emit(now, "issuing_transaction.created", obj)
        self.tables["authorizations"].put(with_transactions(authorization, self._transactions_of(authorization)))
        return obj

    def _revise_transactions(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"metadata"}:
            raise AdminError(400, "Only a transaction's metadata changes")
        return fields

    def _updated_transactions(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "issuing_transaction.updated", new, previous)
        authorization = self.tables["authorizations"].objects[new["authorization"]]
        self.tables["authorizations"].put(with_transactions(authorization, self._transactions_of(authorization)))
