"""How one account's objects are stored and paged: tables indexed by (created, id), overall and per parent, and the
event log with Stripe's ordering quirks.

Objects are never changed in place. An update builds a new dict and puts it in the table, so an event
can keep a reference to the object as it was, and a page being serialised on another thread never
sees a half-applied change.
"""

from __future__ import annotations

import bisect
import heapq
from collections import ChainMap, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .objects_billing import line_key
from .spec import TABLE_FACTS

Key = tuple  # (created, id), or for events (created, -sequence, id): the id is always last

# Child tables Stripe lists per parent (`?subscription=`, `?setup_intent=`, or in the path): the field naming the
# parent, and the parent's table by that field.
PARENT_FIELDS = {name: facts["parent_field"] for name, facts in TABLE_FACTS.items() if facts["parent_field"]}
PARENT_TABLES = {facts["parent_field"]: facts["parent"] for facts in TABLE_FACTS.values() if facts["parent_field"]}


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def sort_key(obj: dict[str, Any]) -> Key:
    """Lists are newest first by `created`, ties by id. Objects without `created` are ordered by what stands for it:
    invoice items by `date` (what their list's `created` filter compares), usage summaries by their period; the lines
    of an invoice, a credit note or a checkout session, and bank accounts and cards, by id."""
    kind = obj["object"]
    if kind == "usage_record_summary":
        return (obj["period"]["start"], obj["id"])
    if kind == "invoiceitem":
        return (obj["date"], obj["id"])
    if kind in ("line_item", "credit_note_line_item", "item", "bank_account", "card"):
        return line_key(obj)  # no creation time: by id
    return (obj["created"], obj["id"])


class Table:
    """Objects by id plus keys kept in ascending (created, id) order, overall and per parent."""

    def __init__(self, name: str, objects: Iterable[dict[str, Any]] = ()):
        self.name = name
        self.parent_field = PARENT_FIELDS.get(name)
        self.objects: dict[str, dict[str, Any]] = {}
        self.order: list[Key] = []
        self.children: dict[str, list[Key]] = defaultdict(list)
        self.versions: dict[str, int] = {}
        self.deleted: dict[str, dict[str, Any]] = {}
        for obj in objects:
            self.objects[obj["id"]] = obj
            self.versions[obj["id"]] = 1
        self.order = sorted(self.key(obj) for obj in self.objects.values())
        if self.parent_field:
            for key in self.order:
                self.children[self.objects[key[-1]][self.parent_field]].append(key)

    def key(self, obj: dict[str, Any]) -> Key:
        return sort_key(obj)

    def put(self, obj: dict[str, Any]) -> None:
        old = self.objects.get(obj["id"])
        if old is not None:
            self._unindex(old)
        self.objects[obj["id"]] = obj
        self.versions[obj["id"]] = self.versions.get(obj["id"], 0) + 1
        key = self.key(obj)
        bisect.insort(self.order, key)
        if self.parent_field:
            bisect.insort(self.children[obj[self.parent_field]], key)

    def remove(self, object_id: str) -> dict[str, Any]:
        obj = self.objects.pop(object_id)
        self._unindex(obj)
        self.versions[object_id] += 1
        self.deleted[object_id] = obj
        return obj

    def _unindex(self, obj: dict[str, Any]) -> None:
        key = self.key(obj)
        _discard(self.order, key)
        if self.parent_field:
            _discard(self.children[obj[self.parent_field]], key)

    def keys(self, parent: str | None = None) -> list[Key]:
        return self.order if parent is None else self.children.get(parent, [])

    def newest_first(self) -> list[dict[str, Any]]:
        return [self.objects[key[-1]] for key in reversed(self.order)]


class MixedList:
    """The rows of the tables one list serves mixed (an account's external accounts: bank accounts and cards), paged
    as one table's."""

    def __init__(self, tables: list[Table]):
        self.name, self.parent_field = tables[0].name, tables[0].parent_field
        self._tables = tables
        self.objects = ChainMap(*(table.objects for table in tables))

    def key(self, obj: dict[str, Any]) -> Key:
        return sort_key(obj)

    def keys(self, parent: str | None = None) -> list[Key]:
        return list(heapq.merge(*(table.keys(parent) for table in self._tables)))


class EventLog(Table):
    """Stripe's events, newest first by `created`, which is in whole seconds: the order of one second's events is
    not the order they happened in. Here each second lists its events oldest first, the order that a connector
    trusting the list (replaying it backwards) gets most wrong.

    Stripe's event list is also eventually consistent: an event can appear a few seconds after newer ones.
    `visible_at` holds when each held-back event appears (Dataset.emit, the `event_delay_seconds` knob)."""

    def __init__(self, events: Iterable[dict[str, Any]] = ()):
        events = list(events)
        self._sequence = {event["id"]: n for n, event in enumerate(events)}  # generated in the order they happened
        self.visible_at: dict[str, int] = {}
        super().__init__("events", events)

    def key(self, obj: dict[str, Any]) -> Key:
        return (obj["created"], -self._sequence[obj["id"]], obj["id"])

    def add(self, event: dict[str, Any], visible_at: int) -> None:
        self._sequence[event["id"]] = len(self._sequence)
        if visible_at > event["created"]:
            self.visible_at[event["id"]] = visible_at
        self.put(event)

    def is_listed(self, event: dict[str, Any], now: int) -> bool:
        return self.visible_at.get(event["id"], 0) <= now


def _discard(keys: list[Key], key: Key) -> None:
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        del keys[i]


def page(
    table: Table,
    keys: list[Key],
    *,
    limit: int,
    created: dict[str, int],
    starting_after: Key | None = None,
    ending_before: Key | None = None,
    accept: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a newest-first list, and whether more objects lie beyond it in the paging direction.

    `keys` ascend, so the newest-first list reads them from the end; the created bounds and cursors
    narrow the index range by bisection before any object is looked at."""
    lo, hi = 0, len(keys)
    if "gt" in created:
        lo = max(lo, bisect.bisect_left(keys, (created["gt"] + 1,)))
    if "gte" in created:
        lo = max(lo, bisect.bisect_left(keys, (created["gte"],)))
    if "lt" in created:
        hi = min(hi, bisect.bisect_left(keys, (created["lt"],)))
    if "lte" in created:
        hi = min(hi, bisect.bisect_left(keys, (created["lte"] + 1,)))
    if starting_after is not None:
        hi = min(hi, bisect.bisect_left(keys, starting_after))
    if ending_before is not None:
        lo = max(lo, bisect.bisect_right(keys, ending_before))
    # ending_before pages toward newer objects: take the ones just above the cursor.
    positions = range(lo, hi) if ending_before is not None else range(hi - 1, lo - 1, -1)
    found: list[dict[str, Any]] = []
    objects = table.objects
    for i in positions:
        obj = objects[keys[i][-1]]
        if accept is None or accept(obj):
            found.append(obj)
            if len(found) > limit:
                break
    has_more = len(found) > limit
    found = found[:limit]
    if ending_before is not None:
        found.reverse()
    return found, has_more
