"""The tables of docs/how-it-works.md, the user guide and metadata.yaml, rendered from the manifest's entries.

Each lives between a pair of markers in its file, `generated: NAME` and `end: NAME` (HTML comments in markdown,
YAML comments in metadata.yaml); `make generate` rewrites what is between them, and unit_tests/test_docs_tables.py
fails while a committed file differs from what this renders.
"""

from __future__ import annotations

import re
from pathlib import Path

from source_stripe.client import EVENTS_PATH
from source_stripe.quirks import WHOLE_HISTORY, quirk_of
from source_stripe.tables import TableEntry, by_name, lineage, manifest_tables

HOW_IT_WORKS = Path("docs/how-it-works.md")
USER_GUIDE = Path("docs/stripe.md")
METADATA = Path("metadata.yaml")


def endpoint(table: TableEntry) -> str:
    path = "/v1/" + re.sub(r"\{\{[^}]*\}\}", "{id}", table.path)
    query = [f"{name}={value}" for name, value in table.request_parameters.items()]
    if table.parent and not table.lists_one_parent_in_path:
        query.append(f"{table.parent.key}=…")
    return path + ("?" + "&".join(query) if query else "")


def object_in_words(table: TableEntry) -> str:
    """Its Stripe object as a sentence names it: checkout.session is a checkout session."""
    return table.stripe_object.replace("_", " ").replace(".", " ")


def changes(table: TableEntry, tables: dict[str, TableEntry]) -> str:
    """How updates and deletions reach the table, from what its entry says."""
    top = lineage(table, tables)[0]
    kind = object_in_words(top)
    quirk = quirk_of(table)
    if quirk.lookback(1) >= WHOLE_HISTORY:  # read whole every sync, whatever its events say
        return quirk.changes
    if table.parent and not quirk.other_event_types:
        said = (f"their {kind}'s events" + ("" if table.events_say_every_change else " and the lookback window")) if table.events else "the lookback window"
        if top.deletions and table.parent.embedded_in:
            said += f"; the rows of a deleted {kind} arrive deleted"
    elif table.events:
        families = dict.fromkeys(f"`{event.rsplit('.', 1)[0]}.*`" for event in table.event_types)
        said = f"{', '.join(families)} events" + ("; deletions arrive with `is_deleted: true`" if table.deletions else "")
        if not table.events.get("updated"):
            said += "; rows never change" if table.events_say_every_change else "; updates only through the lookback window (Stripe sends no event for them)"
    else:
        said = "the lookback window (Stripe sends no events for them)"
    if table.parent and not table.parent.embedded_in and top.deletions:
        said += f"; the rows of a deleted {kind} stay as last read (its `is_deleted` tells)"
    if table.events_say_every_change:
        said += "; once read whole, syncs replay events and list nothing"
    changed = quirk.changes.format(parent=kind)
    return f"{said}; {changed}" if changed else said


def how_it_works_tables(tables: tuple[TableEntry, ...]) -> str:
    named = by_name(tables)
    lines = ["| group | table | Stripe endpoint | updates and deletions reach it through |", "| --- | --- | --- | --- |"]
    for group in _groups(tables):
        for index, table in enumerate(t for t in tables if t.group == group):
            lines.append(f"| {group if index == 0 else ''} | {table.name} | `{endpoint(table)}` | {changes(table, named)} |")
    return "\n".join(lines)


def cost(table: TableEntry, tables: dict[str, TableEntry]) -> str:
    """The requests a full read of the table costs, as its entry says its rows are found."""
    if table.parent is None:
        return "1 per 100 rows"
    parent = object_in_words(tables[table.parent.table])
    if table.parent.embedded_in:
        return f"none beyond its {parent}s' pages, plus 1 per 100 more rows for each {parent} that embeds only its first page"
    which = f"each {parent} that may have some" if table.parent.when else f"each {parent}"
    return f"1 per 100 rows of {which}"


def guide_group(tables: tuple[TableEntry, ...], group: str) -> str:
    named = by_name(tables)
    lines = ["| table | what it holds | requests a full read costs | how updates and deletions arrive |", "| --- | --- | --- | --- |"]
    lines += [f"| {t.name} | {t.description} | {cost(t, named)} | {changes(t, named)} |" for t in tables if t.group == group]
    return "\n".join(lines)


def guide_permissions(tables: tuple[TableEntry, ...]) -> str:
    """One row per dashboard permission, naming the tables it opens, in the manifest's order."""
    named = by_name(tables)
    rows: dict[tuple[str, str], list[str]] = {}
    for table in tables:
        permission = table.permission
        ancestors = [t for t in lineage(table, named)[:-1] if t.permission != table.permission]
        if ancestors:
            permission += f" (and {ancestors[0].permission}, to find its rows through {ancestors[0].name})"
        name = f"{table.name} **and every table's change capture**" if table.path == EVENTS_PATH else table.name
        rows.setdefault((permission, table.permission_id), []).append(name)
    lines = ["   | table | permission to grant (dashboard name) | Stripe's permission id |", "   | --- | --- | --- |"]
    lines += [f"   | {', '.join(names)} | {permission} | `{permission_id}` |" for (permission, permission_id), names in rows.items()]
    return "\n".join(lines)


def suggested_streams(tables: tuple[TableEntry, ...]) -> str:
    return "\n".join(f"      - {table.name}" for table in tables)


def rendered(tables: tuple[TableEntry, ...]) -> dict[Path, dict[str, str]]:
    """Each file's generated regions, by name."""
    return {
        HOW_IT_WORKS: {"tables": how_it_works_tables(tables)},
        USER_GUIDE: {
            "permissions": guide_permissions(tables),
            **{group: guide_group(tables, group) for group in _groups(tables)},
        },
        METADATA: {"suggested-streams": suggested_streams(tables)},
    }


def with_regions(text: str, regions: dict[str, str], comment: tuple[str, str]) -> str:
    opening, closing = comment
    for name, body in regions.items():
        start, end = f"{opening}generated: {name} (make generate){closing}", f"{opening}end: {name}{closing}"
        pattern = re.compile(rf"(^[ \t]*{re.escape(start)}\n).*?(^[ \t]*{re.escape(end)}$)", re.S | re.M)
        if not pattern.search(text):
            raise ValueError(f"the markers of the generated region {name!r} are missing")
        text = pattern.sub(lambda found: found.group(1) + body + "\n" + found.group(2), text)
    return text


def write(repo_root: Path, out_root: Path) -> list[Path]:
    """Writes under `out_root` the files of `repo_root` with their generated regions rendered anew."""
    written = []
    for relative, regions in rendered(manifest_tables()).items():
        comment = ("# ", "") if relative.suffix == ".yaml" else ("<!-- ", " -->")
        target = out_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(with_regions((repo_root / relative).read_text(encoding="utf-8"), regions, comment), encoding="utf-8")
        written.append(target)
    return written


def _groups(tables: tuple[TableEntry, ...]) -> list[str]:
    return list(dict.fromkeys(table.group for table in tables))
