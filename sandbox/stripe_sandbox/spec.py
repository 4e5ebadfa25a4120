"""What the sandbox knows about Stripe's API surface and the tables it serves, read from generated files.

`generated/examples.json` holds Stripe's example object per resource, `generated/endpoints.json`
the query parameters each GET endpoint accepts (both from Stripe's OpenAPI description, so the sandbox
rejects exactly what Stripe would reject), and `generated/tables.json` the tables as the connector's
manifest states them; tools/generate_from_openapi.py writes all three.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

GENERATED_DIR = Path(__file__).parent / "generated"
EVENT_WINDOW = 30 * 86_400  # Stripe keeps events for 30 days

# Table (the connector's stream name) -> {"object", "permission" (as a 403 names it), "parent", "parent_field",
# "names_parent" (whether Stripe's object has that field), "path" (its list, `{}` for the parent's id)}.
TABLE_FACTS: dict[str, dict[str, str | None]] = json.loads((GENERATED_DIR / "tables.json").read_text())
TABLE_OBJECTS: dict[str, str] = {name: str(facts["object"]) for name, facts in TABLE_FACTS.items()}
TABLES = tuple(TABLE_OBJECTS)


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", template)


# The tables each list serves, top-level first: a list of one table's objects; a top-level table's list filtered by a
# child table's parent (a payout's balance transactions); or a list mixing kinds of objects, a table each.
def _tables_by_list() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for table in sorted(TABLES, key=lambda name: TABLE_FACTS[name]["parent"] is not None):
        found[str(TABLE_FACTS[table]["path"])] = found.get(str(TABLE_FACTS[table]["path"]), ()) + (table,)
    return found


LIST_TABLES = _tables_by_list()
# (the top-level table, the child table's parent filter) -> the child table
FILTERED_TABLES = {
    (tables[0], str(TABLE_FACTS[child]["parent_field"])): child
    for tables in LIST_TABLES.values()
    if TABLE_FACTS[tables[0]]["parent"] is None
    for child in tables[1:]
}
OBJECT_TABLES = {TABLE_OBJECTS[tables[0]]: tables[0] for tables in LIST_TABLES.values() if TABLE_FACTS[tables[0]]["parent"] is None}


@dataclass(frozen=True)
class Endpoint:
    template: str  # e.g. "/v1/customers/{customer}", as spelled in Stripe's description
    kind: str  # "list", "retrieve", "events", "event", "account"
    table: str | None  # the table served, None for events and the account
    tables: tuple[str, ...]  # every table whose objects it serves: several when the list mixes kinds
    params: frozenset[str]  # accepted query parameter names
    required: tuple[str, ...]
    deep_object: frozenset[str]  # parameters sent as name[key]=value
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Spec:
    api_version: str
    examples: dict[str, dict[str, Any]]
    endpoints: tuple[Endpoint, ...]

    def match(self, path: str) -> tuple[Endpoint, tuple[str, ...]] | None:
        for endpoint in self.endpoints:
            found = endpoint.pattern.fullmatch(path)
            if found:
                return endpoint, found.groups()
        return None


def _classify(template: str, info: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    if template == "/v1/account":
        return "account", ()
    if template == "/v1/events":
        return "events", ()
    if template.startswith("/v1/events/"):
        return "event", ()
    tables = LIST_TABLES.get(_shape(template)) if "objects" in info else LIST_TABLES[_shape(template.rsplit("/", 1)[0])]
    if TABLE_FACTS[tables[0]]["parent"] is None:
        tables = tables[:1]  # the others are the list filtered by their parent
    return ("list" if "objects" in info else "retrieve"), tables


@cache
def load_spec(directory: Path = GENERATED_DIR) -> Spec:
    examples = json.loads((directory / "examples.json").read_text())
    raw_endpoints: dict[str, dict[str, Any]] = json.loads((directory / "endpoints.json").read_text())
    endpoints = []
    for template, info in raw_endpoints.items():
        kind, tables = _classify(template, info)
        pattern = re.compile(re.sub(r"\{[^}]+\}", "([^/]+)", template))
        endpoints.append(
            Endpoint(
                template=template,
                kind=kind,
                table=tables[0] if tables else None,
                tables=tables,
                params=frozenset(info["query"]),
                required=tuple(info["required"]),
                deep_object=frozenset(info["deep_object"]),
                pattern=pattern,
            )
        )
    return Spec(api_version=examples["api_version"], examples=examples["objects"], endpoints=tuple(endpoints))
