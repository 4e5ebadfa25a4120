"""A Connect platform's money as Stripe keeps it (transfers to connected accounts, reversed through the transfer that
embeds them; fees on connected accounts' charges, refunded through the fee), top-ups, Radar's reviews and early fraud
warnings, and files with their links, each with the events Stripe sends and the changes it sends none for."""

from __future__ import annotations

import pytest

HOUR = 3600


def test_transfers_go_to_connected_accounts_and_embed_their_first_reversals(shared, api):
    truth = shared.truth()
    connected = set(shared.connected_accounts)
    assert truth["transfers"] and {t["destination"] for t in truth["transfers"]} <= connected
    reversed_ = next(t for t in truth["transfers"] if t["reversals"]["data"])
    listed = api.all(reversed_["reversals"]["url"])
    assert listed[: len(reversed_["reversals"]["data"])] == reversed_["reversals"]["data"]
    assert reversed_["amount_reversed"] == sum(r["amount"] for r in listed)
    assert all(r["transfer"] == reversed_["id"] for r in listed)


def test_a_reversal_past_the_embedded_page_is_listed_at_the_transfers_url(sandbox, client):
    transfer = sandbox.create("transfers", amount=5000)
    for _ in range(11):
        sandbox.advance_clock(1)
        sandbox.create("transfer_reversals", transfer=transfer["id"], amount=100)
    embedded = client.ok(f"/v1/transfers/{transfer['id']}")["reversals"]
    assert (len(embedded["data"]), embedded["has_more"]) == (10, True)
    rest = client.all(embedded["url"], starting_after=embedded["data"][-1]["id"])
    assert len(rest) == 1
    assert [e["type"] for e in client.events_of(transfer["id"])][:2] == ["transfer.reversed", "transfer.reversed"]


def test_a_reversals_metadata_changes_without_an_event_while_its_transfer_embeds_it_as_it_is_now(sandbox, client):
    transfer = sandbox.create("transfers", amount=5000)
    reversal = sandbox.create("transfer_reversals", transfer=transfer["id"], amount=500)
    sandbox.advance_clock(60)
    sandbox.update("transfer_reversals", reversal["id"], metadata={"reason": "chargeback"})
    assert client.events_of(reversal["id"]) == []
    assert client.ok(f"/v1/transfers/{transfer['id']}")["reversals"]["data"][0]["metadata"] == {"reason": "chargeback"}
    assert sorted(e["type"] for e in client.events_of(transfer["id"])) == ["transfer.created", "transfer.reversed"]
    with pytest.raises(RuntimeError, match="exceeds"):
        sandbox.create("transfer_reversals", transfer=transfer["id"], amount=5000)


def test_an_application_fee_is_taken_on_a_connected_accounts_charge_which_names_it(sandbox, client):
    fee = sandbox.create("application_fees", amount=20_000)
    charge = client.using(account=fee["account"]).ok(f"/v1/charges/{fee['charge']}")
    assert (charge["application_fee"], charge["application_fee_amount"]) == (fee["id"], fee["amount"]) == (fee["id"], 2000)
    assert [e["type"] for e in client.events_of(fee["id"])] == ["application_fee.created"]
    with pytest.raises(RuntimeError, match="Only the platform"):
        sandbox.create("application_fees", account=fee["account"])


def test_a_fee_refund_is_announced_through_its_fee_and_its_metadata_change_through_itself(sandbox, client):
    fee = sandbox.create("application_fees")
    sandbox.advance_clock(60)
    refund = sandbox.create("application_fees_refunds", fee=fee["id"], amount=100)
    refunded = client.events_of(fee["id"])[0]
    assert (refunded["type"], refunded["data"]["object"]["refunds"]["data"]) == ("application_fee.refunded", [refund])
    sandbox.advance_clock(60)
    sandbox.update("application_fees_refunds", refund["id"], metadata={"note": "goodwill"})
    updated = client.events_of(refund["id"])[0]
    assert (updated["type"], updated["data"]["previous_attributes"]) == ("application_fee.refund.updated", {"metadata": {}})
    assert client.all(f"/v1/application_fees/{fee['id']}/refunds")[0]["metadata"] == {"note": "goodwill"}


def test_a_top_ups_outcome_has_an_event_and_its_description_none(sandbox, client):
    topup = sandbox.create("top_ups")
    sandbox.advance_clock(60)
    sandbox.update("top_ups", topup["id"], status="succeeded")
    sandbox.advance_clock(60)
    sandbox.update("top_ups", topup["id"], description="Payroll")
    assert [e["type"] for e in client.events_of(topup["id"])] == ["topup.succeeded", "topup.created"]
    with pytest.raises(RuntimeError, match="cannot become"):
        sandbox.update("top_ups", topup["id"], status="failed")


def test_a_review_is_opened_with_its_charge_and_closed_once(sandbox, client):
    review = sandbox.create("reviews")
    assert client.ok(f"/v1/charges/{review['charge']}")["review"] == review["id"]
    sandbox.advance_clock(60)
    sandbox.update("reviews", review["id"], closed_reason="approved")
    assert [e["type"] for e in client.events_of(review["id"])] == ["review.closed", "review.opened"]
    with pytest.raises(RuntimeError, match="already closed"):
        sandbox.update("reviews", review["id"], closed_reason="refunded")


def test_early_fraud_warnings_are_listed_without_a_created_filter(shared, api):
    warnings = shared.truth()["early_fraud_warnings"]
    assert warnings and [w["id"] for w in api.all("/v1/radar/early_fraud_warnings")] == [w["id"] for w in warnings]
    assert "created" in api.error("/v1/radar/early_fraud_warnings", 400, created={"gte": 0})["message"]


def test_a_file_renders_its_links_only_when_expanded_and_a_link_expires_without_an_event(sandbox, client):
    file = sandbox.create("files")
    assert client.ok(f"/v1/files/{file['id']}")["links"] is None
    link = sandbox.create("file_links", file=file["id"], expires_at=sandbox.now + HOUR)
    sandbox.advance_clock(HOUR)
    assert client.ok(f"/v1/file_links/{link['id']}")["expired"] is True
    assert [e["type"] for e in client.events_of(file["id"])] == ["file.created"]
    assert client.events_of(link["id"]) == []


def test_the_platform_lists_the_persons_and_external_accounts_of_the_accounts_it_controls(sandbox, client):
    seller = sandbox.connect_account("Corner Shop")
    account = client.ok(f"/v1/accounts/{seller}")
    persons = client.all(f"/v1/accounts/{seller}/persons")
    assert persons and all(p["account"] == seller for p in persons) and any(p["relationship"]["representative"] for p in persons)
    external = client.all(f"/v1/accounts/{seller}/external_accounts")
    assert {e["object"] for e in external} <= {"bank_account", "card"} and all(e["account"] == seller for e in external)
    assert account["external_accounts"]["data"] == external[:10]
    assert "object" in client.error(f"/v1/accounts/{seller}/external_accounts", 400, object="card")["message"]


def test_the_external_accounts_list_mixes_bank_accounts_and_cards(shared, api):
    truth = shared.truth()
    with_card = truth["external_account_cards"][0]["account"]
    listed = api.all(f"/v1/accounts/{with_card}/external_accounts")
    assert {e["object"] for e in listed} == {"bank_account", "card"}
    assert api.ok(f"/v1/accounts/{with_card}/external_accounts/{truth['external_account_cards'][0]['id']}")["object"] == "card"


def test_a_customers_ach_bank_account_has_source_events_and_leaves_its_sources_when_removed(sandbox, client):
    saved = sandbox.create("bank_accounts")
    sources = f"/v1/customers/{saved['customer']}/sources"
    assert saved["id"] in {s["id"] for s in client.all(sources, object="bank_account")}
    sandbox.advance_clock(60)
    sandbox.update("bank_accounts", saved["id"], metadata={"purpose": "rent"})
    sandbox.advance_clock(60)
    sandbox.delete("bank_accounts", saved["id"])
    assert saved["id"] not in {s["id"] for s in client.all(sources, object="bank_account")}
    assert [e["type"] for e in client.events_of(saved["id"])] == ["customer.source.deleted", "customer.source.updated", "customer.source.created"]


def test_customer_source_events_speak_of_cards_too_which_no_bank_accounts_list_shows(shared, api):
    events = api.all("/v1/events", types=["customer.source.created"])
    kinds = {event["data"]["object"]["object"] for event in events}
    assert kinds == {"bank_account", "card"}
    card = next(event["data"]["object"] for event in events if event["data"]["object"]["object"] == "card")
    assert card["id"] not in {s["id"] for s in api.all(f"/v1/customers/{card['customer']}/sources", object="bank_account")}
