"""Creates, updates and deletes of customers' payment methods, credit balance transactions and ACH bank accounts, with
the events Stripe sends for them (part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .changes_catalog import deleted
from .store import AdminError


class WalletChanges:
    def _new_payment_methods(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A card attached to a customer."""
        customer = self._pick("customers", fields.pop("customer", None))
        obj = self._finish_new("payment_methods", self.factory.payment_method(created, customer["id"]), fields)
        self._emit(now, "payment_method.attached", obj)
        return obj

    def _revise_payment_methods(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"billing_details", "metadata", "card"}:
            raise AdminError(400, "Only a payment method's billing details, metadata and card expiry change; delete it to detach it")
        return {**fields, "card": {**current["card"], **fields["card"]}} if "card" in fields else fields

    def _updated_payment_methods(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "payment_method.updated", new, previous)

    def _delete_payment_methods(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        """Detaching: the method leaves its customer's list, and Stripe keeps it, naming no customer."""
        self.tables["payment_methods"].remove(current["id"])
        self._emit(now, "payment_method.detached", {**current, "customer": None})
        return deleted(current)

    def _new_customer_balance_transactions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A credit (negative `amount`) or debit by hand; the customer's balance follows, with customer.updated."""
        customer = self._pick("customers", fields.pop("customer", None))
        amount = int(fields.pop("amount", -1000))
        balance = customer["balance"] + amount
        txn = self.factory.customer_balance_transaction(created, customer["id"], amount, balance, "adjustment")
        obj = self._finish_new("customer_balance_transactions", txn, fields)
        self.update("customers", customer["id"], {"balance": balance}, now)
        return obj

    def _revise_customer_balance_transactions(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        # Stripe sends no event for it: only a read of the customer's list again sees the change.
        if set(fields) - {"description", "metadata"}:
            raise AdminError(400, "Only a customer balance transaction's description and metadata change")
        return fields

    def _new_bank_accounts(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A bank account saved to a customer for ACH debits (a source: it has no creation time of its own)."""
        customer = self._pick("customers", fields.pop("customer", None))
        saved = self.factory.bank_account(customer=customer["id"], holder=customer["name"] or "Account holder")
        obj = self._finish_new("bank_accounts", saved, fields)
        self._emit(now, "customer.source.created", obj)
        return obj

    def _revise_bank_accounts(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"account_holder_name", "metadata", "status"}:
            raise AdminError(400, "Only a bank account's holder name, metadata and (by verifying it) status change")
        return fields

    def _updated_bank_accounts(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "customer.source.updated", new, previous)

    def _delete_bank_accounts(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        self.tables["bank_accounts"].remove(current["id"])
        self._emit(now, "customer.source.deleted", current)
        return deleted(current)
