"""The README's and the user guide's tables say what the manifest's entries say: every table, in its group, with the
permission it needs. A table added to the manifest fails here until the docs name it."""

import re
from pathlib import Path

import pytest

from source_stripe.tables import manifest_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text()
USER_GUIDE = (REPO_ROOT / "docs" / "stripe.md").read_text()
TABLES = manifest_tables()


def rows(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the rows of the first table under `heading`."""
    section = markdown.split(heading, 1)[1]
    table = re.search(r"((?:^ *\|.*\|\n)+)", section, re.MULTILINE).group(1)
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines()[2:]]


def names_in(cell: str) -> list[str]:
    return [name.strip() for name in cell.replace("*", "").split(",")]


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_the_user_guide_names_each_tables_permission(table):
    granted = {name: (row[1], row[2]) for row in rows(USER_GUIDE, "### Step 1") for name in names_in(row[0])}

    assert table.name in granted, "docs/stripe.md's permission table lacks the table"
    dashboard_name, permission_id = granted[table.name]
    assert dashboard_name.startswith(table.permission) and permission_id == f"`{table.permission_id}`"


@pytest.mark.parametrize("group", sorted({table.group for table in TABLES}))
def test_the_user_guide_lists_each_group_with_exactly_its_tables(group):
    listed = [row[0] for row in rows(USER_GUIDE, f"### {group.capitalize()}")]

    assert sorted(listed) == sorted(table.name for table in TABLES if table.group == group)


def test_the_readme_lists_every_table_in_its_group():
    listed, group = {}, None
    for row in rows(README, "## Tables"):
        group = row[0] or group
        listed[row[1]] = group

    assert listed == {table.name: table.group for table in TABLES}
