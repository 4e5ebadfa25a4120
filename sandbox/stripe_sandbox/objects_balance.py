"""The objects of an account's balance: balance transactions and payouts."""

from __future__ import annotations

from typing import Any

# The account settles in one currency: a payment in another is converted at the day's rate, which the balance
# transaction keeps as `exchange_rate`.
SETTLEMENT_CURRENCY = "usd"
RATES_TO_SETTLEMENT = {"usd": None, "eur": 1.08, "gbp": 1.27}

# What Stripe's reporting calls each kind of movement (reporting_category), by the transaction's type.
REPORTING_CATEGORIES = {
    "charge": "charge",
    "refund": "refund",
    "refund_failure": "refund_failure",
    "adjustment": "dispute",
    "payout": "payout",
    "payout_failure": "payout_reversal",
    "payout_cancel": "payout_reversal",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "application_fee": "platform_earning",
    "application_fee_refund": "platform_earning_refund",
    "topup": "topup",
}


class BalanceObjects:
    """Part of Factory (see factory.py)."""

    def balance_transaction(
        self,
        txn_id: str | None,
        created: int,
        available_on: int,
        kind: str,
        source: str,
        amount: int,
        currency: str,
        *,
        fee: int = 0,
        category: str | None = None,
    ) -> dict[str, Any]:
        """Money moving in (a positive amount) or out of the balance, in the settlement currency, fees taken from it."""
        obj = self._base("balance_transaction", created)
        if txn_id is not None:
            self.claim_id(txn_id)
            obj["id"] = txn_id
        rate = RATES_TO_SETTLEMENT[currency]
        settled = amount if rate is None else round(amount * rate)
        obj.update(
            amount=settled,
            available_on=available_on,
            currency=SETTLEMENT_CURRENCY,
            description=None,
            exchange_rate=rate,
            fee=fee,
            fee_details=[
                {
                    "amount": fee,
                    "application": None,
                    "currency": SETTLEMENT_CURRENCY,
                    "description": "Stripe processing fees" if kind == "charge" else "Dispute fee",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else [],
            net=settled - fee,
            reporting_category=category or REPORTING_CATEGORIES[kind],
            source=source,
            status="available" if available_on <= created else "pending",
            type=kind,
        )
        return obj

    def payout(
        self, created: int, amount: int, *, automatic: bool, method: str, arrival_date: int, destination: str
    ) -> dict[str, Any]:
        obj = self._base("payout", created)
        obj.update(
            amount=amount,
            arrival_date=arrival_date,
            automatic=automatic,
            balance_transaction=None,
            currency=SETTLEMENT_CURRENCY,
            description="STRIPE PAYOUT",
            destination=destination,
            method=method,
            reconciliation_status="in_progress" if automatic else "not_applicable",
            status="pending",
            metadata={},
        )
        return obj
