"""The tables as their manifest entries state them (see the manifest's `table` definition for what each parameter
means): what the engine reads, the check probes, and the generator, sandbox, docs and tests derive."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

import yaml

from source_stripe.cdk import resolve_references

MANIFEST = Path(__file__).with_name("manifest.yaml")
STREAM_REFERENCE = "#/definitions/streams/"
# libyaml parses the manifest ten times faster than PyYAML's Python loader: a tenth of a second off every start.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ParentLink:
    """How a child table's rows are found through the objects of its parent table."""

    table: str
    key: str  # the field of each row that names its parent; also the list's filter when the path does not name it
    embedded_in: Optional[str] = None  # the parent's field that embeds its first page of rows
    when: Optional[str] = None  # an expression over `parent`: whether it may have rows at all
    once_per_sync: bool = False


@dataclass(frozen=True)
class TableEntry:
    name: str
    description: str
    path: str
    request_parameters: Mapping[str, Any]
    stripe_object: str
    group: str
    permission: str
    permission_id: str
    events: Mapping[str, Tuple[str, ...]]  # created / updated / deleted -> event types
    events_say_every_change: bool  # Stripe sends an event for every object made and every change to one
    created_field: str  # the field the list's `created` filter compares
    created_filter: bool  # whether the list takes `created[gte|lt]` at all
    parent: Optional[ParentLink]
    platform_only: bool  # read on the key's own account alone when several accounts are read
    quirk: Optional[Mapping[str, Any]]  # class_name and its fields
    error_handler: Optional[Mapping[str, Any]]  # the table's own, in place of the list pages' one

    @property
    def is_top_level(self) -> bool:
        return self.parent is None

    @property
    def event_types(self) -> Tuple[str, ...]:
        return tuple(event_type for types in self.events.values() for event_type in types)

    @property
    def deletions(self) -> FrozenSet[str]:
        return frozenset(self.events.get("deleted", ()))

    @property
    def lists_one_parent_in_path(self) -> bool:
        return "{{" in self.path


def tables_of(resolved_manifest: Mapping[str, Any]) -> Tuple[TableEntry, ...]:
    """Every table of a manifest whose references are resolved, in its `streams` order."""
    return tuple(_table(stream) for stream in resolved_manifest["streams"])


def read_manifest(manifest_path: Path = MANIFEST) -> Dict[str, Any]:
    """The manifest as written, references unresolved; a new copy each time, for callers that change it."""
    return yaml.load(manifest_path.read_text(), Loader=SAFE_LOADER)


@lru_cache(maxsize=None)
def manifest_tables(manifest_path: Path = MANIFEST) -> Tuple[TableEntry, ...]:
    return tables_of(resolve_references(read_manifest(manifest_path)))


def table_names(manifest_path: Path = MANIFEST) -> Tuple[str, ...]:
    return tuple(table.name for table in manifest_tables(manifest_path))


def by_name(tables: Tuple[TableEntry, ...]) -> Dict[str, TableEntry]:
    return {table.name: table for table in tables}


def lineage(table: TableEntry, tables: Mapping[str, TableEntry]) -> Tuple[TableEntry, ...]:
    """The tables from the top-level one whose list finds `table`'s rows down to `table` itself."""
    chain = [table]
    while chain[0].parent is not None:
        chain.insert(0, tables[chain[0].parent.table])
    return tuple(chain)


KNOWN_PARAMETERS = {
    "name", "description", "stripe_object", "group", "path", "request_parameters", "permission", "permission_id",
    "events", "events_say_every_change", "created_field", "created_filter", "parent", "platform_only", "quirk", "error_handler",
}  # fmt: skip


def _table(stream: Mapping[str, Any]) -> TableEntry:
    parameters = stream["$parameters"]
    unknown = sorted(set(parameters) - KNOWN_PARAMETERS)
    if unknown:
        # A misspelt parameter would otherwise be ignored, and the entry would not say how its table is read.
        raise ValueError(f"The manifest entry {parameters.get('name')!r} has parameters no part of the connector reads: {unknown}")
    parent = parameters.get("parent")
    return TableEntry(
        name=parameters["name"],
        description=parameters["description"],
        path=parameters["path"],
        request_parameters=parameters.get("request_parameters") or {},
        stripe_object=parameters["stripe_object"],
        group=parameters["group"],
        permission=parameters["permission"],
        permission_id=parameters["permission_id"],
        events={meaning: tuple(types) for meaning, types in (parameters.get("events") or {}).items()},
        events_say_every_change=bool(parameters.get("events_say_every_change", False)),
        created_field=parameters.get("created_field", "created"),
        created_filter=parameters.get("created_filter", True),
        parent=ParentLink(**parent) if parent else None,
        platform_only=bool(parameters.get("platform_only", False)),
        quirk=parameters.get("quirk"),
        error_handler=parameters.get("error_handler"),
    )
