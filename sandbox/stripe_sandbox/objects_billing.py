"""The objects of an account's billing: invoices, their line items, invoice items, credit notes and their lines, and
tax rates."""

from __future__ import annotations

from typing import Any

from .realism import ADJECTIVES, DAY

LINES_EMBEDDED = 10  # an invoice embeds the first page of its lines; the rest are listed at its `lines.url`
ONE_OFF_CHARGES = ("Setup fee", "Onboarding", "Extra seats", "Overage", "Consulting hours", "Hardware")
# (country, state, display name, tax type, percentage) of taxes an account commonly collects.
TAXES = (
    ("DE", None, "VAT", "vat", 19.0),
    ("FR", None, "TVA", "vat", 20.0),
    ("GB", None, "VAT", "vat", 20.0),
    ("IE", None, "VAT", "vat", 23.0),
    ("US", "CA", "Sales tax", "sales_tax", 7.25),
    ("US", "NY", "Sales tax", "sales_tax", 4.0),
    ("AU", None, "GST", "gst", 10.0),
    ("CA", "BC", "PST", "pst", 7.0),
)


class BillingObjects:
    """Part of Factory (see factory.py)."""

    def invoice(self, created: int, customer: dict[str, Any], subscription: dict[str, Any] | None, period: tuple[int, int]) -> dict[str, Any]:
        """A draft invoice (no lines yet): `finalized` and `settled` turn it into what it later becomes."""
        obj = self._base("invoice", created)
        collection = subscription["collection_method"] if subscription else "send_invoice"
        obj.update(
            customer=customer["id"],
            customer_email=customer["email"],
            customer_name=customer["name"],
            subscription=subscription and subscription["id"],
            currency=subscription["currency"] if subscription else "usd",
            collection_method=collection,
            billing_reason="subscription_cycle" if subscription else "manual",
            period_start=period[0],
            period_end=period[1],
            due_date=created + 30 * DAY if collection == "send_invoice" else None,
            auto_advance=True,
            status="draft",
            number=None,
            paid=False,
            attempted=False,
            attempt_count=0,
            amount_paid=0,
            charge=None,
            payment_intent=None,
            hosted_invoice_url=None,
            invoice_pdf=None,
            next_payment_attempt=None,
            effective_at=None,
            webhooks_delivered_at=created,
            status_transitions={"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
            subscription_details={"metadata": subscription["metadata"] if subscription else None},
            metadata={},
        )
        return with_lines(obj, [])

    def finalized(self, invoice: dict[str, Any], at: int, number: str) -> dict[str, Any]:
        link = f"https://invoice.stripe.com/i/acct_sandbox/{invoice['id']}"
        return {
            **invoice,
            "status": "open",
            "number": number,
            "effective_at": at,
            "hosted_invoice_url": link,
            "invoice_pdf": f"{link}/pdf",
            "next_payment_attempt": at + 3600 if invoice["collection_method"] == "charge_automatically" else None,
            "status_transitions": {**invoice["status_transitions"], "finalized_at": at},
        }

    def settled(self, invoice: dict[str, Any], at: int, status: str, payment_intent: dict[str, Any] | None) -> dict[str, Any]:
        """An open invoice that was paid, voided or marked uncollectible at `at`."""
        transition = {"paid": "paid_at", "void": "voided_at", "uncollectible": "marked_uncollectible_at"}[status]
        paid = status == "paid"
        return {
            **invoice,
            "status": status,
            "paid": paid,
            "attempted": invoice["attempted"] or paid,
            "attempt_count": max(invoice["attempt_count"], 1) if payment_intent else invoice["attempt_count"],
            "amount_paid": invoice["amount_due"] if paid else 0,
            "amount_remaining": 0 if paid or status == "void" else invoice["amount_remaining"],
            "payment_intent": payment_intent and payment_intent["id"],
            "charge": payment_intent and payment_intent["latest_charge"],
            "next_payment_attempt": None,
            "status_transitions": {**invoice["status_transitions"], transition: at},
        }

    def subscription_line(self, invoice: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        price = item["price"]
        quantity = item.get("quantity")  # metered items have none: their usage is billed
        usage = quantity if quantity is not None else self.rng.randrange(0, 5000)
        obj = self._line(invoice, price["unit_amount"] * usage, price)
        obj.update(
            type="subscription",
            subscription=item["subscription"],
            subscription_item=item["id"],
            invoice_item=None,
            quantity=usage,
            description=f"{usage} × {price['nickname'] or 'Subscription'} ({_period_words(invoice)})",
        )
        return obj

    def invoice_item_line(self, invoice: dict[str, Any], invoice_item: dict[str, Any]) -> dict[str, Any]:
        obj = self._line(invoice, invoice_item["amount"], invoice_item["price"])
        obj.update(
            type="invoiceitem",
            invoice_item=invoice_item["id"],
            subscription=invoice_item["subscription"],
            quantity=invoice_item["quantity"],
            description=invoice_item["description"],
            period=invoice_item["period"],
        )
        return obj

    def _line(self, invoice: dict[str, Any], amount: int, price: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("line_item", None)
        obj.update(
            invoice=invoice["id"],  # kept for the sandbox's index; Stripe's line item does not name its invoice
            amount=amount,
            amount_excluding_tax=amount,
            unit_amount_excluding_tax=str(price["unit_amount"]),
            currency=invoice["currency"],
            period={"start": invoice["period_start"], "end": invoice["period_end"]},
            price=price,
            metadata={},
            proration=False,
        )
        return obj

    def invoice_item(self, date: int, customer: str, invoice: dict[str, Any] | None, price: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("invoiceitem", None)
        quantity = self.rng.choice((1, 1, 1, 2, 5))
        obj.update(
            date=date,
            customer=customer,
            invoice=invoice and invoice["id"],
            subscription=invoice and invoice["subscription"],
            currency=price["currency"],
            price=price,
            quantity=quantity,
            unit_amount=price["unit_amount"],
            unit_amount_decimal=str(price["unit_amount"]),
            amount=price["unit_amount"] * quantity,
            description=f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(ONE_OFF_CHARGES).lower()}",
            period={"start": date, "end": date},
            metadata={},
        )
        return obj


    def credit_note(
        self, created: int, invoice: dict[str, Any], credited: list[dict[str, Any]], sequence: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A credit note on a paid invoice for some of its lines (`credited`), the money returned outside Stripe."""
        obj = self._base("credit_note", created)
        obj.update(
            invoice=invoice["id"],
            customer=invoice["customer"],
            currency=invoice["currency"],
            number=f"{invoice['number']}-CN-{sequence:02d}",
            type="post_payment",
            status="issued",
            reason=self.rng.choice((None, "duplicate", "order_change", "product_unsatisfactory")),
            memo=None,
            metadata={},
            effective_at=created,
            voided_at=None,
            refund=None,
            customer_balance_transaction=None,
            pdf=f"https://pay.stripe.com/credit_notes/acct_sandbox/{obj['id']}/pdf",
            tax_amounts=[],
            discount_amount=0,
            discount_amounts=[],
            amount_shipping=0,
            shipping_cost=None,
        )
        lines = [self.credit_note_line(obj, line) for line in credited]
        return with_credited_lines(obj, lines), lines

    def credit_note_line(self, credit_note: dict[str, Any], invoice_line: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("credit_note_line_item", None)
        obj.update(
            credit_note=credit_note["id"],  # kept for the sandbox's index; Stripe's line does not name its credit note
            type="invoice_line_item",
            invoice_line_item=invoice_line["id"],
            description=invoice_line["description"],
            amount=invoice_line["amount"],
            amount_excluding_tax=invoice_line["amount"],
            quantity=invoice_line["quantity"],
            unit_amount=None,
            unit_amount_decimal=None,
            unit_amount_excluding_tax=invoice_line["unit_amount_excluding_tax"],
            tax_amounts=[],
            tax_rates=[],
            discount_amount=0,
            discount_amounts=[],
        )
        return obj

    def tax_rate(self, created: int) -> dict[str, Any]:
        country, state, name, kind, percentage = self.rng.choice(TAXES)
        obj = self._base("tax_rate", created)
        obj.update(
            country=country,
            state=state,
            jurisdiction=f"{country}-{state}" if state else country,
            display_name=name,
            description=f"{name} {state or country}",
            tax_type=kind,
            percentage=percentage,
            effective_percentage=percentage,
            inclusive=kind == "vat" and self.rng.random() < 0.5,
            active=True,
            metadata={},
        )
        return obj


def with_lines(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """`invoice` with `lines` as its lines and the amounts that follow from them."""
    total = sum(line["amount"] for line in lines)
    return {
        **invoice,
        "lines": first_page_of_lines(lines, "invoice", f"/v1/invoices/{invoice['id']}/lines"),
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_excluding_tax": total,
        "amount_due": total,
        "amount_remaining": 0 if invoice["status"] in ("paid", "void") else total - invoice["amount_paid"],
    }


def with_credited_lines(credit_note: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(line["amount"] for line in lines)
    return {
        **credit_note,
        "lines": first_page_of_lines(lines, "credit_note", f"/v1/credit_notes/{credit_note['id']}/lines"),
        "amount": total,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_excluding_tax": total,
        "out_of_band_amount": total,
    }


def first_page_of_lines(lines: list[dict[str, Any]], parent_field: str, url: str) -> dict[str, Any]:
    """The list a parent embeds: the first page of its `url`, without the parent field the sandbox keeps for its
    index (Stripe's lines do not name their parent)."""
    newest_first = sorted(lines, key=line_key, reverse=True)
    served = [{k: v for k, v in line.items() if k != parent_field} for line in newest_first[:LINES_EMBEDDED]]
    return {"object": "list", "data": served, "has_more": len(lines) > LINES_EMBEDDED, "total_count": len(lines), "url": url}


def line_key(line: dict[str, Any]) -> tuple:
    """Lines have no creation time; the sandbox lists an invoice's or a credit note's lines by id."""
    return (0, line["id"])


def _period_words(invoice: dict[str, Any]) -> str:
    return "monthly" if invoice["period_end"] - invoice["period_start"] <= 31 * DAY else "yearly"
