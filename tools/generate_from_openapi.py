#!/usr/bin/env python3
"""Generate the connector's Stripe-derived files from Stripe's published OpenAPI description.

Writes, relative to the repo root:
  source_stripe/schemas/<stream>.json               stream JSON schemas
  sandbox/stripe_sandbox/generated/examples.json    Stripe's example object per resource
  sandbox/stripe_sandbox/generated/endpoints.json   accepted query/path parameters per GET endpoint

The outputs are committed; unit_tests/test_generated_files_match_openapi.py regenerates them and
fails on any difference, so edit this script (never the outputs) and rerun it:

  python tools/generate_from_openapi.py [--openapi-dir DIR] [--spec FILE] [--out-root DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# The connector sends this as Stripe-Version, so the schemas must describe exactly this version.
STRIPE_API_VERSION = "2023-08-16"
# The last published description that still has the legacy Orders API (order_return).
LEGACY_API_VERSION = "2020-08-27"

CURRENT, LEGACY = "current", "legacy"

# stream name -> (Stripe component schema, which description it comes from)
STREAM_COMPONENTS: dict[str, tuple[str, str]] = {
    "customers": ("customer", CURRENT),
    "products": ("product", CURRENT),
    "prices": ("price", CURRENT),
    "shipping_rates": ("shipping_rate", CURRENT),
    "subscription_items": ("subscription_item", CURRENT),
    "payment_intents": ("payment_intent", CURRENT),
    "refunds": ("refund", CURRENT),
    "disputes": ("dispute", CURRENT),
    "subscriptions": ("subscription", CURRENT),
    "setup_intents": ("setup_intent", CURRENT),
    "setup_attempts": ("setup_attempt", CURRENT),
    "usage_record_summaries": ("usage_record_summary", CURRENT),
    "order_returns": ("order_return", LEGACY),
}

# Objects the sandbox and the unit tests build responses from. Stripe has no deleted_price.
EXAMPLE_OBJECTS: dict[str, str] = {
    **{component: source for component, source in STREAM_COMPONENTS.values()},
    "account": CURRENT,
    "charge": CURRENT,
    "deleted_customer": CURRENT,
    "deleted_product": CURRENT,
    "deleted_subscription_item": CURRENT,
    "event": CURRENT,
    "payment_method": CURRENT,
    "plan": CURRENT,
}

# GET endpoints the sandbox serves, as spelled in the descriptions.
ENDPOINTS: dict[str, str] = {
    "/v1/account": CURRENT,
    "/v1/customers": CURRENT,
    "/v1/customers/{customer}": CURRENT,
    "/v1/disputes": CURRENT,
    "/v1/disputes/{dispute}": CURRENT,
    "/v1/events": CURRENT,
    "/v1/events/{id}": CURRENT,
    "/v1/payment_intents": CURRENT,
    "/v1/payment_intents/{intent}": CURRENT,
    "/v1/prices": CURRENT,
    "/v1/prices/{price}": CURRENT,
    "/v1/products": CURRENT,
    "/v1/products/{id}": CURRENT,
    "/v1/refunds": CURRENT,
    "/v1/refunds/{refund}": CURRENT,
    "/v1/setup_attempts": CURRENT,
    "/v1/setup_intents": CURRENT,
    "/v1/setup_intents/{intent}": CURRENT,
    "/v1/shipping_rates": CURRENT,
    "/v1/shipping_rates/{shipping_rate_token}": CURRENT,
    "/v1/subscription_items": CURRENT,
    "/v1/subscription_items/{item}": CURRENT,
    "/v1/subscription_items/{subscription_item}/usage_record_summaries": CURRENT,
    "/v1/subscriptions": CURRENT,
    "/v1/subscriptions/{subscription_exposed_id}": CURRENT,
    "/v1/order_returns": LEGACY,
    "/v1/order_returns/{id}": LEGACY,
}

SCHEMAS_DIR = Path("source_stripe/schemas")
GENERATED_DIR = Path("sandbox/stripe_sandbox/generated")

# Stripe's own formats (unix-time, decimal) mean nothing to JSON Schema validators or destinations.
STANDARD_FORMATS = {"date", "date-time", "email", "time", "uri"}
NULL = {"type": "null"}

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OPENAPI_DIR = REPO_ROOT.parent / "shared" / "stripe-openapi"


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
    "is_deleted": {
        "type": "boolean",
        "description": "True when Stripe reported the object deleted (from its *.deleted event); false otherwise.",
    },
}


def stream_schema(component: str, source: Source) -> dict:
    definition = source.components[component]
    properties = dict(CONNECTOR_FIELDS)
    for key, node in definition["properties"].items():
        converted = _convert(node, source, (component,))
        prop = converted if key == "id" else _nullable(converted)
        description = _describe(node)
        properties[key] = {**prop, "description": description} if description else prop
    description = definition.get("description", "").strip()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "description": f"{description}\n\nGenerated from Stripe's OpenAPI description of API version {source.version}.".strip(),
        "properties": properties,
    }


def _write_schemas(sources: dict[str, Source], out_root: Path) -> list[Path]:
    return [
        _dump(stream_schema(component, sources[which]), out_root / SCHEMAS_DIR / f"{stream}.json")
        for stream, (component, which) in STREAM_COMPONENTS.items()
    ]


def _write_examples(sources: dict[str, Source], out_root: Path) -> list[Path]:
    objects = {name: sources[which].fixtures[name] for name, which in EXAMPLE_OBJECTS.items()}
    examples = {"api_version": STRIPE_API_VERSION, "objects": objects}
    return [_dump(examples, out_root / GENERATED_DIR / "examples.json")]


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
    items_ref = response.get("properties", {}).get("data", {}).get("items", {}).get("$ref")
    if items_ref:
        entry["object"] = _ref_name(items_ref)
    return entry


def _write_endpoints(sources: dict[str, Source], out_root: Path) -> list[Path]:
    endpoints = {path: _endpoint(path, sources[which]) for path, which in ENDPOINTS.items()}
    return [_dump(endpoints, out_root / GENERATED_DIR / "endpoints.json")]


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
    for write in (_write_schemas, _write_examples, _write_endpoints):
        written += write(sources, out_root)
    return written


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
    for path in written:
        print(f"{path.stat().st_size / 1024:8.1f} KB  {path}")


if __name__ == "__main__":
    main()
