"""How every table is read: new objects by `created`, and in incremental syncs changes and deletions from /v1/events.

Each table keeps a small state, {"created": S, "events": E} in unix seconds: every object created before S has been
read, and every event before E replayed (usage_record_summaries adds "running_usage": U, when the usage of every
running subscription was last read). A sync of a table then
  1. lists what was created since S less the lookback window (a full refresh: since the start date) in `created`
     slices: one to begin with, which splits its older part off to other workers once its first pages show the range
     is dense; each finished run of slices from the oldest moves S;
  2. replays the table's events since E, day by day, oldest second first; an object with several events in one
     second (Stripe does not say their order) is fetched as it is now instead. E stays EVENTS_LISTED_LATE_MARGIN
     behind Stripe's time, since an event can be listed after newer ones.
Records carry `observed_at` (see components.observed_at), so a destination that keeps the highest value per id keeps
the current object however list reads, lookback re-reads and events interleave, in one sync or across syncs.

Child tables have no list or events of their own that say what changed: subscription items follow their
subscription, setup attempts their setup intent, usage summaries their metered item. They scan their parent the same
way and expand each page of parents into their children, asking for the children of a page all at once.
"""

import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple
from urllib.parse import urlencode

import requests

from airbyte_cdk.models import AirbyteStream, FailureType, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.components import observed_at, parsed_body
from source_stripe.transport import DEFAULT_REQUESTS_PER_SECOND, StripeConnection, StripeRefused, TableRequests

PINNED_API_VERSION = "2023-08-16"
CURSOR_FIELD = "observed_at"
DAY = 86_400
EVENTS_RETENTION = 30 * DAY
# Stripe keeps events 30 days; a position this close to the edge may already have lost its oldest events.
EVENTS_RETENTION_MARGIN = DAY
# Stripe's event list is eventually consistent: an event can appear seconds after newer ones are listed. The events
# position stays this far behind Stripe's time at the sync, so an event listed late is replayed by the next sync.
EVENTS_LISTED_LATE_MARGIN = 5 * 60
STRIPE_EPOCH = 1_293_840_000  # 2011-01-01: no Stripe object is older
# A slice that still has more after its first few pages splits off its older part, so a small table costs exactly its
# pages, a sparse decade a few requests, and a dense day is shared by many workers.
PAGES_BEFORE_SPLITTING = 3
# Each slice ends on a partial page, so slices are as large as keeping the request budget's requests in flight allows:
# this many objects at the live budget, and as many times more as the budget is smaller (test mode's 24 requests/s on
# the top-level tables: 1,049 requests and 2,214 records/s with 2,000, 1,019 and 2,317 with 8,000; live, 4,000 read no
# faster than 2,000).
OBJECTS_PER_SLICE = 2_000
MAX_PIECES_PER_SPLIT = 8
# Statuses of subscriptions whose metered usage still accrues.
RUNNING_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused")
# Stripe sends no event when usage is reported: the usage of running subscriptions is re-read once the last such read
# is this old, so syncs in between cost the same however large the account (the config's running_usage_refresh_hours).
DEFAULT_RUNNING_USAGE_REFRESH_HOURS = 12
# Pages several tables read are kept for the others up to this much JSON (a few times that once parsed); a
# subscriptions page is ~0.3 MB.
MAX_SHARED_BYTES = 24 * 1024 * 1024

logger = logging.getLogger("airbyte")


class InvalidState(AirbyteTracedException):
    def __init__(self, stream: str, problem: str) -> None:
        message = (
            f"The saved state of {stream} cannot be used: {problem}. Reset the stream's data (Airbyte: refresh "
            "the stream) to read it again from the start date."
        )
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass
class TableState:
    created: Optional[int] = None
    events: Optional[int] = None
    running_usage: Optional[int] = None

    def as_message(self) -> Dict[str, int]:
        positions = (("created", self.created), ("events", self.events), ("running_usage", self.running_usage))
        return {key: value for key, value in positions if value is not None}

    @classmethod
    def parse(cls, stream: str, raw: Optional[Mapping[str, Any]], now: int) -> "TableState":
        """This connector's state, or that of Airbyte's earlier Stripe connector ({"updated": t} / {"created": t},
        possibly per parent), clamped to now: a position in the future would skip what happens until then."""
        if not raw:
            return cls()
        if not isinstance(raw, Mapping):
            raise InvalidState(stream, f"it is {type(raw).__name__}, not an object")
        created = raw.get("created")
        events = raw.get("events", raw.get("updated"))
        if created is None and events is None:
            created = events = _earliest_nested_position(stream, raw)
        elif created is None and "updated" in raw:
            created = events  # the earlier connector's {"updated": t}; this one's {"events": t} alone read nothing yet
        elif events is None and "updated" not in raw and "events" not in raw:
            events = created
        running_usage = raw.get("running_usage")
        for name, value in (("created", created), ("events", events), ("running_usage", running_usage)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise InvalidState(stream, f"its '{name}' position is {value!r}, not a unix time in seconds")
        clamp = lambda value: None if value is None else min(int(value), now)  # noqa: E731
        if max(created or 0, events or 0, running_usage or 0) > now:
            logger.warning(f"{stream}: the saved state lies in the future; it is read as now.")
        return cls(created=clamp(created), events=clamp(events), running_usage=clamp(running_usage))


def _earliest_nested_position(stream: str, raw: Mapping[str, Any]) -> Optional[int]:
    """The earlier connector kept child tables' state per parent ({"states": [{"partition":…, "cursor":{…}}]});
    resuming from the earliest parent's position misses nothing."""
    positions = []
    for entry in raw.get("states") or []:
        cursor = entry.get("cursor") if isinstance(entry, Mapping) else None
        if isinstance(cursor, Mapping):
            positions += [v for k, v in cursor.items() if k in ("updated", "created") and isinstance(v, (int, float))]
    parent = raw.get("parent_state")
    if isinstance(parent, Mapping):
        for parent_state in parent.values():
            if isinstance(parent_state, Mapping):
                positions += [v for k, v in parent_state.items() if k in ("updated", "created") and isinstance(v, (int, float))]
    if not positions and (raw.get("states") or raw.get("parent_state")):
        raise InvalidState(stream, "no position could be found in it")
    return int(min(positions)) if positions else None


class ListedOnce:
    """One listing's pages as Stripe sends them: an object on two pages is emitted once, and a page that brings nothing
    new while saying more follow stops the listing rather than asking for the same pages forever."""

    def __init__(self, table: str) -> None:
        self._table, self._ids = table, set()

    def new_in(self, page: List[MutableMapping[str, Any]], has_more: bool) -> List[MutableMapping[str, Any]]:
        fresh = []
        for obj in page:
            if obj.get("id") in self._ids:
                logger.warning(f"{self._table}: Stripe listed {obj['id']} on two pages; it is emitted once.")
                continue
            self._ids.add(obj.get("id"))
            fresh.append(obj)
        if has_more and not fresh:
            message = (
                f"Stripe's pages of {self._table} repeat themselves after {page[-1].get('id')}; the table was stopped "
                "rather than read in a loop. The next sync reads it again."
            )
            raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.transient_error)
        return fresh


class SharedPages:
    """List pages that several tables ask for alike, fetched once per sync.

    Three tables scan subscriptions and two scan setup intents, in the same `created` slices (a slice splits the same
    way whoever reads it) and the same event windows; two list the items of crowded subscriptions. The first table to
    ask for such a page fetches and parses it while the others wait for it; all get the same objects, which no table
    changes (records are stamped copies, see _stamped). A page is dropped once every table that reads its list took
    it, and past MAX_SHARED_BYTES the oldest pages go first: a table asking for one of those fetches it again.
    """

    def __init__(self, readers: Mapping[Tuple[str, Tuple[Any, ...]], int]) -> None:
        self._readers = readers
        self._lock = threading.Lock()
        self._pages: "OrderedDict[str, _SharedPage]" = OrderedDict()
        self._bytes = 0

    def fetch(
        self, path: str, query: Mapping[str, Any], get: Callable[[], requests.Response], family: Optional[Tuple[str, Tuple[Any, ...]]] = None
    ) -> Tuple[bool, int, Any]:
        """Whether Stripe answered with a page (or object), its `observed_at`, and its parsed body. `family` says which
        tables read it alike, by default the tables that page through the list it is a page of."""
        readers = self._readers.get(family or list_family(path, query), 0)
        if readers < 2:
            return _read_page(get())
        key = f"{path}?{urlencode(sorted(query.items()), doseq=True)}"
        with self._lock:
            page = self._pages.get(key)
            leading = page is None
            if leading:
                page = self._pages[key] = _SharedPage(readers)
        if leading:
            try:
                response = get()
            except BaseException:
                with self._lock:
                    self._pages.pop(key, None)
                page.ready(None)
                raise
            answer = _read_page(response)
            page.ready(answer, len(response.content))
            self._took(key, page)
            return answer
        fetched = page.wait()
        if fetched is None:  # the table that fetched it failed; this one asks and fails or not on its own
            return _read_page(get())
        self._took(key, page)
        return fetched

    def _took(self, key: str, page: "_SharedPage") -> None:
        with self._lock:
            page.readers_left -= 1
            if not page.counted:
                page.counted, self._bytes = True, self._bytes + page.size
            if page.readers_left == 0 and self._pages.get(key) is page:
                self._drop(key)
            while self._bytes > MAX_SHARED_BYTES:
                oldest = next((k for k, p in self._pages.items() if p.counted), None)
                if oldest is None:
                    break
                self._drop(oldest)

    def _drop(self, key: str) -> None:
        page = self._pages.pop(key)
        if page.counted:
            self._bytes -= page.size


class _SharedPage:
    """A page being fetched by one table for others: whether it lists anything, its `observed_at`, its parsed body,
    and the size of its JSON."""

    def __init__(self, readers: int) -> None:
        self.readers_left, self.counted, self.size = readers, False, 0
        self._fetched = threading.Event()
        self._page: Optional[Tuple[bool, int, Any]] = None

    def ready(self, page: Optional[Tuple[bool, int, Any]], size: int = 0) -> None:
        self._page, self.size = page, size
        self._fetched.set()

    def wait(self) -> Optional[Tuple[bool, int, Any]]:
        self._fetched.wait()
        return self._page


def object_family(collection: str) -> Tuple[str, Tuple[Any, ...]]:
    """The objects of `collection` that tables fetch one by one (an event's object as it is now): every table that scans
    that collection replays the same events, so asks for the same objects."""
    return f"{collection}/{{id}}", ()


def list_family(path: str, query: Mapping[str, Any]) -> Tuple[str, Tuple[Any, ...]]:
    """Which list a request pages through, whatever the slice, page or parent: its path and the parameters that choose
    the list (subscriptions' status, events' types)."""
    return path, tuple((name, tuple(value) if isinstance(value, (list, tuple)) else value) for name, value in sorted(query.items()) if name in ("status", "types[]"))


def _read_page(response: requests.Response) -> Tuple[bool, int, Any]:
    return response.ok, observed_at(response), parsed_body(response) if response.ok else None


class StripeHttp:
    """One table's lists and retrieves, sent as transport.TableRequests says: within the sync's budget, retried and
    judged by the manifest's error handlers."""

    def __init__(self, table: str, lists: TableRequests, objects: TableRequests, shared: SharedPages) -> None:
        self.table = table
        self._lists = lists
        self._objects = objects
        self._shared = shared

    def page(self, path: str, params: Mapping[str, Any], starting_after: Optional[str]) -> Tuple[List[MutableMapping[str, Any]], int, bool]:
        """One page of a Stripe list, newest first: its objects, their `observed_at`, and whether more follow."""
        query = {**params, "limit": 100, **({"starting_after": starting_after} if starting_after else {})}
        listed, stamp, body = self._shared.fetch(path, query, lambda: self._lists.get(path, query))
        if not listed:  # an answer the error handler ignores, such as a missing legacy API, lists nothing
            return [], stamp, False
        return body["data"], stamp, bool(body["has_more"] and body["data"])

    def pages(self, path: str, params: Mapping[str, Any], starting_after: Optional[str] = None) -> Iterator[Tuple[List[MutableMapping[str, Any]], int]]:
        """Every page of a Stripe list, newest first (after `starting_after`), with the `observed_at` of its objects."""
        listed = ListedOnce(self.table)
        while True:
            data, stamp, has_more = self.page(path, params, starting_after)
            yield listed.new_in(data, has_more), stamp
            if not has_more:
                return
            starting_after = data[-1]["id"]

    def retrieve(self, collection: str, object_id: str) -> Tuple[Optional[MutableMapping[str, Any]], int]:
        """The object of `collection` as the pinned API version renders it, or None when it no longer exists (Stripe
        answers 404, or a deleted stub)."""
        path = f"{collection}/{object_id}"
        found, stamp, body = self._shared.fetch(path, {}, lambda: self._objects.get(path, {}), object_family(collection))
        if not found or body.get("deleted"):
            return None, stamp
        return body, stamp

    def now_and_events_readable(self) -> Tuple[int, bool]:
        """Stripe's time now, and whether the key may read events (restricted keys may lack "Events: Read")."""
        try:
            response = self._lists.get("events", {"limit": 1})
        except StripeRefused as error:
            if error.status_code != 403:
                raise
            # Without events the time only bounds the `created` slices, where the local clock is close enough.
            return int(time.time()), False
        return (observed_at(response) + 1) // 1000, True


class SyncClock:
    """What every table of one sync shares: Stripe's time when it began, and whether events can be read."""

    def __init__(self, http: StripeHttp) -> None:
        self._http = http
        self._lock = threading.Lock()
        self._known: Optional[Tuple[int, bool]] = None
        self._warned = False

    def now_and_events_readable(self) -> Tuple[int, bool]:
        with self._lock:
            if self._known is None:
                self._known = self._http.now_and_events_readable()
                if not self._known[1]:
                    logger.warning(
                        'The API key cannot read Events (grant it "Events: Read" in the Stripe dashboard). Incremental '
                        "syncs therefore see new objects and re-read those created within the lookback window, but "
                        "miss later updates to older objects and all deletions until the next full refresh."
                    )
            return self._known


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
        return self.child.expand(expansion, parent, stamp) if self.child else [_stamped(parent, stamp)]

    def asks_stripe(self, parent: Mapping[str, Any]) -> bool:
        return self.child is not None and self.child.asks_stripe(parent)


class Expansion:
    """Turns a parent object into the child records it stands for; asks Stripe only where children can exist."""

    def __init__(self, http: StripeHttp) -> None:
        self._http = http
        self._lock = threading.Lock()
        self._summarised_items: Set[str] = set()

    @staticmethod
    def embeds_only_some_items(subscription: Mapping[str, Any]) -> bool:
        items = subscription.get("items") or {}
        return bool(items.get("has_more") and items.get("data"))

    def subscription_items(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        for item, item_stamp in self._items_of(subscription, stamp):
            yield _stamped(item, item_stamp)

    def _items_of(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[Tuple[Mapping[str, Any], int]]:
        """A subscription's items as Stripe gave them, each with its `observed_at`: embedded ones, then the rest."""
        embedded = (subscription.get("items") or {}).get("data") or []
        for item in embedded:
            yield item, stamp
        if not self.embeds_only_some_items(subscription):
            return
        rest = self._http.pages("subscription_items", {"subscription": subscription["id"]}, starting_after=embedded[-1]["id"])
        for page, page_stamp in rest:
            for item in page:
                yield item, page_stamp

    @staticmethod
    def had_an_attempt(setup_intent: Mapping[str, Any]) -> bool:
        return bool(setup_intent.get("latest_attempt"))

    def setup_attempts(self, setup_intent: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        if not self.had_an_attempt(setup_intent):
            return
        for page, page_stamp in self._http.pages("setup_attempts", {"setup_intent": setup_intent["id"]}):
            for attempt in page:
                yield _stamped(attempt, page_stamp)

    @staticmethod
    def may_have_metered_items(subscription: Mapping[str, Any]) -> bool:
        embedded = (subscription.get("items") or {}).get("data") or []
        return Expansion.embeds_only_some_items(subscription) or any(_is_metered(item) for item in embedded)

    def usage_record_summaries(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        for item, _ in self._items_of(subscription, stamp):  # items are only looked at here, not emitted
            if not _is_metered(item):
                continue
            with self._lock:
                if item["id"] in self._summarised_items:
                    continue
                self._summarised_items.add(item["id"])
            for page, page_stamp in self._http.pages(f"subscription_items/{item['id']}/usage_record_summaries", {}):
                for summary in page:
                    yield _stamped(summary, page_stamp)


def _is_metered(item: Mapping[str, Any]) -> bool:
    return ((item.get("price") or {}).get("recurring") or {}).get("usage_type") == "metered"


def _stamped(obj: Mapping[str, Any], stamp: int, deleted: bool = False) -> MutableMapping[str, Any]:
    """A record of `obj`: a copy, since parsed pages are shared by tables (SharedPages) and a parent's record embeds
    the objects its children's records are made of."""
    return {**obj, CURSOR_FIELD: stamp, "is_deleted": deleted}


class CreatedSlice(Partition):
    """Objects created in [start, end) (end None: up to now), found by listing the scanned table.

    Its first pages tell how dense the range is: when more follows than one worker should page through alone, the
    slice keeps the newest part and hands the older part, cut in pieces, to other workers (`split_older_part`).
    """

    def __init__(self, capture: "TableCapture", start: int, end: Optional[int], plan: "PartitionPlan") -> None:
        self._capture, self.start, self.end, self._plan = capture, start, end, plan
        self._identity = (capture.table.name, "created", start, end)  # start moves when the slice splits
        self.newest_created: Optional[int] = None
        self.read_at: Optional[int] = None  # Stripe's second when its first page was read

    def read(self) -> Iterable[Record]:
        table, http = self._capture.table, self._capture.http
        starting_after, pages_read, seen, newest_seen = None, 0, 0, 0
        listed = ListedOnce(table.name)
        with self._plan.reading():
            while True:
                created = {}
                if self.start > STRIPE_EPOCH:  # Stripe has nothing older: a slice from there needs no lower bound
                    created["created[gte]"] = self.start
                if self.end is not None:
                    created["created[lt]"] = self.end
                page, stamp, has_more = http.page(table.scanned_path, {**table.scanned_params, **created}, starting_after)
                if self.read_at is None:
                    self.read_at = (stamp + 1) // 1000
                pages_read, seen = pages_read + 1, seen + len(page)
                newest_seen = max([newest_seen] + [obj.get("created") or 0 for obj in page[:1]])
                if has_more and pages_read == PAGES_BEFORE_SPLITTING:
                    self._plan.split_older_part(self, seen, newest_seen, page[-1].get("created") or 0)
                fresh = listed.new_in(page, has_more)
                if fresh:
                    self.newest_created = max(self.newest_created or 0, max(obj.get("created") or 0 for obj in fresh))
                yield from self._capture.records_from_page(fresh, stamp)
                if not has_more:
                    return
                starting_after = page[-1]["id"]

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {"created_start": self.start, "created_end": self.end}

    def stream_name(self) -> str:
        return self._capture.table.name

    def __hash__(self) -> int:
        return hash(self._identity)


class EventWindow(Partition):
    """The table's events in [start, end) (end None: up to now), replayed oldest second first.

    Stripe dates events to the second and does not list one second's events in the order they happened, so the
    events of one object that share a second are replayed together (records_from_events)."""

    def __init__(self, capture: "TableCapture", start: int, end: Optional[int]) -> None:
        self._capture, self.start, self.end = capture, start, end

    def read(self) -> Iterable[Record]:
        table = self._capture.table
        params: Dict[str, Any] = {"types[]": list(table.event_types), "created[gte]": self.start}
        if self.end is not None:
            params["created[lt]"] = self.end
        events = [event for page, _ in self._capture.http.pages("events", params) for event in page]
        same_second: Dict[Tuple[int, str], List[Mapping[str, Any]]] = {}
        for event in sorted(events, key=lambda event: event["created"]):
            same_second.setdefault((event["created"], event["data"]["object"]["id"]), []).append(event)
        for group in same_second.values():
            yield from self._capture.records_from_events(group)

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {"events_start": self.start, "events_end": self.end}

    def stream_name(self) -> str:
        return self._capture.table.name

    def __hash__(self) -> int:
        return hash((self.stream_name(), "events", self.start, self.end))


class RunningSubscriptions(Partition):
    """Usage accrues without events, so the summaries of subscriptions still running are re-read once the last such
    read is older than the config's running_usage_refresh_hours."""

    def __init__(self, capture: "TableCapture") -> None:
        self._capture = capture

    def read(self) -> Iterable[Record]:
        for status in RUNNING_SUBSCRIPTION_STATUSES:
            for page, stamp in self._capture.http.pages("subscriptions", {"status": status}):
                yield from self._capture.records_from_page(page, stamp)

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {"running_subscriptions": True}

    def stream_name(self) -> str:
        return self._capture.table.name

    def __hash__(self) -> int:
        return hash((self.stream_name(), "running_subscriptions"))


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
                yield Record(data=_stamped(obj, stamp), stream_name=self.table.name)
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
                yield Record(data=_stamped(obj, stamp, deleted=True), stream_name=self.table.name)
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
            records = [] if self.table.child else [Record(data=_stamped(gone, stamp, deleted=True), stream_name=self.table.name)]
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
            yield Record(data=_stamped(item, stamp, deleted=True), stream_name=self.table.name)

    def plan(self, state: TableState, config: Mapping[str, Any]) -> "PartitionPlan":
        """This sync's partitions: the `created` range to list, the event windows to replay, and any others."""
        now, events_readable = self.clock.now_and_events_readable()
        start = _config_time(config, "start_date") or STRIPE_EPOCH
        end = _config_time(config, "end_date")
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


def _config_time(config: Mapping[str, Any], name: str) -> Optional[int]:
    from source_stripe.config import parse_date

    value = parse_date(config, name)
    return int(value.timestamp()) if value else None


class PartitionPlan:
    """One table's partitions in one sync, handed to the CDK as they come: those planned up front, then the pieces
    that slices split off while they read. Knows which have finished, and so how far the table has been read.

    `usage_read_at`, when this sync reads the usage of every running subscription: the time it is read as of, once
    the `extra` partitions (the running subscriptions), or without them every slice, have finished.
    `events_settled`: how far the events position may move, since later events may not all be listed yet."""

    def __init__(
        self,
        capture: "TableCapture",
        start: int,
        end: Optional[int],
        windows: List["EventWindow"],
        extra: List[Partition],
        usage_read_at: Optional[int] = None,
        events_settled: Optional[int] = None,
    ) -> None:
        self._capture = capture
        self._events_settled = events_settled
        self._changed = threading.Condition()
        self.slices = [CreatedSlice(capture, start, end, self)]
        self.windows = windows
        self._extra, self._usage_read_at = extra, usage_read_at
        self._pending = deque([*self.slices, *windows, *extra])
        self._slices_not_done_reading = 0  # handed out and not finished: each may still split
        self._done: Set[int] = set()

    def partitions(self) -> Iterator[Partition]:
        """Ends once nothing is left to hand out and no slice that could still split is being read."""
        while True:
            with self._changed:
                while not self._pending and self._slices_not_done_reading:
                    self._changed.wait()
                if not self._pending:
                    return
                partition = self._pending.popleft()
                self._slices_not_done_reading += isinstance(partition, CreatedSlice)
            yield partition

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Wraps a slice's read: once it ends, however it ends, that slice can split no more."""
        try:
            yield
        finally:
            with self._changed:
                self._slices_not_done_reading -= 1
                self._changed.notify_all()

    def split_older_part(self, part: "CreatedSlice", seen: int, newest: int, oldest: int) -> None:
        """`part`, having seen `seen` objects created from `oldest` to `newest`, keeps about a slice's objects more;
        what is older goes to new slices. That density holds near `oldest` only, so the new slices grow fourfold going
        back: an empty past costs a request per piece, and a piece that meets dense data splits in turn."""
        length = max(1, self._capture.objects_per_slice * max(1, newest - oldest + 1) // seen)
        cut = oldest - length
        if cut <= part.start:
            return
        older: List[CreatedSlice] = []
        upper = cut
        while upper > part.start:
            lower = part.start if len(older) == MAX_PIECES_PER_SPLIT - 1 else max(part.start, upper - length)
            older.insert(0, CreatedSlice(self._capture, lower, upper, self))
            upper, length = lower, length * 4
        with self._changed:
            self.slices.extend(older)
            part.start = cut
            self._pending.extend(older)
            self._changed.notify_all()

    def finish(self, partition: Partition) -> Tuple[Optional[int], Optional[int], Optional[int]]:
        """Marks `partition` done; returns how far `created` and events are now read without a gap, and when the
        running subscriptions' usage was read (None: no further than before)."""
        with self._changed:
            self._done.add(id(partition))
            # Without events, slices are cut by the local clock, which may run ahead of Stripe's: a slice has read
            # no further than Stripe's time when it was read.
            read = lambda s, t: t if t is None or s.read_at is None else min(t, s.read_at)  # noqa: E731
            chain = sorted(self.slices, key=lambda s: s.start)
            created = _position(chain, self._done, lambda s: read(s, s.start), lambda s: read(s, s.end), lambda s: s.newest_created)
            events = _position(self.windows, self._done, lambda w: w.start, lambda w: w.end, lambda w: self._events_settled)
            if events is not None:
                events = min(events, self._events_settled)
            usage_read = self._usage_read_at is not None and all(id(part) in self._done for part in self._extra or self.slices)
            return created, events, self._usage_read_at if usage_read else None


class ChangeCaptureCursor(Cursor):
    """Moves each position only past partitions that finished in order, so a resumed sync misses nothing."""

    def __init__(
        self,
        stream: str,
        state: TableState,
        state_manager: ConnectorStateManager,
        message_repository: MessageRepository,
    ) -> None:
        self._stream, self._state = stream, state
        self._state_manager, self._messages = state_manager, message_repository
        self._lock = threading.Lock()
        self._plan: Optional[PartitionPlan] = None

    def follow(self, state: TableState, plan: PartitionPlan) -> None:
        """Follows `plan`, saying its starting positions at once: a sync killed before any of its partitions finished
        then still leaves where its events begin, so the next one replays the deletions of objects it had sent."""
        with self._lock:
            self._state, self._plan = state, plan
            self._emit()

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.as_message()

    def observe(self, record: Record) -> None:
        pass

    def close_partition(self, partition: Partition) -> None:
        created, events, running_usage = self._plan.finish(partition)
        with self._lock:
            if created is not None:
                self._state.created = max(created, self._state.created or 0)
            if events is not None:
                self._state.events = max(events, self._state.events or 0)
            if running_usage is not None:
                self._state.running_usage = max(running_usage, self._state.running_usage or 0)
            self._emit()

    def _emit(self) -> None:
        self._state_manager.update_state_for_stream(self._stream, None, self._state.as_message())
        self._messages.emit_message(self._state_manager.create_state_message(self._stream, None))

    def ensure_at_least_one_state_emitted(self) -> None:
        with self._lock:
            self._emit()

    def should_be_synced(self, record: Record) -> bool:
        return True

    def stream_slices(self) -> Iterable[StreamSlice]:
        return []


def _position(parts: List[Any], done: Set[int], start: Callable, end: Callable, newest: Callable) -> Optional[int]:
    """How far the finished prefix of `parts` reaches: the end of the last finished one, or for the open-ended last
    part as far as `newest` says it has surely read (for slices the newest second seen, re-read next time so ties
    there are not lost; for events the settled time, see EVENTS_LISTED_LATE_MARGIN)."""
    position = None
    for part in parts:
        if id(part) not in done:
            break
        position = end(part) if end(part) is not None else max(start(part), newest(part) or 0)
    return position


class ChangeCaptureStream(AbstractStream):
    """A manifest stream read in `created` slices that split where data is dense; incremental syncs add event replay."""

    def __init__(
        self,
        declarative: AbstractStream,
        capture: TableCapture,
        config: Mapping[str, Any],
        incremental: bool,
        state_manager: ConnectorStateManager,
        message_repository: MessageRepository,
    ) -> None:
        self._declarative, self._capture, self._config, self._incremental = declarative, capture, config, incremental
        self._state_manager = state_manager
        self._cursor: Cursor = declarative.cursor
        self._capture_cursor = ChangeCaptureCursor(declarative.name, TableState(), state_manager, message_repository)
        if incremental:
            self._cursor = self._capture_cursor

    def generate_partitions(self) -> Iterable[Partition]:
        if not self._incremental:
            # The same sliced, parallel listing as a first incremental sync, without state or events.
            start = _config_time(self._config, "start_date") or STRIPE_EPOCH
            yield from PartitionPlan(self._capture, start, _config_time(self._config, "end_date"), [], []).partitions()
            return
        now, _ = self._capture.clock.now_and_events_readable()
        state = TableState.parse(self.name, self._state_manager.get_stream_state(self.name, None), now)
        plan = self._capture.plan(state, self._config)
        self._capture_cursor.follow(state, plan)
        yield from plan.partitions()

    @property
    def name(self) -> str:
        return self._declarative.name

    @property
    def cursor_field(self) -> Optional[str]:
        return CURSOR_FIELD

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    def get_json_schema(self) -> Mapping[str, Any]:
        return self._declarative.get_json_schema()

    def as_airbyte_stream(self) -> AirbyteStream:
        stream = self._declarative.as_airbyte_stream()
        stream.supported_sync_modes = [SyncMode.full_refresh, SyncMode.incremental]
        stream.source_defined_cursor = True
        stream.default_cursor_field = [CURSOR_FIELD]
        stream.is_resumable = True
        return stream

    def log_stream_sync_configuration(self) -> None:
        self._declarative.log_stream_sync_configuration()

    def check_availability(self) -> Any:
        return self._declarative.check_availability()


@dataclass(frozen=True)
class Child:
    """How a table with no list or events of its own is read through the parents its manifest entry names."""

    expand: Callable[[Expansion, MutableMapping[str, Any], int], Iterable[MutableMapping[str, Any]]]
    asks_stripe: Callable[[Mapping[str, Any]], bool]  # whether a parent's children take requests, or it embeds them all
    lists: Tuple[str, ...] = ()  # the lists `expand` pages through that another child table may page through too


CHILDREN = {
    "subscription_items": Child(Expansion.subscription_items, Expansion.embeds_only_some_items, ("subscription_items",)),
    "setup_attempts": Child(Expansion.setup_attempts, Expansion.had_an_attempt),
    "usage_record_summaries": Child(Expansion.usage_record_summaries, Expansion.may_have_metered_items, ("subscription_items",)),
}


def with_change_capture(
    declarative_streams: List[AbstractStream],
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    build_requester: Callable[[Mapping[str, Any], Mapping[str, Any]], Any],
    connection: StripeConnection,
    selected_streams: Set[str],
    incremental_streams: Set[str],
    state_manager: ConnectorStateManager,
    message_repository: MessageRepository,
    requests_in_flight: int,
) -> List[AbstractStream]:
    """Wraps each manifest stream so it also offers incremental syncs, built from the same manifest entries.

    `build_requester(definition, parameters)` makes a manifest requester carrying a stream's parameters, whose error
    handler judges that stream's answers (its name and permission appear in error messages).
    """
    entries = {stream["$parameters"]["name"]: stream for stream in manifest["streams"]}
    definitions = manifest["definitions"]
    tables = {declarative.name: _table(declarative.name, entries) for declarative in declarative_streams}
    shared = SharedPages(_readers_of_each_list([table for name, table in tables.items() if name in selected_streams]))
    errors_of = lambda definition, parameters: build_requester(definition, parameters).error_handler  # noqa: E731
    events_parameters = {"name": "events", "path": "events", "permission": "Events: Read"}
    events = connection.requests_of("events", errors_of(definitions["requester"], events_parameters))
    clock = SyncClock(StripeHttp("events", events, events, shared))
    children_fetcher = ThreadPoolExecutor(max_workers=requests_in_flight, thread_name_prefix="children")
    slice_size = objects_per_slice(connection.budget.per_second)
    wrapped: List[AbstractStream] = []
    for declarative in declarative_streams:
        parameters = entries[declarative.name]["$parameters"]
        # A stream's own error handler says what its answers mean (order_returns: a 404 is an empty table).
        own_errors = entries[declarative.name]["retriever"]["requester"]["error_handler"]
        lists = connection.requests_of(declarative.name, errors_of({**definitions["requester"], "error_handler": own_errors}, parameters))
        objects = connection.requests_of(declarative.name, errors_of(definitions["object_requester"], parameters))
        http = StripeHttp(declarative.name, lists, objects, shared)
        capture = TableCapture(tables[declarative.name], http, Expansion(http), clock, children_fetcher, slice_size)
        wrapped.append(
            ChangeCaptureStream(
                declarative, capture, config, declarative.name in incremental_streams, state_manager, message_repository
            )
        )
    return wrapped


def objects_per_slice(requests_per_second: Optional[float]) -> int:
    """How many objects a slice keeps when it splits, at a budget of `requests_per_second` (None: no budget)."""
    live_pace = DEFAULT_REQUESTS_PER_SECOND["live"]
    return int(OBJECTS_PER_SLICE * max(1.0, live_pace / (requests_per_second or live_pace)))


def _table(name: str, entries: Mapping[str, Mapping[str, Any]]) -> Table:
    scanned = entries[_top_level_ancestor(name, entries)]
    events: Mapping[str, List[str]] = entries[name]["$parameters"].get("events") or {}  # created, updated, deleted
    return Table(
        name=name,
        scanned_path=scanned["$parameters"]["path"],
        scanned_params=scanned["retriever"]["requester"].get("request_parameters") or {},
        event_types=tuple(event_type for types in events.values() for event_type in types),
        deletions=frozenset(events.get("deleted", ())),
        child=CHILDREN.get(name),
        rescans_running_subscriptions=name == "usage_record_summaries",
    )


def _top_level_ancestor(name: str, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The table whose list finds `name`'s objects: the manifest's parent of its parent and so on, or itself."""
    while True:
        parents = entries[name]["retriever"].get("partition_router", {}).get("parent_stream_configs", [])
        if not parents:
            return name
        name = parents[0]["stream"]["$parameters"]["name"]


def _readers_of_each_list(tables: List[Table]) -> Dict[Tuple[str, Tuple[Any, ...]], int]:
    """How many of the sync's tables page through each list: their scan, their events, their expansion's lists."""
    readers: Counter = Counter()
    for table in tables:
        families = {list_family(table.scanned_path, table.scanned_params)}
        if table.event_types:
            families.update((list_family("events", {"types[]": list(table.event_types)}), object_family(table.scanned_path)))
        families.update(list_family(path, {}) for path in (table.child.lists if table.child else ()))
        readers.update(families)
    return readers
