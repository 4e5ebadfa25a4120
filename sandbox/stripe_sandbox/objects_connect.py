"""The objects a platform sees of the accounts it controls besides the accounts themselves (the persons behind each,
and the external accounts it is paid out to), and the bank accounts customers save through the older Sources API."""

from __future__ import annotations

from typing import Any

from .realism import ALNUM, FIRST_NAMES, LAST_NAMES

BANKS = ("STRIPE TEST BANK", "Wells Fargo", "Chase", "Bank of America", "Citibank")


class ConnectObjects:
    """Part of Factory (see factory.py)."""

    def person(self, created: int, account: str, *, representative: bool) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        obj = self._base("person", created)
        owner = not representative or rng.random() < 0.5
        obj.update(
            account=account,
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@example.com".lower(),
            relationship={**obj["relationship"], "representative": representative, "executive": representative,
                          "owner": owner, "percent_ownership": rng.choice((25, 50, 100)) if owner else None,
                          "title": "CEO" if representative else None},  # fmt: skip
            verification={**obj["verification"], "status": "verified"},
        )
        return obj

    def bank_account(self, *, account: str | None = None, customer: str | None = None, holder: str) -> dict[str, Any]:
        """An account's payout bank account (`account`), or a customer's for ACH debits (`customer`)."""
        obj = self._base("bank_account", None)
        obj.update(
            account=account,
            customer=customer,
            account_holder_name=holder,
            account_holder_type="company" if account else "individual",
            bank_name=self.rng.choice(BANKS),
            last4=f"{self.rng.randrange(10**4):04d}",
            fingerprint="".join(self.rng.choices(ALNUM, k=16)),
            status="new" if customer else "verified",
            metadata={},
        )
        if account:
            obj.update(default_for_currency=True, available_payout_methods=["standard"])
        return obj

    def debit_card(self, account: str, created: int) -> dict[str, Any]:
        """A debit card an account can be paid out to instantly."""
        return {**self._card(created, "debit"), "account": account, "customer": None, "currency": "usd",
                "default_for_currency": False, "available_payout_methods": ["standard", "instant"]}  # fmt: skip

    def card_source(self, customer: str, created: int) -> dict[str, Any]:
        """A card a customer saved through the older Sources API (its events are customer.source.*, as a bank
        account's)."""
        return {**self._card(created, "credit"), "account": None, "customer": customer}

    def _card(self, created: int, funding: str) -> dict[str, Any]:
        obj = self._base("card", None)
        obj.update(
            brand="Visa",
            funding=funding,
            last4=f"{self.rng.randrange(10**4):04d}",
            exp_month=self.rng.randrange(1, 13),
            exp_year=1970 + created // (365 * 86_400) + 4,
            fingerprint="".join(self.rng.choices(ALNUM, k=16)),
            metadata={},
        )
        return obj
