"""The tables as their manifest entries state them, for whatever is derived from the manifest rather than listed again:
the generator's schemas and ERD groups, the tests' table lists, the benchmarks."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import yaml

MANIFEST = Path(__file__).with_name("manifest.yaml")
STREAM_REFERENCE = "#/definitions/streams/"


@dataclass(frozen=True)
class TableEntry:
    name: str
    path: str  # the list its rows are read from, under /v1/ ({{ stream_partition.… }}: a parent's id)
    parameters: Mapping[str, Any]  # what that list is asked for besides paging
    stripe_object: str  # the Stripe object its schema and records are
    group: str  # "dimensions" (who and what) or "facts" (what happened)
    permission: str  # the dashboard permission a restricted key needs
    permission_id: str  # that permission as Stripe names it in a 403
    parent: Optional[str]  # the table whose objects its rows are found through, for a child table
    parent_field: Optional[str]  # how its list names the parent (?subscription=…, or a part of its path)

    @property
    def is_top_level(self) -> bool:
        return self.parent is None


@lru_cache(maxsize=None)
def manifest_tables(manifest_path: Path = MANIFEST) -> Tuple[TableEntry, ...]:
    """Every table, in the manifest's order."""
    manifest = yaml.safe_load(manifest_path.read_text())
    entries = manifest["definitions"]["streams"]
    return tuple(_table(entries[_referenced(reference)]) for reference in manifest["streams"])


def table_names(manifest_path: Path = MANIFEST) -> Tuple[str, ...]:
    return tuple(table.name for table in manifest_tables(manifest_path))


def _table(entry: Mapping[str, Any]) -> TableEntry:
    parameters = entry["$parameters"]
    parents = (entry.get("retriever") or {}).get("partition_router", {}).get("parent_stream_configs", [])
    return TableEntry(
        name=parameters["name"],
        path=parameters["path"],
        parameters=((entry.get("retriever") or {}).get("requester") or {}).get("request_parameters") or {},
        stripe_object=parameters["stripe_object"],
        group=parameters["group"],
        permission=parameters["permission"],
        permission_id=parameters["permission_id"],
        parent=_referenced(parents[0]["stream"]) if parents else None,
        parent_field=parents[0]["partition_field"] if parents else None,
    )


def _referenced(stream: Any) -> str:
    """The table a stream reference names: "#/definitions/streams/x", or a mapping that $refs it and overrides some
    of it."""
    reference = stream if isinstance(stream, str) else stream["$ref"]
    return reference.removeprefix(STREAM_REFERENCE)
