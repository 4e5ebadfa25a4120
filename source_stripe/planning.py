"""What one sync of a table reads, decided from its saved positions and Stripe's time alone: where the `created`
listing starts, which event windows are replayed, and where the positions start. No requests, no clocks."""

from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

from source_stripe.state import TableState

DAY = 86_400
EVENTS_RETENTION = 30 * DAY
# Stripe keeps events 30 days; a position this close to the edge may already have lost its oldest events.
EVENTS_RETENTION_MARGIN = DAY
# Stripe's event list is eventually consistent: an event can appear seconds after newer ones are listed. The events
# position stays this far behind Stripe's time at the sync, so an event listed late is replayed by the next sync.
EVENTS_LISTED_LATE_MARGIN = 5 * 60


@dataclass(frozen=True)
class SyncPlan:
    state: TableState  # the positions this sync starts from, and saves before any partition finishes
    created_from: Optional[int]  # list objects created from here on (None: list nothing, events bring every change)
    event_windows: List[Tuple[int, Optional[int]]]  # [start, end) a day at a time, the last one open-ended
    starts_over: bool  # the last sync is older than Stripe keeps events: the whole table is read again
    events_settled: int  # how far the events position may move in this sync

    @property
    def incremental(self) -> bool:
        return self.state.created is not None


def plan_sync(
    saved: TableState,
    now: int,
    has_events: bool,
    events_readable: bool,
    start: int,
    end: Optional[int],
    lookback: int,
    events_say_every_change: bool = False,
) -> SyncPlan:
    """`now` is Stripe's time; `has_events`, whether the table's entry names events; `events_readable`, whether the key
    may read them; `start` and `end`, the config's dates; `lookback`, the seconds re-read before the saved position;
    `events_say_every_change`, whether the entry says Stripe sends an event for every object made and every change,
    so that once the table has been read, replaying events is all a sync needs."""
    state = replace(saved, events=saved.events if has_events else None)
    captures_changes = has_events and events_readable and end is None
    replays_events = captures_changes and _replayable(state.events, now)
    starts_over = captures_changes and state.created is not None and not replays_events
    if starts_over:
        state.created = None
    # Events are replayed from a kept position even when `created` starts over (a sync stopped before its first
    # slice finished): deletions since then must reach the objects that sync had already sent.
    windows = _event_windows(state.events, now) if replays_events else []
    if captures_changes and not replays_events:
        # A first (or repeated) full read: changes made from now on, to objects already read, come from events.
        state.events = now - EVENTS_LISTED_LATE_MARGIN
    created_from: Optional[int] = max(start, state.created - lookback) if state.created is not None else start
    if replays_events and events_say_every_change and _read_whole(state):
        created_from = None
    return SyncPlan(state, created_from, windows, starts_over, events_settled=now - EVENTS_LISTED_LATE_MARGIN)


def _read_whole(state: TableState) -> bool:
    """Whether everything made before the events position has been listed (a sync listing the whole table moves the
    `created` position there once its last slice is done)."""
    return state.created is not None and state.events is not None and state.created >= state.events


def _replayable(events_position: Optional[int], now: int) -> bool:
    return events_position is not None and events_position >= now - EVENTS_RETENTION + EVENTS_RETENTION_MARGIN


def _event_windows(start: int, now: int) -> List[Tuple[int, Optional[int]]]:
    bounds = list(range(start, now, DAY)) or [start]
    return [*zip(bounds, bounds[1:]), (bounds[-1], None)]
