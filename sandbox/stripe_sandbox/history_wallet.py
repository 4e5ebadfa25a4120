"""The history of customers' wallets: the cards saved to them (a few later renewed by the card network, a few
removed), the customer's default among them, the transactions of their credit balances, and the bank accounts a few
saved for ACH debits through the older Sources API (part of Generator, see data.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .realism import DAY


class WalletHistory:
    def wallets(self) -> None:
        """After the rest, so that adding them left the other tables' random draws as they were."""
        invoices_of: dict[str, list[str]] = defaultdict(list)
        for invoice in self.tables["invoices"]:
            invoices_of[invoice["customer"]].append(invoice["id"])
        for customer in self.tables["customers"]:
            self._payment_methods(customer)
            self._balance(customer, invoices_of[customer["id"]])

    def _payment_methods(self, customer: dict[str, Any]) -> None:
        rng, factory = self.rng, self.factory
        if rng.random() < 0.45:
            return
        methods = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            method = factory.payment_method(self.after(customer["created"], 30 * DAY), customer["id"])
            changes = []
            if rng.random() < 0.05:  # an expiring card the network renewed
                changes.append((self.recent(method["created"], 25 * DAY), ("payment_method.automatically_updated",), {"card": method["card"]}))
                method = factory.renewed_card(method)
            self.timeline(method, ("payment_method.attached",), changes)
            methods.append(method)
        self.tables["payment_methods"].extend(methods)
        customer["invoice_settings"] = {**customer["invoice_settings"], "default_payment_method": methods[0]["id"]}
        if rng.random() < 0.05:  # a card removed from the wallet: gone from its customer's list, its events remain
            removed = factory.payment_method(self.after(customer["created"], 30 * DAY), customer["id"])
            self.timeline(removed, ("payment_method.attached",))
            self.emit(self.recent(removed["created"], 20 * DAY), "payment_method.detached", {**removed, "customer": None})

    def _balance(self, customer: dict[str, Any], invoices: list[str]) -> None:
        """A balance that is not zero was granted by hand; a few customers used up a credit on an invoice since."""
        factory, transactions = self.factory, self.tables["customer_balance_transactions"]
        granted_at = self.after(customer["created"], DAY)
        if customer["balance"]:
            balance = customer["balance"]
            transactions.append(factory.customer_balance_transaction(granted_at, customer["id"], balance, balance, "adjustment"))
        elif invoices and self.rng.random() < 0.05:
            credit = -self.rng.choice((500, 1000, 2500))
            transactions.append(factory.customer_balance_transaction(granted_at, customer["id"], credit, credit, "adjustment"))
            used_at = self.after(granted_at, 30 * DAY)
            invoice = self.rng.choice(invoices)
            transactions.append(factory.customer_balance_transaction(used_at, customer["id"], -credit, 0, "applied_to_invoice", invoice))

    def ach_bank_accounts(self) -> None:
        """Generated after everything else, so that adding them left the other tables' random draws as they were. A
        few were removed since: gone from the customer's sources, their events remain. A few other customers saved a
        card as a source, whose customer.source.* events are a bank account's kind too (cards are not a table here)."""
        for n, customer in enumerate(self.tables["customers"]):
            if self.rng.random() < 0.02 or n == 0:  # however small the account, one lately
                card = self.factory.card_source(customer["id"], customer["created"])
                self.emit(self.recent(customer["created"], 20 * DAY), "customer.source.created", card)
        for n, customer in enumerate(self.tables["customers"]):
            if self.rng.random() < 0.04 or n == 0:  # however small the account, one has
                holder = customer["name"] or "Account holder"
                saved = self.factory.bank_account(customer=customer["id"], holder=holder)
                created = self.after(customer["created"], 60 * DAY)
                self.emit(created, "customer.source.created", saved)
                if self.rng.random() < 0.1 and n:
                    self.emit(self.after(created, 30 * DAY), "customer.source.deleted", saved)
                else:
                    self.tables["bank_accounts"].append(saved)
