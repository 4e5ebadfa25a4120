"""Creates, updates and deletes of invoices, their lines, invoice items, credit notes, tax rates, coupons and promotion
codes, with the events Stripe sends for them (part of Dataset, see dataset.py)."""

from __future__ import annotations

from typing import Any

from .changes_catalog import deleted
from .history_billing import SETTLE_EVENTS
from .objects_billing import with_lines
from .store import AdminError

# Where an invoice may go from each status, as the dashboard and API allow.
NEXT_STATUSES = {"draft": {"open"}, "open": {"paid", "void", "uncollectible"}, "uncollectible": {"paid", "void"}}


class BillingChanges:
    def _new_invoices(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A draft written by hand; since API version 2022-08-01 it does not take in the customer's pending items."""
        customer = self._pick("customers", fields.pop("customer", None))
        draft = with_lines(self.factory.invoice(created, customer, None, (created, created)), [])
        obj = self._finish_new("invoices", draft, fields)
        self._emit(now, "invoice.created", obj)
        return obj

    def _new_invoice_line_items(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "An invoice's lines come from its subscription or invoice items: create an invoice item on a draft invoice")

    def _new_invoice_items(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        invoice = fields.pop("invoice", None)
        if invoice is not None:
            invoice = self._draft(invoice)
        customer = invoice["customer"] if invoice else fields.pop("customer", None) or self._pick("customers", None)["id"]
        price = self._pick("prices", fields.pop("price", None), lambda p: not p["recurring"])
        item = self.factory.invoice_item(created, customer, invoice, price)
        obj = self._finish_new("invoice_items", item, fields)
        self._emit(now, "invoiceitem.created", obj)
        if invoice is not None:
            self.tables["invoice_line_items"].put(self.factory.invoice_item_line(invoice, obj))
            self._relined(invoice["id"], now)
        return obj

    def _draft(self, invoice_id: str) -> dict[str, Any]:
        invoice = self._pick("invoices", invoice_id)
        if invoice["status"] != "draft":
            raise AdminError(400, f"Invoice {invoice_id} is finalized: its lines can no longer change")
        return invoice

    def _relined(self, invoice_id: str, now: int) -> None:
        """A draft's lines changed: it embeds them anew and its amounts follow, announced by invoice.updated."""
        invoices, lines = self.tables["invoices"], self.tables["invoice_line_items"]
        old = invoices.objects[invoice_id]
        new = with_lines(old, [lines.objects[key[-1]] for key in lines.keys(invoice_id)])
        invoices.put(new)
        self._emit(now, "invoice.updated", new, {name: old[name] for name in new if old[name] != new[name]})

    def _revise_invoices(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A status change brings what goes with it: a number when finalized, the settled amounts when paid."""
        status = fields.get("status", current["status"])
        if status == current["status"]:
            return fields
        if status not in NEXT_STATUSES.get(current["status"], ()):
            raise AdminError(400, f"An invoice cannot go from {current['status']} to {status}")
        if status == "open":
            customer = self.tables["customers"].objects.get(current["customer"]) or {"invoice_prefix": "SANDBOX"}
            changed = self.factory.finalized(current, now, f"{customer['invoice_prefix']}-{self.rng.randrange(10**4):04d}")
        else:
            changed = self.factory.settled(current, now, status, None)
            changed["paid_out_of_band"] = status == "paid"  # marked paid by hand, without a payment intent
        return {**{name: value for name, value in changed.items() if current.get(name) != value}, **fields}

    def _updated_invoices(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if old["status"] == new["status"]:
            self._emit(now, "invoice.updated", new, previous)
            return
        for event_type in ("invoice.finalized",) if new["status"] == "open" else SETTLE_EVENTS[new["status"]]:
            self._emit(now, event_type, new)

    def _delete_invoices(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        if current["status"] != "draft":
            raise AdminError(400, "You can only delete draft invoices: void or mark a finalized one uncollectible")
        lines = self.tables["invoice_line_items"]
        for key in list(lines.keys(current["id"])):
            line = lines.remove(key[-1])
            if line["invoice_item"]:
                self._emit(now, "invoiceitem.deleted", self.tables["invoice_items"].remove(line["invoice_item"]))
        self._emit(now, "invoice.deleted", self.tables["invoices"].remove(current["id"]))
        return deleted(current)

    def _revise_invoice_items(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if current["invoice"]:
            self._draft(current["invoice"])
        quantity = int(fields.get("quantity", current["quantity"]))
        unit_amount = int(fields.get("unit_amount", current["unit_amount"]))
        return {**fields, "amount": quantity * unit_amount, "unit_amount_decimal": str(unit_amount)}

    def _updated_invoice_items(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        # Stripe has no invoiceitem.updated event; an item on a draft changes the draft, which says so.
        if new["invoice"]:
            lines = self.tables["invoice_line_items"]
            line = next(lines.objects[k[-1]] for k in lines.keys(new["invoice"]) if lines.objects[k[-1]]["invoice_item"] == new["id"])
            invoice = self.tables["invoices"].objects[new["invoice"]]
            lines.put({**self.factory.invoice_item_line(invoice, new), "id": line["id"]})
            self._relined(new["invoice"], now)

    def _delete_invoice_items(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        if current["invoice"]:
            self._draft(current["invoice"])
        self._emit(now, "invoiceitem.deleted", self.tables["invoice_items"].remove(current["id"]))
        if current["invoice"]:
            lines = self.tables["invoice_line_items"]
            for key in list(lines.keys(current["invoice"])):
                if lines.objects[key[-1]]["invoice_item"] == current["id"]:
                    lines.remove(key[-1])
            self._relined(current["invoice"], now)
        return deleted(current)

    def _new_tax_rates(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("tax_rates", self.factory.tax_rate(created), fields)
        self._emit(now, "tax_rate.created", obj)
        return obj

    def _revise_tax_rates(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if {"percentage", "inclusive", "country", "state"} & set(fields):
            raise AdminError(400, "A tax rate's percentage, inclusiveness and place cannot change: archive it and create another")
        return fields

    def _updated_tax_rates(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "tax_rate.updated", new, previous)

    def _new_coupons(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        obj = self._finish_new("coupons", self.factory.coupon(created, now), fields)
        self._emit(now, "coupon.created", obj)
        return obj

    def _revise_coupons(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"name", "metadata"}:
            raise AdminError(400, "Only a coupon's name and metadata can change: delete it and create another")
        return fields

    def _updated_coupons(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "coupon.updated", new, previous)
        # Its codes embed the coupon as it is now: they change too, without an event of their own.
        codes = self.tables["promotion_codes"]
        for code in [c for c in codes.objects.values() if c["coupon"]["id"] == new["id"]]:
            codes.put({**code, "coupon": new})

    def _new_promotion_codes(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        coupon = self._pick("coupons", fields.pop("coupon", None), lambda c: c["valid"])
        obj = self._finish_new("promotion_codes", self.factory.promotion_code(created, coupon, fields.pop("customer", None)), fields)
        self._emit(now, "promotion_code.created", obj)
        return obj

    def _revise_promotion_codes(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"active", "metadata"}:
            raise AdminError(400, "Only a promotion code's active flag and metadata can change: create another code")
        return fields

    def _updated_promotion_codes(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, "promotion_code.updated", new, previous)

    def _delete_coupons(self, current: dict[str, Any], now: int) -> dict[str, Any]:
        self._emit(now, "coupon.deleted", self.tables["coupons"].remove(current["id"]))
        return deleted(current)

    def _new_credit_notes(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """A credit note for every line of a paid invoice."""
        lines = self.tables["invoice_line_items"]
        invoice = self._pick("invoices", fields.pop("invoice", None), lambda i: i["status"] == "paid" and bool(lines.keys(i["id"])))
        if invoice["status"] != "paid":
            raise AdminError(400, f"Invoice {invoice['id']} is {invoice['status']}: this sandbox credits paid invoices only")
        credited = [lines.objects[key[-1]] for key in lines.keys(invoice["id"])]
        sequence = 1 + sum(1 for note in self.tables["credit_notes"].objects.values() if note["invoice"] == invoice["id"])
        note, note_lines = self.factory.credit_note(created, invoice, credited, sequence)
        for line in note_lines:
            self.tables["credit_note_line_items"].put(line)
        obj = self._finish_new("credit_notes", note, fields)
        self._emit(now, "credit_note.created", obj)
        return obj

    def _new_credit_note_line_items(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "A credit note's lines are given when it is created: create a credit note")

    def _revise_credit_notes(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        if set(fields) - {"memo", "metadata", "status"} or fields.get("status", "void") != "void":
            raise AdminError(400, "Only a credit note's memo and metadata change, or it is voided (status: void)")
        if fields.get("status") == "void" and current["status"] != "void":
            return {**fields, "voided_at": now}
        return fields

    def _updated_credit_notes(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        if new["status"] == "void" and old["status"] != "void":
            self._emit(now, "credit_note.voided", new)
        else:
            self._emit(now, "credit_note.updated", new, previous)
