"""The cursors of every table: where each account's read of it has got to, said as the table's state in incremental
syncs; which of its partitions finished, in full refreshes too."""

import math
import threading
from time import monotonic
from typing import Any, Dict, Iterable, MutableMapping

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_stripe.accounts import AccountPartition, SyncAccounts
from source_stripe.partitions import PartitionPlan
from source_stripe.state import TableState, per_account_message

# With several accounts, a table's state (every account's positions) is said at most this often: a sync killed
# between two messages reads again what it read in those seconds.
STATE_EVERY_SECONDS = 30


class ChangeCaptureCursor(Cursor):
    """Moves each account's positions only past partitions that finished in order, so a resumed sync misses nothing.
    With several accounts the table's state is said at most every STATE_EVERY_SECONDS (and when the table ends): each
    message holds every account's positions."""

    def __init__(
        self, stream: str, accounts: SyncAccounts, state_manager: ConnectorStateManager, message_repository: MessageRepository
    ) -> None:
        self._stream, self._accounts = stream, accounts
        self._state_manager, self._messages = state_manager, message_repository
        self._lock = threading.Lock()
        self._positions: Dict[str, TableState] = {}  # per account key, those not read this sync included
        self._plans: Dict[str, PartitionPlan] = {}
        self._said_at = -math.inf

    def follow(self, positions: Dict[str, TableState], plans: Dict[str, PartitionPlan]) -> None:
        """Follows the accounts' `plans`, saying their starting positions at once: a sync killed before any of its
        partitions finished then still leaves where its events begin, so the next one replays the deletions of
        objects it had sent."""
        with self._lock:
            self._positions, self._plans = positions, plans
            self._emit()

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._message()

    def observe(self, record: Record) -> None:
        pass

    def close_partition(self, partition: Partition) -> None:
        assert isinstance(partition, AccountPartition)
        if self._accounts.is_lost(partition.account):
            return  # what it read stays; its positions stay where they were
        key = partition.account.key
        created, events, running_usage = self._plans[key].finish(partition.partition)
        with self._lock:
            state = self._positions[key]
            if created is not None:
                state.created = max(created, state.created or 0)
            if events is not None:
                state.events = max(events, state.events or 0)
            if running_usage is not None:
                state.running_usage = max(running_usage, state.running_usage or 0)
            if not self._accounts.several or monotonic() - self._said_at >= STATE_EVERY_SECONDS:
                self._emit()

    def _message(self) -> Dict[str, Any]:
        if self._accounts.several:
            return per_account_message(self._positions)
        return next(iter(self._positions.values()), TableState()).as_message()

    def _emit(self) -> None:
        self._said_at = monotonic()
        self._state_manager.update_state_for_stream(self._stream, None, self._message())
        self._messages.emit_message(self._state_manager.create_state_message(self._stream, None))

    def ensure_at_least_one_state_emitted(self) -> None:
        with self._lock:
            self._emit()

    def should_be_synced(self, record: Record) -> bool:
        return True

    def stream_slices(self) -> Iterable[StreamSlice]:
        return []


class FullRefreshCursor(FinalStateCursor):
    """A full refresh saves no positions, but its plans still learn which partitions finished (progress lines say how
    many, and how far `created` is read)."""

    def __init__(self, stream: str, message_repository: MessageRepository) -> None:
        super().__init__(stream, None, message_repository)
        self._plans: Dict[str, PartitionPlan] = {}

    def follow(self, plans: Dict[str, PartitionPlan]) -> None:
        self._plans = plans

    def close_partition(self, partition: Partition) -> None:
        assert isinstance(partition, AccountPartition)
        self._plans[partition.account.key].finish(partition.partition)
