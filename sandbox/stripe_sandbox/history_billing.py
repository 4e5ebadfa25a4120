"""The history of an account's billing: the invoices of subscriptions' recent periods with a line per item, one-off
invoices and invoice items, the payment intents that paid them, tax rates, coupons and their promotion codes, and the
events of it all (part of Generator, see data.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .objects_billing import with_lines
from .realism import DAY, HOUR, MONTH, weighted

Change = tuple[int, tuple[str, ...], dict[str, Any]]

# An invoice's last state, by its subscription's status, for the current period's invoice (earlier ones: PAST_OUTCOMES).
CURRENT_OUTCOMES = {
    "past_due": "open",
    "unpaid": "open",
    "incomplete": "open",
    "incomplete_expired": "void",
}
PAST_OUTCOMES = (("paid", 0.95), ("void", 0.02), ("uncollectible", 0.03))
SETTLE_EVENTS = {
    "paid": ("invoice.paid", "invoice.payment_succeeded"),
    "void": ("invoice.voided",),
    "uncollectible": ("invoice.marked_uncollectible",),
}


def undone(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The attributes a change from `before` to `after` overwrote, as a timeline's change states them."""
    return {name: before.get(name) for name, value in after.items() if before.get(name) != value}


class BillingHistory:
    def prepare_billing(self) -> None:
        """Before subscriptions, which are invoiced as they are made."""
        self._invoice_numbers: Counter[str] = Counter()
        self._customers_by_id = {c["id"]: c for c in self.tables["customers"]}
        self._one_time_prices = [p for p in self.tables["prices"] if not p["recurring"]]

    def one_off_billing(self) -> None:
        self._one_off_invoices()
        self._pending_invoice_items()
        self._tax_rates()
        self._coupons()

    def _tax_rates(self) -> None:
        moments = self.moments()
        for _ in range(self.count("tax_rates")):
            rate = self.factory.tax_rate(moments.next())
            changes = []
            if self.rng.random() < 0.2:  # a rate is never changed or deleted, only archived and replaced
                changes.append((self.recent(rate["created"], 60 * DAY), ("tax_rate.updated",), {"active": True}))
                rate["active"] = False
            self.timeline(rate, ("tax_rate.created",), changes)
            self.tables["tax_rates"].append(rate)

    def _coupons(self) -> None:
        moments = self.moments()
        for _ in range(self.count("coupons")):
            coupon = self.factory.coupon(moments.next(), self.now)
            changes = []
            if self.rng.random() < 0.1:  # only its name and metadata can change
                changes.append((self.recent(coupon["created"], 40 * DAY), ("coupon.updated",), {"metadata": {}}))
                coupon["metadata"] = {"campaign": self.rng.choice(("spring", "black-friday", "partner"))}
            self.timeline(coupon, ("coupon.created",), changes)
            self.tables["coupons"].append(coupon)
        for _ in range(max(1, self.count("coupons") // 10)):
            coupon = self.factory.coupon(moments.next(), self.now)
            self.timeline(coupon, ("coupon.created",))
            self.emit(self.recent(coupon["created"], 20 * DAY), "coupon.deleted", coupon)
            self.deleted["coupons"][coupon["id"]] = coupon

    def promotion_codes(self) -> None:
        """A few codes customers redeem four coupons in ten with, one in ten for one customer only; some later
        deactivated. After the rest, so that adding them left the other tables' random draws as they were."""
        for coupon in self.tables["coupons"]:
            if self.rng.random() < 0.4:
                self._promotion_codes(coupon)

    def _promotion_codes(self, coupon: dict[str, Any]) -> None:
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            created = self.after(coupon["created"], 10 * DAY)
            customer = self.customer_before(created) if self.rng.random() < 0.1 else None
            code = self.factory.promotion_code(created, coupon, customer)
            changes: list[Change] = []
            if self.rng.random() < 0.15:
                changes.append((self.recent(created, 30 * DAY), ("promotion_code.updated",), {"active": True}))
                code["active"] = False
            self.timeline(code, ("promotion_code.created",), changes)
            self.tables["promotion_codes"].append(code)

    def subscription_invoices(self, sub: dict[str, Any], items: list[dict[str, Any]]) -> None:
        """The invoices of a subscription's last few periods (older history is not generated), newest last; the
        subscription names the newest as its latest."""
        end = min(self.now, sub["ended_at"] or self.now)
        periods = max(1, (end - sub["billing_cycle_anchor"]) // MONTH + 1)
        first = max(0, periods - self.rng.randrange(1, 7))
        invoice = None
        for n in range(first, periods):
            start = sub["billing_cycle_anchor"] + n * MONTH if n else sub["created"]
            current = n == periods - 1
            outcome = CURRENT_OUTCOMES.get(sub["status"], "paid") if current else weighted(self.rng, PAST_OUTCOMES)
            invoice = self._invoice(sub, start, (start, start + MONTH), items, outcome)
        sub["latest_invoice"] = invoice["id"]

    def _one_off_invoices(self) -> None:
        """Invoices a user wrote by hand: a few invoice items, sent to be paid within 30 days."""
        if not self._one_time_prices:
            return
        moments = self.moments()
        for _ in range(self.count("one_off_invoices")):
            created = moments.next()
            customer = self.customer_before(created)
            if customer is None:
                continue
            outcome = weighted(self.rng, (("paid", 0.7), ("open", 0.2), ("void", 0.1)))
            self._invoice(None, created, (created, created), [], outcome, customer=customer, one_offs=self.rng.randrange(1, 4))
        for _ in range(max(1, self.count("one_off_invoices") // 10)):
            # A draft deleted before it was sent: gone, with only its events left.
            created = self.recent(self.now - 25 * DAY, 20 * DAY)
            customer = self.customer_before(created)
            if customer is None:
                continue
            draft = with_lines(self.factory.invoice(created, self._customers_by_id[customer], None, (created, created)), [])
            self.timeline(draft, ("invoice.created",))
            self.emit(self.after(created, DAY), "invoice.deleted", draft)
            self.deleted["invoices"][draft["id"]] = draft

    def _pending_invoice_items(self) -> None:
        """Invoice items waiting for a customer's next invoice."""
        for _ in range(self.count("pending_invoice_items") if self._one_time_prices else 0):
            date = self.recent(self.now - 60 * DAY, 60 * DAY)
            customer = self.customer_before(date)
            if customer is not None:
                item = self.factory.invoice_item(date, customer, None, self.rng.choice(self._one_time_prices))
                self.timeline(item, ("invoiceitem.created",))
                self.tables["invoice_items"].append(item)

    def _invoice(
        self,
        sub: dict[str, Any] | None,
        created: int,
        period: tuple[int, int],
        items: list[dict[str, Any]],
        outcome: str,
        customer: str | None = None,
        one_offs: int = 0,
    ) -> dict[str, Any]:
        """One invoice from draft to `outcome` (open, paid, void or uncollectible), as far as the clock has got."""
        factory, rng = self.factory, self.rng
        owner = self._customers_by_id[sub["customer"] if sub else customer]
        draft = factory.invoice(created, owner, sub, period)
        lines = [factory.subscription_line(draft, item) for item in items]
        if sub and self._one_time_prices and rng.random() < 0.1:
            one_offs = 1
        for _ in range(one_offs):
            extra = factory.invoice_item(created - rng.randrange(0, HOUR), owner["id"], draft, rng.choice(self._one_time_prices))
            self.timeline(extra, ("invoiceitem.created",))
            self.tables["invoice_items"].append(extra)
            lines.append(factory.invoice_item_line(draft, extra))
        states, changes = [with_lines(draft, lines)], []
        finalized_at = created + HOUR  # Stripe finalizes a subscription's draft an hour after making it
        if finalized_at <= self.now:
            self._invoice_numbers[owner["id"]] += 1
            number = f"{owner['invoice_prefix']}-{self._invoice_numbers[owner['id']]:04d}"
            states.append(factory.finalized(states[-1], finalized_at, number))
            changes.append((finalized_at, ("invoice.finalized",), undone(states[-1], states[-2])))
        settled_at = self.after(finalized_at, 60 if states[-1]["collection_method"] == "charge_automatically" else 5 * DAY)
        if len(states) > 1 and outcome != "open" and settled_at < self.now:
            paid_by = self._payment_of(states[-1], finalized_at, settled_at) if outcome == "paid" else None
            states.append(factory.settled(states[-1], settled_at, outcome, paid_by))
            changes.append((settled_at, SETTLE_EVENTS[outcome], undone(states[-1], states[-2])))
        invoice = states[-1]
        self.timeline(invoice, ("invoice.created",), changes)
        self.tables["invoices"].append(invoice)
        self.tables["invoice_line_items"].extend(lines)
        if invoice["status"] == "paid" and lines and rng.random() < 0.08:
            self._credit_note(invoice, lines, settled_at)
        return invoice

    def _credit_note(self, invoice: dict[str, Any], lines: list[dict[str, Any]], paid_at: int) -> None:
        """Some of a paid invoice's lines credited back, weeks later; a few credit notes are voided after."""
        created = self.after(paid_at, 20 * DAY)
        if created >= self.now:
            return
        credited = self.rng.sample(lines, self.rng.randrange(1, len(lines) + 1))
        note, note_lines = self.factory.credit_note(created, invoice, credited, sequence=1)
        changes: list[Change] = []
        if self.rng.random() < 0.1:
            voided_at = self.after(created, 5 * DAY)
            changes.append((voided_at, ("credit_note.voided",), {"status": "issued", "voided_at": None}))
            note.update(status="void", voided_at=voided_at)
        elif self.rng.random() < 0.1:
            changes.append((self.after(created, 5 * DAY), ("credit_note.updated",), {"memo": None}))
            note["memo"] = "Credited after a support ticket"
        self.timeline(note, ("credit_note.created",), changes)
        self.tables["credit_notes"].append(note)
        self.tables["credit_note_line_items"].extend(note_lines)

    def _payment_of(self, invoice: dict[str, Any], finalized_at: int, paid_at: int) -> dict[str, Any] | None:
        """The payment intent that collects an invoice charged automatically (None for one paid otherwise or for 0)."""
        if invoice["collection_method"] != "charge_automatically" or not invoice["amount_due"]:
            return None
        pi = self.factory.payment_intent(finalized_at, invoice["customer"], "succeeded")
        pi.update(amount=invoice["amount_due"], amount_received=invoice["amount_due"], currency=invoice["currency"], invoice=invoice["id"], description="Subscription update")
        before = {"status": "requires_payment_method", "amount_received": 0, "latest_charge": None, "payment_method": None}
        self.timeline(pi, ("payment_intent.created",), [(paid_at, ("payment_intent.succeeded",), before)])
        self.tables["payment_intents"].append(pi)
        self._charge(pi, attempted_at=paid_at, settled_at=None)
        return pi
