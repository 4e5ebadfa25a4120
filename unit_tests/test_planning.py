"""What a sync of one table reads, from its saved positions and Stripe's time (planning.plan_sync), and how a dense
slice hands its older part to other workers (partitions.older_pieces): pure decisions, no requests."""

from source_stripe.partitions import MAX_PIECES_PER_SPLIT, older_pieces
from source_stripe.planning import DAY, EVENTS_LISTED_LATE_MARGIN, EVENTS_RETENTION, plan_sync
from source_stripe.state import TableState

NOW = 1_700_000_000
START = 1_600_000_000
WEEK = 7 * DAY


def plan(saved=TableState(), has_events=True, events_readable=True, end=None, lookback=WEEK, events_say_every_change=False):
    return plan_sync(saved, NOW, has_events, events_readable, START, end, lookback, events_say_every_change)


def test_a_first_sync_lists_from_the_start_date_and_takes_events_from_now_less_the_late_margin():
    planned = plan()

    assert (planned.created_from, planned.event_windows, planned.starts_over) == (START, [], False)
    assert planned.state == TableState(created=None, events=NOW - EVENTS_LISTED_LATE_MARGIN)


def test_a_later_sync_re_reads_the_lookback_and_replays_events_a_day_at_a_time_up_to_now():
    planned = plan(TableState(created=NOW - 2 * DAY, events=NOW - 2 * DAY - 60))

    assert planned.created_from == NOW - 2 * DAY - WEEK
    assert planned.event_windows == [(NOW - 2 * DAY - 60, NOW - DAY - 60), (NOW - DAY - 60, NOW - 60), (NOW - 60, None)]
    assert planned.events_settled == NOW - EVENTS_LISTED_LATE_MARGIN


def test_a_sync_after_stripe_dropped_the_saved_events_reads_the_whole_table_again():
    planned = plan(TableState(created=NOW - EVENTS_RETENTION, events=NOW - EVENTS_RETENTION))

    assert planned.starts_over
    assert (planned.created_from, planned.event_windows) == (START, [])
    assert planned.state.events == NOW - EVENTS_LISTED_LATE_MARGIN


def test_a_sync_stopped_before_its_first_slice_finished_still_replays_events_from_its_kept_position():
    planned = plan(TableState(created=None, events=NOW - 3600))

    assert planned.created_from == START
    assert planned.event_windows == [(NOW - 3600, None)]


def test_a_key_without_events_or_a_table_without_them_replays_nothing_and_keeps_no_events_position():
    for planned in (plan(TableState(created=NOW - DAY), events_readable=False), plan(TableState(created=NOW - DAY, events=NOW - DAY), has_events=False)):
        assert planned.event_windows == []
        assert planned.created_from == NOW - DAY - WEEK
    assert plan(TableState(created=NOW - DAY, events=NOW - DAY), has_events=False).state.events is None


def test_an_end_date_lists_only_and_never_replays_events():
    planned = plan(TableState(created=NOW - DAY, events=NOW - DAY), end=NOW - 10 * DAY)

    assert planned.event_windows == []
    assert not planned.starts_over


def test_a_table_whose_events_say_every_change_lists_nothing_once_read_and_replays_its_events():
    read = TableState(created=NOW - DAY, events=NOW - DAY)

    assert plan(read, events_say_every_change=True).created_from is None
    assert plan(read, events_say_every_change=True).event_windows == [(NOW - DAY, None)]
    assert plan(events_say_every_change=True).created_from == START, "its first read lists it"
    assert plan(TableState(created=None, events=NOW - 3600), events_say_every_change=True).created_from == START, "a first read cut short too"
    cut_short = TableState(created=NOW - 2 * DAY, events=NOW - DAY)  # its listing had not reached where events begin
    assert plan(cut_short, events_say_every_change=True).created_from == NOW - 2 * DAY - WEEK
    assert plan(read, events_readable=False, events_say_every_change=True).created_from == NOW - DAY - WEEK, "without events, the lookback"
    assert plan(TableState(created=NOW - EVENTS_RETENTION, events=NOW - EVENTS_RETENTION), events_say_every_change=True).created_from == START


def test_the_lookback_never_reaches_before_the_start_date():
    assert plan(TableState(created=START + DAY, events=NOW - DAY)).created_from == START


def test_a_slice_whose_first_pages_cover_its_whole_range_hands_nothing_off():
    assert older_pieces(start=1_000, seen=300, newest=2_000, oldest=1_100, objects_per_slice=2_000) is None


def test_a_dense_slice_keeps_a_slice_worth_and_hands_off_pieces_growing_fourfold_back_to_its_start():
    cut, pieces = older_pieces(start=0, seen=300, newest=100_000, oldest=99_700, objects_per_slice=2_000)

    # 300 objects in 301 seconds: a slice's 2,000 objects take 2,006 seconds.
    assert cut == 99_700 - 2_006
    assert pieces[-1] == (cut - 2_006, cut)
    assert pieces[-2] == (cut - 2_006 - 4 * 2_006, cut - 2_006)
    assert pieces[0][0] == 0
    assert all(lower < upper == next_lower for (lower, upper), (next_lower, _) in zip(pieces, pieces[1:] + [(cut, None)]))


def test_a_split_hands_off_at_most_a_few_pieces_the_oldest_reaching_back_to_the_start():
    cut, pieces = older_pieces(start=0, seen=300, newest=1_000_000_000, oldest=999_999_700, objects_per_slice=2_000)

    assert len(pieces) == MAX_PIECES_PER_SPLIT
    assert pieces[0][0] == 0
