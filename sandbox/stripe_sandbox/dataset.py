"""One account's data in one mode, and the changes the admin API makes to it as Stripe would: the objects a change
touches and the events it sends. Each domain's creates, updates and deletes live in its changes_*.py module:
`_new_<table>` builds an object, `_revise_<table>` adds what an update changes besides the fields asked for,
`_updated_<table>` sends its events and `_delete_<table>` deletes (tables without one cannot be deleted)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from .changes_balance import BalanceChanges
from .changes_billing import BillingChanges
from .changes_catalog import CatalogChanges
from .changes_checkout import CheckoutChanges
from .changes_issuing import IssuingChanges
from .changes_payments import PaymentChanges
from .changes_platform import PlatformChanges
from .changes_wallet import WalletChanges
from .data import Generated
from .factory import Factory
from .spec import TABLE_OBJECTS
from .store import AdminError, EventLog, Table


class Dataset(CatalogChanges, PaymentChanges, BillingChanges, BalanceChanges, CheckoutChanges, WalletChanges, PlatformChanges, IssuingChanges):
    """One account's objects in one mode (live and test data are separate in Stripe)."""

    def __init__(
        self, account_id: str, mode: str, generated: Generated, factory: Factory, event_delay: Callable[[], int] = lambda: 0
    ):
        """`event_delay()`: how many seconds at most a new event may stay out of the list (the knob's value now)."""
        self.account_id, self.mode = account_id, mode
        self.factory = factory
        self.rng = factory.rng
        self._event_delay = event_delay
        self._delay_rng = random.Random(f"stripe-sandbox/event-delays/{account_id}/{mode}")
        self.lock = threading.RLock()
        self.tables = {name: Table(name, objects) for name, objects in generated.tables.items()}
        for name, gone in generated.deleted.items():
            self.tables[name].deleted.update(gone)
        self.events = self.tables["events"] = EventLog(generated.events)
        for table in self.tables.values():
            for object_id in (*table.objects, *table.deleted):
                factory.claim_id(object_id)
        self.ledger = generated.ledger
        self.ledger.bind(
            get=lambda table, object_id: self.tables[table].objects[object_id],
            put=lambda table, obj: self.tables[table].put(obj),
            emit=self._emit,
        )

    def advance(self, now: int) -> None:
        """What Stripe does as time passes: balance transactions become available, payouts go out and arrive,
        checkout sessions and file links expire."""
        with self.lock:
            self.ledger.advance(now)
            self._expire_checkout_sessions(now)
            self._expire_file_links(now)

    def _emit(self, now: int, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        longest = self._event_delay()
        delay = self._delay_rng.randint(0, longest) if longest else 0
        self.events.add(self.factory.event(now, event_type, obj, previous), visible_at=now + delay)

    def create(self, table: str, fields: dict[str, Any], now: int) -> dict[str, Any]:
        with self.lock:
            fields = dict(fields)
            created = int(fields.pop("created", now))
            if "id" in fields and any(
                fields["id"] in t.objects or fields["id"] in t.deleted for t in self.tables.values()
            ):
                raise AdminError(400, f"id already in use: {fields['id']}")
            build = getattr(self, f"_new_{table}")
            return build(created, fields, now)

    def _finish_new(self, table: str, obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        if "id" in fields:
            self.factory.claim_id(fields["id"])
        obj = {**obj, **fields}
        self.tables[table].put(obj)
        return obj

    def _pick(
        self, table: str, object_id: str | None, accept: Callable[[dict[str, Any]], bool] = lambda o: True
    ) -> dict[str, Any]:
        """The named object, or (when none is named) a random existing one that `accept`s."""
        objects = self.tables[table].objects
        if object_id is not None:
            if object_id not in objects:
                raise AdminError(400, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            return objects[object_id]
        candidates = [key[-1] for key in self.tables[table].order if accept(objects[key[-1]])]
        if not candidates:
            raise AdminError(400, f"no {table} to attach the new object to; create one first")
        return objects[self.rng.choice(candidates)]

    def update(self, table: str, object_id: str, fields: dict[str, Any], now: int) -> dict[str, Any]:
        with self.lock:
            current = self.tables[table].objects.get(object_id)
            if current is None:
                raise AdminError(404, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            if {"id", "object"} & set(fields):
                raise AdminError(400, "id and object cannot be changed")
            revise = getattr(self, f"_revise_{table}", None)
            if revise is not None:
                fields = revise(current, fields, now)
            previous = {name: current.get(name) for name, value in fields.items() if current.get(name) != value}
            if not previous:
                return current
            new = {**current, **fields}
            self.tables[table].put(new)
            # Changes without an `_updated_` handler (e.g. an intent's metadata, setup attempts, usage summaries) emit
            # no event in Stripe either, so they are only visible by listing the table again.
            updated = getattr(self, f"_updated_{table}", None)
            if updated is not None:
                updated(current, new, previous, now)
            return new

    def delete(self, table: str, object_id: str, now: int) -> dict[str, Any]:
        with self.lock:
            current = self.tables[table].objects.get(object_id)
            if current is None:
                raise AdminError(404, f"No such {TABLE_OBJECTS[table]}: '{object_id}'")
            delete = getattr(self, f"_delete_{table}", None)
            if delete is None:
                raise AdminError(400, f"Stripe cannot delete {table}; update their status instead")
            return delete(current, now)
