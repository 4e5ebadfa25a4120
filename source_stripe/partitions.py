"""One table's partitions in one sync: `created` slices that split where data is dense, event windows, and the plan that hands them out and knows how far the table has been read."""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple, Union

from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_stripe.client import EVENTS_PATH
from source_stripe.pages import REPLAYED_EVENTS, ListedOnce

if TYPE_CHECKING:
    from source_stripe.capture import TableCapture

STRIPE_EPOCH = 1_293_840_000  # 2011-01-01: no Stripe object is older
# A slice that still has more after its first few pages splits off its older part, so a small table costs exactly its
# pages, a sparse decade a few requests, and a dense day is shared by many workers.
PAGES_BEFORE_SPLITTING = 3
MAX_PIECES_PER_SPLIT = 8


class CreatedSlice(Partition):
    """Objects created in [start, end) (end None: up to now), found by listing the scanned table.

    Its first pages tell how dense the range is: when more follows than one worker should page through alone, the
    slice keeps the newest part and hands the older part, cut in pieces, to other workers (`split_older_part`). A list
    without a `created` filter (credit notes) is read newest first down to `start` by one slice, which never splits.
    """

    def __init__(self, capture: "TableCapture", start: int, end: Optional[int], plan: "PartitionPlan") -> None:
        self._capture, self.start, self.end, self._plan = capture, start, end, plan
        self._identity = (capture.table.name, "created", start, end)  # start moves when the slice splits
        self.newest_created: Optional[int] = None
        self.read_at: Optional[int] = None  # Stripe's second when its first page was read

    def read(self) -> Iterable[Record]:
        # Entered first: the plan waits for every slice handed out to leave it, and one that failed before would
        # leave it waiting for ever.
        with self._plan.reading():
            table, http = self._capture.table, self._capture.http
            created_of = lambda obj: obj.get(table.created_field) or 0  # noqa: E731
            starting_after, pages_read, seen, newest_seen = None, 0, 0, 0
            listed = ListedOnce(table.name)
            while True:
                created = {}
                if self.start > STRIPE_EPOCH and table.created_filter:  # nothing is older: no lower bound from there
                    created["created[gte]"] = self.start
                if self.end is not None and table.created_filter:
                    created["created[lt]"] = self.end
                listed_page, stamp, has_more = http.page(table.scanned_path, {**table.scanned_params, **created}, starting_after)
                page = listed_page
                if not table.created_filter:
                    # Without the filter the list runs newest first through everything: keep this slice's range, and
                    # stop at the first page that reaches below it.
                    page = [obj for obj in listed_page if self.start <= created_of(obj) and (self.end is None or created_of(obj) < self.end)]
                    has_more = has_more and created_of(listed_page[-1]) >= self.start
                if self.read_at is None:
                    self.read_at = (stamp + 1) // 1000
                pages_read, seen = pages_read + 1, seen + len(page)
                newest_seen = max([newest_seen] + [created_of(obj) for obj in page[:1]])
                if has_more and pages_read == PAGES_BEFORE_SPLITTING and table.created_filter:
                    self._plan.split_older_part(self, seen, newest_seen, created_of(page[-1]))
                fresh = listed.new_in(page, has_more)
                if fresh:
                    self.newest_created = max(self.newest_created or 0, max(created_of(obj) for obj in fresh))
                yield from self._capture.records_from_page(fresh, stamp)
                if not has_more:
                    return
                starting_after = listed_page[-1]["id"]

    def skip(self) -> None:
        """Done without reading (its account was lost): its plan stops waiting for it to split."""
        with self._plan.reading():
            pass

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {"created_start": self.start, "created_end": self.end}

    def stream_name(self) -> str:
        return self._capture.table.name

    def __hash__(self) -> int:
        return hash(self._identity)


class EventWindow(Partition):
    """The table's events in [start, end) (end None: up to now), replayed oldest second first. Every table of a sync
    pages through the same event list (see Table.replayed_events_query), fetched once for all (SharedPages).

    Stripe dates events to the second and does not list one second's events in the order they happened, so the
    events of one object that share a second are replayed together (records_from_events)."""

    def __init__(self, capture: "TableCapture", start: int, end: Optional[int]) -> None:
        self._capture, self.start, self.end = capture, start, end

    def read(self) -> Iterable[Record]:
        table = self._capture.table
        params: Dict[str, Any] = {**table.replayed_events_query, "created[gte]": self.start}
        if self.end is not None:
            params["created[lt]"] = self.end
        wanted = set(table.event_types)
        pages = self._capture.http.pages(EVENTS_PATH, params, family=REPLAYED_EVENTS)
        events = [event for page, _ in pages for event in page if event["type"] in wanted]
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


class PartitionPlan:
    """One table's partitions in one sync, handed to the CDK as they come: those planned up front, then the pieces
    that slices split off while they read. Knows which have finished, and so how far the table has been read.

    `usage_read_at`, when this sync reads the usage of every running subscription: the time it is read as of, once
    the `extra` partitions (the running subscriptions), or without them every slice, have finished.
    `events_settled`: how far the events position may move, since later events may not all be listed yet;
    `created_settled`, the same for the `created` position of a list that can show an object late (None: no limit);
    `events_from`, where this sync's events begin. `start` None: nothing is listed, every change comes from events."""

    def __init__(
        self,
        capture: "TableCapture",
        start: Optional[int],
        end: Optional[int],
        windows: List["EventWindow"],
        extra: List[Partition],
        usage_read_at: Optional[int] = None,
        events_settled: Optional[int] = None,
        created_settled: Optional[int] = None,
        changed: Optional[threading.Condition] = None,
        events_from: Optional[int] = None,
    ) -> None:
        self._capture = capture
        self._events_settled, self._created_settled, self._events_from = events_settled, created_settled, events_from
        self._changed = changed or threading.Condition()  # shared by the plans of one table's accounts
        self.slices = [CreatedSlice(capture, start, end, self)] if start is not None else []
        self.windows = windows
        self._extra, self._usage_read_at = extra, usage_read_at
        self._pending = deque([*self.slices, *windows, *extra])
        self._slices_not_done_reading = 0  # handed out and not finished: each may still split
        self._done: Set[int] = set()
        self._listed_from = self._created_read_up_to = start  # the latter: as far as finish() last found `created` read without a gap

    def take(self) -> Union[Partition, None, bool]:
        """The next partition to hand out; None while only slices being read may add more; False once none will.
        The caller holds the plan's condition."""
        if self._pending:
            partition = self._pending.popleft()
            self._slices_not_done_reading += isinstance(partition, CreatedSlice)
            return partition
        return None if self._slices_not_done_reading else False

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
        """`part` hands what is older than it should read alone to new slices (see older_pieces)."""
        split = older_pieces(part.start, seen, newest, oldest, self._capture.objects_per_slice)
        if split is None:
            return
        cut, pieces = split
        older = [CreatedSlice(self._capture, lower, upper, self) for lower, upper in pieces]
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
            # Without events, slices may be cut by the local clock (when Stripe's refusal carried no time), which may
            # run ahead of Stripe's: a slice has read no further than Stripe's time when it was read.
            read = lambda s, t: t if t is None or s.read_at is None else min(t, s.read_at)  # noqa: E731
            chain = sorted(self.slices, key=lambda s: s.start)
            created = _position(chain, self._done, lambda s: read(s, s.start), lambda s: read(s, s.end), lambda s: s.newest_created)
            if created is not None and self._events_from is not None and all(id(s) in self._done for s in self.slices):
                # Every slice is done, the newest included: all made before the events position has been listed.
                created = max(created, self._events_from)
            if created is not None and self._created_settled is not None:
                created = min(created, self._created_settled)
            events = _position(self.windows, self._done, lambda w: w.start, lambda w: w.end, lambda w: self._events_settled)
            if events is not None:
                events = min(events, self._events_settled)
            if created is not None:
                self._created_read_up_to = created
            if not self.slices:  # nothing listed: what was made before the events position came from its events
                created = events
            usage_read = self._usage_read_at is not None and all(id(part) in self._done for part in self._extra or self.slices)
            return created, events, self._usage_read_at if usage_read else None

    def progress(self) -> Tuple[int, int, Optional[int]]:
        """Partitions finished, partitions known so far (slices add pieces as they split), and how far `created` has
        been read without a gap from the start (None: this sync lists nothing, or nothing from the start yet)."""
        with self._changed:
            known = len(self.slices) + len(self.windows) + len(self._extra)
            read_from_start = self.slices and self._created_read_up_to != self._listed_from
            return len(self._done), known, self._created_read_up_to if read_from_start else None


def in_turn(plans: List[PartitionPlan], changed: threading.Condition) -> Iterator[Tuple[PartitionPlan, Partition]]:
    """The partitions of several plans sharing `changed` (one table's accounts), with their plan, a plan at a time in
    turn, so an account whose slices keep splitting does not keep the others waiting; waits only while no plan has one
    to hand out."""
    turns = deque(plans)
    while turns:
        with changed:
            partition = None
            while partition is None and turns:
                waiting = 0
                for _ in range(len(turns)):
                    plan = turns.popleft()
                    taken = plan.take()
                    if taken is False:
                        continue
                    turns.append(plan)
                    if taken is None:
                        waiting += 1
                        continue
                    partition = plan, taken
                    break
                if partition is None and waiting:
                    changed.wait()
        if partition is not None:
            yield partition


def older_pieces(start: int, seen: int, newest: int, oldest: int, objects_per_slice: int) -> Optional[Tuple[int, List[Tuple[int, int]]]]:
    """A slice from `start` that has seen `seen` objects created from `oldest` to `newest` keeps about
    `objects_per_slice` objects more: where it now starts, and the pieces [lower, upper) its older part is cut into
    (None: nothing older to hand off). That density holds near `oldest` only, so the pieces grow fourfold going back: an
    empty past costs a request per piece, and a piece that meets dense data splits in turn."""
    length = max(1, objects_per_slice * max(1, newest - oldest + 1) // seen)
    cut = oldest - length
    if cut <= start:
        return None
    pieces: List[Tuple[int, int]] = []
    upper = cut
    while upper > start:
        lower = start if len(pieces) == MAX_PIECES_PER_SPLIT - 1 else max(start, upper - length)
        pieces.insert(0, (lower, upper))
        upper, length = lower, length * 4
    return cut, pieces


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
