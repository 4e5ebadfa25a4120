"""How every table is read: new objects by `created`, and in incremental syncs changes and deletions from /v1/events.

Each table keeps a small state, {"created": S, "events": E} in unix seconds: every object created before S has been
read, and every event before E replayed (a table whose quirk re-reads running usage adds "running_usage": U, when
the usage of every running subscription was last read). A sync of a table then
  1. lists what was created since S less the lookback window (a full refresh: since the start date) in `created`
     slices: one to begin with, which splits its older part off to other workers once its first pages show the range
     is dense; each finished run of slices from the oldest moves S;
  2. replays the table's events since E, day by day, oldest second first; an object with several events in one
     second (Stripe does not say their order) is fetched as it is now instead. E stays EVENTS_LISTED_LATE_MARGIN
     behind Stripe's time, since an event can be listed after newer ones.
Records carry `observed_at` (see components.observed_at), so a destination that keeps the highest value per id keeps
the current object however list reads, lookback re-reads and events interleave, in one sync or across syncs.

Child tables (an entry with a `parent`) have no list or events of their own that say what changed. They scan their
top-level ancestor the same way and expand each page of it into their rows through the parent links of their lineage,
asking for the rows of a page's parents all at once.

With connected_accounts, each table is read this way on every account the sync reads, with positions of its own.

This module makes each manifest entry a stream for the CDK with its reader; the rest lives in tables.py (the
entries), accounts.py (the accounts a sync reads), cursor.py and state.py (saved positions), pages.py (listings,
shared pages, Stripe's clock), partitions.py (slices, event windows, the plan), capture.py (a table's records from
objects and events), children.py (how parents expand) and quirks.py (what is one table's alone).
"""

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import AirbyteStream, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.availability_strategy import StreamAvailability
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition

from source_stripe.accounts import Account, AccountPartition, SyncAccounts
from source_stripe.capture import Table, TableCapture, config_time
from source_stripe.client import StripeClient
from source_stripe.cursor import ChangeCaptureCursor, FullRefreshCursor
from source_stripe.children import CURSOR_FIELD, Expansion, ParentStep
from source_stripe.pages import REPLAYED_EVENTS, SharedPages, StripeHttp, SyncClock, list_family, object_family
from source_stripe.partitions import STRIPE_EPOCH, PartitionPlan, in_turn
from source_stripe.quirks import quirk_of
from source_stripe.state import TableState, one_account_from, per_account_from
from source_stripe.tables import TableEntry, by_name, lineage, tables_of
from source_stripe.transport import DEFAULT_REQUESTS_PER_SECOND

logger = logging.getLogger("airbyte")

# Stripe's event list is filtered by at most this many types at once.
MAX_EVENT_TYPES = 20
# Each slice ends on a partial page, so slices are as large as keeping the request budget's requests in flight allows:
# this many objects at the live budget, and as many times more as the budget is smaller (test mode's 24 requests/s on
# the top-level tables: 1,049 requests and 2,214 records/s with 2,000, 1,019 and 2,317 with 8,000; live, 4,000 read no
# faster than 2,000).
OBJECTS_PER_SLICE = 2_000


class ChangeCaptureStream(AbstractStream):
    """A table read in `created` slices that split where data is dense, for each account the sync reads; incremental
    syncs add event replay."""

    def __init__(
        self,
        entry: TableEntry,
        capture_of: Callable[[Account], TableCapture],
        accounts: SyncAccounts,
        json_schema: Callable[[], Mapping[str, Any]],
        primary_key: List[str],
        config: Mapping[str, Any],
        incremental: bool,
        state_manager: ConnectorStateManager,
        message_repository: MessageRepository,
    ) -> None:
        self._entry, self._capture_of, self._accounts = entry, capture_of, accounts
        name = entry.name
        self._load_json_schema, self._primary_key = json_schema, primary_key
        self._json_schema: Optional[Mapping[str, Any]] = None
        self._config, self._incremental, self._state_manager = config, incremental, state_manager
        self._capture_cursor = ChangeCaptureCursor(name, accounts, state_manager, message_repository)
        self._full_refresh_cursor = FullRefreshCursor(name, message_repository)
        self._cursor: Cursor = self._capture_cursor if incremental else self._full_refresh_cursor
        self._plans: List[PartitionPlan] = []  # this sync's, one per account, once partitions are generated

    def generate_partitions(self) -> Iterable[Partition]:
        accounts = {account.key: account for account in self._accounts.reading(self._entry)}
        changed = threading.Condition()
        plans: Dict[str, PartitionPlan] = {}
        if not self._incremental:
            # The same sliced, parallel listing as a first incremental sync, without state or events.
            start, end = config_time(self._config, "start_date") or STRIPE_EPOCH, config_time(self._config, "end_date")
            plans = {key: PartitionPlan(self._capture_of(account), start, end, [], [], changed=changed) for key, account in accounts.items()}
            self._full_refresh_cursor.follow(plans)
        else:
            positions = self._saved_positions()
            for key, account in accounts.items():
                positions[key], plans[key] = self._capture_of(account).plan(positions.get(key, TableState()), self._config, changed)
            self._capture_cursor.follow(positions, plans)
        self._plans = list(plans.values())
        account_of = {id(plan): accounts[key] for key, plan in plans.items()}
        for plan, partition in in_turn(list(plans.values()), changed):
            yield AccountPartition(partition, account_of[id(plan)], self._accounts)

    def progress(self) -> Tuple[int, int, Optional[int]]:
        """Partitions finished and known so far in this sync, and how far `created` is read without a gap on every
        account (None: nothing is listed)."""
        each = [plan.progress() for plan in self._plans]
        listed = [created for _, _, created in each if created is not None]
        return sum(done for done, _, _ in each), sum(known for _, known, _ in each), min(listed) if listed else None

    def _saved_positions(self) -> Dict[str, TableState]:
        now, _ = self._capture_of(self._accounts.accounts()[0]).clock.now_and_events_readable()
        raw = self._state_manager.get_stream_state(self.name, None)
        own = self._accounts.own_key
        if self._accounts.several:
            return per_account_from(self.name, raw, now, own)
        return {own: one_account_from(self.name, raw, now, own)}

    @property
    def name(self) -> str:
        return self._entry.name

    @property
    def cursor_field(self) -> Optional[str]:
        return CURSOR_FIELD

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    def get_json_schema(self) -> Mapping[str, Any]:
        # Loaded once: the CDK asks for it several times a sync, and resolving a large schema takes tens of ms.
        if self._json_schema is None:
            self._json_schema = self._load_json_schema()
        return self._json_schema

    def as_airbyte_stream(self) -> AirbyteStream:
        return AirbyteStream(
            name=self.name,
            json_schema=dict(self.get_json_schema()),
            supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
            source_defined_cursor=True,
            default_cursor_field=[CURSOR_FIELD],
            source_defined_primary_key=[[key] for key in self._primary_key],
            is_resumable=True,
            is_file_based=False,
        )

    def log_stream_sync_configuration(self) -> None:
        logger.debug(f"Syncing {self.name}", extra={"primary_key": self._primary_key, "cursor_field": CURSOR_FIELD})

    def check_availability(self) -> StreamAvailability:
        # Only the CDK's CheckStream asks a stream this; the connector's check (check.py) probes every table instead.
        return StreamAvailability.available()


def change_capture_streams(
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    client: StripeClient,
    build: Callable[[Mapping[str, Any], Mapping[str, Any]], Any],
    selected_streams: Set[str],
    incremental_streams: Set[str],
    state_manager: ConnectorStateManager,
    message_repository: MessageRepository,
    requests_in_flight: int,
) -> List[ChangeCaptureStream]:
    """Every table of the (resolved) manifest as a stream, read from its entry; `build(definition, parameters)` makes
    its schema loader."""
    entries = by_name(tables_of(manifest))
    api_version = manifest["definitions"]["requester"]["request_headers"]["Stripe-Version"]
    selected = [entry for name, entry in entries.items() if name in selected_streams]
    replayed = replayed_events_query(selected)
    tables = {name: _table(entry, entries, api_version, replayed) for name, entry in entries.items()}
    shared = SharedPages(_readers_of_each_list(selected, tables, entries))
    events = client.events()
    clock = SyncClock(StripeHttp(client.events_table.name, events, events, shared))
    children_fetcher = ThreadPoolExecutor(max_workers=requests_in_flight, thread_name_prefix="children")
    slice_size = objects_per_slice(client.connection.budget.per_second)
    accounts = SyncAccounts(client, config)

    def capture_of(entry: TableEntry) -> Callable[[Account], TableCapture]:
        def capture(account: Account) -> TableCapture:
            lists, objects = client.lists(entry, account=account.header), client.objects(entry, account=account.header)
            http = StripeHttp(entry.name, lists, objects, shared, account.header)
            expansion = Expansion(tuple(ParentStep(child, http) for child in lineage(entry, entries)[1:]))
            return TableCapture(tables[entry.name], http, expansion, clock, children_fetcher, slice_size)

        return capture

    streams: List[ChangeCaptureStream] = []
    for stream in manifest["streams"]:
        entry = entries[stream["$parameters"]["name"]]
        schema = build(stream["schema_loader"], {"name": entry.name}).get_json_schema
        incremental = entry.name in incremental_streams
        streams.append(
            ChangeCaptureStream(
                entry, capture_of(entry), accounts, schema, stream["primary_key"], config, incremental, state_manager, message_repository
            )
        )
    return streams


def objects_per_slice(requests_per_second: Optional[float]) -> int:
    """How many objects a slice keeps when it splits, at a budget of `requests_per_second` (None: no budget)."""
    live_pace = DEFAULT_REQUESTS_PER_SECOND["live"]
    return int(OBJECTS_PER_SLICE * max(1.0, live_pace / (requests_per_second or live_pace)))


def replayed_events_query(selected: List[TableEntry]) -> Mapping[str, Any]:
    """How every table of a sync asks for the events it replays: one list for all, so a table's events are paged
    through once whatever number of tables replay them. Stripe takes at most MAX_EVENT_TYPES types; past that (most
    tables selected) the list is of every event, of which each table keeps its own."""
    types = sorted({event_type for entry in selected for event_type in _replayed(entry, quirk_of(entry))})
    return {"types[]": types} if len(types) <= MAX_EVENT_TYPES else {}


def _replayed(entry: TableEntry, quirk: Any) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(entry.event_types + quirk.other_event_types))


def _table(entry: TableEntry, entries: Mapping[str, TableEntry], api_version: str, replayed: Mapping[str, Any]) -> Table:
    scanned = lineage(entry, entries)[0]
    quirk = quirk_of(entry)
    return Table(
        name=entry.name,
        scanned_path=scanned.path,
        scanned_params=scanned.request_parameters,
        created_field=scanned.created_field,
        created_filter=scanned.created_filter,
        event_types=_replayed(entry, quirk),
        replayed_events_query=replayed,
        deletions=entry.deletions,
        events_say_every_change=entry.events_say_every_change,
        is_child=not entry.is_top_level,
        quirk=quirk,
        api_version=api_version,
    )


def _readers_of_each_list(selected: List[TableEntry], tables: Mapping[str, Table], entries: Mapping[str, TableEntry]) -> Dict[Tuple[str, Tuple[Any, ...]], int]:
    """How many of the sync's tables page through each list: their scan, their events, their parents' lists."""
    readers: Counter = Counter()
    for entry in selected:
        table = tables[entry.name]
        families = {list_family(table.scanned_path, table.scanned_params)}
        if table.event_types:
            families.update((REPLAYED_EVENTS, object_family(table.scanned_path)))
        families.update(list_family(child.path, {}) for child in lineage(entry, entries)[1:])
        readers.update(families)
    return readers
