"""The one way `check` and `read` reach Stripe: the manifest's requester (base URL, key, pinned version, account,
timeouts), one request budget, and each table's error handlers, so both retry and judge Stripe's answers alike."""

from typing import Any, Callable, Mapping, Optional

from source_stripe.tables import TableEntry, tables_of
from source_stripe.transport import RequestBudget, StripeConnection, TableRequests, requests_per_second

# Stripe's event list: a table of its own, and what every incremental sync replays and the check asks first.
EVENTS_PATH = "events"
# The connected accounts of a Connect platform: a table of their own, and the accounts `connected_accounts: all` reads.
ACCOUNTS_PATH = "accounts"


class StripeClient:
    """`build(definition, parameters)` makes the manifest component a definition describes, carrying a table's
    parameters (its error handlers' messages name the table and its permission)."""

    def __init__(self, manifest: Mapping[str, Any], config: Mapping[str, Any], build: Callable[[Mapping[str, Any], Mapping[str, Any]], Any], connections: int) -> None:
        self._definitions, self._build = manifest["definitions"], build
        self.events_table = next(table for table in tables_of(manifest) if table.path == EVENTS_PATH)
        self.accounts_table = next(table for table in tables_of(manifest) if table.path == ACCOUNTS_PATH)
        requester = self._definitions["requester"]
        self.connection = StripeConnection(
            build(requester, {"name": "requests"}), requester, config, RequestBudget(requests_per_second(config)), connections
        )

    def lists(self, table: TableEntry, max_retries: Optional[int] = None, account: Optional[str] = None) -> TableRequests:
        """The table's list pages, judged by its own error handler if its entry has one; `account`, the connected
        account they are asked of (None: the one the config's account_id names, or the key's own)."""
        handler = table.error_handler or self._definitions["error_handler"]
        return self.connection.requests_of(table.name, self._build(handler, _parameters(table)), max_retries, account)

    def objects(self, table: TableEntry, account: Optional[str] = None) -> TableRequests:
        """Single objects of the table, re-fetched as the pinned API version renders them."""
        handler = self._build(self._definitions["retrieve_error_handler"], _parameters(table))
        return self.connection.requests_of(table.name, handler, account=account)

    def events(self, max_retries: Optional[int] = None, account: Optional[str] = None) -> TableRequests:
        return self.lists(self.events_table, max_retries, account)

    def account(self) -> TableRequests:
        """GET /v1/account, which says the key's own account (a restricted key's refusal names it too)."""
        handler = self._build(self._definitions["object_error_handler"], {"name": "the account", "permission": "none"})
        return self.connection.requests_of("account", handler)


def _parameters(table: TableEntry) -> Mapping[str, Any]:
    return {"name": table.name, "permission": table.permission}
