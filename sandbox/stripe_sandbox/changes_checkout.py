"""Checkout sessions opened, completed and expired, by request or by time (part of Dataset, see dataset.py)."""

from __future__ import annotations

import heapq
from typing import Any

from .store import AdminError

SESSION_EVENTS = {"complete": "checkout.session.completed", "expired": "checkout.session.expired"}


class CheckoutChanges:
    _expiring: list[tuple[int, str]] | None = None  # open sessions by when they expire, built on first use

    def _new_checkout_sessions(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        """An open session selling a few one-off prices (payment), recurring ones (subscription), or nothing (setup)."""
        mode = fields.pop("checkout_mode", "payment")  # `mode` is the admin API's live or test
        customer = self._pick("customers", fields.pop("customer", None))
        prices = [p for p in self.tables["prices"].newest_first() if p["active"] and p["unit_amount"]]
        wanted = {"payment": [p for p in prices if not p["recurring"]], "subscription": [p for p in prices if p["recurring"]]}
        chosen = wanted.get(mode, [])[: self.rng.choice((1, 2))] if mode != "setup" else []
        if mode != "setup" and not chosen:
            raise AdminError(400, f"no active prices to sell in {mode} mode; create one first")
        factory, products = self.factory, self.tables["products"].objects
        session_id = factory.checkout_session_id()
        items = [factory.checkout_item(session_id, price, products.get(price["product"], {}).get("name", ""), 1) for price in chosen]
        for item in items:
            self.tables["checkout_sessions_line_items"].put(item)
        session = self._finish_new("checkout_sessions", factory.checkout_session(session_id, created, customer, mode, items), fields)
        if self._expiring is not None:
            heapq.heappush(self._expiring, (session["expires_at"], session["id"]))
        return session

    def _new_checkout_sessions_line_items(self, created: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        raise AdminError(400, "A checkout session's items are set when it is opened: create a checkout session")

    def _revise_checkout_sessions(self, current: dict[str, Any], fields: dict[str, Any], now: int) -> dict[str, Any]:
        """An open session is completed (making what its mode makes) or expired; nothing else of it changes."""
        status = fields.get("status")
        if set(fields) != {"status"} or current["status"] != "open" or status not in SESSION_EVENTS:
            raise AdminError(400, "Only an open checkout session changes, to complete or expired")
        if status == "expired":
            return fields
        customer, total = current["customer"], current["amount_total"]
        if current["mode"] == "payment":
            pi = self._new_payment_intents(now, {"customer": customer, "status": "succeeded", "amount": total,
                                                 "amount_received": total, "currency": current["currency"]}, now)  # fmt: skip
            return {**fields, "payment_status": "paid", "payment_intent": pi["id"]}
        if current["mode"] == "subscription":
            prices = [item["price"]["id"] for item in self._session_items(current["id"])]
            sub = self._new_subscriptions(now, {"customer": customer, "items": prices}, now)
            return {**fields, "payment_status": "paid" if total else "no_payment_required", "subscription": sub["id"]}
        seti = self._new_setup_intents(now, {"customer": customer, "status": "succeeded"}, now)
        return {**fields, "setup_intent": seti["id"]}

    def _session_items(self, session_id: str) -> list[dict[str, Any]]:
        items = self.tables["checkout_sessions_line_items"]
        return [items.objects[key[-1]] for key in items.keys(session_id)]

    def _updated_checkout_sessions(self, old: dict[str, Any], new: dict[str, Any], previous: dict[str, Any], now: int) -> None:
        self._emit(now, SESSION_EVENTS[new["status"]], new)

    def _expire_checkout_sessions(self, now: int) -> None:
        """Stripe expires a session nobody completed a day after it was opened, with an event."""
        sessions = self.tables["checkout_sessions"]
        if self._expiring is None:
            self._expiring = [(s["expires_at"], s["id"]) for s in sessions.objects.values() if s["status"] == "open"]
            heapq.heapify(self._expiring)
        while self._expiring and self._expiring[0][0] <= now:
            expires_at, session_id = heapq.heappop(self._expiring)
            session = sessions.objects.get(session_id)
            if session is not None and session["status"] == "open":
                expired = {**session, "status": "expired"}
                sessions.put(expired)
                self._emit(expires_at, "checkout.session.expired", expired)
