"""How a child table's rows are found through its parent: what a parent embeds, and what must be asked for."""

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, MutableMapping, Set, Tuple

from source_stripe.capture import stamped
from source_stripe.pages import StripeHttp


class Expansion:
    """Turns a parent object into the child records it stands for; asks Stripe only where children can exist."""

    def __init__(self, http: StripeHttp) -> None:
        self._http = http
        self._lock = threading.Lock()
        self._summarised_items: Set[str] = set()

    @staticmethod
    def embeds_only_some_items(subscription: Mapping[str, Any]) -> bool:
        items = subscription.get("items") or {}
        return bool(items.get("has_more") and items.get("data"))

    def subscription_items(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        for item, item_stamp in self._items_of(subscription, stamp):
            yield stamped(item, item_stamp)

    def _items_of(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[Tuple[Mapping[str, Any], int]]:
        """A subscription's items as Stripe gave them, each with its `observed_at`: embedded ones, then the rest."""
        embedded = (subscription.get("items") or {}).get("data") or []
        for item in embedded:
            yield item, stamp
        if not self.embeds_only_some_items(subscription):
            return
        rest = self._http.pages("subscription_items", {"subscription": subscription["id"]}, starting_after=embedded[-1]["id"])
        for page, page_stamp in rest:
            for item in page:
                yield item, page_stamp

    @staticmethod
    def had_an_attempt(setup_intent: Mapping[str, Any]) -> bool:
        return bool(setup_intent.get("latest_attempt"))

    def setup_attempts(self, setup_intent: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        if not self.had_an_attempt(setup_intent):
            return
        for page, page_stamp in self._http.pages("setup_attempts", {"setup_intent": setup_intent["id"]}):
            for attempt in page:
                yield stamped(attempt, page_stamp)

    @staticmethod
    def may_have_metered_items(subscription: Mapping[str, Any]) -> bool:
        embedded = (subscription.get("items") or {}).get("data") or []
        return Expansion.embeds_only_some_items(subscription) or any(_is_metered(item) for item in embedded)

    def usage_record_summaries(self, subscription: Mapping[str, Any], stamp: int) -> Iterator[MutableMapping[str, Any]]:
        for item, _ in self._items_of(subscription, stamp):  # items are only looked at here, not emitted
            if not _is_metered(item):
                continue
            with self._lock:
                if item["id"] in self._summarised_items:
                    continue
                self._summarised_items.add(item["id"])
            for page, page_stamp in self._http.pages(f"subscription_items/{item['id']}/usage_record_summaries", {}):
                for summary in page:
                    yield stamped(summary, page_stamp)


def _is_metered(item: Mapping[str, Any]) -> bool:
    return ((item.get("price") or {}).get("recurring") or {}).get("usage_type") == "metered"


@dataclass(frozen=True)
class Child:
    """How a table with no list or events of its own is read through the parents its manifest entry names."""

    expand: Callable[[Expansion, MutableMapping[str, Any], int], Iterable[MutableMapping[str, Any]]]
    asks_stripe: Callable[[Mapping[str, Any]], bool]  # whether a parent's children take requests, or it embeds them all
    lists: Tuple[str, ...] = ()  # the lists `expand` pages through that another child table may page through too


CHILDREN = {
    "subscription_items": Child(Expansion.subscription_items, Expansion.embeds_only_some_items, ("subscription_items",)),
    "setup_attempts": Child(Expansion.setup_attempts, Expansion.had_an_attempt),
    "usage_record_summaries": Child(Expansion.usage_record_summaries, Expansion.may_have_metered_items, ("subscription_items",)),
}
