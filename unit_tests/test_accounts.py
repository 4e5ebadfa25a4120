"""Several accounts in one connection: their positions in a table's state, and their partitions handed out in turn."""

import json
import threading
from types import SimpleNamespace

import pytest

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository
from source_stripe import cursor as cursor_module
from source_stripe.accounts import Account, AccountPartition
from source_stripe.cursor import ChangeCaptureCursor
from source_stripe.partitions import EventWindow, PartitionPlan, in_turn
from source_stripe.state import InvalidState, TableState, one_account_from, per_account_from, per_account_message

NOW = 1_790_000_000
DAY = 86_400


def test_each_accounts_positions_are_a_list_of_numbers_and_read_back_as_they_were():
    positions = {
        "acct_1Platform": TableState(created=NOW - 60, events=NOW - 300),
        "acct_1Seller": TableState(created=NOW - 90, events=NOW - 300, running_usage=NOW - 3600),
        "acct_1New": TableState(created=NOW - 10),
    }

    message = per_account_message(positions)

    assert message["accounts"]["acct_1Platform"] == [NOW - 60, NOW - 300]
    assert message["accounts"]["acct_1New"] == [NOW - 10]
    assert per_account_from("customers", message, NOW, own="acct_1Platform") == {
        "acct_1Platform": TableState(created=NOW - 60, events=NOW - 300),
        "acct_1Seller": TableState(created=NOW - 90, events=NOW - 300, running_usage=NOW - 3600),
        "acct_1New": TableState(created=NOW - 10, events=NOW - 10),  # a table without events keeps one position
    }


def test_a_thousand_accounts_cost_about_fifty_bytes_each_in_a_tables_state():
    positions = {f"acct_1{n:015d}": TableState(created=NOW - n, events=NOW - 300) for n in range(1_000)}

    size = len(json.dumps(per_account_message(positions)))

    assert 40_000 < size < 55_000


def test_a_state_saved_while_one_account_was_read_becomes_the_own_accounts_positions():
    assert per_account_from("customers", {"created": NOW - 60, "events": NOW - 300}, NOW, own="acct_1Platform") == {
        "acct_1Platform": TableState(created=NOW - 60, events=NOW - 300)
    }


def test_a_connection_back_to_one_account_takes_its_positions_from_a_state_of_several():
    saved = {"accounts": {"acct_1Platform": [NOW - 60, NOW - 300], "acct_1Seller": [NOW - 90, NOW - 300]}}

    assert one_account_from("customers", saved, NOW, own="acct_1Seller") == TableState(created=NOW - 90, events=NOW - 300)
    assert one_account_from("customers", saved, NOW, own="acct_1Other") == TableState(), "an account never read starts over"


@pytest.mark.parametrize("accounts", [["acct_1Seller"], {"acct_1Seller": [1, 2, 3, 4]}, {"acct_1Seller": {"created": 1}}])
def test_positions_of_several_accounts_that_are_not_lists_of_times_are_refused(accounts):
    with pytest.raises(InvalidState):
        per_account_from("customers", {"accounts": accounts}, NOW, own="acct_1Platform")


def plan(changed, windows=0):
    capture = SimpleNamespace(table=SimpleNamespace(name="customers"), objects_per_slice=2_000)
    return PartitionPlan(capture, 0, None, [EventWindow(capture, NOW - 300, None) for _ in range(windows)], [], changed=changed)


def test_an_account_whose_slice_is_still_being_read_does_not_hold_back_the_others_partitions():
    changed = threading.Condition()
    busy, other = plan(changed), plan(changed, windows=1)
    handed_out = in_turn([busy, other], changed)

    first, second, third = next(handed_out), next(handed_out), next(handed_out)

    assert [first[0], second[0], third[0]] == [busy, other, other]
    assert isinstance(third[1], EventWindow), "handed out while the busy account's slice may still split"
    for _, partition in (first, second):
        partition.skip()
    assert list(handed_out) == []


class ReadingSeveral:
    """The accounts of a sync with connected_accounts set, none of them lost."""

    several = True

    def is_lost(self, account):
        return False


class FinishedAt:
    """A plan whose every partition, once finished, has read `created` and `events` up to these times."""

    def __init__(self, created, events):
        self.created, self.events = created, events

    def finish(self, partition):
        return self.created, self.events, None


def test_with_several_accounts_a_tables_state_is_said_at_most_every_30_seconds_and_when_the_table_ends(monkeypatch):
    clock = [1_000.0]
    monkeypatch.setattr(cursor_module, "monotonic", lambda: clock[0])
    messages = InMemoryMessageRepository()
    accounts = ReadingSeveral()
    cursor = ChangeCaptureCursor("customers", accounts, ConnectorStateManager(state=[]), messages)
    seller = Account("acct_1Seller", "acct_1Seller")
    cursor.follow({seller.key: TableState(created=NOW - DAY, events=NOW - DAY)}, {seller.key: FinishedAt(NOW - 60, NOW - 300)})
    said = lambda: [m.state.stream.stream_state.accounts for m in messages.consume_queue()]  # noqa: E731
    assert said() == [{"acct_1Seller": [NOW - DAY, NOW - DAY]}], "the starting positions, at once"

    clock[0] += 10
    cursor.close_partition(AccountPartition(object(), seller, accounts))
    assert said() == [], "10 s after the last message"
    clock[0] += 25
    cursor.close_partition(AccountPartition(object(), seller, accounts))
    assert said() == [{"acct_1Seller": [NOW - 60, NOW - 300]}]
    cursor.ensure_at_least_one_state_emitted()
    assert said() == [{"acct_1Seller": [NOW - 60, NOW - 300]}]
