"""The objects of a Connect platform's money (transfers to connected accounts and their reversals, fees on connected
accounts' charges and their refunds, top-ups of its balance), of Radar (reviews, early fraud warnings) and of files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .realism import ALNUM

EMBEDDED = 10  # rows an object embeds; the rest are listed at the embedded list's `url`
FILE_PURPOSES = (
    ("dispute_evidence", "application/pdf", "pdf"),
    ("identity_document", "image/png", "png"),
    ("business_logo", "image/png", "png"),
    ("additional_verification", "application/pdf", "pdf"),
)


class PlatformObjects:
    """Part of Factory (see factory.py)."""

    def transfer(self, created: int, amount: int, destination: str) -> dict[str, Any]:
        obj = self._base("transfer", created)
        obj.update(
            amount=amount,
            amount_reversed=0,
            reversed=False,
            currency="usd",
            destination=destination,
            destination_payment=self.new_id("destination_payment"),
            balance_transaction=self.new_id("balance_transaction"),
            description=self.rng.choice((None, "Weekly earnings", "Order payout")),
            metadata={},
            transfer_group=None,
        )
        return with_reversals(obj, [])

    def transfer_reversal(self, created: int, transfer: dict[str, Any], amount: int) -> dict[str, Any]:
        obj = self._base("transfer_reversal", created)
        obj.update(amount=amount, currency=transfer["currency"], transfer=transfer["id"],
                   balance_transaction=self.new_id("balance_transaction"), metadata={})  # fmt: skip
        return obj

    def application_fee(self, created: int, charge: dict[str, Any], account: str, application: str) -> dict[str, Any]:
        """The platform's fee on a connected account's `charge`: a tenth of it, the charge naming it as its own."""
        obj = self._base("application_fee", created)
        obj.update(
            account=account,
            amount=charge["application_fee_amount"],
            amount_refunded=0,
            refunded=False,
            application=application,
            charge=charge["id"],
            currency=charge["currency"],
            balance_transaction=self.new_id("balance_transaction"),
            originating_transaction=None,
        )
        return with_fee_refunds(obj, [])

    def fee_refund(self, created: int, fee: dict[str, Any], amount: int) -> dict[str, Any]:
        obj = self._base("fee_refund", created)
        obj.update(amount=amount, currency=fee["currency"], fee=fee["id"], balance_transaction=self.new_id("balance_transaction"), metadata={})
        return obj

    def topup(self, created: int, status: str) -> dict[str, Any]:
        obj = self._base("topup", created)
        obj.update(
            amount=self.rng.choice((10_000, 25_000, 50_000, 100_000)),
            currency="usd",
            status=status,
            description=self.rng.choice((None, "Top-up for transfers")),
            metadata={},
            expected_availability_date=created + 5 * 86_400,
            balance_transaction=self.new_id("balance_transaction") if status == "succeeded" else None,
            failure_code="insufficient_funds" if status == "failed" else None,
            failure_message="The bank account has insufficient funds." if status == "failed" else None,
            transfer_group=None,
        )
        return obj

    def review(self, created: int, charge: dict[str, Any]) -> dict[str, Any]:
        """Radar's hold on `charge`, open until closed."""
        obj = self._base("review", created)
        reason = self.rng.choice(("rule", "rule", "manual"))
        obj.update(charge=charge["id"], payment_intent=charge["payment_intent"], open=True, opened_reason=reason,
                   reason=reason, closed_reason=None, billing_zip=None)  # fmt: skip
        return obj

    def early_fraud_warning(self, created: int, charge: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("radar.early_fraud_warning", created)
        fraud_type = self.rng.choice(("unauthorized_use_of_card", "card_never_received", "misc", "made_with_stolen_card"))
        obj.update(charge=charge["id"], payment_intent=charge["payment_intent"], actionable=True, fraud_type=fraud_type)
        return obj

    def file(self, created: int) -> dict[str, Any]:
        purpose, _, extension = self.rng.choice(FILE_PURPOSES)
        obj = self._base("file", created)
        name = f"{purpose}_{self.rng.randrange(10**6):06d}.{extension}"
        # `links` is rendered only when expanded.
        obj.update(purpose=purpose, type=extension, filename=name, title=None, size=self.rng.randrange(20_000, 4_000_000),
                   expires_at=None, links=None, url=f"https://files.stripe.com/v1/files/{obj['id']}/contents")  # fmt: skip
        return obj

    def file_link(self, created: int, file: str, expires_at: int | None, now: int) -> dict[str, Any]:
        obj = self._base("file_link", created)
        token = "".join(self.rng.choices(ALNUM, k=64))
        obj.update(file=file, expires_at=expires_at, expired=expires_at is not None and expires_at <= now, metadata={},
                   url=f"https://files.stripe.com/links/{token}")  # fmt: skip
        return obj


def with_reversals(transfer: dict[str, Any], reversals: list[dict[str, Any]]) -> dict[str, Any]:
    amount = sum(r["amount"] for r in reversals)
    embedded = first_page(reversals, f"/v1/transfers/{transfer['id']}/reversals")
    return {**transfer, "reversals": embedded, "amount_reversed": amount, "reversed": amount >= transfer["amount"]}


def with_fee_refunds(fee: dict[str, Any], refunds: list[dict[str, Any]]) -> dict[str, Any]:
    amount = sum(r["amount"] for r in refunds)
    embedded = first_page(refunds, f"/v1/application_fees/{fee['id']}/refunds")
    return {**fee, "refunds": embedded, "amount_refunded": amount, "refunded": amount >= fee["amount"]}


def first_page(rows: list[dict[str, Any]], url: str, key: Callable[[dict[str, Any]], Any] = lambda row: (row["created"], row["id"])) -> dict[str, Any]:
    """The list an object embeds: the first page of its `url`, newest first by `key`."""
    newest_first = sorted(rows, key=key, reverse=True)
    return {"object": "list", "data": newest_first[:EMBEDDED], "has_more": len(rows) > EMBEDDED, "url": url}
