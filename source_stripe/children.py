"""How a child table's rows are found through the top-level objects its lineage starts from: each parent link its
manifest entry states (an embedded first page continued by a list, or a list per parent) applied in turn."""

import threading
from functools import lru_cache
from typing import Any, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

from jinja2.sandbox import SandboxedEnvironment

from source_stripe.pages import StripeHttp
from source_stripe.tables import TableEntry

CURSOR_FIELD = "observed_at"
Row = Tuple[MutableMapping[str, Any], int]  # an object and its `observed_at`
# The entries' `{{ … }}` expressions are evaluated for each parent, so they are compiled once here: airbyte-cdk's
# interpolation builds a context of the whole config and parses its result each time, 4 to 5 times the cost.
JINJA = SandboxedEnvironment()


# A step is made for each account a sync reads: each entry's expressions are compiled once for all of them.
_template = lru_cache(maxsize=None)(JINJA.from_string)
_compiled = lru_cache(maxsize=None)(JINJA.compile_expression)


def stamped(obj: Mapping[str, Any], stamp: int, deleted: bool = False) -> MutableMapping[str, Any]:
    """A record of `obj`: a copy, since parsed pages are shared by tables (SharedPages) and a parent's record embeds
    the objects its children's records are made of."""
    return {**obj, CURSOR_FIELD: stamp, "is_deleted": deleted}


def path_of_one_parent(child: TableEntry, parent: Mapping[str, Any]) -> str:
    """The list of `parent`'s rows of a child table whose path names its parent (`{{ parent.id }}`)."""
    return JINJA.from_string(child.path).render(parent=parent)


class ParentStep:
    """From one parent's object to its rows of `child`, as `child`'s entry says they are found."""

    def __init__(self, child: TableEntry, http: StripeHttp) -> None:
        self._link, self._http = child.parent, http
        # A list may mix kinds of objects (an account's external accounts: bank accounts and cards): each its table.
        self._kind = child.stripe_object
        self._path = _template(child.path) if child.lists_one_parent_in_path else child.path
        self._parameters = child.request_parameters
        self._when = _compiled(_expression(self._link.when)) if self._link.when else None
        self._parents_read: Set[str] = set()
        self._decided: Dict[str, bool] = {}  # parent id -> may_have_rows, from asks_stripe until rows_of takes it
        self._lock = threading.Lock()
        # The list this step pages through whatever the parent, which another table's step may page through too.
        self.shared_list: Optional[str] = None if child.lists_one_parent_in_path else child.path
        # Each parent's own list, which tables of other kinds of its objects page through alike (an account's
        # external accounts), known by its path before the parent is put in.
        self._family = (child.path, ()) if child.lists_one_parent_in_path else None

    def may_have_rows(self, parent: Mapping[str, Any]) -> bool:
        """Whether `when` lets `parent` have rows, evaluated once for asks_stripe and rows_of alike (an expression
        costs tens of microseconds, and every parent is asked both)."""
        if self._when is None:
            return True
        decided = self._decided.pop(parent["id"], None)
        return bool(self._when(parent=parent)) if decided is None else decided

    def embeds_only_some(self, parent: Mapping[str, Any]) -> bool:
        embedded = parent.get(self._link.embedded_in) or {}
        return bool(embedded.get("has_more") and embedded.get("data"))

    def asks_stripe(self, parent: Mapping[str, Any]) -> Tuple[bool, List[MutableMapping[str, Any]]]:
        """Whether `parent`'s rows take a request, and those it embeds."""
        may = self.may_have_rows(parent)
        if self._when is not None:
            self._decided[parent["id"]] = may  # for rows_of, which follows
        if not may:
            return False, []
        if self._link.embedded_in is None:
            return True, []
        return self.embeds_only_some(parent), (parent.get(self._link.embedded_in) or {}).get("data") or []

    def rows_of(self, parent: Mapping[str, Any], stamp: int) -> Iterator[Row]:
        if not self.may_have_rows(parent) or not self._first_time(parent["id"]):
            return
        if self._link.embedded_in is None:
            yield from self._listed(parent, None)
            return
        embedded = (parent.get(self._link.embedded_in) or {}).get("data") or []
        for row in embedded:
            yield self._naming_parent(row, parent), stamp
        if self.embeds_only_some(parent):
            yield from self._listed(parent, embedded[-1]["id"])

    def embedded_rows(self, parent: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        if self._link.embedded_in is None:
            return []
        return [self._naming_parent(row, parent) for row in (parent.get(self._link.embedded_in) or {}).get("data") or []]

    def _naming_parent(self, row: MutableMapping[str, Any], parent: Mapping[str, Any]) -> MutableMapping[str, Any]:
        """Some rows do not name their parent (an invoice's lines): the row says it, as the destination needs."""
        return row if self._link.key in row else {**row, self._link.key: parent["id"]}

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
            path, parameters = self._path.render(parent=parent), self._parameters
        for page, page_stamp in self._http.pages(path, parameters, starting_after=starting_after, family=self._family):
            for row in page:
                if row.get("object", self._kind) == self._kind:
                    yield self._naming_parent(row, parent), page_stamp


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

    def records_of_deleted(self, obj: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        """The rows a deleted object still embeds, as deleted: the lists of an object that is gone cannot be read."""
        rows: List[Mapping[str, Any]] = [obj]
        for step in self.steps:
            rows = [row for parent in rows for row in step.embedded_rows(parent)]
        for row in rows:
            yield stamped(row, stamp, deleted=True)

    def asks_stripe(self, obj: Mapping[str, Any]) -> bool:
        """Whether expanding `obj` takes a request, or everything it needs is embedded in it."""
        parents: List[Mapping[str, Any]] = [obj]
        for step in self.steps:
            embedded: List[Mapping[str, Any]] = []
            for parent in parents:
                asks, rows = step.asks_stripe(parent)
                if asks:
                    return True
                embedded += rows
            parents = embedded
        return False


def _expression(condition: str) -> str:
    """The expression inside an entry's `{{ … }}`."""
    return condition.strip().removeprefix("{{").removesuffix("}}")


def _through(step: ParentStep, parents: Iterable[Row]) -> Iterator[Row]:
    for parent, stamp in parents:
        yield from step.rows_of(parent, stamp)
