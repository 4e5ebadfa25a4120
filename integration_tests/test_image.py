"""The built Docker image, run as Airbyte runs it (`docker run --rm -v <dir>:/secrets <image> <command> ...`), against
the local Stripe sandbox over the host network. Build it first with scripts/build_image_offline.sh; `.ci/run` does.

    python -m pytest -m image_tests [--connector-image airbyte/source-stripe:dev]
"""

import json
import logging
import os
from pathlib import Path

import pytest
import yaml

from integration_tests.connector_image import REPO_ROOT, image_under_test, inspect, layer_files, require_image, run_in_image
from integration_tests.connector_process import ALL_STREAMS, assert_equals_truth, run_connector
from source_stripe import SourceStripe
from stripe_sandbox import SandboxProcess, keys

pytestmark = pytest.mark.image_tests

# A key the sandbox does not know, so it reaches Stripe's 401 path, and recognisable wherever it might leak to.
CANARY_KEY = "sk_live_" "51ImageLeakCanary0000000000000"
# Directories of this repository that must stay out of the image, wherever they might land in it.
LEFT_OUT_DIRECTORIES = {"unit_tests", "integration_tests", "sandbox", "stripe_sandbox", "secrets", "bench", ".git", ".cache"}


@pytest.fixture(scope="module")
def image(pytestconfig) -> str:
    name = image_under_test(pytestconfig)
    require_image(name)
    return name


@pytest.fixture(scope="module")
def sandbox():
    with SandboxProcess(seed=5, size=800, orders_api=True, rate_limit_live=0) as running:
        yield running


def live_config(sandbox, **overrides):
    return {"api_key": keys.SECRET_LIVE, "environment": "live", "api_base_url": sandbox.url, **overrides}


@pytest.fixture(scope="module")
def full_read(image, sandbox):
    return run_connector("read", live_config(sandbox), image=image)


def test_spec_in_the_image_is_the_connectors_spec(image):
    finished = run_in_image(image, "spec")

    assert finished.returncode == 0, finished.stderr
    specs = [json.loads(line)["spec"] for line in finished.stdout.splitlines() if '"SPEC"' in line]
    assert len(specs) == 1
    assert specs[0]["connectionSpecification"] == SourceStripe().spec(logging.getLogger()).connectionSpecification


def test_check_succeeds_against_the_sandbox(image, sandbox):
    run = run_connector("check", live_config(sandbox), image=image)

    assert run.exit_code == 0, run.stderr
    assert run.connection_status["status"] == "SUCCEEDED", run.connection_status


def test_check_fails_with_one_sentence_for_an_unknown_key(image, sandbox):
    run = run_connector("check", live_config(sandbox, api_key=CANARY_KEY), image=image)

    assert run.connection_status["status"] == "FAILED"
    assert "rejected the API key" in run.connection_status["message"]


def test_discover_offers_every_table_incrementally_on_observed_at(image, sandbox):
    run = run_connector("discover", live_config(sandbox), image=image)

    assert run.exit_code == 0, run.stderr
    catalog = next(json.loads(line)["catalog"] for line in run.stdout.splitlines() if '"CATALOG"' in line)
    streams = {stream["name"]: stream for stream in catalog["streams"]}
    assert sorted(streams) == sorted(ALL_STREAMS)
    assert all(stream["default_cursor_field"] == ["observed_at"] for stream in streams.values())
    assert all(stream["source_defined_primary_key"] == [["id"]] for stream in streams.values())


def test_read_delivers_every_table_exactly_as_the_sandbox_holds_it(full_read, sandbox):
    assert full_read.exit_code == 0, full_read.errors
    assert full_read.errors == []
    assert all(full_read.records[stream] for stream in ALL_STREAMS), {s: len(full_read.records[s]) for s in ALL_STREAMS}
    assert_equals_truth(full_read, sandbox.truth(mode="live"))


def test_the_api_key_never_appears_in_what_the_image_prints(image, sandbox, full_read):
    failed_check = run_connector("check", live_config(sandbox, api_key=CANARY_KEY), image=image)
    failed_read = run_connector("read", live_config(sandbox, api_key=CANARY_KEY), streams=["customers"], image=image)

    assert failed_read.exit_code != 0
    for run, key in ((full_read, keys.SECRET_LIVE), (failed_check, CANARY_KEY), (failed_read, CANARY_KEY)):
        assert key not in run.stdout and key not in run.stderr


def test_image_runs_as_an_unprivileged_user(image):
    finished = run_in_image(image, "-u", entrypoint="id")

    assert finished.returncode == 0, finished.stderr
    assert int(finished.stdout) != 0
    assert inspect(image)["Config"]["User"] not in ("", "0", "root", "0:0")


def test_image_carries_the_entrypoint_and_labels_airbyte_reads(image):
    config = inspect(image)["Config"]
    metadata = yaml.safe_load((REPO_ROOT / "metadata.yaml").read_text())["data"]

    assert config["Labels"]["io.airbyte.name"] == metadata["dockerRepository"]
    assert config["Labels"]["io.airbyte.version"] == metadata["dockerImageTag"]
    entrypoint_variable = dict(variable.split("=", 1) for variable in config["Env"])["AIRBYTE_ENTRYPOINT"]
    assert entrypoint_variable.split() == config["Entrypoint"]


def test_no_layer_holds_tests_sandbox_secrets_caches_or_known_keys(image):
    known_keys = [key.encode() for key in (*keys.KEYS.values(), CANARY_KEY, *_keys_in_repo_configs())]

    offending = []
    for path, content in layer_files(image):
        if LEFT_OUT_DIRECTORIES.intersection(Path(path).parts[:-1]) or path.startswith("airbyte/integration_code/"):
            offending.append(path)
        elif any(key in content for key in known_keys):
            offending.append(f"{path} (holds an API key)")
    assert offending == []


@pytest.mark.skipif(not os.environ.get("EXTRA_CA_DIR"), reason="EXTRA_CA_DIR names no build-time certificates")
def test_build_time_ca_certificates_are_in_no_layer(image):
    fingerprints = [_pem_body_line(path) for path in Path(os.environ["EXTRA_CA_DIR"]).glob("*.crt")]

    holding = {path for path, content in layer_files(image) for line in fingerprints if line in content}
    assert holding == set()


def _keys_in_repo_configs():
    """The API keys of every config in the repo, the ones a careless build could copy in (secrets/ is gitignored)."""
    for path in [*REPO_ROOT.glob("integration_tests/*.json"), *REPO_ROOT.glob("secrets/*.json")]:
        content = json.loads(path.read_text())
        if isinstance(content, dict) and content.get("api_key"):
            yield content["api_key"]


def _pem_body_line(path: Path) -> bytes:
    """A line from the middle of the certificate's base64 body, which no other certificate shares."""
    lines = [line for line in path.read_bytes().splitlines() if line and not line.startswith(b"-----")]
    return lines[len(lines) // 2]
