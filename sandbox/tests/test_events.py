"""The events list: 30-day retention, type filters, snapshots and older API versions."""

from __future__ import annotations

DAY = 86_400


def test_events_reach_back_exactly_30_days(api, shared):
    events = api.all("/v1/events")
    assert events, "generation emits the last 30 days of events"
    now = shared.now
    assert min(e["created"] for e in events) >= now - 30 * DAY
    assert [e["created"] for e in events] == sorted((e["created"] for e in events), reverse=True)


def test_a_created_filter_cannot_reach_past_the_window(api, shared):
    everything = api.all("/v1/events")
    assert api.all("/v1/events", created={"gte": shared.now - 400 * DAY}) == everything
    assert api.all("/v1/events", created={"lt": shared.now - 31 * DAY}) == []


def test_advancing_the_clock_ages_events_out(sandbox, client):
    before = client.all("/v1/events")
    sandbox.advance_clock(10 * DAY)
    after = client.all("/v1/events")
    cutoff = sandbox.now - 30 * DAY
    earlier = {e["id"] for e in before}
    # Ten days also bring new events (payouts go out and arrive as time passes).
    assert [e for e in after if e["id"] in earlier] == [e for e in before if e["created"] >= cutoff]
    assert all(e["created"] > sandbox.now - 10 * DAY for e in after if e["id"] not in earlier)
    assert len([e for e in after if e["id"] in earlier]) < len(before)
    old = next(e for e in before if e["created"] < cutoff)
    assert client.error(f"/v1/events/{old['id']}", 404)["message"] == f"No such event: '{old['id']}'"


def test_types_filter_returns_only_those_types(api):
    wanted = ["customer.created", "customer.subscription.updated"]
    events = api.all("/v1/events", types=wanted)
    assert events and {e["type"] for e in events} <= set(wanted)
    assert len(events) == sum(1 for e in api.all("/v1/events") if e["type"] in wanted)


def test_type_filter_accepts_stripes_wildcard(api):
    events = api.all("/v1/events", type="charge.dispute.*")
    assert events and all(e["type"].startswith("charge.dispute.") for e in events)
    assert {e["type"] for e in api.all("/v1/events", type="refund.created")} == {"refund.created"}


def test_more_than_twenty_types_are_rejected(api):
    types = [f"customer.type_{n}" for n in range(21)]
    assert api.error("/v1/events", 400, types=types)["param"] == "types"
    assert api.ok("/v1/events", types=types[:20])["object"] == "list"


def test_type_and_types_together_are_rejected(api):
    assert "type, types" in api.error("/v1/events", 400, type="customer.created", types=["customer.updated"])["message"]


def test_event_envelope_matches_stripes(api):
    event = api.ok("/v1/events", limit=1)["data"][0]
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["pending_webhooks"] == 0 and event["request"] == {"id": None, "idempotency_key": None}
    assert event["livemode"] is False and "object" in event["data"]
    assert api.ok(f"/v1/events/{event['id']}") == event


def test_generated_events_cover_each_streams_event_types(api):
    types = {e["type"] for e in api.all("/v1/events")}
    for expected in [
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "product.created",
        "price.created",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "payment_intent.created",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
        "charge.dispute.created",
        "setup_intent.created",
        "setup_intent.succeeded",
    ]:
        assert expected in types


def test_update_events_carry_previous_attributes(api):
    updated = api.all("/v1/events", type="customer.subscription.updated")
    assert updated and all(e["data"]["previous_attributes"] for e in updated)
    created = api.all("/v1/events", type="customer.created")
    assert all("previous_attributes" not in e["data"] for e in created)


def test_the_newest_second_of_each_objects_events_shows_its_current_state(api, shared):
    """Within that second the list does not say which event came last, only that one of them is the current state."""
    current = {o["id"]: o for objects in shared.truth().values() for o in objects}
    newest_second = {}
    for event in api.all("/v1/events"):  # newest first
        newest_second.setdefault(event["data"]["object"]["id"], (event["created"], []))
        created, events = newest_second[event["data"]["object"]["id"]]
        if event["created"] == created and event["api_version"] == "2023-08-16":
            events.append(event["data"]["object"])
    # A payout on its way to the bank (in_transit) got there without an event.
    checked = [
        object_id
        for object_id, (_, objects) in newest_second.items()
        if object_id in current and objects and current[object_id].get("status") != "in_transit"
    ]
    assert len(checked) > 100
    for object_id in checked:
        assert current[object_id] in newest_second[object_id][1], object_id


def test_events_of_one_second_are_listed_oldest_first_not_as_they_happened(sandbox, client):
    customer = sandbox.create("customers", email="first@example.com")
    sandbox.update("customers", customer["id"], email="second@example.com")
    sandbox.update("customers", customer["id"], email="third@example.com")

    customer_events = ["customer.created", "customer.updated"]
    listed = client.ok("/v1/events", types=customer_events, created={"gte": sandbox.now})["data"]

    assert [e["type"] for e in listed] == ["customer.created", "customer.updated", "customer.updated"]
    assert [e["data"]["object"]["email"] for e in listed] == ["first@example.com", "second@example.com", "third@example.com"]
    page_two = client.ok("/v1/events", types=customer_events, limit=1, starting_after=listed[0]["id"], created={"gte": sandbox.now})
    assert page_two["data"] == [listed[1]], "paging follows the same order"


def test_a_new_event_can_stay_out_of_the_list_for_a_few_seconds(sandbox, client):
    sandbox.set_knobs(event_delay_seconds=5)
    first = sandbox.now
    for n in range(30):
        sandbox.create("customers", email=f"{n}@example.com")
        sandbox.advance_clock(n % 10 == 9)  # three seconds of ten changes each

    def listed():
        created = client.all("/v1/events", type="customer.created", created={"gte": first})
        return {int(e["data"]["object"]["email"].split("@")[0]) for e in created}

    visible = listed()
    held_back = set(range(30)) - visible
    assert any(older < newer for older in held_back for newer in visible), "an older event is missing behind newer ones"
    sandbox.advance_clock(5)
    assert listed() == set(range(30))


def test_the_events_tables_truth_is_what_stripe_lists_now(sandbox, client):
    sandbox.set_knobs(event_delay_seconds=5)
    sandbox.advance_clock(40 * DAY)
    for n in range(10):
        sandbox.create("customers", email=f"{n}@example.com")
    truth = {e["id"] for e in sandbox.truth()["events"]}
    listed_now = {e["id"] for e in client.all("/v1/events")}
    assert truth == listed_now
    sandbox.advance_clock(5)
    appeared = {e["id"] for e in client.all("/v1/events")} - listed_now
    assert appeared, "some events were held back"
    assert {e["id"] for e in sandbox.truth()["events"]} - truth == appeared
