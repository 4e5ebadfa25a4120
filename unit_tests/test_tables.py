"""The manifest's entries read as tables: every parameter is one the connector reads, and lineage follows parents."""

import pytest

from source_stripe.quirks import quirk_of
from source_stripe.tables import by_name, lineage, manifest_tables, tables_of


def entry(**parameters):
    defaults = {
        "name": "widgets", "description": "Widgets.", "stripe_object": "widget", "group": "facts", "path": "widgets",
        "permission": "Widgets: Read", "permission_id": "rak_widget_read",
    }  # fmt: skip
    return {"$parameters": {**defaults, **parameters}}


def test_an_entry_with_a_parameter_nothing_reads_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'widgets' has parameters no part of the connector reads: \['evnets'\]"):
        tables_of({"streams": [entry(evnets={"created": ["widget.created"]})]})


def test_a_quirk_naming_row_events_its_entry_does_not_list_is_refused_by_name():
    quirk = {"class_name": "source_stripe.quirks.RowsWithEventsOfTheirOwn", "events": ["widget.relabelled"]}
    parent = {"table": "gadgets", "key": "gadget"}
    (table,) = tables_of({"streams": [entry(events={"created": ["widget.created"]}, parent=parent, quirk=quirk)]})
    with pytest.raises(ValueError, match=r"'widgets' names row events that are not among its events: \['widget.relabelled'\]"):
        quirk_of(table)


def test_a_child_tables_lineage_runs_from_the_top_level_table_whose_list_finds_it():
    tables = by_name(manifest_tables())

    for table in tables.values():
        chain = lineage(table, tables)
        assert chain[0].is_top_level and chain[-1] is table
        assert all(child.parent.table == parent.name for parent, child in zip(chain, chain[1:]))
