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

This module wraps the manifest's streams for the CDK (stream, cursor) and builds each table's reader; the rest lives in
state.py (saved positions), pages.py (listings, shared pages, Stripe's clock), partitions.py (slices, event windows,
the plan), capture.py (a table's records from objects and events) and children.py (how parents expand).
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Mapping, MutableMapping, Optional, Set, Tuple

from airbyte_cdk.models import AirbyteStream, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_stripe.capture import CURSOR_FIELD, Table, TableCapture, config_time
from source_stripe.children import CHILDREN, Expansion
from source_stripe.pages import SharedPages, StripeHttp, SyncClock, list_family, object_family
from source_stripe.partitions import STRIPE_EPOCH, PartitionPlan
from source_stripe.state import TableState
from source_stripe.transport import DEFAULT_REQUESTS_PER_SECOND, StripeConnection

# Each slice ends on a partial page, so slices are as large as keeping the request budget's requests in flight allows:
# this many objects at the live budget, and as many times more as the budget is smaller (test mode's 24 requests/s on
# the top-level tables: 1,049 requests and 2,214 records/s with 2,000, 1,019 and 2,317 with 8,000; live, 4,000 read no
# faster than 2,000).
OBJECTS_PER_SLICE = 2_000


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
            start = config_time(self._config, "start_date") or STRIPE_EPOCH
            yield from PartitionPlan(self._capture, start, config_time(self._config, "end_date"), [], []).partitions()
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
