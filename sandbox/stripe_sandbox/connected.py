"""What a platform sees of each account it controls besides the account itself: the persons behind it and the
external accounts it is paid out to, the same in live and test mode (Stripe keeps them with the account)."""

from __future__ import annotations

import random
from typing import Any

from .factory import Factory
from .objects_platform import first_page
from .spec import Spec

PERSONS, BANK_ACCOUNTS, CARDS = "persons", "external_account_bank_accounts", "external_account_cards"


class ConnectedAccountObjects:
    def __init__(self, spec: Spec, seed: int):
        self._factory = Factory(spec, random.Random(f"stripe-sandbox/{seed}/connected-objects"), livemode=True)
        self.rows: dict[str, dict[str, list[dict[str, Any]]]] = {}  # account -> table -> rows

    def add(self, account: dict[str, Any]) -> dict[str, Any]:
        """`account` with the persons and external accounts of its own, which it embeds the first page of, when the
        platform controls it (Stripe shows a platform those of Custom and Express accounts only)."""
        if not (account.get("controller") or {}).get("is_controller"):
            return account
        factory, rng, account_id = self._factory, self._factory.rng, account["id"]
        name = account["business_profile"]["name"]
        persons = [factory.person(account["created"], account_id, representative=True)]
        persons += [factory.person(account["created"], account_id, representative=False) for _ in range(rng.choice((0, 1, 2)))]
        banks = [factory.bank_account(account=account_id, holder=name)]
        cards = [factory.debit_card(account_id, account["created"])] if len(self.rows) % 2 else []  # every other one
        self.rows[account_id] = {PERSONS: persons, BANK_ACCOUNTS: banks, CARDS: cards}
        external = first_page(banks + cards, f"/v1/accounts/{account_id}/external_accounts", key=lambda row: row["id"])
        return {**account, "external_accounts": external}

    def put_into(self, tables: dict[str, Any], account_id: str) -> None:
        for table, rows in self.rows.get(account_id, {}).items():
            for row in rows:
                tables[table].put(row)
