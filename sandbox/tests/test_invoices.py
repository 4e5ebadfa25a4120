"""Invoices as Stripe keeps them: a subscription's periods billed line by line, paid through payment intents, drafts
that change and can be deleted, and invoice items, which have a `date` instead of `created` and no update event."""

from __future__ import annotations

import pytest



def test_a_subscriptions_invoices_bill_its_items_and_the_newest_is_its_latest(shared):
    truth = shared.truth()
    invoices = {i["id"]: i for i in truth["invoices"]}
    lines_of: dict[str, list] = {}
    for line in truth["invoice_line_items"]:
        lines_of.setdefault(line["invoice"], []).append(line)
    for sub in truth["subscriptions"]:
        latest = invoices[sub["latest_invoice"]]
        assert latest["subscription"] == sub["id"]
        billed = {line["subscription_item"] for line in lines_of[latest["id"]] if line["type"] == "subscription"}
        assert billed <= {item["id"] for item in truth["subscription_items"] if item["subscription"] == sub["id"]}
    for invoice in truth["invoices"]:
        assert invoice["total"] == sum(line["amount"] for line in lines_of.get(invoice["id"], []))
        assert invoice["lines"]["total_count"] == len(lines_of.get(invoice["id"], []))


def test_a_paid_invoice_charged_automatically_was_paid_by_an_intent_whose_charge_names_it(shared):
    truth = shared.truth()
    intents = {pi["id"]: pi for pi in truth["payment_intents"]}
    charges = {c["id"]: c for c in truth["charges"]}
    paid = [i for i in truth["invoices"] if i["status"] == "paid" and i["collection_method"] == "charge_automatically" and i["amount_due"]]
    assert paid
    for invoice in paid:
        pi = intents[invoice["payment_intent"]]
        assert (pi["invoice"], pi["amount"], pi["latest_charge"]) == (invoice["id"], invoice["amount_due"], invoice["charge"])
        assert charges[invoice["charge"]]["invoice"] == invoice["id"]


def test_an_invoice_embeds_the_first_page_of_its_lines_which_do_not_name_it(shared, api):
    crowded = next(i for i in shared.truth()["invoices"] if i["lines"]["has_more"])
    listed = api.all(f"/v1/invoices/{crowded['id']}/lines")
    assert listed[: len(crowded["lines"]["data"])] == crowded["lines"]["data"]
    assert len(listed) == crowded["lines"]["total_count"]
    assert all("invoice" not in line for line in listed)


def test_invoice_items_are_dated_and_their_created_filter_compares_the_date(shared, api):
    items = shared.truth()["invoice_items"]
    assert items and all("created" not in item for item in items)
    middle = sorted(item["date"] for item in items)[len(items) // 2]
    since = api.all("/v1/invoiceitems", **{"created[gte]": middle})
    assert {i["id"] for i in since} == {i["id"] for i in items if i["date"] >= middle}


def test_stripe_keeps_the_events_of_deleted_drafts(shared, api):
    deleted = shared.deleted()["invoices"]
    assert deleted
    assert {e["data"]["object"]["id"] for e in api.all("/v1/events", type="invoice.deleted")} == set(deleted)


def test_a_drafts_lines_follow_its_invoice_items_until_it_is_finalized(sandbox, client):
    draft = sandbox.create("invoices")
    sandbox.advance_clock(60)
    item = sandbox.create("invoice_items", invoice=draft["id"])
    with_item = client.ok(f"/v1/invoices/{draft['id']}")
    assert [line["invoice_item"] for line in with_item["lines"]["data"]] == [item["id"]]
    assert with_item["total"] == item["amount"]
    assert [e["type"] for e in client.events_of(draft["id"])] == ["invoice.updated", "invoice.created"]
    sandbox.advance_clock(60)
    sandbox.update("invoice_items", item["id"], quantity=item["quantity"] + 1)
    assert client.ok(f"/v1/invoices/{draft['id']}")["total"] == item["unit_amount"] * (item["quantity"] + 1)
    assert [e["type"] for e in client.events_of(item["id"])] == ["invoiceitem.created"], "Stripe has no invoiceitem.updated"
    sandbox.advance_clock(60)
    finalized = sandbox.update("invoices", draft["id"], status="open")
    assert finalized["number"] and finalized["status_transitions"]["finalized_at"] == sandbox.now
    assert client.events_of(draft["id"])[0]["type"] == "invoice.finalized"
    with pytest.raises(RuntimeError, match="finalized"):
        sandbox.update("invoice_items", item["id"], quantity=9)
    with pytest.raises(RuntimeError, match="only delete draft"):
        sandbox.delete("invoices", draft["id"])


def test_deleting_a_draft_deletes_its_lines_and_items(sandbox, client):
    draft = sandbox.create("invoices")
    item = sandbox.create("invoice_items", invoice=draft["id"])
    sandbox.advance_clock(60)
    sandbox.delete("invoices", draft["id"])
    assert client.get(f"/v1/invoices/{draft['id']}").status_code == 404
    assert client.get(f"/v1/invoiceitems/{item['id']}").status_code == 404
    assert not [line for line in sandbox.truth()["invoice_line_items"] if line["invoice"] == draft["id"]]
    assert client.events_of(draft["id"])[0]["type"] == "invoice.deleted"
    assert client.events_of(item["id"])[0]["type"] == "invoiceitem.deleted"


def test_an_open_invoice_paid_by_hand_is_paid_out_of_band(sandbox, client):
    draft = sandbox.create("invoices")
    sandbox.create("invoice_items", invoice=draft["id"])
    sandbox.update("invoices", draft["id"], status="open")
    sandbox.advance_clock(60)
    paid = sandbox.update("invoices", draft["id"], status="paid")
    assert (paid["paid"], paid["paid_out_of_band"], paid["amount_remaining"]) == (True, True, 0)
    assert {e["type"] for e in client.events_of(draft["id"])[:2]} == {"invoice.paid", "invoice.payment_succeeded"}
    with pytest.raises(RuntimeError, match="cannot go from paid to open"):
        sandbox.update("invoices", draft["id"], status="open")


def test_credit_notes_credit_lines_of_paid_invoices_and_their_list_takes_no_created_filter(shared, api):
    truth = shared.truth()
    invoices = {i["id"]: i for i in truth["invoices"]}
    invoice_lines = {line["id"]: line for line in truth["invoice_line_items"]}
    assert truth["credit_notes"]
    for note in truth["credit_notes"]:
        assert invoices[note["invoice"]]["status"] == "paid"
        lines = [line for line in truth["credit_note_line_items"] if line["credit_note"] == note["id"]]
        assert note["total"] == sum(line["amount"] for line in lines)
        assert all(invoice_lines[line["invoice_line_item"]]["invoice"] == note["invoice"] for line in lines)
    error = api.error("/v1/credit_notes", 400, **{"created[gte]": 1})
    assert "created" in error["message"]
    assert all("credit_note" not in line for line in api.all(f"/v1/credit_notes/{truth['credit_notes'][0]['id']}/lines"))


def test_a_credit_note_is_voided_not_deleted(sandbox, client):
    note = sandbox.create("credit_notes")
    sandbox.advance_clock(60)
    voided = sandbox.update("credit_notes", note["id"], status="void")
    assert voided["voided_at"] == sandbox.now
    assert [e["type"] for e in client.events_of(note["id"])] == ["credit_note.voided", "credit_note.created"]
    with pytest.raises(RuntimeError, match="Only a credit note's memo"):
        sandbox.update("credit_notes", note["id"], amount=1)
    with pytest.raises(RuntimeError, match="cannot delete credit_notes"):
        sandbox.delete("credit_notes", note["id"])
