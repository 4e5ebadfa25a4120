"""The history of Stripe Checkout: sessions that sold one-off prices (paid through a payment intent), started
subscriptions or saved payment methods, completed, expired, or still open (part of Generator, see data.py)."""

from __future__ import annotations

from typing import Any

from .realism import DAY


class CheckoutHistory:
    def checkout_sessions(self) -> None:
        rng = self.rng
        self._customers_by_id = {c["id"]: c for c in self.tables["customers"]}
        self._product_names = {p["id"]: p["name"] for p in self.tables["products"]}
        one_time = [p for p in self.tables["prices"] if not p["recurring"] and p["unit_amount"]]
        moments = self.moments()
        for _ in range(self.count("checkout_sessions") if one_time else 0):
            created = moments.next()
            lines = [(price, rng.choice((1, 1, 2))) for price in rng.sample(one_time, min(len(one_time), rng.choice((1, 1, 2, 3))))]
            session, items = self._session(created, self.customer_before(created), "payment", lines)
            if created + DAY > self.now and rng.random() < 0.5:
                self._record_session(session, items, [])  # still open
            elif rng.random() < 0.65:
                completed_at = min(self.after(created, 600), created + DAY - 1)
                paid = self._checkout_payment(session, completed_at)
                self._complete(session, items, completed_at, payment_intent=paid["id"])
            else:
                session["status"] = "expired"
                self._record_session(session, items, [(session["expires_at"], ("checkout.session.expired",), {"status": "open"})])
        # Subscriptions and saved payment methods started at a checkout page.
        for sub in self.tables["subscriptions"]:
            if rng.random() < 0.25:
                items = [(item["price"], item.get("quantity")) for item in sub["items"]["data"]]
                session, lines = self._session(sub["created"] - rng.randrange(60, 900), sub["customer"], "subscription", items)
                self._complete(session, lines, sub["created"], subscription=sub["id"])
        for seti in self.tables["setup_intents"]:
            if seti["status"] == "succeeded" and seti["customer"] and rng.random() < 0.1:
                session, _ = self._session(seti["created"] - rng.randrange(60, 900), seti["customer"], "setup", [])
                self._complete(session, [], seti["created"], setup_intent=seti["id"])

    def _session(self, created: int, customer_id: str | None, mode: str, lines: list[tuple[dict[str, Any], int | None]]):
        factory = self.factory
        session_id = factory.checkout_session_id()
        items = [factory.checkout_item(session_id, price, self._product_names.get(price["product"], ""), quantity) for price, quantity in lines]
        return factory.checkout_session(session_id, created, self._customers_by_id.get(customer_id or ""), mode, items), items

    def _checkout_payment(self, session: dict[str, Any], completed_at: int) -> dict[str, Any]:
        """The payment intent a completed payment session confirms, for its total."""
        total = session["amount_total"]
        pi = self.factory.payment_intent(completed_at, session["customer"], "succeeded")
        pi.update(amount=total, amount_received=total, currency=session["currency"], description="Checkout")
        before = {"status": "requires_payment_method", "amount_received": 0, "latest_charge": None, "payment_method": None}
        paid_at = self.after(completed_at, 5)
        self.timeline(pi, ("payment_intent.created",), [(paid_at, ("payment_intent.succeeded",), before)])
        self.tables["payment_intents"].append(pi)
        self._charge(pi, attempted_at=paid_at, settled_at=None)
        return pi

    def _complete(self, session: dict[str, Any], items: list[dict[str, Any]], at: int, **made: str) -> None:
        opened = {"status": "open", "payment_status": session["payment_status"], **{name: None for name in made}}
        paid = session["mode"] != "setup" and bool(session["amount_total"])
        session.update(status="complete", payment_status="paid" if paid else "no_payment_required", **made)
        self._record_session(session, items, [(at, ("checkout.session.completed",), opened)])

    def _record_session(self, session: dict[str, Any], items: list[dict[str, Any]], changes: list) -> None:
        self.timeline(session, (), changes)  # Stripe sends no event when a session is opened
        self.tables["checkout_sessions"].append(session)
        self.tables["checkout_sessions_line_items"].extend(items)
