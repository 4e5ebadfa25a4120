"""Deterministic generation of a whole Stripe account's data, and its last 30 days of events, from
(seed, size)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .factory import Factory
from .history_billing import BillingHistory
from .history_catalog import CatalogHistory
from .history_issuing import IssuingHistory
from .history_checkout import CheckoutHistory
from .history_payments import PaymentHistory
from .history_platform import PlatformHistory
from .history_wallet import WalletHistory
from .ledger import Ledger
from .realism import DAY
from .spec import EVENT_WINDOW, TABLES, Spec

HISTORY = 4 * 365 * DAY  # how far back generated objects reach
OLD_EVENT_SHARE = 0.05  # events rendered at the account's earlier API version


@dataclass
class Generated:
    tables: dict[str, list[dict[str, Any]]]
    events: list[dict[str, Any]]
    deleted: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ledger: Ledger | None = None  # the balance as generation left it, run on by the dataset
    # A platform's fees on its connected accounts' charges: (account, charge, fee, amount), for the charges to name.
    fees_taken: list[tuple[str, str, str, int]] = field(default_factory=list)


class _Moments:
    """Creation times for one table: four years back, denser toward now, with same-second bursts."""

    def __init__(self, rng: random.Random, now: int):
        self.rng, self.now = rng, now
        self._burst_left, self._last = 0, None

    def next(self) -> int:
        rng = self.rng
        if self._burst_left:
            self._burst_left -= 1
            return self._last
        r = rng.random()
        if r < 0.06 and self._last is not None:
            return self._last  # two objects in the same second
        self._last = self.now - 1 - int(HISTORY * rng.random() ** 2)
        if r < 0.075:
            self._burst_left = rng.randrange(3, 30)  # e.g. an import or a batch job
        return self._last


class Generator(CatalogHistory, PaymentHistory, BillingHistory, CheckoutHistory, WalletHistory, PlatformHistory, IssuingHistory):
    """Builds one dataset (an account in one mode): objects in their final state plus the events of
    the last 30 days, each event holding the object as it was then, consistent with the final state."""

    # Share of `size` per top-level table; the child tables (items, usage summaries, refunds, disputes, setup
    # attempts, invoices, balance transactions, payouts) follow from them and make up the remainder.
    SHARES = {
        "customers": 0.045,
        "products": 0.0153,
        "shipping_rates": 0.00612,
        "subscriptions": 0.024,
        "payment_intents": 0.031,
        "legacy_charges": 0.0122,
        "setup_intents": 0.0306,
        "order_returns": 0.00306,
        "one_off_invoices": 0.00612,
        "pending_invoice_items": 0.00306,
        "tax_rates": 0.00191,
        "coupons": 0.00306,
        "checkout_sessions": 0.0102,
        "transfers": 0.0035,
        "top_ups": 0.0015,
        "files": 0.002,
        "cardholders": 0.001,
    }

    def __init__(
        self, spec: Spec, *, seed: int, size: int, mode: str, account_id: str, now: int,
        connected: tuple[str, ...] = (), connected_charges: dict[str, list[dict[str, Any]]] | None = None,
        issuing: bool = False,
    ):  # fmt: skip
        """A platform's `connected` accounts receive its transfers; it takes fees on `connected_charges`. An account
        that uses Stripe Issuing (`issuing`) has cardholders, cards and their purchases."""
        self.connected, self.connected_charges, self.uses_issuing = connected, connected_charges or {}, issuing
        self.fees_taken: list[tuple[str, str, str, int]] = []
        self.rng = random.Random(f"stripe-sandbox/{seed}/{account_id}/{mode}")
        self.factory = Factory(spec, self.rng, livemode=mode == "live")
        self.size, self.now = size, now
        self.window_start = now - EVENT_WINDOW
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.deleted: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TABLES}
        self.events: list[dict[str, Any]] = []
        # The ledger's objects change as it runs up to now; they join the tables at the end.
        self.balance: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in TABLES}
        self.ledger = Ledger(self.factory, self.rng)
        self.ledger.bind(
            get=lambda table, object_id: self.balance[table][object_id],
            put=lambda table, obj: self.balance[table].__setitem__(obj["id"], obj),
            emit=self.emit,
        )

    def moments(self) -> _Moments:
        return _Moments(self.rng, self.now)

    def count(self, table: str) -> int:
        return max(3, round(self.size * self.SHARES[table]))

    def recent(self, earliest: int, within: int) -> int:
        """A moment after `earliest`, at most `within` seconds before now and never in the future."""
        low = max(earliest + 1, self.now - within)
        return self.rng.randrange(low, self.now + 1) if low <= self.now else self.now

    def after(self, t: int, mean: float) -> int:
        return min(self.now, t + 1 + int(self.rng.expovariate(1 / mean)))

    # -- events ------------------------------------------------------------------------------

    def emit(self, t: int, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        if self.window_start <= t <= self.now:
            older = self.rng.random() < OLD_EVENT_SHARE
            self.events.append(self.factory.event(t, event_type, obj, previous, older_version=older))

    def timeline(
        self,
        final: dict[str, Any],
        created_types: tuple[str, ...],
        changes: list[tuple[int, tuple[str, ...], dict[str, Any]]] = (),
    ) -> None:
        """Emit an object's events. Each change is (time, event types, the attributes it overwrote),
        so walking the changes backwards from the final state recovers every earlier state.

        Changes drawn near `now` can pile up on the same second; they are spread so each comes
        strictly after the previous one (moving the creation earlier if needed), because a reader
        ordering events by time must end up at the final state."""
        times, last = [], self.now + 1
        for t, _, _ in reversed(changes):
            last = min(t, last - 1)
            times.append(last)
        times.reverse()
        born = "created" if "created" in final else "date"  # an invoice item's creation time is its `date`
        if times and final[born] >= times[0]:
            final[born] = times[0] - 1
        states = [final]
        for _, _, overwritten in reversed(changes):
            states.append({**states[-1], **overwritten})
        states.reverse()
        for event_type in created_types:
            self.emit(final[born], event_type, states[0])
        for t, (_, event_types, overwritten), state in zip(times, changes, states[1:], strict=True):
            for event_type in event_types:
                is_update = event_type.endswith(".updated")
                self.emit(t, event_type, state, overwritten if is_update else None)

    # -- tables ------------------------------------------------------------------------------

    def run(self) -> Generated:
        self.customers()
        self.products_and_prices()
        self.shipping_rates()
        self.prepare_billing()
        self.subscriptions()
        self.payment_intents()
        self.legacy_charges()
        self.one_off_billing()
        self.setup_intents()
        self.checkout_sessions()
        self.order_returns()
        self.ledger.advance(self.now)
        self.subscription_schedules()
        self.promotion_codes()
        self.wallets()
        self.platform()
        if self.uses_issuing:
            self.issuing()
        self.ach_bank_accounts()
        for name, objects in self.balance.items():
            self.tables[name].extend(objects.values())
        return Generated(tables=self.tables, events=self.events, deleted=self.deleted, ledger=self.ledger, fees_taken=self.fees_taken)
