"""How a child table's rows are found through the top-level objects its lineage starts from: each parent link its
manifest entry states (an embedded first page continued by a list, or a list per parent) applied in turn."""

import threading
from typing import Any, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

from airbyte_cdk.sources.declarative.interpolation import InterpolatedBoolean, InterpolatedString

from source_stripe.pages import StripeHttp
from source_stripe.tables import TableEntry

CURSOR_FIELD = "observed_at"
Row = Tuple[MutableMapping[str, Any], int]  # an object and its `observed_at`


def stamped(obj: Mapping[str, Any], stamp: int, deleted: bool = False) -> MutableMapping[str, Any]:
    """A record of `obj`: a copy, since parsed pages are shared by tables (SharedPages) and a parent's record embeds
    the objects its children's records are made of."""
    return {**obj, CURSOR_FIELD: stamp, "is_deleted": deleted}


class ParentStep:
    """From one parent's object to its rows of `child`, as `child`'s entry says they are found."""

    def __init__(self, child: TableEntry, http: StripeHttp, config: Mapping[str, Any]) -> None:
        self._link, self._http, self._config = child.parent, http, config
        self._path = InterpolatedString.create(child.path, parameters={}) if child.lists_one_parent_in_path else child.path
        self._parameters = child.request_parameters
        self._when = InterpolatedBoolean(condition=self._link.when, parameters={}) if self._link.when else None
        self._parents_read: Set[str] = set()
        self._lock = threading.Lock()
        # The list this step pages through whatever the parent, which another table's step may page through too.
        self.shared_list: Optional[str] = None if child.lists_one_parent_in_path else child.path

    def may_have_rows(self, parent: Mapping[str, Any]) -> bool:
        return self._when is None or bool(self._when.eval(self._config, parent=parent))

    def embedded(self, parent: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        if self._link.embedded_in is None or not self.may_have_rows(parent):
            return []
        return (parent.get(self._link.embedded_in) or {}).get("data") or []

    def embeds_only_some(self, parent: Mapping[str, Any]) -> bool:
        embedded = parent.get(self._link.embedded_in) or {}
        return bool(embedded.get("has_more") and embedded.get("data"))

    def asks_stripe(self, parent: Mapping[str, Any]) -> bool:
        if not self.may_have_rows(parent):
            return False
        return self.embeds_only_some(parent) if self._link.embedded_in else True

    def rows_of(self, parent: Mapping[str, Any], stamp: int) -> Iterator[Row]:
        if not self.may_have_rows(parent) or not self._first_time(parent["id"]):
            return
        if self._link.embedded_in is None:
            yield from self._listed(parent, None)
            return
        embedded = self.embedded(parent)
        for row in embedded:
            yield row, stamp
        if self.embeds_only_some(parent):
            yield from self._listed(parent, embedded[-1]["id"])

    def _first_time(self, parent_id: str) -> bool:
        if not self._link.once_per_sync:
            return True
        with self._lock:
            first = parent_id not in self._parents_read
            self._parents_read.add(parent_id)
            return first

    def _listed(self, parent: Mapping[str, Any], starting_after: Optional[str]) -> Iterator[Row]:
        if isinstance(self._path, str):
            path, parameters = self._path, {**self._parameters, self._link.key: parent["id"]}
        else:
            path, parameters = self._path.eval(self._config, parent=parent), self._parameters
        for page, page_stamp in self._http.pages(path, parameters, starting_after=starting_after):
            for row in page:
                yield row, page_stamp


class Expansion:
    """Turns a scanned object into the records of a table found through it (itself, for a top-level table)."""

    def __init__(self, steps: Tuple[ParentStep, ...]) -> None:
        self.steps = steps

    @property
    def shared_lists(self) -> Tuple[str, ...]:
        return tuple(step.shared_list for step in self.steps if step.shared_list)

    def records(self, obj: MutableMapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        rows: Iterable[Row] = [(obj, stamp)]
        for step in self.steps:
            rows = _through(step, rows)
        for row, row_stamp in rows:
            yield stamped(row, row_stamp)

    def asks_stripe(self, obj: Mapping[str, Any]) -> bool:
        """Whether expanding `obj` takes a request, or everything it needs is embedded in it."""
        parents: List[Mapping[str, Any]] = [obj]
        for step in self.steps:
            if any(step.asks_stripe(parent) for parent in parents):
                return True
            parents = [row for parent in parents for row in step.embedded(parent)]
        return False


def _through(step: ParentStep, parents: Iterable[Row]) -> Iterator[Row]:
    for parent, stamp in parents:
        yield from step.rows_of(parent, stamp)
