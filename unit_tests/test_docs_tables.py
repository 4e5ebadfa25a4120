"""docs/how-it-works.md's, the user guide's and metadata.yaml's tables of tables are what tools/docs_tables.py renders from the
manifest's entries: every table, in its group, with its endpoint, permission and how its changes arrive."""

import re
from pathlib import Path

import pytest

import docs_tables
from source_stripe.tables import manifest_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLES = manifest_tables()


@pytest.mark.parametrize("document", [docs_tables.HOW_IT_WORKS, docs_tables.USER_GUIDE, docs_tables.METADATA], ids=str)
def test_the_committed_document_holds_the_tables_the_manifest_renders(document, tmp_path):
    (rendered,) = [path for path in docs_tables.write(REPO_ROOT, tmp_path) if path == tmp_path / document]

    assert (REPO_ROOT / document).read_text() == rendered.read_text(), f"out of date: run `make generate` ({document})"


def test_the_user_guide_names_every_tables_permission_and_the_parents_a_child_is_found_through():
    permissions = docs_tables.guide_permissions(TABLES)

    for table in TABLES:
        assert re.search(rf"\| [^|]*\b{table.name}\b[^|]* \| {re.escape(table.permission)}.* \| `{table.permission_id}` \|", permissions)
    assert "Usage Records: Read (and Subscriptions: Read, to find its rows through subscriptions)" in permissions


def test_how_changes_arrive_is_said_from_each_entrys_events_parent_and_quirk():
    named = {table.name: table for table in TABLES}

    assert docs_tables.changes(named["customers"], named) == (
        "`customer.*` events; deletions arrive with `is_deleted: true`; once read whole, syncs replay events and list nothing"
    )
    assert docs_tables.changes(named["coupons"], named) == "`coupon.*` events; deletions arrive with `is_deleted: true`"
    assert docs_tables.changes(named["shipping_rates"], named) == "the lookback window (Stripe sends no events for them)"
    assert docs_tables.changes(named["subscription_items"], named) == (
        "their subscription's events; once read whole, syncs replay events and list nothing; a row dropped from its parent arrives deleted"
    )
    assert docs_tables.changes(named["setup_attempts"], named) == "their setup intent's events and the lookback window"


def test_a_document_without_the_markers_is_refused_rather_than_left_stale():
    with pytest.raises(ValueError, match="'tables'"):
        docs_tables.with_regions("# no markers here\n", {"tables": "| a |"}, ("<!-- ", " -->"))
