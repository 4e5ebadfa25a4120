"""Pages several tables read alike are fetched once: what happens when the fetch fails or memory runs short."""

import threading
from email.utils import formatdate

import orjson
import requests

from source_stripe import pages
from source_stripe.pages import SharedPages, list_family

SUBSCRIPTIONS = list_family("subscriptions", {"status": "all"})
QUERY = {"status": "all", "limit": 100}


def stripe_page(*ids: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = orjson.dumps({"object": "list", "data": [{"id": id} for id in ids], "has_more": False})
    response.headers["Date"] = formatdate(1_790_000_000, usegmt=True)
    return response


class Fetches:
    """Counts what the tables fetch; `block` holds a fetch until released, `fail` makes it raise."""

    def __init__(self) -> None:
        self.count = 0
        self.started, self.release = threading.Event(), threading.Event()

    def page(self, *ids: str, block: bool = False, fail: bool = False):
        def get() -> requests.Response:
            self.count += 1
            self.started.set()
            if block:
                self.release.wait(5)
            if fail:
                raise requests.ConnectionError("reset")
            return stripe_page(*ids)

        return get


def test_a_page_two_tables_read_is_fetched_and_parsed_once():
    shared, fetches = SharedPages({SUBSCRIPTIONS: 2}), Fetches()

    first = shared.fetch("subscriptions", QUERY, fetches.page("sub_1"))
    second = shared.fetch("subscriptions", QUERY, fetches.page("sub_1"))

    assert fetches.count == 1
    assert first[2] is second[2]


def test_a_list_only_one_table_reads_is_never_kept():
    shared, fetches = SharedPages({SUBSCRIPTIONS: 1}), Fetches()

    shared.fetch("subscriptions", QUERY, fetches.page("sub_1"))
    shared.fetch("subscriptions", QUERY, fetches.page("sub_1"))

    assert fetches.count == 2


def test_when_the_table_fetching_a_shared_page_fails_the_waiting_table_fetches_it_itself():
    shared, fetches = SharedPages({SUBSCRIPTIONS: 2}), Fetches()
    failed = []

    def leading_table() -> None:
        try:
            shared.fetch("subscriptions", QUERY, fetches.page(block=True, fail=True))
        except requests.ConnectionError as error:
            failed.append(error)

    leader = threading.Thread(target=leading_table)
    leader.start()
    fetches.started.wait(5)
    follower_result = []
    follower = threading.Thread(target=lambda: follower_result.append(shared.fetch("subscriptions", QUERY, fetches.page("sub_1"))))
    follower.start()
    follower.join(0.2)
    assert fetches.count == 1  # the follower waits for the page rather than asking for it too
    fetches.release.set()
    leader.join(5), follower.join(5)

    assert len(failed) == 1
    assert [obj["id"] for obj in follower_result[0][2]["data"]] == ["sub_1"]
    assert fetches.count == 2


def test_past_the_memory_bound_the_oldest_shared_page_is_dropped_and_fetched_again(monkeypatch):
    monkeypatch.setattr(pages, "MAX_SHARED_BYTES", len(stripe_page("sub_1").content) + 10)
    shared, fetches = SharedPages({SUBSCRIPTIONS: 2}), Fetches()

    shared.fetch("subscriptions", {**QUERY, "starting_after": "sub_0"}, fetches.page("sub_1"))
    shared.fetch("subscriptions", {**QUERY, "starting_after": "sub_1"}, fetches.page("sub_2"))
    shared.fetch("subscriptions", {**QUERY, "starting_after": "sub_0"}, fetches.page("sub_1"))

    assert fetches.count == 3
