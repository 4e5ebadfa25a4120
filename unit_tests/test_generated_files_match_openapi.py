"""The committed stream schemas and sandbox data are exactly what tools/generate_from_openapi.py makes."""

import importlib.util
import json
import os
from pathlib import Path

import jsonschema
import pytest

from source_stripe.tables import manifest_tables

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR_PATH = REPO_ROOT / "tools" / "generate_from_openapi.py"

# tools/ is not a package, so load the script by path.
_spec = importlib.util.spec_from_file_location("generate_from_openapi", GENERATOR_PATH)
generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generator)

SCHEMAS_DIR = REPO_ROOT / generator.SCHEMAS_DIR
EXAMPLES_PATH = REPO_ROOT / generator.GENERATED_DIR / "examples.json"
OBJECTS = {table.name: table.stripe_object for table in manifest_tables()}
STREAMS = sorted(OBJECTS)


@pytest.fixture(scope="module")
def openapi_dir() -> Path:
    path = Path(os.environ.get("STRIPE_OPENAPI_DIR", REPO_ROOT.parent / "shared" / "stripe-openapi"))
    if not path.is_dir():
        pytest.skip(
            f"Stripe's OpenAPI files were not found at {path}; "
            "set STRIPE_OPENAPI_DIR to the directory holding spec3.*.json and fixtures3.*.json."
        )
    return path


def _schema(stream: str) -> dict:
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text(encoding="utf-8"))


def test_committed_schemas_match_stripe_openapi(openapi_dir: Path, tmp_path: Path) -> None:
    written = generator.generate(openapi_dir, tmp_path)

    stale = []
    for path in written:
        relative = path.relative_to(tmp_path)
        committed = REPO_ROOT / relative
        if not committed.is_file() or committed.read_bytes() != path.read_bytes():
            stale.append(str(relative))
    assert not stale, f"out of date, rerun `python tools/generate_from_openapi.py`: {stale}"


def test_no_schema_files_without_a_table_in_the_manifest() -> None:
    expected = {f"{stream}.json" for stream in STREAMS}
    extra = sorted(p.name for p in SCHEMAS_DIR.glob("*.json") if p.name not in expected)
    assert not extra, f"no manifest entry makes these: delete them, or add the table to source_stripe/manifest.yaml: {extra}"


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_schema_is_self_contained_permissive_draft7(stream: str) -> None:
    schema = _schema(stream)
    jsonschema.Draft7Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "$ref" not in text
    assert '"additionalProperties": false' not in text
    assert schema["properties"]["id"]["type"] == "string"


@pytest.mark.parametrize("stream", STREAMS)
def test_stripe_example_objects_validate_against_their_stream_schema(stream: str) -> None:
    example = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))["objects"][OBJECTS[stream]]
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(_schema(stream)).iter_errors(example)
    ]
    assert not errors, errors


def _stripe_event_types(openapi_dir: Path) -> set:
    """Every event type Stripe's pinned version sends: the values a webhook endpoint may subscribe to."""
    spec = json.loads((openapi_dir / f"spec3.{generator.STRIPE_API_VERSION}.json").read_text(encoding="utf-8"))
    form = spec["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    return set(form["schema"]["properties"]["enabled_events"]["items"]["enum"])


@pytest.mark.parametrize("table", [table for table in manifest_tables() if table.event_types], ids=lambda table: table.name)
def test_every_event_type_an_entry_names_is_one_stripe_sends(openapi_dir: Path, table) -> None:
    unknown = sorted(set(table.event_types) - _stripe_event_types(openapi_dir))
    assert not unknown, f"{table.name}: Stripe {generator.STRIPE_API_VERSION} sends no such events: {unknown}"


@pytest.mark.parametrize("table", [table for table in manifest_tables() if table.is_top_level], ids=lambda table: table.name)
def test_an_entry_says_created_filter_false_exactly_when_stripes_list_takes_no_created_filter(openapi_dir: Path, table) -> None:
    version = generator.STRIPE_API_VERSION if table.stripe_object != "order_return" else "2020-08-27"
    spec = json.loads((openapi_dir / f"spec3.{version}.json").read_text(encoding="utf-8"))
    query = {parameter["name"] for parameter in spec["paths"][f"/v1/{table.path}"]["get"].get("parameters", []) if parameter["in"] == "query"}
    assert table.created_filter == ("created" in query)
