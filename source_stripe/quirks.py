"""What is one table's alone, each a component its manifest entry names (`quirk: {class_name: …}`) with the hooks the
engine calls; a table without one behaves as the base class does."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_stripe.children import path_of_one_parent, stamped
from source_stripe.planning import EVENTS_LISTED_LATE_MARGIN
from source_stripe.state import TableState
from source_stripe.tables import TableEntry

if TYPE_CHECKING:
    from source_stripe.capture import TableCapture

# Stripe sends no event when usage is reported: the usage of running subscriptions is re-read once the last such read
# is this old, so syncs in between cost the same however large the account (the config's running_usage_refresh_hours).
DEFAULT_RUNNING_USAGE_REFRESH_HOURS = 12
# A lookback longer than any saved position is old: the listing starts at the start date.
WHOLE_HISTORY = 2**40


class Quirk:
    changes = ""  # how it changes what reaches the table, for the docs

    def __init__(self, table: TableEntry) -> None:
        self.table = table

    def rows_deleted_by(self, events: Sequence[Mapping[str, Any]], rows_now: Set[str], stamp: int) -> Iterable[Mapping[str, Any]]:
        """Records of rows that events of a parent say are gone, besides those its entry's deletion events say."""
        return ()

    def extra_partitions(self, capture: "TableCapture", state: TableState, config: Mapping[str, Any], now: int, incremental: bool) -> Tuple[List[Partition], Optional[int]]:
        """Partitions this sync reads besides slices and event windows, and the time they (or, without them, the
        slices) read the table as of, saved as the state's `running_usage`."""
        return [], None

    def lookback(self, seconds: int) -> int:
        """How far before the saved `created` position a sync lists again, given the config's lookback window."""
        return seconds

    def created_settled(self, now: int) -> Optional[int]:
        """How far this sync may move the `created` position at most (None: as far as it read)."""
        return None

    @property
    def other_event_types(self) -> Tuple[str, ...]:
        """Event types whose objects are not the scanned table's, which records_from_events reads."""
        return ()

    def reads_parent_for(self, events: Sequence[Mapping[str, Any]]) -> bool:
        """Whether a parent's events in one second may have changed its rows, so that they are read again."""
        return True

    def records_from_events(self, capture: "TableCapture", events: Sequence[Mapping[str, Any]]) -> Iterator[Record]:
        """The records that events of one of other_event_types' objects in one second stand for."""
        return iter(())


def quirk_of(table: TableEntry) -> Quirk:
    if not table.quirk:
        return Quirk(table)
    fields = dict(table.quirk)
    module, _, name = fields.pop("class_name").rpartition(".")
    return getattr(importlib.import_module(module), name)(table, **fields)


class RowsDroppedFromParent(Quirk):
    """A parent's update that drops a row from the list it embeds is that row's deletion: Stripe sends no event of the
    row's own (a subscription's items). `rows_now` are all the parent's rows now, listed past the embedded page."""

    changes = "a row dropped from its parent arrives deleted"

    def rows_deleted_by(self, events: Sequence[Mapping[str, Any]], rows_now: Set[str], stamp: int) -> Iterator[Mapping[str, Any]]:
        field = self.table.parent.embedded_in
        removed = {}
        for event in events:
            for row in ((event["data"].get("previous_attributes") or {}).get(field) or {}).get("data") or []:
                if row["id"] not in rows_now:
                    removed[row["id"]] = row
        for row in removed.values():
            yield stamped(row, stamp, deleted=True)


class RereadRunningUsage(Quirk):
    """Usage accrues without events, so the rows of parents still running (listed by `statuses`) are re-read once the
    last such read is older than the config's running_usage_refresh_hours; a read from the start reads them all."""

    changes = "the usage of every running {parent} is re-read every `running_usage_refresh_hours` too"

    def __init__(self, table: TableEntry, statuses: Sequence[str]) -> None:
        super().__init__(table)
        self.statuses = tuple(statuses)

    def extra_partitions(self, capture: "TableCapture", state: TableState, config: Mapping[str, Any], now: int, incremental: bool) -> Tuple[List[Partition], Optional[int]]:
        if not incremental:
            return [], now
        hours = config.get("running_usage_refresh_hours", DEFAULT_RUNNING_USAGE_REFRESH_HOURS)
        if state.running_usage is not None and now - state.running_usage < hours * 3600:
            return [], None
        return [RunningParents(capture, self.statuses)], now


class RunningParents(Partition):
    """The scanned table's objects in the given statuses, expanded as the table's slices expand theirs."""

    def __init__(self, capture: "TableCapture", statuses: Tuple[str, ...]) -> None:
        self._capture, self._statuses = capture, statuses

    def read(self) -> Iterable[Record]:
        for status in self._statuses:
            for page, stamp in self._capture.http.pages(self._capture.table.scanned_path, {"status": status}):
                yield from self._capture.records_from_page(page, stamp)

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {"running_subscriptions": True}

    def stream_name(self) -> str:
        return self._capture.table.name

    def __hash__(self) -> int:
        return hash((self.stream_name(), "running_subscriptions"))


class ListAgainOnEventsOf(Quirk):
    """Rows that embed another object as it is now (a promotion code its coupon) change with it, without an event of
    their own: each of `filters`' event types has the rows naming its object listed again, by the list's filter it
    maps to, which takes the object's id or, for an object that names one in a field of the filter's name (a
    transaction its card), that one."""

    def __init__(self, table: TableEntry, filters: Mapping[str, str]) -> None:
        super().__init__(table)
        self.filters = dict(filters)

    @property
    def changes(self) -> str:
        named = " or a ".join(dict.fromkeys(self.filters.values()))
        return f"the rows of a {named} are listed again on {', '.join(f'`{e}`' for e in self.filters)}"

    @property
    def other_event_types(self) -> Tuple[str, ...]:
        return tuple(self.filters)

    def records_from_events(self, capture: "TableCapture", events: Sequence[Mapping[str, Any]]) -> Iterator[Record]:
        filter_by, obj = self.filters[events[-1]["type"]], events[-1]["data"]["object"]
        named = obj.get(filter_by)
        parameters = {**self.table.request_parameters, filter_by: named if isinstance(named, str) else obj["id"]}
        for page, stamp in capture.http.pages(self.table.path, parameters):
            for obj in page:
                yield Record(data=stamped(obj, stamp), stream_name=self.table.name)


class FetchAgainOnEventsOf(Quirk):
    """Rows that embed other objects as they are now (an application fee its refunds) change with them, without an
    event of their own: each of `events`' event types carries an object that names its row in the field it maps to,
    and that row is fetched again."""

    def __init__(self, table: TableEntry, events: Mapping[str, str]) -> None:
        super().__init__(table)
        self.events = dict(events)

    @property
    def changes(self) -> str:
        return f"a row is fetched again when an object it embeds changes ({', '.join(f'`{e}`' for e in self.events)})"

    @property
    def other_event_types(self) -> Tuple[str, ...]:
        return tuple(self.events)

    def records_from_events(self, capture: "TableCapture", events: Sequence[Mapping[str, Any]]) -> Iterator[Record]:
        row_id = events[-1]["data"]["object"].get(self.events[events[-1]["type"]])
        row, stamp = capture.http.retrieve(self.table.path, row_id) if row_id else (None, 0)
        if row is not None:
            yield Record(data=stamped(row, stamp), stream_name=self.table.name)


class AppendOnlyListedLate(Quirk):
    """Rows that never change once made, in a list that can show one after newer ones (Stripe's events, eventually
    consistent): no lookback window is read again, but the `created` position stays EVENTS_LISTED_LATE_MARGIN behind
    Stripe's time, so the next sync lists again what may still appear there."""

    changes = "rows never change, but the last minutes before a sync are listed again by the next"

    def lookback(self, seconds: int) -> int:
        return 0

    def created_settled(self, now: int) -> Optional[int]:
        return now - EVENTS_LISTED_LATE_MARGIN


class ListedWholeEverySync(Quirk):
    """A short list whose changes no event of the reading account says (a connected account's are its own events; a
    file link expires without one): every sync lists it whole, whatever the lookback window."""

    changes = "the whole list is read every sync"

    def lookback(self, seconds: int) -> int:
        return WHOLE_HISTORY


class RowsWithEventsOfTheirOwn(Quirk):
    """A child table whose rows have events of their own (a customer's payment methods), not their parent's: an event
    carries the row itself. When it cannot be taken as it is (another API version, or several in one second), the row
    is fetched again from the list of the parent it named; a row that names no parent any more (detached), or that its
    parent no longer lists, arrives deleted. `events` names the entry's events that carry a row when the others carry
    its parent (an application fee's refunds); without it, all do. Events of these types about other kinds of objects
    are not the table's."""

    def __init__(self, table: TableEntry, events: Optional[Sequence[str]] = None) -> None:
        super().__init__(table)
        self.events = tuple(events) if events is not None else table.event_types
        unknown = sorted(set(self.events) - set(table.event_types))
        if unknown:
            raise ValueError(f"The manifest entry {table.name!r} names row events that are not among its events: {unknown}")

    @property
    def other_event_types(self) -> Tuple[str, ...]:
        return self.events

    def records_from_events(self, capture: "TableCapture", events: Sequence[Mapping[str, Any]]) -> Iterator[Record]:
        key, row = self.table.parent.key, events[-1]["data"]["object"]
        if row.get("object") != self.table.stripe_object:
            return  # an event of the same type about another kind of object (customer.source.* of a card)
        stamp = max(event["created"] for event in events) * 1000
        if all(event.get("api_version") == capture.table.api_version and event["data"]["object"] == row for event in events):
            gone = not row.get(key) or any(event["type"] in self.table.deletions for event in events)
            yield Record(data=stamped(row, stamp, deleted=gone), stream_name=self.table.name)
            return
        parent = next((e["data"]["object"][key] for e in reversed(events) if e["data"]["object"].get(key)), None)
        current, fetched = None, stamp + 1
        if parent is not None:
            current, fetched = capture.http.retrieve(path_of_one_parent(self.table, {"id": parent}), row["id"])
        found = current if current is not None and current.get(key) else None
        yield Record(data=stamped(found or row, max(fetched, stamp + 1), deleted=found is None), stream_name=self.table.name)


class OnlyParentChangesOf(Quirk):
    """A child table with no events of its own whose rows change only when `fields` of their parent do (a customer's
    balance transactions, its balance): other events of the parent do not have its rows read again."""

    def __init__(self, table: TableEntry, fields: Sequence[str]) -> None:
        super().__init__(table)
        self.fields = tuple(fields)

    @property
    def changes(self) -> str:
        return f"only the {{parent}}'s updates that change its {', '.join(f'`{f}`' for f in self.fields)} have its rows read again"

    def reads_parent_for(self, events: Sequence[Mapping[str, Any]]) -> bool:
        return any(set(event["data"].get("previous_attributes") or ()) & set(self.fields) for event in events)
