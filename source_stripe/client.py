"""The one way `check` and `read` reach Stripe: the manifest's requester (base URL, key, pinned version, account,
timeouts), one request budget, and each table's error handlers, so both retry and judge Stripe's answers alike."""

import threading
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from source_stripe.tables import TableEntry, tables_of
from source_stripe.transport import RequestBudget, StripeConnection, TableRequests, requests_per_second

# Stripe's event list: a table of its own, and what every incremental sync replays and the check asks first.
EVENTS_PATH = "events"
# What the logs call the one request for the key's own account.
OWN_ACCOUNT = "own_account"
# The connected accounts of a Connect platform: a table of their own, and the accounts `connected_accounts: all` reads.
ACCOUNTS_PATH = "accounts"


class StripeClient:
    """`build(definition, parameters)` makes the manifest component a definition describes, carrying a table's
    parameters (its error handlers' messages name the table and its permission)."""

    def __init__(self, manifest: Mapping[str, Any], config: Mapping[str, Any], build: Callable[[Mapping[str, Any], Mapping[str, Any]], Any], connections: int) -> None:
        self._definitions, self._build = manifest["definitions"], build
        self._handlers: Dict[Tuple[str, int], Any] = {}
        self._lock = threading.Lock()
        self.events_table = next(table for table in tables_of(manifest) if table.path == EVENTS_PATH)
        self.accounts_table = next(table for table in tables_of(manifest) if table.path == ACCOUNTS_PATH)
        requester = self._definitions["requester"]
        self.connection = StripeConnection(
            build(requester, {"name": "requests"}), requester, config, RequestBudget(requests_per_second(config)), connections
        )

    def lists(self, table: TableEntry, max_retries: Optional[int] = None, account: Optional[str] = None) -> TableRequests:
        """The table's list pages, judged by its own error handler if its entry has one; `account`, the connected
        account they are asked of (None: the one the config's account_id names, or the key's own)."""
        handler = self._handler(table, table.error_handler or self._definitions["error_handler"])
        return self.connection.requests_of(table.name, handler, max_retries, account)

    def objects(self, table: TableEntry, account: Optional[str] = None) -> TableRequests:
        """Single objects of the table, re-fetched as the pinned API version renders them."""
        handler = self._handler(table, self._definitions["retrieve_error_handler"])
        return self.connection.requests_of(table.name, handler, account=account)

    def _handler(self, table: TableEntry, definition: Mapping[str, Any]) -> Any:
        """Built once per table for all accounts: building costs milliseconds, and what a handler says once (a product
        the account does not use) it says once for them all."""
        key = (table.name, id(definition))
        with self._lock:
            if key not in self._handlers:
                self._handlers[key] = self._build(definition, _parameters(table))
            return self._handlers[key]

    def events(self, max_retries: Optional[int] = None, account: Optional[str] = None) -> TableRequests:
        return self.lists(self.events_table, max_retries, account)

    def account(self) -> TableRequests:
        """GET /v1/account, which says the key's own account (a restricted key's refusal names it too)."""
        handler = self._build(self._definitions["object_error_handler"], {"name": OWN_ACCOUNT, "permission": "none"})
        return self.connection.requests_of(OWN_ACCOUNT, handler)


def _parameters(table: TableEntry) -> Mapping[str, Any]:
    return {"name": table.name, "permission": table.permission}
