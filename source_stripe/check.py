"""The "Verify Connection" check: is the key valid, can it reach the account, and which tables can it read.

It never asks for /v1/account, which Stripe refuses to every restricted key whatever it was granted: the first probe
(events) proves the key and the account. Requests are built from the manifest (base URL, headers, each stream's path,
parameters and parent), so the check probes exactly what a sync will ask for, with limit=1 and all tables in parallel.
"""

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from airbyte_cdk.models import AirbyteConnectionStatus, Status
from airbyte_cdk.sources.declarative.interpolation import InterpolatedMapping, InterpolatedString

from source_stripe.config import key_mode
from source_stripe.tables import TableEntry, by_name, tables_of

EVENTS_PERMISSION = "Events: Read"
_PERMISSION_NAME = re.compile(r"'(rak_[a-z_]+)'")


@dataclass
class ProbeResult:
    status: str  # readable | forbidden | absent | unverified | refused (the key or account, not the table)
    first_record: Optional[Mapping[str, Any]] = None
    detail: str = ""


class ConnectionCheck:
    def __init__(self, manifest: Mapping[str, Any], config: Mapping[str, Any], logger: logging.Logger) -> None:
        self._config = config
        self._logger = logger
        requester = manifest["definitions"]["requester"]
        self._base_url = InterpolatedString.create(requester["url_base"], parameters={}).eval(config)
        headers = InterpolatedMapping(requester["request_headers"], parameters={}).eval(config)
        self._session = requests.Session()
        self._session.headers.update({name: str(value) for name, value in headers.items() if value})
        self._session.headers["Authorization"] = f"Bearer {config['api_key']}"
        retries = Retry(total=3, backoff_factor=0.5, status_forcelist=[429, 500, 502, 503, 504], respect_retry_after_header=True)
        self._session.mount("http://", HTTPAdapter(max_retries=retries, pool_maxsize=16))
        self._session.mount("https://", HTTPAdapter(max_retries=retries, pool_maxsize=16))
        self._tables = tables_of(manifest)

    def run(self) -> AirbyteConnectionStatus:
        """Stripe's first answer proves the key, its mode and the account: restricted keys may never read
        /v1/account, so the events list (one object) is asked first and the tables after it."""
        try:
            first = self._get("events", {"limit": 1})
        except requests.RequestException as error:
            return self._failed(f"Could not reach Stripe at {self._base_url}: {type(error).__name__}. Check the network and try again.")
        refusal = self._refusal(first)
        if refusal:
            return self._failed(refusal)
        events = self._probed(first)
        results = self._probe_tables()
        refusal = next((result.detail for result in results.values() if result.status == "refused"), None)
        if refusal:
            return self._failed(refusal)
        return self._verdict(results, events)

    def _refusal(self, response: requests.Response) -> Optional[str]:
        """Why no table at all can be read, when Stripe's answer says so: the key, the account, or Stripe itself."""
        if response.status_code == 401:
            return "Stripe rejected the API key: it is invalid or was revoked. Create a new key in the Stripe dashboard (Developers > API keys)."
        if response.status_code == 403 and _error_code(response) == "account_invalid":
            account = self._config.get("account_id")
            if account:
                return (
                    f"The key cannot reach the connected account {account}: it does not exist or has revoked this "
                    "platform's access. Check the account ID, or leave it empty to read the key's own account."
                )
            return f"Stripe refused the key access to its own account: {_error_message(response)}"
        if response.status_code >= 500:
            return f"Stripe is failing right now (HTTP {response.status_code}); try again in a few minutes."
        return None

    def _probe_tables(self) -> Dict[str, ProbeResult]:
        results: Dict[str, ProbeResult] = {}
        pending = list(self._tables)
        with ThreadPoolExecutor(max_workers=8) as pool:
            while pending:
                ready = [table for table in pending if table.parent is None or table.parent.table in results]
                pending = [table for table in pending if table not in ready]
                outcomes = pool.map(lambda table: self._probe_table(table, results), ready)
                results.update({table.name: outcome for table, outcome in zip(ready, outcomes)})
        return results

    def _probe_table(self, table: TableEntry, results: Mapping[str, ProbeResult]) -> ProbeResult:
        """The table's first row, asked as a sync asks for its rows: a child table's through its parent's first row."""
        params = {"limit": 1, **table.request_parameters}
        path = table.path
        if table.parent:
            parent_table = table.parent.table
            parent = results[parent_table]
            if parent.status != "readable":
                return ProbeResult("unverified", detail=f"it is read through {parent_table}, which could not be read")
            if parent.first_record is None:
                return ProbeResult("unverified", detail=f"there are no {parent_table} yet to read it through")
            if table.lists_one_parent_in_path:
                path = InterpolatedString.create(table.path, parameters={}).eval(self._config, parent=parent.first_record)
            else:
                params[table.parent.key] = parent.first_record["id"]
        return self._probe(path, params, legacy_absent_ok=table.error_handler is not None)

    def _probe(self, path: str, params: Mapping[str, Any], legacy_absent_ok: bool = False) -> ProbeResult:
        try:
            response = self._get(path, params)
        except requests.RequestException as error:
            return ProbeResult("unverified", detail=f"Stripe could not be reached ({type(error).__name__})")
        # Stripe failing on one table leaves that table unverified; a bad key or account fails the whole check.
        refusal = self._refusal(response) if response.status_code < 500 else None
        if refusal:
            return ProbeResult("refused", detail=refusal)
        return self._probed(response, legacy_absent_ok)

    @staticmethod
    def _probed(response: requests.Response, legacy_absent_ok: bool = False) -> ProbeResult:
        if response.status_code == 403:
            return ProbeResult("forbidden", detail=_permission_named_in(response) or "")
        if response.status_code == 404 and legacy_absent_ok:
            return ProbeResult("absent")
        if not response.ok:
            return ProbeResult("unverified", detail=f"Stripe answered HTTP {response.status_code}")
        try:
            data = response.json().get("data") or []
        except ValueError:
            return ProbeResult("unverified", detail="Stripe's answer was not JSON")
        return ProbeResult("readable", first_record=data[0] if data else None)

    def _get(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        return self._session.get(self._base_url + path, params=params, timeout=(10, 30))

    def _verdict(self, results: Mapping[str, ProbeResult], events: ProbeResult) -> AirbyteConnectionStatus:
        probes = by_name(self._tables)
        forbidden = [name for name, result in results.items() if result.status == "forbidden"]
        lines: List[str] = [
            f'{name}: grant "{probes[name].permission}"' for name in forbidden
        ] + [
            f"{name}: not verified, {result.detail}" for name, result in results.items() if result.status == "unverified"
        ] + [
            f"{name}: this account has no legacy Orders API, so the table will be empty"
            for name, result in results.items()
            if result.status == "absent"
        ]
        if events.status == "readable":
            lines.append("events: readable, so incremental syncs capture updates and deletions")
        else:
            lines.append(
                f'events: grant "{EVENTS_PERMISSION}" so incremental syncs capture updates and deletions; '
                "without it they rely on the lookback window"
            )
        readable = [name for name, result in results.items() if result.status in ("readable", "absent")]
        if not readable and forbidden:
            return self._failed(
                "The key can read none of the tables. In the Stripe dashboard, grant it: "
                + ", ".join(sorted({f'"{probes[name].permission}"' for name in forbidden}))
                + "."
            )
        summary = f"The key can read {len(readable)} of {len(results)} tables of {self._whose_account()}. " + "; ".join(lines) + "."
        (self._logger.warning if forbidden else self._logger.info)(summary)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=summary)

    def _whose_account(self) -> str:
        """Stripe accepted the key, whose prefix (checked against `environment` before any request) is its mode."""
        account = self._config.get("account_id")
        mode = key_mode(self._config["api_key"])
        return f"the connected account {account} in {mode} mode" if account else f"its own account in {mode} mode"

    def _failed(self, message: str) -> AirbyteConnectionStatus:
        self._logger.error(message)
        return AirbyteConnectionStatus(status=Status.FAILED, message=message)


def _error_code(response: requests.Response) -> Optional[str]:
    try:
        return (response.json().get("error") or {}).get("code")
    except (ValueError, AttributeError):
        return None


def _error_message(response: requests.Response) -> str:
    try:
        return (response.json().get("error") or {}).get("message") or f"HTTP {response.status_code}"
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"


def _permission_named_in(response: requests.Response) -> Optional[str]:
    match = _PERMISSION_NAME.search(response.text)
    return match.group(1) if match else None
