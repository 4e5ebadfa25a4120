"""The "Verify Connection" check: is the key valid, can it reach the account, and which tables can it read.

It never asks for /v1/account, which Stripe refuses to every restricted key whatever it was granted: the first probe
(events) proves the key and the account. Requests are built from the manifest (base URL, headers, each stream's path,
parameters and parent), so the check probes exactly what a sync will ask for, one row (or a parent's page) of each
table, in parallel.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import requests

from airbyte_cdk.models import AirbyteConnectionStatus, Status

from source_stripe.accounts import Account, SyncAccounts
from source_stripe.children import ParentStep, path_of_one_parent
from source_stripe.client import EVENTS_PATH, StripeClient
from source_stripe.components import answered_by, parsed_body
from source_stripe.config import key_mode
from source_stripe.transport import StripeRefused, TableRequests
from source_stripe.tables import TableEntry, by_name, tables_of

PROBES_AT_ONCE = 8
# The parent of a table whose entry lets only some parents have rows (`when`) is probed for a page, so that the
# table's probe goes through a parent that may have some (Stripe refuses a manual payout's balance transactions).
PARENT_PROBE_PAGE = 100
# Retries of one probe, with the sync's backoff: a check answers within seconds when Stripe keeps failing.
PROBE_RETRIES = 3


@dataclass
class ProbeResult:
    status: str  # readable | forbidden | empty | unverified | refused (the key or account, not the table)
    rows: Sequence[Mapping[str, Any]] = ()
    detail: str = ""
    response: Optional[requests.Response] = None


class ConnectionCheck:
    def __init__(self, manifest: Mapping[str, Any], config: Mapping[str, Any], client: StripeClient, logger: logging.Logger) -> None:
        self._config, self._client, self._logger = config, client, logger
        self._tables = tables_of(manifest)
        self._entries = by_name(self._tables)

    def run(self) -> AirbyteConnectionStatus:
        """Stripe's first answer proves the key, its mode and the account: restricted keys may never read
        /v1/account, so the events list (one object) is asked first and the tables after it."""
        first = self._ask(self._client.events(PROBE_RETRIES), EVENTS_PATH, {"limit": 1})
        if first.response is None:
            return self._failed(f"Could not reach Stripe at {self._client.connection.base_url}: {first.detail} Check the network and try again.")
        refusal = self._refusal(first.response)
        if refusal:
            return self._failed(refusal)
        results = self._probe_tables()
        refusal = next((result.detail for result in results.values() if result.status == "refused"), None)
        if refusal:
            return self._failed(refusal)
        return self._verdict(results, first, self._probe_accounts())

    def _probe_accounts(self) -> List[str]:
        """With several accounts configured, those the key cannot read and why, each asked as a sync asks."""
        accounts = SyncAccounts(self._client, self._config)
        if not accounts.several:
            return []
        listed = accounts.accounts()
        ask = lambda account: self._ask(self._client.events(PROBE_RETRIES, account=account.header), EVENTS_PATH, {"limit": 1})  # noqa: E731
        with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:
            results = list(pool.map(ask, listed))
        connect = self._client.accounts_table.permission
        lost = [f"{account.id}: {why}" for account, result in zip(listed, results) if (why := _why_unreadable(account, result, connect))]
        return [f"connected_accounts: {len(listed) - len(lost)} of {len(listed)} accounts can be read", *lost]

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
        choosing = {table.parent.table for table in self._tables if table.parent and table.parent.when}
        with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:
            while pending:
                ready = [table for table in pending if table.parent is None or table.parent.table in results]
                pending = [table for table in pending if table not in ready]
                limits = [PARENT_PROBE_PAGE if table.name in choosing else 1 for table in ready]
                outcomes = pool.map(lambda table, limit: self._probe_table(table, results, limit), ready, limits)
                results.update({table.name: outcome for table, outcome in zip(ready, outcomes)})
        return results

    def _probe_table(self, table: TableEntry, results: Mapping[str, ProbeResult], limit: int) -> ProbeResult:
        """The table's first rows, asked as a sync asks for its rows: a child table's through the newest parent that
        may have some."""
        params = {"limit": limit, **table.request_parameters}
        path, ruled_out = table.path, False
        if table.parent:
            parent_table = table.parent.table
            parent = results[parent_table]
            if parent.status == "empty":  # a product the account does not use: its children are empty too
                return ProbeResult("empty", detail=f"{table.name}: empty, as {parent_table} is")
            if parent.status != "readable":
                return ProbeResult("unverified", detail=f"it is read through {parent_table}, which could not be read")
            if not parent.rows and table.permission_id == self._entries[parent_table].permission_id:
                return ProbeResult("readable")  # the same permission as its parent's, which the key has
            if not parent.rows:
                return ProbeResult("unverified", detail=f"there are no {parent_table} yet to read it through")
            step = ParentStep(table, http=None)
            # Without a parent that may have rows, the newest one still shows whether the key may read the table.
            through = next((row for row in parent.rows if step.may_have_rows(row)), parent.rows[0])
            ruled_out = not step.may_have_rows(through)
            if table.lists_one_parent_in_path:
                path = path_of_one_parent(table, through)
            else:
                params[table.parent.key] = through["id"]
        result = self._ask(self._client.lists(table, PROBE_RETRIES), path, params)
        if ruled_out and result.response is not None and result.response.status_code == 400:
            return ProbeResult("unverified", detail=f"none of the newest {table.parent.table} can have any to read it through")
        if result.response is None:
            return ProbeResult("unverified", detail=f"Stripe could not be reached ({result.detail})")
        # Stripe failing on one table leaves that table unverified; a bad key or account fails the whole check.
        refusal = self._refusal(result.response) if result.response.status_code < 500 else None
        return ProbeResult("refused", detail=refusal) if refusal else result

    @staticmethod
    def _ask(table_requests: TableRequests, path: str, params: Mapping[str, Any]) -> ProbeResult:
        """What one probe found, judged by the table's error handler as a sync would judge it."""
        try:
            response, ignored_because = table_requests.answer(path, params)
        except StripeRefused as refused:
            response = refused.response
            if response is None:
                return ProbeResult("unverified", detail=refused.message)
            if response.status_code == 403:
                return ProbeResult("forbidden", response=response)
            return ProbeResult("unverified", response=response, detail=f"{answered_by(response)} answered HTTP {response.status_code}")
        if ignored_because:  # an answer the table's error handler says means no rows
            return ProbeResult("empty", response=response, detail=ignored_because)
        data = parsed_body(response)["data"]
        return ProbeResult("readable", response=response, rows=data)

    def _verdict(self, results: Mapping[str, ProbeResult], events: ProbeResult, accounts: List[str]) -> AirbyteConnectionStatus:
        probes = self._entries
        forbidden = [name for name, result in results.items() if result.status == "forbidden"]
        events_table = self._client.events_table
        lines: List[str] = [
            f'{name}: grant "{probes[name].permission}"' for name in forbidden if name != events_table.name  # said below
        ] + [
            f"{name}: not verified, {result.detail}" for name, result in results.items() if result.status == "unverified"
        ] + [
            result.detail.rstrip(".") for result in results.values() if result.status == "empty"
        ]
        if events.status == "readable":
            lines.append("events: readable, so incremental syncs capture updates and deletions")
        else:
            lines.append(
                f'events: grant "{events_table.permission}" so incremental syncs capture updates and deletions; '
                "without it they rely on the lookback window"
            )
        readable = [name for name, result in results.items() if result.status in ("readable", "empty")]
        if not readable and forbidden:
            return self._failed(
                "The key can read none of the tables. In the Stripe dashboard, grant it: "
                + ", ".join(sorted({f'"{probes[name].permission}"' for name in forbidden}))
                + "."
            )
        lines += accounts
        summary = f"The key can read {len(readable)} of {len(results)} tables of {self._whose_account()}. " + "; ".join(lines) + "."
        (self._logger.warning if forbidden or len(accounts) > 1 else self._logger.info)(summary)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=summary)

    def _whose_account(self) -> str:
        """Stripe accepted the key, whose prefix (checked against `environment` before any request) is its mode."""
        account = self._config.get("account_id")
        mode = key_mode(self._config["api_key"])
        return f"the connected account {account} in {mode} mode" if account else f"its own account in {mode} mode"

    def _failed(self, message: str) -> AirbyteConnectionStatus:
        self._logger.error(message)
        return AirbyteConnectionStatus(status=Status.FAILED, message=message)


def _why_unreadable(account: Account, probe: ProbeResult, connect_permission: str) -> Optional[str]:
    """Why the key cannot read a connected account at all, when Stripe's answer to its probe says so."""
    response = probe.response
    if response is None or response.status_code != 403 or account.header is None:
        return None
    if _error_code(response) == "account_invalid":
        return f"cannot be read, it disconnected or revoked this platform's access ({_error_message(response)})"
    if "Stripe-Account" in _error_message(response):
        return f'cannot be read: grant the key Stripe\'s Connect permissions, such as "{connect_permission}" ({_error_message(response)})'
    return None


def _stripe_error(response: requests.Response) -> Mapping[str, Any]:
    body = parsed_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _error_code(response: requests.Response) -> Optional[str]:
    return _stripe_error(response).get("code")


def _error_message(response: requests.Response) -> str:
    return _stripe_error(response).get("message") or f"HTTP {response.status_code}"
