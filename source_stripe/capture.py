"""One table's read: its partitions for a sync, and the records each listed object or replayed event stands for."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

from airbyte_cdk.sources.types import Record

from source_stripe.children import Expansion, stamped
from source_stripe.pages import StripeHttp, SyncClock
from source_stripe.partitions import STRIPE_EPOCH, EventWindow, PartitionPlan
from source_stripe.planning import DAY, plan_sync
from source_stripe.quirks import Quirk
from source_stripe.state import TableState


logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class Table:
    """What reading one table needs to know, from its manifest entry and those of its parents."""

    name: str
    scanned_path: str  # the list whose `created` and events find this table's objects: its own, or its top parent's
    scanned_params: Mapping[str, Any]
    created_field: str  # the scanned objects' field that the list's `created` filter compares
    created_filter: bool  # whether the scanned list takes that filter; without, slices are cut out of its pages
    event_types: Tuple[str, ...]  # every event type its entry names, whatever it means
    replayed_events_query: Mapping[str, Any]  # how every table of the sync asks for the events it replays
    deletions: FrozenSet[str]  # the event types its entry says mean the object is gone
    events_say_every_change: bool  # once read, its incremental syncs replay events and list nothing
    is_child: bool
    quirk: Quirk
    api_version: str  # the version every request pins (the manifest's Stripe-Version), which the schemas describe


class TableCapture:
    """One table's incremental read: its partitions, and the records each scanned object or event stands for."""

    def __init__(
        self, table: Table, http: StripeHttp, expansion: Expansion, clock: SyncClock, children_fetcher: Executor, objects_per_slice: int
    ) -> None:
        self.table, self.http, self._expansion, self.clock = table, http, expansion, clock
        self.objects_per_slice = objects_per_slice
        self._children_fetcher = children_fetcher
        self._refetched: Dict[str, Future] = {}  # object id -> what _current_records found, fetched once per sync
        self._lock = threading.Lock()

    def records_from(self, obj: MutableMapping[str, Any], stamp: int) -> Iterator[Record]:
        for data in self._expansion.records(obj, stamp):
            yield Record(data=data, stream_name=self.table.name)

    def records_from_page(self, page: List[MutableMapping[str, Any]], stamp: int) -> Iterator[Record]:
        """The records a page of scanned objects stands for. A child table asks for the children of all the page's
        parents at once rather than one parent after another, so its requests keep pace with its parent's."""
        if not self.table.is_child:
            for obj in page:
                yield Record(data=stamped(obj, stamp), stream_name=self.table.name)
            return
        expand = lambda obj: list(self._expansion.records(obj, stamp))  # noqa: E731
        # Parents whose children are all embedded are expanded here: handing them to another thread costs more.
        children = [self._children_fetcher.submit(expand, obj) if self._expansion.asks_stripe(obj) else expand(obj) for obj in page]
        try:
            for each in children:
                for data in each.result() if isinstance(each, Future) else each:
                    yield Record(data=data, stream_name=self.table.name)
        finally:
            for each in children:
                if isinstance(each, Future):
                    each.cancel()

    def records_from_events(self, events: List[Mapping[str, Any]]) -> Iterator[Record]:
        """The records that events of one object in one second stand for. Events in the pinned API version that all
        carry the same object (one event, or several for one change, as refund.updated and charge.refund.updated)
        are the object as it then was. Different versions in a second (their order unknown) or an event in another
        API version are replaced by the object as it is now, fetched once per sync, with an `observed_at` above
        that second's events."""
        event = events[-1]
        if event["type"] in self.table.quirk.other_event_types:
            yield from self.table.quirk.records_from_events(self, events)
            return
        if not self.table.quirk.reads_parent_for(events):
            return
        obj = event["data"]["object"]
        if all(e.get("api_version") == self.table.api_version and e["data"]["object"] == obj for e in events):
            deleted = any(e["type"] in self.table.deletions for e in events)
            stamp = event["created"] * 1000
            if deleted and not self.table.is_child:
                yield Record(data=stamped(obj, stamp, deleted=True), stream_name=self.table.name)
                return
            if deleted:
                for row in self._expansion.records_of_deleted(obj, stamp):
                    yield Record(data=row, stream_name=self.table.name)
                return
            records = list(self.records_from(obj, stamp))
            yield from records
            current_ids = {record.data["id"] for record in records}
        else:
            with self._lock:
                fetched = self._refetched.get(obj["id"])
                fetching = fetched is None
                if fetching:
                    fetched = self._refetched[obj["id"]] = Future()
            if fetching:
                try:
                    fetched.set_result(self._current_records(obj, max(e["created"] for e in events) * 1000 + 1))
                except BaseException as error:
                    fetched.set_exception(error)
                    raise
                yield from fetched.result()[0]
            _, current_ids, stamp = fetched.result()
        for row in self.table.quirk.rows_deleted_by(events, current_ids, stamp):
            yield Record(data=row, stream_name=self.table.name)

    def _current_records(self, obj: Mapping[str, Any], at_least: int) -> Tuple[List[Record], Set[str], int]:
        """`obj` as Stripe has it now: its records, their ids, and their `observed_at` (no lower than `at_least`)."""
        current, fetched_stamp = self.http.retrieve(self.table.scanned_path, obj["id"])
        stamp = max(fetched_stamp, at_least)
        if current is None:
            gone = {"id": obj["id"], "object": obj.get("object"), "livemode": obj.get("livemode")}
            rows = self._expansion.records_of_deleted(obj, stamp) if self.table.is_child else [stamped(gone, stamp, deleted=True)]
            records = [Record(data=row, stream_name=self.table.name) for row in rows]
        else:
            records = list(self.records_from(current, stamp))
        return records, {record.data["id"] for record in records}, stamp

    def plan(self, saved: TableState, config: Mapping[str, Any], changed: threading.Condition) -> Tuple[TableState, PartitionPlan]:
        """This sync's positions and partitions: the `created` range to list, the event windows to replay, and any
        others the table's quirk adds."""
        now, events_readable = self.clock.now_and_events_readable()
        start = config_time(config, "start_date") or STRIPE_EPOCH
        lookback = self.table.quirk.lookback(int(config.get("lookback_window_days") or 0) * DAY)
        end = config_time(config, "end_date")
        planned = plan_sync(saved, now, bool(self.table.event_types), events_readable, start, end, lookback, self.table.events_say_every_change)
        if planned.starts_over:
            logger.warning(
                f"{self.table.name}: the last sync is older than the 30 days Stripe keeps events, so changes since then "
                "cannot be replayed; the whole table is read again instead."
            )
        windows = [EventWindow(self, lower, upper) for lower, upper in planned.event_windows]
        extra, usage_read_at = self.table.quirk.extra_partitions(self, planned.state, config, now, planned.incremental)
        partitions = PartitionPlan(
            self, planned.created_from, end, windows, extra, usage_read_at,
            events_settled=planned.events_settled, created_settled=self.table.quirk.created_settled(now), changed=changed,
            events_from=planned.state.events if end is None else None,  # a listing up to now covers all before it
        )  # fmt: skip
        return planned.state, partitions


def config_time(config: Mapping[str, Any], name: str) -> Optional[int]:
    from source_stripe.config import parse_date

    value = parse_date(config, name)
    return int(value.timestamp()) if value else None
