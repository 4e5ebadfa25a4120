"""One table's read: its partitions for a sync, and the records each listed object or replayed event stands for."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_stripe.pages import StripeHttp, SyncClock
from source_stripe.partitions import STRIPE_EPOCH, EventWindow, PartitionPlan, RunningSubscriptions
from source_stripe.state import TableState

if TYPE_CHECKING:
    from source_stripe.children import Child, Expansion

PINNED_API_VERSION = "2023-08-16"
CURSOR_FIELD = "observed_at"
DAY = 86_400
EVENTS_RETENTION = 30 * DAY
# Stripe keeps events 30 days; a position this close to the edge may already have lost its oldest events.
EVENTS_RETENTION_MARGIN = DAY
# Stripe's event list is eventually consistent: an event can appear seconds after newer ones are listed. The events
# position stays this far behind Stripe's time at the sync, so an event listed late is replayed by the next sync.
EVENTS_LISTED_LATE_MARGIN = 5 * 60
# Stripe sends no event when usage is reported: the usage of running subscriptions is re-read once the last such read
# is this old, so syncs in between cost the same however large the account (the config's running_usage_refresh_hours).
DEFAULT_RUNNING_USAGE_REFRESH_HOURS = 12

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class Table:
    """What incremental syncs need to know about one stream, read from its manifest entry."""

    name: str
    scanned_path: str  # the list whose `created` and events find this table's objects: its own, or its parent's
    scanned_params: Mapping[str, Any]
    event_types: Tuple[str, ...]  # every event type its entry names, whatever it means
    deletions: FrozenSet[str]  # the event types its entry says mean the object is gone
    child: Optional["Child"] = None
    rescans_running_subscriptions: bool = False

    def expand(self, expansion: "Expansion", parent: MutableMapping[str, Any], stamp: int) -> Iterable[MutableMapping[str, Any]]:
        return self.child.expand(expansion, parent, stamp) if self.child else [stamped(parent, stamp)]

    def asks_stripe(self, parent: Mapping[str, Any]) -> bool:
        return self.child is not None and self.child.asks_stripe(parent)


def stamped(obj: Mapping[str, Any], stamp: int, deleted: bool = False) -> MutableMapping[str, Any]:
    """A record of `obj`: a copy, since parsed pages are shared by tables (SharedPages) and a parent's record embeds
    the objects its children's records are made of."""
    return {**obj, CURSOR_FIELD: stamp, "is_deleted": deleted}


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
        for data in self.table.expand(self._expansion, obj, stamp):
            yield Record(data=data, stream_name=self.table.name)

    def records_from_page(self, page: List[MutableMapping[str, Any]], stamp: int) -> Iterator[Record]:
        """The records a page of scanned objects stands for. A child table asks for the children of all the page's
        parents at once rather than one parent after another, so its requests keep pace with its parent's."""
        if self.table.child is None:
            for obj in page:
                yield Record(data=stamped(obj, stamp), stream_name=self.table.name)
            return
        expand = lambda obj: list(self.table.expand(self._expansion, obj, stamp))  # noqa: E731
        # Parents whose children are all embedded are expanded here: handing them to another thread costs more.
        children = [self._children_fetcher.submit(expand, obj) if self.table.asks_stripe(obj) else expand(obj) for obj in page]
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
        obj = event["data"]["object"]
        if all(e.get("api_version") == PINNED_API_VERSION and e["data"]["object"] == obj for e in events):
            deleted = any(e["type"] in self.table.deletions for e in events)
            stamp = event["created"] * 1000
            if deleted and self.table.child is None:
                yield Record(data=stamped(obj, stamp, deleted=True), stream_name=self.table.name)
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
        if self.table.name == "subscription_items":
            yield from self._removed_items(events, current_ids, stamp)

    def _current_records(self, obj: Mapping[str, Any], at_least: int) -> Tuple[List[Record], Set[str], int]:
        """`obj` as Stripe has it now: its records, their ids, and their `observed_at` (no lower than `at_least`)."""
        current, fetched_stamp = self.http.retrieve(self.table.scanned_path, obj["id"])
        stamp = max(fetched_stamp, at_least)
        if current is None:
            gone = {"id": obj["id"], "object": obj.get("object"), "livemode": obj.get("livemode")}
            records = [] if self.table.child else [Record(data=stamped(gone, stamp, deleted=True), stream_name=self.table.name)]
        else:
            records = list(self.records_from(current, stamp))
        return records, {record.data["id"] for record in records}, stamp

    def _removed_items(self, events: List[Mapping[str, Any]], still_there: Set[str], stamp: int) -> Iterator[Record]:
        """An update that drops an item from a subscription is that item's deletion. `still_there` are all the
        subscription's items (listed when it embeds only the first page of them)."""
        removed: Dict[str, Mapping[str, Any]] = {}
        for event in events:
            for item in ((event["data"].get("previous_attributes") or {}).get("items") or {}).get("data") or []:
                if item["id"] not in still_there:
                    removed[item["id"]] = item
        for item in removed.values():
            yield Record(data=stamped(item, stamp, deleted=True), stream_name=self.table.name)

    def plan(self, state: TableState, config: Mapping[str, Any]) -> "PartitionPlan":
        """This sync's partitions: the `created` range to list, the event windows to replay, and any others."""
        now, events_readable = self.clock.now_and_events_readable()
        start = config_time(config, "start_date") or STRIPE_EPOCH
        end = config_time(config, "end_date")
        lookback = int(config.get("lookback_window_days") or 0) * DAY
        if not self.table.event_types:
            state.events = None
        captures_changes = bool(self.table.event_types) and events_readable and end is None
        replays_events = captures_changes and _replayable(state.events, now)
        if captures_changes and state.created is not None and not replays_events:
            logger.warning(
                f"{self.table.name}: the last sync is older than the 30 days Stripe keeps events, so changes since then "
                "cannot be replayed; the whole table is read again instead."
            )
            state.created = None
        # Events are replayed from a kept position even when `created` starts over (a sync stopped before its first
        # slice finished): deletions since then must reach the objects that sync had already sent.
        windows = _event_windows(self, state.events, now) if replays_events else []
        if captures_changes and not replays_events:
            # A first (or repeated) full read: changes made from now on, to objects already read, come from events.
            state.events = now - EVENTS_LISTED_LATE_MARGIN
        incremental = state.created is not None
        created_from = max(start, state.created - lookback) if incremental else start
        rereads_usage = self.table.rescans_running_subscriptions and incremental and _running_usage_due(state, config, now)
        extra: List[Partition] = [RunningSubscriptions(self)] if rereads_usage else []
        # A scan from the start reads every subscription's usage too.
        usage_read_at = now if self.table.rescans_running_subscriptions and (rereads_usage or not incremental) else None
        return PartitionPlan(self, created_from, end, windows, extra, usage_read_at, events_settled=now - EVENTS_LISTED_LATE_MARGIN)


def _running_usage_due(state: TableState, config: Mapping[str, Any], now: int) -> bool:
    hours = config.get("running_usage_refresh_hours", DEFAULT_RUNNING_USAGE_REFRESH_HOURS)
    return state.running_usage is None or now - state.running_usage >= hours * 3600


def _replayable(events_position: Optional[int], now: int) -> bool:
    return events_position is not None and events_position >= now - EVENTS_RETENTION + EVENTS_RETENTION_MARGIN


def _event_windows(capture: TableCapture, start: int, now: int) -> List[EventWindow]:
    bounds = list(range(start, now, DAY)) or [start]
    windows = [EventWindow(capture, lower, upper) for lower, upper in zip(bounds, bounds[1:])]
    windows.append(EventWindow(capture, bounds[-1], None))
    return windows


def config_time(config: Mapping[str, Any], name: str) -> Optional[int]:
    from source_stripe.config import parse_date

    value = parse_date(config, name)
    return int(value.timestamp()) if value else None
