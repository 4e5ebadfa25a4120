"""Stripe's list semantics: order, cursors, limits, created filters, parameters, parent lists."""

from __future__ import annotations

from collections import Counter

import pytest

LISTS = [
    "/v1/customers",
    "/v1/products",
    "/v1/prices",
    "/v1/shipping_rates",
    "/v1/payment_intents",
    "/v1/refunds",
    "/v1/disputes",
    "/v1/setup_intents",
    "/v1/order_returns",
]


def order_key(obj):
    return (obj["created"], obj["id"])


@pytest.mark.parametrize("path", LISTS)
def test_full_paging_returns_every_object_once_newest_first(api, shared, path):
    table = path.rsplit("/", 1)[1]
    listed = api.all(path)
    assert [o["id"] for o in listed] == [o["id"] for o in shared.truth()[table]]
    assert len({o["id"] for o in listed}) == len(listed) > 0
    assert listed == sorted(listed, key=order_key, reverse=True)


def test_list_envelope_and_default_limit(api):
    page = api.ok("/v1/customers")
    assert page["object"] == "list" and page["url"] == "/v1/customers"
    assert len(page["data"]) == 10 and page["has_more"] is True


def test_has_more_is_false_on_the_last_page(api, shared):
    oldest = shared.truth()["customers"][-3]
    page = api.ok("/v1/customers", starting_after=oldest["id"], limit=5)
    assert len(page["data"]) == 2 and page["has_more"] is False


def test_ending_before_pages_back_toward_newer_objects(api):
    first = api.ok("/v1/customers", limit=10)["data"]
    back = api.ok("/v1/customers", ending_before=first[7]["id"], limit=3)
    assert [o["id"] for o in back["data"]] == [o["id"] for o in first[4:7]]
    assert back["has_more"] is True
    top = api.ok("/v1/customers", ending_before=first[2]["id"], limit=5)
    assert [o["id"] for o in top["data"]] == [o["id"] for o in first[:2]] and top["has_more"] is False


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (0, "This value must be greater than or equal to 1."),
        (101, "This value must be less than or equal to 100."),
        ("ten", "Invalid integer: ten"),
    ],
)
def test_limit_outside_1_to_100_is_rejected(api, limit, message):
    error = api.error("/v1/customers", 400, limit=limit)
    assert error == {"type": "invalid_request_error", "message": message, "param": "limit"}


def test_limit_bounds_themselves_are_accepted(api):
    assert len(api.ok("/v1/customers", limit=1)["data"]) == 1
    assert len(api.ok("/v1/customers", limit=100)["data"]) == 100


def test_unknown_cursor_id_is_a_400_naming_the_object(api):
    error = api.error("/v1/customers", 400, starting_after="cus_doesnotexist")
    assert error["message"] == "No such customer: 'cus_doesnotexist'"
    assert error["param"] == "starting_after" and error["code"] == "resource_missing"


def test_both_cursors_at_once_are_rejected(api):
    first = api.ok("/v1/customers", limit=2)["data"]
    error = api.error("/v1/customers", 400, starting_after=first[0]["id"], ending_before=first[1]["id"])
    assert "only specify one of" in error["message"]


def test_unknown_parameter_is_rejected_with_stripes_wording(api):
    error = api.error("/v1/customers", 400, foo="bar")
    assert error == {"type": "invalid_request_error", "message": "Received unknown parameter: foo", "param": "foo"}
    # A parameter valid elsewhere is still unknown here: payment intents have no status filter.
    assert api.error("/v1/payment_intents", 400, status="succeeded")["param"] == "status"
    assert (
        api.error("/v1/customers", 400, created={"after": 1})["message"] == "Received unknown parameter: created[after]"
    )


def test_expand_is_accepted_on_every_list(api):
    assert api.ok("/v1/customers", expand=["data.default_source"], limit=1)["data"]


@pytest.mark.parametrize(
    ("op", "check"), [("gt", int.__gt__), ("gte", int.__ge__), ("lt", int.__lt__), ("lte", int.__le__)]
)
def test_created_filters_bound_the_list(api, shared, op, check):
    customers = shared.truth()["customers"]
    pivot = customers[len(customers) // 2]["created"]
    listed = api.all("/v1/customers", created={op: pivot})
    assert listed == [c for c in customers if check(c["created"], pivot)]


def test_plain_created_matches_one_second(api, shared):
    second, count = Counter(c["created"] for c in shared.truth()["customers"]).most_common(1)[0]
    listed = api.all("/v1/customers", created=second)
    assert len(listed) == count and {c["created"] for c in listed} == {second}


def test_same_second_objects_split_across_pages_are_neither_lost_nor_repeated(api, shared):
    customers = shared.truth()["customers"]
    second, count = Counter(p["created"] for p in customers).most_common(1)[0]
    assert count >= 4, "the generated data should contain same-second bursts"
    window = {"gte": second - 1, "lte": second + 1}
    seen, cursor = [], None
    while True:
        page = api.ok("/v1/customers", limit=2, created=window, **({"starting_after": cursor} if cursor else {}))
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert [p["id"] for p in seen] == [p["id"] for p in customers if second - 1 <= p["created"] <= second + 1]
    tied = [p["id"] for p in seen if p["created"] == second]
    assert tied == sorted(tied, reverse=True), "ties are ordered by id, descending"


def test_subscription_items_require_their_subscription(api):
    error = api.error("/v1/subscription_items", 400)
    assert error["message"] == "Missing required param: subscription." and error["param"] == "subscription"


def test_setup_attempts_require_their_setup_intent(api):
    assert api.error("/v1/setup_attempts", 400)["message"] == "Missing required param: setup_intent."


def test_listing_children_of_an_unknown_parent_is_a_404(api):
    error = api.error("/v1/subscription_items", 404, subscription="sub_missing")
    assert error["message"] == "No such subscription: 'sub_missing'"


def test_canceled_subscriptions_are_listed_only_with_status_all(api, shared):
    subscriptions = shared.truth()["subscriptions"]
    canceled = {s["id"] for s in subscriptions if s["status"] == "canceled"}
    assert canceled
    default = {s["id"] for s in api.all("/v1/subscriptions")}
    assert default == {s["id"] for s in subscriptions} - canceled
    assert {s["id"] for s in api.all("/v1/subscriptions", status="all")} == {s["id"] for s in subscriptions}
    assert {s["id"] for s in api.all("/v1/subscriptions", status="canceled")} == canceled
    assert {s["status"] for s in api.all("/v1/subscriptions", status="past_due")} == {"past_due"}
    assert api.error("/v1/subscriptions", 400, status="bogus")["param"] == "status"


def test_subscription_embeds_its_first_ten_items_and_pages_the_rest(api, shared):
    subscriptions = shared.truth()["subscriptions"]
    big = next(s for s in subscriptions if s["items"]["total_count"] > 10)
    assert big["items"]["has_more"] is True and len(big["items"]["data"]) == 10
    assert big["items"]["url"] == f"/v1/subscription_items?subscription={big['id']}"
    items = api.all("/v1/subscription_items", subscription=big["id"])
    assert len(items) == big["items"]["total_count"]
    assert {i["subscription"] for i in items} == {big["id"]}
    assert {i["id"] for i in big["items"]["data"]} <= {i["id"] for i in items}
    assert sum(1 for s in subscriptions if 1 <= s["items"]["total_count"] <= 3) > len(subscriptions) * 0.8


def test_references_point_at_existing_objects(shared):
    truth = shared.truth()
    ids = {table: {o["id"] for o in objects} for table, objects in truth.items()}
    for item in truth["subscription_items"]:
        assert item["subscription"] in ids["subscriptions"]
        assert item["price"]["product"] in ids["products"]
    assert all(p["product"] in ids["products"] for p in truth["prices"])
    assert all(s["customer"] in ids["customers"] for s in truth["subscriptions"])
    intents = {p["id"]: p for p in truth["payment_intents"]}
    for child in truth["refunds"] + truth["disputes"]:
        assert child["charge"] == intents[child["payment_intent"]]["latest_charge"]
    for summary in truth["usage_record_summaries"]:
        assert summary["subscription_item"] in ids["subscription_items"]


def test_setup_intents_name_their_newest_attempt_or_none(api, shared):
    truth = shared.truth()
    attempts = {}
    for attempt in truth["setup_attempts"]:  # newest first, so the first seen per intent is the newest
        attempts.setdefault(attempt["setup_intent"], attempt["id"])
    without = [s for s in truth["setup_intents"] if s["latest_attempt"] is None]
    assert without and all(s["id"] not in attempts for s in without)
    with_attempt = next(s for s in truth["setup_intents"] if s["latest_attempt"])
    assert with_attempt["latest_attempt"] == attempts[with_attempt["id"]]
    listed = api.all("/v1/setup_attempts", setup_intent=with_attempt["id"])
    assert listed[0]["id"] == with_attempt["latest_attempt"]


def test_usage_record_summaries_are_listed_per_metered_item(api, shared):
    summary = shared.truth()["usage_record_summaries"][0]
    item = summary["subscription_item"]
    page = api.ok(f"/v1/subscription_items/{item}/usage_record_summaries")
    assert page["url"] == f"/v1/subscription_items/{item}/usage_record_summaries"
    assert summary["id"] in {s["id"] for s in page["data"]}
    assert all(s["subscription_item"] == item and s["object"] == "usage_record_summary" for s in page["data"])


def test_list_filters_narrow_by_field(api, shared):
    customer = shared.truth()["payment_intents"][0]["customer"] or shared.truth()["payment_intents"][1]["customer"]
    listed = api.all("/v1/payment_intents", customer=customer)
    assert listed and {p["customer"] for p in listed} == {customer}
    assert {p["active"] for p in api.all("/v1/products", active="false")} == {False}


def test_retrieve_returns_the_current_object_or_stripes_404(api, shared):
    for path, table in [
        ("/v1/customers", "customers"),
        ("/v1/subscriptions", "subscriptions"),
        ("/v1/refunds", "refunds"),
    ]:
        obj = shared.truth()[table][0]
        assert api.ok(f"{path}/{obj['id']}") == obj
    error = api.error("/v1/payment_intents/pi_missing", 404)
    assert error["message"] == "No such payment_intent: 'pi_missing'" and error["code"] == "resource_missing"


def test_unknown_url_gets_stripes_unrecognized_message(api):
    error = api.error("/v1/widgets", 404)
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/widgets).")


def test_every_response_has_request_id_and_date(api):
    response = api.get("/v1/customers/cus_missing")
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Date"].endswith("GMT")
    assert response.headers["Stripe-Version"] == "2023-08-16"
