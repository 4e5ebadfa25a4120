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

# Table (the connector's stream name) -> {"object", "permission" (as a 403 names it), "parent", "parent_field"}.
TABLE_FACTS: dict[str, dict[str, str | None]] = json.loads((GENERATED_DIR / "tables.json").read_text())
TABLE_OBJECTS: dict[str, str] = {name: str(facts["object"]) for name, facts in TABLE_FACTS.items()}
# An object's table is the one that lists all of them; a child table of the same object (a payout's balance
# transactions) is that list filtered by its parent: (the table, the filter) -> the child table.
OBJECT_TABLES = {
    obj: table for table, obj in sorted(TABLE_OBJECTS.items(), key=lambda item: TABLE_FACTS[item[0]]["parent"] is None)
}
FILTERED_TABLES = {
    (OBJECT_TABLES[obj], str(TABLE_FACTS[table]["parent_field"])): table
    for table, obj in TABLE_OBJECTS.items()
    if OBJECT_TABLES[obj] != table
}
TABLES = tuple(TABLE_OBJECTS)


@dataclass(frozen=True)
class Endpoint:
    template: str  # e.g. "/v1/customers/{customer}", as spelled in Stripe's description
    kind: str  # "list", "retrieve", "events", "event", "account"
    table: str | None  # the table served, None for events and the account
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


def _classify(template: str, info: dict[str, Any], list_tables: dict[str, str]) -> tuple[str, str | None]:
    if template == "/v1/account":
        return "account", None
    if template == "/v1/events":
        return "events", None
    if template.startswith("/v1/events/"):
        return "event", None
    if "object" in info:
        return "list", OBJECT_TABLES[info["object"]]
    collection = template.rsplit("/", 1)[0]
    return "retrieve", list_tables[collection]


@cache
def load_spec(directory: Path = GENERATED_DIR) -> Spec:
    examples = json.loads((directory / "examples.json").read_text())
    raw_endpoints: dict[str, dict[str, Any]] = json.loads((directory / "endpoints.json").read_text())
    list_tables = {
        template: OBJECT_TABLES[info["object"]]
        for template, info in raw_endpoints.items()
        if info.get("object") in OBJECT_TABLES
    }
    endpoints = []
    for template, info in raw_endpoints.items():
        kind, table = _classify(template, info, list_tables)
        pattern = re.compile(re.sub(r"\{[^}]+\}", "([^/]+)", template))
        endpoints.append(
            Endpoint(
                template=template,
                kind=kind,
                table=table,
                params=frozenset(info["query"]),
                required=tuple(info["required"]),
                deep_object=frozenset(info["deep_object"]),
                pattern=pattern,
            )
        )
    return Spec(api_version=examples["api_version"], examples=examples["objects"], endpoints=tuple(endpoints))
