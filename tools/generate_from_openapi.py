#!/usr/bin/env python3
"""Generate the connector's Stripe-derived files from Stripe's published OpenAPI description.

Writes, relative to the repo root:
  source_stripe/schemas/<stream>.json               stream JSON schemas
  sandbox/stripe_sandbox/generated/examples.json    Stripe's example object per resource
  sandbox/stripe_sandbox/generated/endpoints.json   accepted query/path parameters per GET endpoint
  sandbox/stripe_sandbox/generated/tables.json      the tables the sandbox serves: object, permission, parent
  docs/erd/stripe.dbml                              the tables and their references, for dbdiagram.io / dbdocs
  docs/erd/stripe.svg                               that diagram drawn, for the user guide (docs/stripe.md)
  integration_tests/configured_catalog.json         every table, full refresh (the standard tests' read)
  integration_tests/incremental_catalog.json        every table, incremental (the README's two syncs)
  docs/how-it-works.md, docs/stripe.md, metadata.yaml   their tables of tables, between markers (tools/docs_tables.py)

The outputs are committed; unit_tests/test_generated_files_match_openapi.py regenerates them and
fails on any difference, so edit this script (never the outputs) and rerun it:

  python tools/generate_from_openapi.py [--openapi-dir DIR] [--spec FILE] [--out-root DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from html import escape
from pathlib import Path
from typing import Any

import docs_tables  # tools/docs_tables.py: run as a script, this directory is on the path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, only tools/ is on the path; the catalogs are built as the end-to-end tests build theirs.
sys.path.insert(0, str(REPO_ROOT))

from integration_tests.connector_process import ALL_STREAMS, configured_catalog  # noqa: E402
from source_stripe.tables import ParentLink, manifest_tables  # noqa: E402

# The connector sends this as Stripe-Version, so the schemas must describe exactly this version.
STRIPE_API_VERSION = "2023-08-16"
# The last published description that still has the legacy Orders API (order_return).
LEGACY_API_VERSION = "2020-08-27"

CURRENT, LEGACY = "current", "legacy"

# Objects the sandbox and the unit tests build responses from besides the tables'. Stripe has no deleted_price.
OTHER_EXAMPLE_OBJECTS = ("account", "charge", "deleted_customer", "deleted_product", "deleted_subscription_item", "event", "payment_method", "plan")

# GET endpoints the sandbox serves besides the tables' lists and retrieves, as spelled in the descriptions.
OTHER_ENDPOINTS = ("/v1/account", "/v1/events", "/v1/events/{id}")

SCHEMAS_DIR = Path("source_stripe/schemas")
GENERATED_DIR = Path("sandbox/stripe_sandbox/generated")
ERD_DIR = Path("docs/erd")
CATALOGS = {Path("integration_tests/configured_catalog.json"): False, Path("integration_tests/incremental_catalog.json"): True}


# Stripe's own formats (unix-time, decimal) mean nothing to JSON Schema validators or destinations.
STANDARD_FORMATS = {"date", "date-time", "email", "time", "uri"}
NULL = {"type": "null"}

DEFAULT_OPENAPI_DIR = REPO_ROOT.parent / "shared" / "stripe-openapi"


def stream_components(sources: dict[str, Source]) -> dict[str, tuple[str, str]]:
    """Each table's Stripe object, as its manifest entry names it, and the description it comes from: the current one,
    or the legacy one for an object Stripe has since removed."""
    return {
        table.name: (table.stripe_object, CURRENT if table.stripe_object in sources[CURRENT].components else LEGACY)
        for table in manifest_tables()
    }


def table_groups() -> dict[str, list[str]]:
    """The user guide's groups, as the tables' manifest entries name them: dimensions describe who and what; facts
    record what happened."""
    groups: dict[str, list[str]] = {}
    for table in manifest_tables():
        groups.setdefault(table.group, []).append(table.name)
    return groups


def endpoints(sources: dict[str, Source]) -> dict[str, str]:
    """The GET endpoints the sandbox serves, each with the description it comes from: every table's list, as its
    manifest entry's path says, and the retrieve of its objects where Stripe has one."""
    found = {path: CURRENT for path in OTHER_ENDPOINTS}
    for table, (_, which) in stream_components(sources).items():
        paths = sources[which].spec["paths"]
        template = re.sub(r"\{\{[^}]*\}\}", "{}", "/v1/" + next(t.path for t in manifest_tables() if t.name == table))
        shape = re.escape(template).replace(r"\{\}", r"\{[^}]+\}")
        listed = [path for path in paths if re.fullmatch(shape, path) and "get" in paths[path]]
        retrieved = [path for path in paths if re.fullmatch(shape + r"/\{[^}/]+\}", path) and "get" in paths[path]]
        if len(listed) != 1:
            raise SystemExit(f"{table}: its manifest path {template} matches no list in Stripe's description")
        found.update({path: which for path in (*listed, *retrieved[:1])})
    return dict(sorted(found.items()))


class Source:
    """One Stripe API version's description and example objects."""

    def __init__(self, spec_path: Path, fixtures_path: Path, expected_version: str):
        self.spec = _load(spec_path)
        self.fixtures = _load(fixtures_path)["resources"]
        self.version = self.spec["info"]["version"]
        if self.version != expected_version:
            raise SystemExit(
                f"{spec_path} describes API version {self.version}, but {expected_version} is pinned; "
                "update the version constant in tools/generate_from_openapi.py (and the connector) together."
            )
        self.components = self.spec["components"]["schemas"]


def _load(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _dump(data: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _nullable(schema: dict) -> dict:
    if "anyOf" in schema:
        return schema if NULL in schema["anyOf"] else {**schema, "anyOf": [NULL, *schema["anyOf"]]}
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return schema if "null" in types else {**schema, "type": ["null", *types]}
    return schema  # no type at all already accepts null


def _convert(node: dict, source: Source, stack: tuple[str, ...]) -> dict:
    """Turn one Stripe schema node into a self-contained, permissive draft-07 schema."""
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        if name in stack:
            # Stripe's object graph has cycles; an open object keeps the schema finite.
            return {"type": ["null", "object"], "additionalProperties": True}
        return _convert(source.components[name], source, (*stack, name))

    if "x-expansionResources" in node:
        # The connector never expands, so Stripe only ever sends the ID here.
        out: dict = {"type": "string"}
    elif "anyOf" in node or "oneOf" in node:
        branches: list[dict] = []
        for branch in node.get("anyOf", node.get("oneOf")):
            converted = _convert(branch, source, stack)
            for flat in converted.get("anyOf", [converted]):
                if flat not in branches:
                    branches.append(flat)
        out = branches[0] if len(branches) == 1 else {"anyOf": branches}
    else:
        out = {}
        if "type" in node:
            out["type"] = node["type"]
        if node.get("format") in STANDARD_FORMATS:
            out["format"] = node["format"]
        if "properties" in node:
            # Nested fields are nullable too: typing an always-set field nullable costs nothing, while a
            # field Stripe nulls against its description would otherwise fail a strict type.
            out["properties"] = {
                key: _nullable(_convert(value, source, stack)) for key, value in node["properties"].items()
            }
        if "items" in node:
            out["items"] = _convert(node["items"], source, stack)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = _convert(node["additionalProperties"], source, stack)
        elif node.get("additionalProperties") is True:
            out["additionalProperties"] = True

    return _nullable(out) if node.get("nullable") else out


def _describe(node: dict) -> str | None:
    """Top-level property description; enums become prose because Stripe adds values over time."""
    text = node.get("description", "").strip()
    if node.get("enum"):
        text = f"{text} One of: {', '.join(str(v) for v in node['enum'])}.".strip()
    return text or None


# Fields the connector adds to every record; they are not Stripe's, so they are declared here, not taken from the spec.
CONNECTOR_FIELDS = {
    "observed_at": {
        "type": "integer",
        "description": (
            "The cursor of incremental syncs: when this version of the object was current, in milliseconds since "
            "1970 on Stripe's clock. A version from /v1/events carries the event's time; a version read from a list "
            "or re-fetched carries the second of Stripe's answer less 1 ms, so a change Stripe records in that same "
            "second wins. A newer version never has a lower value, so deduplicating on it keeps the current object."
        ),
    },
    "account_id": {
        "type": ["null", "string"],
        "description": (
            "The Stripe account this row was read from (acct_…): the key's own account, or a connected account of a "
            "Connect platform. Stripe's ids are unique across accounts, so id alone stays the primary key."
        ),
    },
    "is_deleted": {
        "type": "boolean",
        "description": "True when Stripe reported the object deleted (from its *.deleted event); false otherwise.",
    },
}


def stream_schema(component: str, source: Source, parent: ParentLink | None = None) -> dict:
    definition = source.components[component]
    properties = dict(CONNECTOR_FIELDS)
    for key, node in definition["properties"].items():
        converted = _convert(node, source, (component,))
        prop = converted if key == "id" else _nullable(converted)
        description = _describe(node)
        properties[key] = {**prop, "description": description} if description else prop
    if parent is not None and parent.key not in properties:
        properties[parent.key] = {
            "type": "string",
            "description": f"The id of the {parent.table} row this one belongs to; Stripe's object does not say it, so the connector adds it.",
        }
    description = definition.get("description", "").strip()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "description": f"{description}\n\nGenerated from Stripe's OpenAPI description of API version {source.version}.".strip(),
        "properties": properties,
    }


def _write_schemas(sources: dict[str, Source], out_root: Path) -> list[Path]:
    return [_dump(schema, out_root / SCHEMAS_DIR / f"{stream}.json") for stream, schema in table_schemas(sources).items()]


def table_schemas(sources: dict[str, Source]) -> dict[str, dict]:
    parents = {table.name: table.parent for table in manifest_tables()}
    return {
        stream: stream_schema(component, sources[which], parents[stream])
        for stream, (component, which) in stream_components(sources).items()
    }


def _write_examples(sources: dict[str, Source], out_root: Path) -> list[Path]:
    wanted = {**dict(stream_components(sources).values()), **{name: CURRENT for name in OTHER_EXAMPLE_OBJECTS}}
    objects = {name: sources[which].fixtures[name] for name, which in sorted(wanted.items())}
    examples = {"api_version": STRIPE_API_VERSION, "objects": objects}
    return [_dump(examples, out_root / GENERATED_DIR / "examples.json")]


def _write_tables(sources: dict[str, Source], out_root: Path) -> list[Path]:
    """The tables as the manifest states them, in its order, for the sandbox (which never reads the connector)."""
    components = stream_components(sources)
    tables = {
        table.name: {
            "object": table.stripe_object,
            "permission": table.permission_id,
            "parent": table.parent.table if table.parent else None,
            "parent_field": table.parent.key if table.parent else None,
            # Whether Stripe's object names its parent (an invoice's lines do not): the sandbox serves it so.
            "names_parent": bool(table.parent) and table.parent.key in sources[components[table.name][1]].components[table.stripe_object]["properties"],
            "path": "/v1/" + re.sub(r"\{\{[^}]*\}\}", "{}", table.path),
        }
        for table in manifest_tables()
    }
    path = out_root / GENERATED_DIR / "tables.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tables, indent=2) + "\n", encoding="utf-8")  # not sorted: the manifest's order
    return [path]


def _endpoint(path: str, source: Source) -> dict:
    operation = source.spec["paths"][path]["get"]
    parameters = operation.get("parameters", [])
    query = [p for p in parameters if p["in"] == "query"]
    entry = {
        "query": sorted(p["name"] for p in query),
        "required": sorted(p["name"] for p in query if p.get("required")),
        "deep_object": sorted(p["name"] for p in query if p.get("style") == "deepObject"),
        "path_params": sorted(p["name"] for p in parameters if p["in"] == "path"),
    }
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    items = response.get("properties", {}).get("data", {}).get("items", {})
    kinds = [items] if "$ref" in items else items.get("anyOf", [])
    if kinds:  # a list, of one kind of object or several (an account's external accounts)
        entry["objects"] = [_ref_name(kind["$ref"]) for kind in kinds]
    return entry


def _write_endpoints(sources: dict[str, Source], out_root: Path) -> list[Path]:
    served = {path: _endpoint(path, sources[which]) for path, which in endpoints(sources).items()}
    return [_dump(served, out_root / GENERATED_DIR / "endpoints.json")]


def _references(sources: dict[str, Source]) -> list[tuple[str, str, str]]:
    """(table, column, referenced table) for every field that holds the id of another of the tables."""
    components = stream_components(sources)
    parents = {table.name: table.parent for table in manifest_tables()}
    # An object's table is the one listing all of them; a child table of the same object (a payout's balance
    # transactions) holds some of its rows again, so its rows reference that table's by id.
    top_level_last = sorted(components.items(), key=lambda item: parents[item[0]] is None)
    table_of = {component: stream for stream, (component, _) in top_level_last}
    found = []
    for stream, (component, which) in components.items():
        if table_of.get(component, stream) != stream:
            found.append((stream, "id", table_of[component]))
            continue
        for column, node in sources[which].components[component]["properties"].items():
            expandable = [n for n in (node, *node.get("anyOf", [])) if "x-expansionResources" in n]
            targets = [
                table_of[_ref_name(ref["$ref"])]
                for n in expandable
                for ref in n["x-expansionResources"]["oneOf"]
                if _ref_name(ref["$ref"]) in table_of
            ]
            found += [(stream, column, target) for target in targets]
    # A child names its parent by a plain id (or, added by the connector, a field Stripe's object lacks), which the
    # description does not reveal as a reference; every other one comes from the fields' x-expansionResources.
    found += [(table.name, table.parent.key, table.parent.table) for table in manifest_tables() if table.parent]
    return list(dict.fromkeys(found))


def _column_type(schema: dict) -> str:
    """The DBML type a destination would give the column: Stripe's times are unix seconds, so bigint."""
    branches = schema.get("anyOf", [schema])
    types = {t for branch in branches for t in _types(branch)} - {"null"}
    if types == {"string"}:
        return "timestamp" if any(branch.get("format") == "date-time" for branch in branches) else "varchar"
    return {frozenset({"integer"}): "bigint", frozenset({"number"}): "decimal", frozenset({"boolean"}): "boolean"}.get(
        frozenset(types), "json"
    )


def _types(schema: dict) -> list[str]:
    declared = schema.get("type", [])
    return declared if isinstance(declared, list) else [declared]


def _first_sentence(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    sentence = re.split(r"(?<=[a-z0-9)`])\. ", flat, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _dbml_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dbml_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f'"{name}"'


GROUP_COLOURS = {"dimensions": "#2E6DB4", "facts": "#C0632B"}


def erd_dbml(schemas: dict[str, dict], references: list[tuple[str, str, str]]) -> str:
    group_of = {table: group for group, tables in table_groups().items() for table in tables}
    lines = [
        f"// The {len(schemas)} tables of source-stripe and the references between them.",
        f"// Generated by tools/generate_from_openapi.py from Stripe's OpenAPI description (API {STRIPE_API_VERSION}): do not edit.",
        "",
        "Project source_stripe {",
        "  database_type: 'Generic'",
        "  Note: " + _dbml_string(
            f"Stripe objects as source-stripe delivers them, one table per stream, Stripe API version {STRIPE_API_VERSION}. "
            "Every table's primary key is id, its incremental cursor observed_at, and account_id the Stripe account each "
            "row was read from."
        ),
        "}",
    ]
    for table, schema in schemas.items():
        lines += ["", f"Table {table} [headercolor: {GROUP_COLOURS[group_of[table]]}] {{"]
        for column, prop in schema["properties"].items():
            settings = ["pk"] if column == "id" else (["not null"] if "null" not in _types(prop) and "anyOf" not in prop else [])
            if prop.get("description"):
                settings.append("note: " + _dbml_string(_first_sentence(prop["description"])))
            bracket = f" [{', '.join(settings)}]" if settings else ""
            lines.append(f"  {_dbml_name(column)} {_column_type(prop)}{bracket}")
        lines += ["", "  Note: " + _dbml_string(_first_sentence(schema["description"], limit=300)), "}"]
    lines.append("")
    lines += [f"Ref: {table}.{_dbml_name(column)} > {target}.id" for table, column, target in references]
    for group, tables in table_groups().items():
        lines += ["", f"TableGroup {group} {{", *(f"  {table}" for table in tables), "}"]
    return "\n".join(lines) + "\n"


FONT_SIZE, ROW, CHAR, PAD, COLUMN_GAP, TABLE_GAP, MARGIN, TOP = 13, 22, 7.9, 10, 110, 34, 30, 84
# Room left of the first column for the loops of references within a column.
LOOP = 50


def erd_columns(tables: list[str], references: list[tuple[str, str, str]]) -> list[list[str]]:
    """Where each table sits in the picture: every table right of the tables it references, tables that reference
    each other (in a cycle) side by side, and each column in the manifest's order."""
    targets = {table: {target for source, _, target in references if source == table and target != table} for table in tables}
    reachable = {table: _reachable(table, targets) for table in tables}
    column: dict[str, int] = {}

    def place(table: str) -> int:
        if table not in column:
            beyond = [target for target in reachable[table] if table not in reachable[target]]
            column[table] = 1 + max((place(target) for target in beyond), default=-1)
        return column[table]

    for table in tables:
        place(table)
    return [[table for table in tables if column[table] == index] for index in range(max(column.values()) + 1)]


def _reachable(table: str, targets: dict[str, set[str]]) -> set[str]:
    seen, pending = set(), list(targets[table])
    while pending:
        target = pending.pop()
        if target not in seen:
            seen.add(target)
            pending.extend(targets[target])
    return seen


def _shown_columns(table: str, schema: dict, references: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(name, type, role) of the columns the picture shows: the key, the references, then creation time and cursor."""
    referencing = [column for source, column, _ in references if source == table]
    created = next(entry.created_field for entry in manifest_tables() if entry.name == table)
    # A column referencing several tables (a balance transaction's source) is shown once.
    names = dict.fromkeys(["id", "account_id", *referencing, *(name for name in (created, "observed_at") if name in schema["properties"])])
    role = {"observed_at": "cursor", **{column: "FK" for column in referencing}}
    role["id"] = "PK FK" if "id" in referencing else "PK"
    return [(name, _column_type(schema["properties"][name]), role.get(name, "")) for name in names]


def _edge_path(boxes: dict[str, dict], columns: list[float], table: str, y1: float, target: str, y2: float) -> tuple[str, int, int]:
    """The SVG path of a reference and which way it leaves its table and enters the target (-1 left, 1 right).

    Neighbouring columns are joined by a curve; a reference within a column loops out on the left; one that spans
    columns runs through the gaps, crossing the columns between in the gap between two tables."""
    source_box, target_box = boxes[table], boxes[target]
    if source_box["x"] == target_box["x"]:
        x = source_box["x"]
        return f"M{x:.1f},{y1:.1f} C{x - LOOP:.1f},{y1:.1f} {x - LOOP:.1f},{y2:.1f} {x:.1f},{y2:.1f}", -1, -1
    leftward = target_box["x"] < source_box["x"]
    x1 = source_box["x"] if leftward else source_box["x"] + source_box["w"]
    x2 = target_box["x"] + target_box["w"] if leftward else target_box["x"]
    side = -1 if leftward else 1
    first, last = sorted((columns.index(source_box["x"]), columns.index(target_box["x"])))
    if last - first == 1:
        bend = abs(x2 - x1) / 2
        return f"M{x1:.1f},{y1:.1f} C{x1 + side * bend:.1f},{y1:.1f} {x2 - side * bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}", side, -side
    gaps = [y for y in _gaps(boxes, columns[first + 1 : last])]
    channel = min(gaps, key=lambda y: abs(y - (y1 + y2) / 2))
    near_source, near_target = x1 + side * COLUMN_GAP / 2, x2 - side * COLUMN_GAP / 2
    return (
        f"M{x1:.1f},{y1:.1f} H{near_source:.1f} V{channel:.1f} H{near_target:.1f} V{y2:.1f} H{x2:.1f}",
        side,
        -side,
    )


def _gaps(boxes: dict[str, dict], columns: list[float]) -> list[float]:
    """Heights at which a line can cross all of these columns without running through a table."""
    spans = sorted((box["y"], box["y"] + box["h"]) for box in boxes.values() if box["x"] in columns)
    candidates = [spans[0][0] - TABLE_GAP / 2] + [bottom + TABLE_GAP / 2 for _, bottom in spans]
    return [y for y in candidates if not any(top <= y <= bottom for top, bottom in spans)]


def erd_svg(schemas: dict[str, dict], references: list[tuple[str, str, str]]) -> str:
    group_of = {table: group for group, tables in table_groups().items() for table in tables}
    boxes: dict[str, dict] = {}
    x = MARGIN + LOOP
    for tables in erd_columns(list(schemas), references):
        rows = {table: _shown_columns(table, schemas[table], references) for table in tables}
        width = max(
            max(len(table) + 4, *(len(n) + len(t) + len(r) + 6 for n, t, r in rows[table]), 24) for table in tables
        ) * CHAR + 2 * PAD
        y = TOP
        for table in tables:
            height = ROW * (len(rows[table]) + 2) + 6
            boxes[table] = {"x": x, "y": y, "w": width, "h": height, "rows": rows[table]}
            y += height + TABLE_GAP
        x += width + COLUMN_GAP
    canvas_w = round(x - COLUMN_GAP + MARGIN)
    canvas_h = round(max(box["y"] + box["h"] for box in boxes.values()) + MARGIN + 20)

    def row_y(table: str, column: str) -> float:
        index = [name for name, _, _ in boxes[table]["rows"]].index(column)
        return boxes[table]["y"] + ROW * (index + 1.5) + 3

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_w}" height="{canvas_h}" viewBox="0 0 {canvas_w} {canvas_h}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT_SIZE}">',
        f'<rect width="{canvas_w}" height="{canvas_h}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="34" font-size="20" font-weight="bold" fill="#1a1a1a">source-stripe: {len(schemas)} tables '
        f"(Stripe API {STRIPE_API_VERSION})</text>",
        f'<text x="{MARGIN}" y="58" fill="#555555">Key, references, creation time and cursor of each table; '
        "every column is in docs/erd/stripe.dbml.</text>",
    ]
    legend_x = canvas_w - MARGIN - 250
    for offset, (group, colour) in enumerate(GROUP_COLOURS.items()):
        out.append(f'<rect x="{legend_x + offset * 125}" y="22" width="16" height="16" rx="3" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + offset * 125 + 22}" y="35" fill="#1a1a1a">{group}</text>')

    columns = sorted({box["x"] for box in boxes.values()})
    for table, column, target in references:
        y1, y2 = row_y(table, column), row_y(target, "id")
        path, leaves, enters = _edge_path(boxes, columns, table, y1, target, y2)
        x1 = boxes[table]["x"] + (boxes[table]["w"] if leaves > 0 else 0)
        x2 = boxes[target]["x"] + (boxes[target]["w"] if enters > 0 else 0)
        out.append(f'<path d="{path}" fill="none" stroke="#7a7a7a" stroke-width="1.4" stroke-linejoin="round"/>')
        # Crow's foot: many rows of `table` point at one row of `target`.
        foot = x1 + leaves * 10
        out.append(
            f'<path d="M{x1:.1f},{y1 - 5:.1f} L{foot:.1f},{y1:.1f} L{x1:.1f},{y1 + 5:.1f}" fill="none" stroke="#7a7a7a" stroke-width="1.4"/>'
        )
        bar = x2 + enters * 8
        out.append(f'<path d="M{bar:.1f},{y2 - 6:.1f} L{bar:.1f},{y2 + 6:.1f}" stroke="#7a7a7a" stroke-width="1.6"/>')

    for table, box in boxes.items():
        colour = GROUP_COLOURS[group_of[table]]
        hidden = len(schemas[table]["properties"]) - len(box["rows"])
        x0, y0, w = box["x"], box["y"], box["w"]
        out.append(f'<g id="{table}">')
        out.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{box["h"]:.1f}" rx="6" fill="#ffffff" '
            f'stroke="{colour}" stroke-width="1.5"/>'
        )
        out.append(f'<path d="M{x0:.1f},{y0 + ROW + 4:.1f} V{y0 + 6:.1f} a6,6 0 0 1 6,-6 H{x0 + w - 6:.1f} '
                   f'a6,6 0 0 1 6,6 V{y0 + ROW + 4:.1f} Z" fill="{colour}"/>')
        out.append(
            f'<text x="{x0 + PAD:.1f}" y="{y0 + ROW - 3:.1f}" font-weight="bold" fill="#ffffff">{escape(table)}</text>'
        )
        for index, (name, kind, role) in enumerate(box["rows"]):
            baseline = y0 + ROW * (index + 2) - 2
            weight = ' font-weight="bold"' if role.startswith("PK") else ""
            out.append(f'<text x="{x0 + PAD:.1f}" y="{baseline:.1f}"{weight} fill="#1a1a1a">{escape(name)}</text>')
            out.append(
                f'<text x="{x0 + w - PAD:.1f}" y="{baseline:.1f}" text-anchor="end" fill="#777777">'
                f"{escape(kind)}{(' ' + role) if role else ''}</text>"
            )
        out.append(
            f'<text x="{x0 + PAD:.1f}" y="{y0 + ROW * (len(box["rows"]) + 2) - 2:.1f}" font-style="italic" '
            f'fill="#999999">+ {hidden} more columns</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _write_erd(sources: dict[str, Source], out_root: Path) -> list[Path]:
    schemas = table_schemas(sources)
    references = _references(sources)
    written = []
    for name, text in (("stripe.dbml", erd_dbml(schemas, references)), ("stripe.svg", erd_svg(schemas, references))):
        path = out_root / ERD_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _write_catalogs(out_root: Path) -> list[Path]:
    """Catalogs selecting every table of the manifest, for `read --catalog`: one full refresh, one incremental."""
    return [_dump(configured_catalog(ALL_STREAMS, incremental), out_root / path) for path, incremental in CATALOGS.items()]


def generate(
    openapi_dir: Path,
    out_root: Path,
    *,
    spec: Path | None = None,
    fixtures: Path | None = None,
    legacy_spec: Path | None = None,
    legacy_fixtures: Path | None = None,
) -> list[Path]:
    """Write every generated file under out_root (repo-relative layout) and return their paths."""
    openapi_dir, out_root = Path(openapi_dir), Path(out_root)
    sources = {
        CURRENT: Source(
            spec or openapi_dir / f"spec3.{STRIPE_API_VERSION}.json",
            fixtures or openapi_dir / f"fixtures3.{STRIPE_API_VERSION}.json",
            STRIPE_API_VERSION,
        ),
        LEGACY: Source(
            legacy_spec or openapi_dir / f"spec3.{LEGACY_API_VERSION}.json",
            legacy_fixtures or openapi_dir / f"fixtures3.{LEGACY_API_VERSION}.json",
            LEGACY_API_VERSION,
        ),
    }
    written: list[Path] = []
    for write in (_write_schemas, _write_examples, _write_endpoints, _write_tables, _write_erd):
        written += write(sources, out_root)
    return written + _write_catalogs(out_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--openapi-dir", type=Path, default=DEFAULT_OPENAPI_DIR)
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT)
    parser.add_argument("--spec", type=Path, help=f"description of {STRIPE_API_VERSION} (default: in --openapi-dir)")
    parser.add_argument("--fixtures", type=Path, help=f"example objects of {STRIPE_API_VERSION}")
    parser.add_argument("--legacy-spec", type=Path, help=f"description of {LEGACY_API_VERSION}, for order_return")
    parser.add_argument("--legacy-fixtures", type=Path, help=f"example objects of {LEGACY_API_VERSION}")
    args = parser.parse_args()
    written = generate(
        args.openapi_dir,
        args.out_root,
        spec=args.spec,
        fixtures=args.fixtures,
        legacy_spec=args.legacy_spec,
        legacy_fixtures=args.legacy_fixtures,
    )
    written += docs_tables.write(REPO_ROOT, args.out_root)
    for path in written:
        print(f"{path.stat().st_size / 1024:8.1f} KB  {path}")


if __name__ == "__main__":
    main()
