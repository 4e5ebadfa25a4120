"""Stripe's list pages and objects as tables ask for them: each listing read once, pages several tables read alike
fetched once for all, and Stripe's time at the start of a sync."""

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator, List, Mapping, MutableMapping, Optional, Tuple
from urllib.parse import urlencode

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.client import EVENTS_PATH
from source_stripe.components import observed_at, parsed_body
from source_stripe.transport import StripeRefused, TableRequests

# Pages several tables read are kept for the others up to this much JSON (a few times that once parsed); a
# subscriptions page is ~0.3 MB.
MAX_SHARED_BYTES = 24 * 1024 * 1024

logger = logging.getLogger("airbyte")


class ListedOnce:
    """One listing's pages as Stripe sends them: an object on two pages is emitted once, and a page that brings nothing
    new while saying more follow stops the listing rather than asking for the same pages forever."""

    def __init__(self, table: str) -> None:
        self._table, self._ids = table, set()

    def new_in(self, page: List[MutableMapping[str, Any]], has_more: bool) -> List[MutableMapping[str, Any]]:
        fresh = []
        for obj in page:
            if obj.get("id") in self._ids:
                logger.warning(f"{self._table}: Stripe listed {obj['id']} on two pages; it is emitted once.")
                continue
            self._ids.add(obj.get("id"))
            fresh.append(obj)
        if has_more and not fresh:
            message = (
                f"Stripe's pages of {self._table} repeat themselves after {page[-1].get('id')}; the table was stopped "
                "rather than read in a loop. The next sync reads it again."
            )
            raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.transient_error)
        return fresh


class SharedPages:
    """List pages that several tables ask for alike, fetched once per sync.

    Three tables scan subscriptions and two scan setup intents, in the same `created` slices (a slice splits the same
    way whoever reads it) and the same event windows; two list the items of crowded subscriptions. The first table to
    ask for such a page fetches and parses it while the others wait for it; all get the same objects, which no table
    changes (records are stamped copies, see _stamped). A page is dropped once every table that reads its list took
    it, and past MAX_SHARED_BYTES the oldest pages go first: a table asking for one of those fetches it again.
    """

    def __init__(self, readers: Mapping[Tuple[str, Tuple[Any, ...]], int]) -> None:
        self._readers = readers
        self._lock = threading.Lock()
        self._pages: "OrderedDict[str, _SharedPage]" = OrderedDict()
        self._bytes = 0

    def fetch(
        self,
        path: str,
        query: Mapping[str, Any],
        get: Callable[[], requests.Response],
        family: Optional[Tuple[str, Tuple[Any, ...]]] = None,
        account: Optional[str] = None,
    ) -> Tuple[bool, int, Any]:
        """Whether Stripe answered with a page (or object), its `observed_at`, and its parsed body. `family` says which
        tables read it alike, by default the tables that page through the list it is a page of; `account`, whose
        page it is (each account's tables share their own)."""
        readers = self._readers.get(family or list_family(path, query), 0)
        if readers < 2:
            return _read_page(get())
        key = f"{account or ''}/{path}?{urlencode(sorted(query.items()), doseq=True)}"
        with self._lock:
            page = self._pages.get(key)
            leading = page is None
            if leading:
                page = self._pages[key] = _SharedPage(readers)
        if leading:
            try:
                response = get()
            except BaseException:
                with self._lock:
                    self._pages.pop(key, None)
                page.ready(None)
                raise
            answer = _read_page(response)
            page.ready(answer, len(response.content))
            self._took(key, page)
            return answer
        fetched = page.wait()
        if fetched is None:  # the table that fetched it failed; this one asks and fails or not on its own
            return _read_page(get())
        self._took(key, page)
        return fetched

    def _took(self, key: str, page: "_SharedPage") -> None:
        with self._lock:
            page.readers_left -= 1
            if not page.counted:
                page.counted, self._bytes = True, self._bytes + page.size
            if page.readers_left == 0 and self._pages.get(key) is page:
                self._drop(key)
            while self._bytes > MAX_SHARED_BYTES:
                oldest = next((k for k, p in self._pages.items() if p.counted), None)
                if oldest is None:
                    break
                self._drop(oldest)

    def _drop(self, key: str) -> None:
        page = self._pages.pop(key)
        if page.counted:
            self._bytes -= page.size


class _SharedPage:
    """A page being fetched by one table for others: whether it lists anything, its `observed_at`, its parsed body,
    and the size of its JSON."""

    def __init__(self, readers: int) -> None:
        self.readers_left, self.counted, self.size = readers, False, 0
        self._fetched = threading.Event()
        self._page: Optional[Tuple[bool, int, Any]] = None

    def ready(self, page: Optional[Tuple[bool, int, Any]], size: int = 0) -> None:
        self._page, self.size = page, size
        self._fetched.set()

    def wait(self) -> Optional[Tuple[bool, int, Any]]:
        self._fetched.wait()
        return self._page


# The event list every table's event windows page through alike, whatever their query (see EventWindow); the events
# table's own slices list it otherwise.
REPLAYED_EVENTS = (EVENTS_PATH, ("replayed by the tables",))


def object_family(collection: str) -> Tuple[str, Tuple[Any, ...]]:
    """The objects of `collection` that tables fetch one by one (an event's object as it is now): every table that scans
    that collection replays the same events, so asks for the same objects."""
    return f"{collection}/{{id}}", ()


def list_family(path: str, query: Mapping[str, Any]) -> Tuple[str, Tuple[Any, ...]]:
    """Which list a request pages through, whatever the slice, page or parent: its path and the parameters that choose
    the list (subscriptions' status, events' types)."""
    return path, tuple((name, tuple(value) if isinstance(value, (list, tuple)) else value) for name, value in sorted(query.items()) if name in ("status", "types[]"))


def _read_page(response: requests.Response) -> Tuple[bool, int, Any]:
    return response.ok, observed_at(response), parsed_body(response) if response.ok else None


class StripeHttp:
    """One table's lists and retrieves, sent as transport.TableRequests says: within the sync's budget, retried and
    judged by the manifest's error handlers."""

    def __init__(self, table: str, lists: TableRequests, objects: TableRequests, shared: SharedPages, account: Optional[str] = None) -> None:
        self.table = table
        self._lists = lists
        self._objects = objects
        self._shared = shared
        self._account = account

    def page(
        self, path: str, params: Mapping[str, Any], starting_after: Optional[str], family: Optional[Tuple[str, Tuple[Any, ...]]] = None
    ) -> Tuple[List[MutableMapping[str, Any]], int, bool]:
        """One page of a Stripe list, newest first: its objects, their `observed_at`, and whether more follow. `family`:
        which tables read it alike, when not every table that pages through its list (see SharedPages.fetch)."""
        query = {**params, "limit": 100, **({"starting_after": starting_after} if starting_after else {})}
        listed, stamp, body = self._shared.fetch(path, query, lambda: self._lists.get(path, query), family, self._account)
        if not listed:  # an answer the error handler ignores, such as a missing legacy API, lists nothing
            return [], stamp, False
        return body["data"], stamp, bool(body["has_more"] and body["data"])

    def pages(
        self, path: str, params: Mapping[str, Any], starting_after: Optional[str] = None, family: Optional[Tuple[str, Tuple[Any, ...]]] = None
    ) -> Iterator[Tuple[List[MutableMapping[str, Any]], int]]:
        """Every page of a Stripe list, newest first (after `starting_after`), with the `observed_at` of its objects."""
        listed = ListedOnce(self.table)
        while True:
            data, stamp, has_more = self.page(path, params, starting_after, family)
            yield listed.new_in(data, has_more), stamp
            if not has_more:
                return
            starting_after = data[-1]["id"]

    def retrieve(self, collection: str, object_id: str) -> Tuple[Optional[MutableMapping[str, Any]], int]:
        """The object of `collection` as the pinned API version renders it, or None when it no longer exists (Stripe
        answers 404, or a deleted stub)."""
        path = f"{collection}/{object_id}"
        found, stamp, body = self._shared.fetch(path, {}, lambda: self._objects.get(path, {}), object_family(collection), self._account)
        if not found or body.get("deleted"):
            return None, stamp
        return body, stamp

    def now_and_events_readable(self) -> Tuple[int, bool]:
        """Stripe's time now, and whether the key may read events (restricted keys may lack "Events: Read")."""
        try:
            response = self._lists.get(EVENTS_PATH, {"limit": 1})
        except StripeRefused as error:
            if error.status_code != 403:
                raise
            # The refusal still carries Stripe's time (the local clock may be off, or a test's Stripe elsewhere in time).
            return (observed_at(error.response) + 1) // 1000 if error.response is not None else int(time.time()), False
        return (observed_at(response) + 1) // 1000, True


class SyncClock:
    """What every table of one sync shares: Stripe's time when it began, and whether events can be read."""

    def __init__(self, http: StripeHttp) -> None:
        self._http = http
        self._lock = threading.Lock()
        self._known: Optional[Tuple[int, bool]] = None
        self._warned = False

    def now_and_events_readable(self) -> Tuple[int, bool]:
        with self._lock:
            if self._known is None:
                self._known = self._http.now_and_events_readable()
                if not self._known[1]:
                    logger.warning(
                        'The API key cannot read Events (grant it "Events: Read" in the Stripe dashboard). Incremental '
                        "syncs therefore see new objects and re-read those created within the lookback window, but "
                        "miss later updates to older objects and all deletions until the next full refresh."
                    )
            return self._known
