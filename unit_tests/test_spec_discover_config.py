"""What the Airbyte UI renders (spec), what discover offers, configs from the earlier connector, fields the connector
does not know, dates written wrong, the example config, and the key's secrecy."""

import json
import re
import subprocess
import sys
from pathlib import Path

from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.entrypoint_wrapper import read as entrypoint_read
from source_stripe import SourceStripe
from source_stripe.tables import read_manifest
from unit_tests.stripe_api import (
    ALL_STREAMS,
    LIVE_KEY,
    TEST_KEY,
    catalog,
    config,
    error_messages,
    launch_in_process,
    missing_permission,
    objects,
    read,
    run,
    stripe_error,
)


def test_starting_up_reads_no_source_code_for_the_cdks_serializers():
    # serpyco_rs would read each protocol model's source for attribute docs: 0.3 CPU-seconds of every command's start.
    starts_without_reading_source = """
import inspect
def refuse(*args, **kwargs):
    raise AssertionError("source code read while starting up")
inspect.getsource = inspect.getsourcelines = refuse
from source_stripe.run import run
import json
from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteMessage, AirbyteLogMessage, Level, Type
print(json.dumps(AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="ok")))))
"""
    started = subprocess.run([sys.executable, "-c", starts_without_reading_source], capture_output=True, text=True)

    assert started.returncode == 0, started.stderr[-2000:]
    assert json.loads(started.stdout) == {"type": "LOG", "log": {"level": "INFO", "message": "ok"}}


def spec_properties():
    (message,) = run("spec").spec_messages
    return message.spec.connectionSpecification["properties"]


def test_spec_asks_for_the_setup_fields_in_the_order_of_the_setup_steps():
    properties = spec_properties()

    ordered = sorted(properties, key=lambda name: properties[name]["order"])

    assert ordered == [
        "api_key", "environment", "account_id", "start_date", "end_date", "lookback_window_days", "running_usage_refresh_hours", "connected_accounts",
        "requests_per_second", "max_concurrency", "api_base_url", "read_timeout_seconds", "no_request_budget",
    ]  # fmt: skip
    assert properties["api_key"]["airbyte_secret"] is True
    assert properties["environment"]["enum"] == ["live", "test"]
    assert properties["api_base_url"]["airbyte_hidden"] is True
    assert properties["read_timeout_seconds"]["airbyte_hidden"] is True
    assert properties["no_request_budget"]["airbyte_hidden"] is True
    assert all(properties[name]["description"] and properties[name]["title"] for name in properties)


def test_discover_offers_exactly_the_manifests_tables_keyed_by_id():
    streams = {stream.name: stream for stream in run("discover", config()).catalog.catalog.streams}

    assert sorted(streams) == sorted(ALL_STREAMS)
    assert all(stream.source_defined_primary_key == [["id"]] for stream in streams.values())
    assert all(stream.json_schema["properties"]["id"]["type"] == "string" for stream in streams.values())


def test_config_of_the_earlier_stripe_connector_is_migrated_to_the_new_fields():
    earlier = {
        "client_secret": LIVE_KEY,
        "account_id": "acct_1Earlier",
        "start_date": "2021-01-01T00:00:00Z",
        "lookback_window_days": 3,
        "slice_range": 365,
        "num_workers": 10,
        "call_rate_limit": 50,
    }

    migrated = SourceStripe(config=earlier)._config

    assert migrated == {
        "api_key": LIVE_KEY,
        "environment": "live",
        "account_id": "acct_1Earlier",
        "start_date": "2021-01-01T00:00:00Z",
        "lookback_window_days": 3,
        "max_concurrency": 10,
        "requests_per_second": 50,
    }


def test_migrated_test_mode_config_reads_with_its_key(stripe):
    stripe.lists("customers", objects("customer", 1, "cus"), now=1_800_000_000)
    earlier = {"client_secret": TEST_KEY, "start_date": "2021-01-01T00:00:00Z"}

    output = read(earlier, "customers")

    assert len(output.records) == 1
    assert stripe.requests_to("customers")[0].headers["Authorization"] == f"Bearer {TEST_KEY}"


def test_the_api_key_never_appears_in_any_output(stripe):
    stripe.answers("account", [stripe_error(401, "Invalid API Key provided: sk_test_****9z8y")])
    stripe.answers_error("customers", 401, "Invalid API Key provided: sk_test_****9z8y")
    stripe.answers_error("disputes", 403, missing_permission("rak_dispute_read"))
    stripe.answers("refunds", [stripe_error(500, "An unknown error occurred")])

    outputs = [
        run("spec"),
        run("check", config()),
        run("check", config(environment="live")),
        run("discover", config()),
        read(config(), "customers", "disputes", "refunds", expect_failure=True),
        read(config(environment="live"), "customers", expect_failure=True),
    ]

    for output in outputs:
        everything = json.dumps([str(message) for message in output._messages]) + (output.stderr or "")
        assert TEST_KEY not in everything


def test_the_manifest_run_without_the_connector_says_the_connector_reads_its_tables(requests_mock):
    # As the Connector Builder or a manifest-only image would run it: the CDK alone, no source_stripe engine.
    manifest_alone = ConcurrentDeclarativeSource(source_config=read_manifest(), config=config())

    output = entrypoint_read(manifest_alone, config(), catalog("customers"), expecting_exception=True)

    assert output.records == []
    assert "read by the source-stripe connector's engine, not by the manifest alone" in output.errors[0].trace.error.message
    assert requests_mock.request_history == []


def unknown_field_warnings(output):
    return [log.log.message for log in output.logs if log.log.level.value == "WARN" and "does not know" in log.log.message]


def test_discover_warns_once_about_config_fields_it_does_not_know_naming_the_closest_known_ones():
    output = run("discover", config(lookback_windows_days=3, strat_date="2023-01-01T00:00:00Z", colour="blue"))

    assert unknown_field_warnings(output) == [
        "The config has fields this connector does not know, so they are ignored: colour, lookback_windows_days (did you "
        "mean lookback_window_days?), strat_date (did you mean start_date?)."
    ]


def test_read_warns_about_a_misspelt_field_before_refusing_the_config_that_lacks_it(requests_mock):
    output = read({"api_keys": TEST_KEY, "environment": "test"}, "customers", expect_failure=True)

    assert unknown_field_warnings(output) == ["The config has a field this connector does not know, so it is ignored: api_keys (did you mean api_key?)."]
    assert error_messages(output) == ["The config lacks api_key, which is required."]
    assert requests_mock.request_history == []


def test_fields_of_the_earlier_connector_and_the_cdks_own_are_known():
    output = run("discover", config(slice_range=365, _limit=10))

    assert unknown_field_warnings(output) == []


def test_every_spec_field_with_a_pattern_says_how_it_is_written_in_words():
    patterned = {name: field for name, field in spec_properties().items() if "pattern" in field}

    assert patterned
    assert all(field.get("pattern_descriptor") or field.get("format") == "date-time" for field in patterned.values())


def test_every_date_time_field_written_wrong_is_refused_with_its_shape_and_the_value_given():
    dates = [name for name, field in spec_properties().items() if field.get("format") == "date-time"]

    refusals = {name: launch_in_process("check", config=config(**{name: "2023-01-01"})).connection_status["message"] for name in dates}

    assert dates
    assert refusals == {name: f"{name} must be written as YYYY-MM-DDTHH:mm:ssZ (it is '2023-01-01')." for name in dates}


REPOSITORY = Path(__file__).resolve().parents[1]


def test_the_example_config_is_the_one_the_readme_shows_and_check_refuses_its_placeholder_key_in_one_sentence():
    example = json.loads((REPOSITORY / "config.example.json").read_text())
    shown = re.search(r"```json\n(.*?)```", (REPOSITORY / "README.md").read_text(), re.S)

    launched = launch_in_process("check", config=example)

    assert shown and json.loads(shown.group(1)) == example
    assert launched.connection_status["status"] == "FAILED"
    assert "does not look like a Stripe key" in launched.connection_status["message"]
    assert "Traceback" not in launched.stdout + launched.stderr
