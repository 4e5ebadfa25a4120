"""The committed ERD (docs/erd/stripe.dbml and its picture) shows every table in its manifest group and the
references a warehouse joins them on."""

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from source_stripe.tables import manifest_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
DBML = (REPO_ROOT / "docs" / "erd" / "stripe.dbml").read_text(encoding="utf-8")
SVG = ElementTree.parse(REPO_ROOT / "docs" / "erd" / "stripe.svg").getroot()

DIMENSIONS = {table.name for table in manifest_tables() if table.group == "dimensions"}
FACTS = {table.name for table in manifest_tables() if table.group == "facts"}
JOINS = {
    "payment_intents.customer > customers.id",
    "subscriptions.customer > customers.id",
    "setup_intents.customer > customers.id",
    "setup_attempts.customer > customers.id",
    "subscription_items.subscription > subscriptions.id",
    "prices.product > products.id",
    "products.default_price > prices.id",
    "refunds.payment_intent > payment_intents.id",
    "disputes.payment_intent > payment_intents.id",
    "setup_attempts.setup_intent > setup_intents.id",
    "usage_record_summaries.subscription_item > subscription_items.id",
    "order_returns.refund > refunds.id",
}


def table_group(name: str) -> set:
    return set(re.search(rf"TableGroup {name} {{\n(.*?)\n}}", DBML, re.S).group(1).split())


def test_every_table_is_in_the_dbml_with_id_as_primary_key_and_the_cursor_column():
    tables = dict(re.findall(r"^Table (\w+) \[[^\]]*\] \{\n(.*?)\n\}", DBML, re.S | re.M))

    assert set(tables) == DIMENSIONS | FACTS
    for body in tables.values():
        assert re.search(r"^  id varchar \[pk\b", body, re.M)
        assert re.search(r"^  observed_at bigint \[not null\b", body, re.M)


def test_tables_are_grouped_into_dimensions_and_facts():
    assert table_group("dimensions") == DIMENSIONS
    assert table_group("facts") == FACTS


def test_references_join_the_tables_on_their_ids():
    assert JOINS <= set(re.findall(r"^Ref: (.+)$", DBML, re.M))


def test_the_picture_draws_every_table():
    drawn = {group.get("id") for group in SVG.iter("{http://www.w3.org/2000/svg}g")}

    assert drawn == DIMENSIONS | FACTS


def test_the_picture_puts_each_table_right_of_the_tables_it_references_unless_they_are_in_a_cycle():
    left_edge = {
        group.get("id"): float(next(group.iter("{http://www.w3.org/2000/svg}rect")).get("x"))
        for group in SVG.iter("{http://www.w3.org/2000/svg}g")
    }
    references = {tuple(re.match(r"(\w+)\.\w+ > (\w+)\.id", ref).groups()) for ref in re.findall(r"^Ref: (.+)$", DBML, re.M)}

    def reaches(start, goal):
        seen, pending = set(), [start]
        while pending:
            table = pending.pop()
            for source, target in references:
                if source == table and target not in seen:
                    seen.add(target)
                    pending.append(target)
        return goal in seen

    for table, target in references - {(t, t) for t, _ in references}:
        if reaches(target, table):
            assert left_edge[table] == left_edge[target], (table, target)
        else:
            assert left_edge[table] > left_edge[target], (table, target)
