"""A table's saved position between syncs, and the state of Airbyte's earlier Stripe connector, read as this one's."""

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

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


def per_account_message(positions: Mapping[str, TableState]) -> Dict[str, Any]:
    """A table's positions when several accounts are read: {"accounts": {acct: [created, events(, running_usage)]}},
    numbers only, about 50 bytes an account."""
    return {"accounts": {account: _numbers(state) for account, state in sorted(positions.items())}}


def _numbers(state: TableState) -> List[Optional[int]]:
    numbers = [state.created, state.events, state.running_usage]
    while numbers and numbers[-1] is None:
        numbers.pop()
    return numbers


def per_account_from(stream: str, raw: Optional[Mapping[str, Any]], now: int, own: str) -> Dict[str, TableState]:
    """The positions of each account a table's state holds. A state saved while only the key's own account was read
    is that account's: a connection that starts reading connected accounts keeps its place in its own."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping) or "accounts" not in raw:
        return {own: TableState.parse(stream, raw, now)}
    accounts = raw["accounts"]
    if not isinstance(accounts, Mapping):
        raise InvalidState(stream, "its 'accounts' are not an object of account IDs")
    positions = {}
    for account, numbers in accounts.items():
        if not isinstance(numbers, list) or len(numbers) > 3:
            raise InvalidState(stream, f"the positions of {account} are {numbers!r}, not [created, events]")
        named = dict(zip(("created", "events", "running_usage"), numbers))
        positions[account] = TableState.parse(stream, {k: v for k, v in named.items() if v is not None}, now)
    return positions


def one_account_from(stream: str, raw: Optional[Mapping[str, Any]], now: int, own: str) -> TableState:
    """The table's state for a connection that reads one account, also when it was saved while it read several."""
    if isinstance(raw, Mapping) and "accounts" in raw:
        return per_account_from(stream, raw, now, own).get(own, TableState())
    return TableState.parse(stream, raw, now)


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
