"""Every kind of bad input, one row each: what the `source-stripe` command says and how it exits.

Rows run the real entry point (in this process, as its own process would: the subprocess runs of the end-to-end tests
cost a Python start each) against a small local Stripe sandbox; answers Stripe should never give are served by the
builder. Each mistake a person can make is refused with one
TRACE error, a config_error that names what to fix, before anything is read; no output carries a Python
traceback.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType, SyncMode
from source_stripe import SourceStripe
from stripe_sandbox import Sandbox, keys
from unit_tests.stripe_api import catalog, config, error_messages, launch_in_process, objects, read

MISSING = object()
YEAR_2100 = 4_102_444_800


@dataclass(frozen=True)
class BadInput:
    says: str  # in the one error, or for input the sync can live with, in a warning
    config: Any = None  # fields to change in a good config (MISSING drops one), or the config file's raw text
    catalog: Any = ("customers",)  # tables to select incrementally, or the catalog file's raw text
    state: Any = None  # state messages, or the state file's raw text
    exit_code: int = 1
    failure_type: Optional[str] = "config_error"  # None: the sync goes on, warning


def stream_state(stream: str, **position: Any) -> dict:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": position}}


BAD_INPUT = {
    # each config field wrong
    "api_key_missing": BadInput("lacks api_key", config={"api_key": MISSING}),
    "api_key_not_text": BadInput("api_key must be text", config={"api_key": 4242}),
    "api_key_publishable": BadInput("publishable key (pk_…), which cannot read data", config={"api_key": "pk_test_51PublishableKey"}),
    "api_key_not_a_stripe_key": BadInput("does not look like a Stripe key", config={"api_key": "hunter2"}),
    "api_key_pasted_with_a_line_break": BadInput("spaces or line breaks around it", config={"api_key": keys.SECRET_TEST + "\n"}),
    "api_key_of_the_other_mode": BadInput("test-mode key but the environment is set to live", config={"environment": "live"}),
    "environment_unknown": BadInput("environment must be one of 'live', 'test' (it is 'production')", config={"environment": "production"}),
    "environment_missing": BadInput("lacks environment", config={"environment": MISSING}),
    "account_id_malformed": BadInput("account_id must be written as acct_…", config={"account_id": "12345"}),
    "connected_accounts_an_id_malformed": BadInput(
        'connected_accounts must be "none", "all", or a list of connected account IDs written as acct_…',
        config={"connected_accounts": ["acct_1Fine", "seller-42"]},
    ),
    "connected_accounts_an_unknown_choice": BadInput(
        'connected_accounts must be "none", "all", or a list of connected account IDs', config={"connected_accounts": "some"}
    ),
    "connected_accounts_with_account_id_too": BadInput(
        "Set either account_id (one connected account) or connected_accounts (several), not both",
        config={"account_id": "acct_1Seller", "connected_accounts": ["acct_1Other"]},
    ),
    "state_of_several_accounts_malformed": BadInput(
        "the positions of acct_1Seller are 'yesterday', not [created, events]",
        config={"connected_accounts": ["acct_1Seller"]},
        state=[stream_state("customers", accounts={"acct_1Seller": "yesterday"})],
    ),
    "start_date_without_time": BadInput("start_date must be written as YYYY-MM-DDTHH:mm:ssZ", config={"start_date": "2023-01-01"}),
    "start_date_not_text": BadInput("start_date must be text", config={"start_date": 1_672_531_200}),
    "start_date_impossible": BadInput(
        "start_date must be a UTC time written as YYYY-MM-DDTHH:mm:ssZ, e.g. 2023-01-01T00:00:00Z (it is '2023-02-30T00:00:00Z')",
        config={"start_date": "2023-02-30T00:00:00Z"},
    ),
    "end_date_malformed": BadInput("end_date must be written as YYYY-MM-DDTHH:mm:ssZ (it is 'tomorrow')", config={"end_date": "tomorrow"}),
    "end_date_before_start_date": BadInput(
        "end_date must be later than start_date", config={"start_date": "2024-01-01T00:00:00Z", "end_date": "2023-01-01T00:00:00Z"}
    ),
    "lookback_window_days_negative": BadInput("lookback_window_days must be at least 0", config={"lookback_window_days": -1}),
    "lookback_window_days_text": BadInput("lookback_window_days must be a whole number", config={"lookback_window_days": "7"}),
    "lookback_window_days_above_a_year": BadInput("lookback_window_days must be at most 365", config={"lookback_window_days": 1000}),
    "running_usage_refresh_hours_negative": BadInput("running_usage_refresh_hours must be at least 0", config={"running_usage_refresh_hours": -1}),
    "running_usage_refresh_hours_above_a_month": BadInput(
        "running_usage_refresh_hours must be at most 744", config={"running_usage_refresh_hours": 10_000}
    ),
    "requests_per_second_zero": BadInput("requests_per_second must be at least 1", config={"requests_per_second": 0}),
    "requests_per_second_above_stripes_limit": BadInput("requests_per_second must be at most 100", config={"requests_per_second": 1000}),
    "requests_per_second_fractional": BadInput("requests_per_second must be a whole number", config={"requests_per_second": 2.5}),
    "max_concurrency_zero": BadInput("max_concurrency must be at least", config={"max_concurrency": 0}),
    "max_concurrency_too_large": BadInput("max_concurrency must be at most", config={"max_concurrency": 1000}),
    "api_base_url_plain_http_to_a_remote_host": BadInput("api_base_url must be an https:// URL", config={"api_base_url": "http://api.example.com"}),
    "api_base_url_neither_https_nor_http": BadInput("api_base_url must be an https:// URL", config={"api_base_url": "ftp://127.0.0.1"}),
    "api_base_url_with_a_path": BadInput("api_base_url must be an https:// URL", config={"api_base_url": "https://api.stripe.com/v1"}),
    "api_base_url_not_a_url": BadInput("api_base_url must be an https:// URL", config={"api_base_url": "stripe"}),
    "no_request_budget_against_stripe": BadInput(
        "no_request_budget is for benchmarks against a local Stripe sandbox only", config={"no_request_budget": True, "api_base_url": MISSING}
    ),
    "no_request_budget_against_a_remote_host": BadInput(
        "no_request_budget is for benchmarks against a local Stripe sandbox only",
        config={"no_request_budget": True, "api_base_url": "https://stripe-proxy.example.com"},
    ),
    "read_timeout_seconds_zero": BadInput("read_timeout_seconds must be more than 0", config={"read_timeout_seconds": 0}),
    "read_timeout_seconds_text": BadInput("read_timeout_seconds must be a number", config={"read_timeout_seconds": "fast"}),
    # files
    "config_file_not_json": BadInput("config file", config="api_key: sk_test_123"),
    "config_file_empty": BadInput("config file", config=""),
    "config_file_not_an_object": BadInput("is not a valid Airbyte config: it is not a JSON object", config="[]"),
    "catalog_file_not_json": BadInput("catalog file", catalog="{streams"),
    "catalog_file_empty": BadInput("catalog file", catalog=" \n"),
    "catalog_file_not_a_catalog": BadInput("is not a valid Airbyte catalog", catalog="[]"),
    "catalog_names_an_unknown_table": BadInput("tables this connector does not have: not_a_table", catalog=("customers", "not_a_table")),
    "state_file_not_json": BadInput("state file", state="{"),
    "state_file_empty": BadInput("state file", state=""),
    "state_file_not_a_list_of_state_messages": BadInput("is not a valid Airbyte state", state='{"customers": {"created": 1}}'),
    "state_position_not_a_time": BadInput("saved state of customers cannot be used", state=[stream_state("customers", created="yesterday")]),
    "state_running_usage_not_a_time": BadInput(
        "its 'running_usage' position is 'yesterday'",
        catalog=("usage_record_summaries",),
        state=[stream_state("usage_record_summaries", created=1, events=1, running_usage="yesterday")],
    ),
    # state the sync can live with: it says so and goes on
    "state_names_an_unknown_table": BadInput(
        "names a table this connector does not have, 'not_a_table'", state=[stream_state("not_a_table", created=1)], exit_code=0, failure_type=None
    ),
    "state_from_the_future": BadInput(
        "lies in the future; it is read as now",
        state=[stream_state("customers", created=YEAR_2100, events=YEAR_2100)],
        exit_code=0,
        failure_type=None,
    ),
}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(seed=1, size=60, rate_limit_test=0) as running:
        yield running


def file_of(good: dict, bad: Any) -> Any:
    if isinstance(bad, str) or bad is None:
        return good if bad is None else bad
    return {name: value for name, value in {**good, **bad}.items() if value is not MISSING}


def catalog_file(selected: Any) -> Any:
    if isinstance(selected, str):
        return selected
    return ConfiguredAirbyteCatalogSerializer.dump(catalog(*selected, mode=SyncMode.incremental))


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gets_one_clear_error_or_a_warning_and_the_right_exit_code(sandbox, record_property, case):
    bad = BAD_INPUT[case]
    good = {"api_key": keys.SECRET_TEST, "environment": "test", "api_base_url": sandbox.url}
    files = {"config": file_of(good, bad.config), "catalog": catalog_file(bad.catalog)}
    if bad.state is not None:
        files["state"] = bad.state

    launched = launch_in_process("read", **files)

    said = launched.errors[0]["message"] if launched.errors else " / ".join(w for w in launched.logs("WARN") if bad.says in w)
    record_property("connector", f"exit {launched.exit_code}: {said}")
    assert launched.exit_code == bad.exit_code, launched.stderr[-2000:]
    assert "Traceback" not in launched.stdout + launched.stderr
    assert keys.SECRET_TEST not in launched.stdout + launched.stderr
    if bad.failure_type is None:
        assert launched.errors == []
        assert any(bad.says in warning for warning in launched.logs("WARN")), launched.logs("WARN")
        return
    first, *rest = launched.errors
    assert bad.says in first["message"]
    assert first["failure_type"] == bad.failure_type
    # A table whose state is unusable fails alone: the sync's last error names it.
    assert rest == [] or (len(rest) == 1 and rest[0]["message"].startswith(f"The sync did not finish: {bad.catalog[0]}"))


def list_answer(**body: Any) -> dict:
    return {"status_code": 200, "json": {"object": "list", "url": "/v1/customers", **body}}


CUSTOMERS = objects("customer", 3, "cus")


@pytest.mark.parametrize(
    "answer",
    [
        list_answer(has_more=False),
        list_answer(data=CUSTOMERS),
        list_answer(data={"id": "cus_0000"}, has_more=False),
        list_answer(data=None, has_more=False),
    ],
    ids=["without_data", "without_has_more", "data_not_a_list", "data_null"],
)
def test_an_answer_that_is_not_a_stripe_list_is_retried_a_bounded_number_of_times_then_fails_the_table(stripe, retry_waits, record_property, answer):
    asked = stripe.answers("customers", [answer])

    output = read(config(), "customers", expect_failure=True)

    first, last = error_messages(output)
    record_property("connector", f"{asked.call_count} requests, {sum(retry_waits):.0f} s of backoff, then: {first}")
    assert first.startswith("Gave up after retrying: Stripe sent an unreadable list page for customers")
    assert first.endswith("the next sync reads it again.")
    assert last.startswith("The sync did not finish: customers could not be read")
    assert output.errors[0].trace.error.failure_type == FailureType.transient_error
    assert asked.call_count == 9
    assert sum(retry_waits) < 4 * 60


def test_the_same_object_on_two_pages_is_emitted_once_with_a_warning(stripe):
    stripe.serves_pages("customers", [CUSTOMERS[:2], CUSTOMERS[1:]])

    output = read(config(), "customers")

    assert [message.record.data["id"] for message in output.records] == ["cus_0000", "cus_0001", "cus_0002"]
    assert any("cus_0001" in log.log.message for log in output.logs if log.log.level.value == "WARN")


def test_pages_that_repeat_themselves_stop_the_table_instead_of_looping(stripe):
    stripe.serves_pages("customers", [CUSTOMERS[:2], CUSTOMERS[:2], CUSTOMERS[2:]])

    output = read(config(), "customers", expect_failure=True)

    assert "repeat themselves after cus_0001" in error_messages(output)[0]
    assert output.errors[0].trace.error.failure_type == FailureType.transient_error


# Mistakes refused before the connector reaches Stripe, run in this process.
GOOD_CONFIG = {"api_key": keys.SECRET_TEST, "environment": "test"}
NOWHERE = Path("/nonexistent/source-stripe")


def test_no_command_is_answered_with_the_commands_to_choose_from():
    launched = launch_in_process(None)

    assert launched.exit_code == 2
    assert launched.stderr.startswith("source-stripe: name a command: spec, check --config CONFIG, discover --config CONFIG, or read")
    assert launched.stdout == ""


def test_help_still_lists_the_commands():
    launched = launch_in_process("--help")

    assert launched.exit_code == 0
    assert "{spec,check,discover,read}" in launched.stdout


@pytest.mark.parametrize("kind", ["config", "catalog", "state"])
def test_a_file_that_does_not_exist_is_named_in_one_sentence_without_a_traceback(kind):
    files = {"config": GOOD_CONFIG, "catalog": catalog_file(("customers",)), kind: NOWHERE / f"{kind}.json"}

    launched = launch_in_process("read", **files)

    (error,) = launched.errors
    assert launched.exit_code == 1
    assert error["message"] == f"The {kind} file {NOWHERE}/{kind}.json cannot be read: No such file or directory."
    assert error["failure_type"] == "config_error"
    assert "stack_trace" not in error
    assert "Traceback" not in launched.stdout + launched.stderr


@pytest.mark.parametrize("command", ["check", "discover"])
def test_a_date_written_wrong_is_refused_with_the_shape_to_write_and_the_value_given_not_a_regex(command):
    launched = launch_in_process(command, config={**GOOD_CONFIG, "start_date": "2023-01-01"})

    said = launched.connection_status["message"] if command == "check" else launched.errors[0]["message"]
    assert said == "start_date must be written as YYYY-MM-DDTHH:mm:ssZ (it is '2023-01-01')."
    assert "[0-9]" not in launched.stdout
    assert "Traceback" not in launched.stdout + launched.stderr


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(*args):
        raise KeyError("a bug")

    monkeypatch.setattr(SourceStripe, "discover", broken)

    launched = launch_in_process("discover", config=GOOD_CONFIG)

    (error,) = launched.errors
    assert launched.exit_code == 1
    assert error["failure_type"] == "system_error"
    assert "Traceback" in error["stack_trace"] and "KeyError: 'a bug'" in error["stack_trace"]
    assert any("Traceback" in line for line in launched.logs("FATAL"))
