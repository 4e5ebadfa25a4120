"""The history of an account's Stripe Issuing program: cardholders, their cards (a few canceled since), purchases
authorized on the cards (most captured by a transaction, a few reversed or declined, the newest still pending) and
refunds of some (part of Generator, see data.py). Only an account that uses Issuing (the platform) has one; it is
generated after everything else, so that adding it left the other tables' random draws as they were."""

from __future__ import annotations

from typing import Any

from .objects_issuing import with_transactions
from .realism import DAY, HOUR


class IssuingHistory:
    def issuing(self) -> None:
        rng, factory = self.rng, self.factory
        for _ in range(self.count("cardholders")):
            cardholder = factory.cardholder(self.now - rng.randrange(30 * DAY, 3 * 365 * DAY))  # issued to for a while
            self.timeline(cardholder, ("issuing_cardholder.created",))
            self.tables["cardholders"].append(cardholder)
            for _ in range(rng.choice((1, 1, 2))):
                card = factory.issuing_card(self.after(cardholder["created"], 5 * DAY), cardholder)
                changes = []
                if rng.random() < 0.15:
                    changes.append((self.after(card["created"], 200 * DAY), ("issuing_card.updated",), {"status": "active", "cancellation_reason": None}))
                    card.update(status="canceled", cancellation_reason="lost")
                self.timeline(card, ("issuing_card.created",), changes)
                self.tables["cards"].append(card)
                self._purchases(card, last=changes[0][0] if changes else self.now)

    def _purchases(self, card: dict[str, Any], last: int) -> None:
        rng, factory = self.rng, self.factory
        at = card["created"]
        for _ in range(rng.randrange(1, 6)):
            at = self.after(at, 20 * DAY)
            if at >= last:
                return
            # However small the program, one purchase was captured.
            authorization = factory.authorization(at, card, approved=rng.random() < 0.9 or not self.tables["transactions"])
            if not authorization["approved"]:
                self.timeline(authorization, ("issuing_authorization.created",))
                self.tables["authorizations"].append(authorization)
                continue
            settled_at = self.after(at, DAY)
            if settled_at >= self.now - HOUR:  # not settled yet
                self.timeline(authorization, ("issuing_authorization.created",))
                self.tables["authorizations"].append(authorization)
                continue
            pending = {"status": "pending", "transactions": [], "amount": authorization["amount"]}
            if rng.random() < 0.05 and self.tables["transactions"]:
                authorization.update(status="reversed", amount=0)
                self.timeline(authorization, ("issuing_authorization.created",), [(settled_at, ("issuing_authorization.updated",), pending)])
                self.tables["authorizations"].append(authorization)
                continue
            capture = factory.issuing_transaction(settled_at, authorization, "capture", -authorization["amount"])
            transactions = [capture]
            self.timeline(capture, ("issuing_transaction.created",))
            if rng.random() < 0.1:
                refund = factory.issuing_transaction(self.after(settled_at, 10 * DAY), authorization, "refund", authorization["amount"])
                self.timeline(refund, ("issuing_transaction.created",))
                transactions.append(refund)
            self.tables["transactions"].extend(transactions)
            closed = with_transactions({**authorization, "status": "closed"}, [capture])
            self.timeline(closed, ("issuing_authorization.created",), [(settled_at, ("issuing_authorization.updated",), pending)])
            # A later refund joins the authorization's transactions without an event of the authorization.
            self.tables["authorizations"].append(with_transactions(closed, transactions))
