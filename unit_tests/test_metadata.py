"""metadata.yaml is complete by Airbyte's connector metadata schema and agrees with the Dockerfile, the package and the
manifest, so the registry, the platform and the image all describe the same connector."""

import re
import tomllib
import uuid
from pathlib import Path

import pytest
import yaml

from airbyte_cdk.models.connector_metadata import MetadataFile
from source_stripe.tables import read_manifest

REPO_ROOT = Path(__file__).resolve().parent.parent
METADATA = yaml.safe_load((REPO_ROOT / "metadata.yaml").read_text())
DATA = METADATA["data"]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
MANIFEST = read_manifest()

# What ConnectorMetadataDefinitionV0 requires of `data`, and the values its enums allow.
REQUIRED_FIELDS = (
    "name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license", "documentationUrl",
    "githubIssueLabel", "connectorSubtype", "releaseStage",
)  # fmt: skip
ALLOWED_VALUES = {
    "connectorType": {"source", "destination"},
    "connectorSubtype": {"api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"},
    "releaseStage": {"alpha", "beta", "generally_available", "custom"},
    "supportLevel": {"community", "certified", "archived"},
}
PINNED_PYTHON_BASE = re.compile(r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$")


def dockerfile_label(name: str) -> str:
    return re.search(rf"{re.escape(name)}=(\S+)", DOCKERFILE).group(1)


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_every_field_the_metadata_schema_requires_is_set(field):
    assert DATA.get(field), f"metadata.yaml lacks data.{field}"


@pytest.mark.parametrize("field", sorted(ALLOWED_VALUES))
def test_enumerated_fields_hold_values_the_schema_allows(field):
    assert DATA[field] in ALLOWED_VALUES[field]


def test_definition_id_is_a_uuid_and_the_spec_version_is_set():
    assert str(uuid.UUID(DATA["definitionId"])) == DATA["definitionId"]
    assert METADATA["metadataSpecVersion"] == "1.0"


def test_airbyte_cdk_reads_the_metadata_as_a_python_low_code_connector():
    metadata = MetadataFile.from_file(REPO_ROOT / "metadata.yaml").data

    assert metadata.language.value == "python"
    assert "cdk:low-code" in metadata.tags


def test_only_stripes_api_host_is_allowed():
    assert DATA["allowedHosts"]["hosts"] == ["api.stripe.com"]


def test_base_image_is_airbytes_python_base_pinned_by_digest_and_is_the_dockerfiles_default():
    base_image = DATA["connectorBuildOptions"]["baseImage"]

    assert PINNED_PYTHON_BASE.match(base_image)
    assert f"ARG BASE_IMAGE={base_image}\n" in DOCKERFILE


def test_image_labels_and_package_version_match_the_metadata():
    package_version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]

    assert dockerfile_label("io.airbyte.name") == DATA["dockerRepository"]
    assert dockerfile_label("io.airbyte.version") == DATA["dockerImageTag"] == package_version


def test_every_table_is_selected_by_default():
    manifest_streams = [reference.rsplit("/", 1)[-1] for reference in MANIFEST["streams"]]

    assert sorted(DATA["suggestedStreams"]["streams"]) == sorted(manifest_streams)


def test_documentation_and_erd_urls_are_set_and_the_docs_url_is_the_specs():
    assert DATA["documentationUrl"] == MANIFEST["spec"]["documentation_url"]
    assert DATA["erdUrl"].startswith("https://")
