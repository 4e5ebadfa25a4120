"""The one builder for the unit tests: configs, Stripe objects, Stripe's HTTP answers, and running the connector.

Objects come from Stripe's own examples (generated into the sandbox package), so tests never paste JSON.
"""

import copy
import io
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit

from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, make_file
from airbyte_cdk.test.entrypoint_wrapper import read as _read
from airbyte_cdk.test.state_builder import StateBuilder

from source_stripe import SourceStripe
from source_stripe.run import main
from source_stripe.summary import SUMMARY_TITLE
from source_stripe.tables import table_names

API = "https://api.stripe.com/v1/"
# Recognisable, so a test can prove it never leaks into any output.
TEST_KEY = "sk_test_51UnitTestKeyNeverPrintMe9z8y7x6w"
LIVE_KEY = "sk_live_" "51UnitTestLiveKeyNeverPrintMe1a2b3c"  # split so secret scanners pass this fake
STRIPE_VERSION = "2023-08-16"
OWN_ACCOUNT = "acct_1Test"  # the account the test keys belong to

ALL_STREAMS = table_names()

_EXAMPLES_FILE = Path(__file__).parents[1] / "sandbox" / "stripe_sandbox" / "generated" / "examples.json"
_EXAMPLES: Dict[str, Any] = json.loads(_EXAMPLES_FILE.read_text())["objects"]


def config(**overrides: Any) -> Dict[str, Any]:
    return {"api_key": TEST_KEY, "environment": "test", **overrides}


def stripe_object(kind: str, **fields: Any) -> Dict[str, Any]:
    """Stripe's example `kind` object (customer, subscription, …) with the given fields replaced."""
    obj = copy.deepcopy(_EXAMPLES[kind])
    obj.update(fields)
    return obj


def objects(kind: str, count: int, prefix: str, **fields: Any) -> List[Dict[str, Any]]:
    """`count` objects of `kind`, newest first as Stripe lists them, with ids prefix_0000, prefix_0001, …"""
    return [stripe_object(kind, id=f"{prefix}_{i:04d}", created=1_700_000_000 - i, **fields) for i in range(count)]


def embedded_list(items: Sequence[Mapping[str, Any]], has_more: bool = False, url: str = "/v1/x") -> Dict[str, Any]:
    return {"object": "list", "data": list(items), "has_more": has_more, "url": url, "total_count": len(items)}


def catalog(*streams: str, mode: SyncMode = SyncMode.full_refresh) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for stream in streams or ALL_STREAMS:
        builder.with_stream(stream, mode)
    return builder.build()


def read(cfg: Mapping[str, Any], *streams: str, expect_failure: bool = False) -> EntrypointOutput:
    return _read(SourceStripe(config=cfg), cfg, catalog(*streams), expecting_exception=expect_failure)


def read_incrementally(
    cfg: Mapping[str, Any], *streams: str, state: Optional[Mapping[str, Any]] = None, expect_failure: bool = False
) -> EntrypointOutput:
    """An incremental read of `streams`, resuming from `state` ({stream: its state}) when given."""
    builder = StateBuilder()
    for stream, stream_state in (state or {}).items():
        builder.with_stream_state(stream, stream_state)
    configured = catalog(*streams, mode=SyncMode.incremental)
    return _read(SourceStripe(config=cfg, catalog=configured), cfg, configured, builder.build(), expecting_exception=expect_failure)


def final_state(output: EntrypointOutput, stream: str) -> Dict[str, Any]:
    states = [message.state.stream.stream_state for message in output.state_messages if message.state.stream.stream_descriptor.name == stream]
    return dict(states[-1].__dict__) if states else {}


def event(
    kind: str, obj: Mapping[str, Any], created: int, api_version: str = STRIPE_VERSION, sequence: int = 0, **data: Any
) -> Dict[str, Any]:
    """A Stripe event of type `kind` carrying `obj` as it was at `created`; `sequence` orders events of one second."""
    return {
        "id": f"evt_{created}_{sequence:04d}_{obj['id']}",
        "object": "event",
        "type": kind,
        "created": created,
        "api_version": api_version,
        "data": {"object": dict(obj), **data},
        "livemode": False,
    }


def run(command: str, cfg: Optional[Mapping[str, Any]] = None) -> EntrypointOutput:
    """Runs spec, check or discover through the Airbyte entrypoint, as the platform does."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [command]
        if cfg is not None:
            args += ["--config", make_file(Path(tmp) / "config.json", dict(cfg))]
        return _run_command(SourceStripe(config=cfg), args)


def records_of(output: EntrypointOutput, stream: str) -> List[Dict[str, Any]]:
    return [message.record.data for message in output.records if message.record.stream == stream]


def ids_of(output: EntrypointOutput, stream: str) -> List[str]:
    return [record["id"] for record in records_of(output, stream)]


def error_messages(output: EntrypointOutput) -> List[str]:
    return [message.trace.error.message for message in output.errors]


def summary_rows(output: EntrypointOutput) -> Dict[str, Dict[str, str]]:
    """The rows of the sync's closing summary, by table: each column's cell as said."""
    (said,) = [log.log.message for log in output.logs if log.log.message.startswith(SUMMARY_TITLE)]
    header, *rows = said.splitlines()[1:]
    columns = header.split()[1:]
    # Every cell is one word but the duration, the last, which has its unit.
    return {row.split()[0]: dict(zip(columns, row.split(maxsplit=len(columns))[1:])) for row in rows}


class StripeApi:
    """Registers Stripe's answers on requests-mock. Each list is served page by page, as Stripe pages it."""

    def __init__(self, mocker: Any, base: str = API) -> None:
        self._mocker = mocker
        self._base = base
        # Every sync asks once whose account the key reads, to say it in each record's account_id.
        mocker.get(self.url("account"), json=stripe_object("account", id=OWN_ACCOUNT))

    def url(self, path: str, **query: Any) -> str:
        return self._base + path + ("?" + urlencode(query) if query else "")

    def serves_list(
        self,
        path: str,
        items: Sequence[Mapping[str, Any]],
        page_size: int = 100,
        headers: Optional[Mapping[str, str]] = None,
        **query: Any,
    ) -> List[Any]:
        """Serves `items` under `path`, expecting `limit=page_size`, `starting_after` from page 2 on, and `query`."""
        pages = [items[start : start + page_size] for start in range(0, len(items), page_size)] or [[]]
        matchers = []
        for number, page in enumerate(pages):
            expected = {"limit": page_size, **query}
            if number:
                expected["starting_after"] = pages[number - 1][-1]["id"]
            body = embedded_list(page, has_more=number < len(pages) - 1, url=f"/v1/{path}")
            matchers.append(
                self._mocker.get(
                    self.url(path, **expected), json=body, complete_qs=True, headers={"Request-Id": "req_1", **(headers or {})}
                )
            )
        return matchers

    def answers(self, path: str, responses: Iterable[Mapping[str, Any]], **query: Any) -> Any:
        """Answers `path` with a sequence of raw requests-mock responses (status_code, json/text/exc, headers), each
        with the Request-Id Stripe gives every answer."""
        return self._mocker.get(self.url(path, **query), [with_request_id(response) for response in responses], complete_qs=bool(query))

    def answers_through_a_proxy(self, path: str, responses: Iterable[Mapping[str, Any]], **query: Any) -> Any:
        """Answers `path` as a proxy or gateway between the connector and Stripe would: without Stripe's Request-Id."""
        return self._mocker.get(self.url(path, **query), list(responses), complete_qs=bool(query))

    def answers_error(self, path: str, http_status: int, message: str, code: Optional[str] = None, **query: Any) -> Any:
        return self.answers(path, [stripe_error(http_status, message, code)], **query)

    def lists(self, path: str, items: Sequence[Mapping[str, Any]], now: int, created_field: str = "created") -> None:
        """Answers every request for `path` as Stripe would: `created[…]` (comparing `created_field`) and `types[]`
        filters, newest first, pages of `limit` after `starting_after`, and a Date header saying it is `now`."""

        def answer(request: Any, context: Any) -> Dict[str, Any]:
            query = parse_qs(urlsplit(request.url).query)
            first = lambda name, default=None: query.get(name, [default])[0]  # noqa: E731
            matching = [
                item
                for item in sorted(items, key=lambda item: (item[created_field], item["id"]), reverse=True)
                if int(first("created[gte]", 0)) <= item[created_field] < int(first("created[lt]", 2**40))
                and ("types[]" not in query or item.get("type") in query["types[]"])
            ]
            if first("starting_after"):
                matching = matching[[item["id"] for item in matching].index(first("starting_after")) + 1 :]
            limit = int(first("limit", 10))
            context.headers["Date"], context.headers["Request-Id"] = formatdate(now, usegmt=True), "req_list"
            return embedded_list(matching[:limit], has_more=len(matching) > limit, url=f"/v1/{path}")

        self._mocker.get(re.compile(re.escape(self._base + path) + r"(\?|$)"), json=answer)

    def serves_pages(self, path: str, pages: Sequence[Sequence[Mapping[str, Any]]]) -> Any:
        """Serves `pages` as they are, whatever the filters: the first without `starting_after`, else the one after the
        page ending with that id; each says more follow but the last."""

        def answer(request: Any, context: Any) -> Dict[str, Any]:
            after = parse_qs(urlsplit(request.url).query).get("starting_after", [None])[0]
            number = 0 if after is None else next(i + 1 for i, page in enumerate(pages) if page and page[-1]["id"] == after)
            context.headers["Request-Id"] = "req_page"
            return embedded_list(pages[number], has_more=number < len(pages) - 1, url=f"/v1/{path}")

        return self._mocker.get(re.compile(re.escape(self._base + path) + r"(\?|$)"), json=answer)

    def requests_to(self, path: str) -> List[Any]:
        target = self._base + path
        return [request for request in self._mocker.request_history if request.url.split("?")[0] == target]


def with_request_id(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """A raw answer as Stripe sends it, with a Request-Id (a raised exception has no headers)."""
    if "exc" in response:
        return response
    return {**response, "headers": {"Request-Id": "req_raw", **response.get("headers", {})}}


def stripe_error(status: int, message: str, code: Optional[str] = None, **headers: str) -> Dict[str, Any]:
    error = {"type": "invalid_request_error", "message": message, **({"code": code} if code else {})}
    return {"status_code": status, "json": {"error": error}, "headers": {"Request-Id": "req_err", **headers}}


def missing_permission(permission: str, key: str = TEST_KEY) -> str:
    """Stripe's 403 message for a restricted key, which masks the key as Stripe does."""
    masked = key[:8] + "*" * 20 + key[-4:]
    return (
        f"The provided key '{masked}' does not have the required permissions for this endpoint on account "
        f"'{OWN_ACCOUNT}'. Having the '{permission}' permission would allow this request to continue."
    )


@dataclass
class Launched:
    """What the `source-stripe` command did: its exit code, the Airbyte messages it printed, and its stderr."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    @property
    def errors(self) -> List[Dict[str, Any]]:
        """The `error` of each TRACE error message."""
        return [m["trace"]["error"] for m in self.messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]

    @property
    def connection_status(self) -> Optional[Dict[str, Any]]:
        return next((m["connectionStatus"] for m in self.messages if m["type"] == "CONNECTION_STATUS"), None)

    def logs(self, level: str) -> List[str]:
        return [m["log"]["message"] for m in self.messages if m["type"] == "LOG" and m["log"]["level"] == level]


def launch_in_process(command: Optional[str], **files: Any) -> Launched:
    """Runs the `source-stripe` entry point in this process, where requests-mock can answer for Stripe, and as Python
    would run it: an exception it raises goes to the handler of uncaught exceptions and exits 1."""
    stdout, stderr = io.StringIO(), io.StringIO()
    # The CDK's print buffer writes to sys.__stdout__.
    with tempfile.TemporaryDirectory() as tmp, mock.patch.multiple(sys, stdout=stdout, stderr=stderr, __stdout__=stdout):
        try:
            exit_code = main(command_line(tmp, command, files))
        except SystemExit as exited:
            exit_code = exited.code
        except Exception as error:
            sys.excepthook(type(error), error, error.__traceback__)
            exit_code = 1
    return Launched(exit_code, stdout.getvalue(), stderr.getvalue())


def command_line(tmp: str, command: Optional[str], files: Mapping[str, Any]) -> List[str]:
    """`command` and `--<name> <file>` for each of `files`, written in `tmp`: a str as it is (to try files that are
    not JSON), a Path named as it is (to try files that do not exist), anything else as JSON."""
    args = [command] if command else []
    for name, content in files.items():
        path = content if isinstance(content, Path) else Path(tmp) / f"{name}.json"
        if not isinstance(content, Path):
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        args += [f"--{name}", str(path)]
    return args
