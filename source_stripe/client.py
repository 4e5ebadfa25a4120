"""The one way `check` and `read` reach Stripe: the manifest's requester (base URL, key, pinned version, account,
timeouts), one request budget, and each table's error handlers, so both retry and judge Stripe's answers alike."""

from typing import Any, Callable, Mapping, Optional

from source_stripe.tables import TableEntry, tables_of
from source_stripe.transport import RequestBudget, StripeConnection, TableRequests, requests_per_second

# Stripe's event list: a table of its own, and what every incremental sync replays and the check asks first.
EVENTS_PATH = "events"


class StripeClient:
    """`build(definition, parameters)` makes the manifest component a definition describes, carrying a table's
    parameters (its error handlers' messages name the table and its permission)."""

    def __init__(self, manifest: Mapping[str, Any], config: Mapping[str, Any], build: Callable[[Mapping[str, Any], Mapping[str, Any]], Any], connections: int) -> None:
        self._definitions, self._build = manifest["definitions"], build
        self.events_table = next(table for table in tables_of(manifest) if table.path == EVENTS_PATH)
        requester = self._definitions["requester"]
        self.connection = StripeConnection(
            build(requester, {"name": "requests"}), requester, config, RequestBudget(requests_per_second(config)), connections
        )

    def lists(self, table: TableEntry, max_retries: Optional[int] = None) -> TableRequests:
        """The table's list pages, judged by its own error handler if its entry has one."""
        handler = table.error_handler or self._definitions["error_handler"]
        return self.connection.requests_of(table.name, self._build(handler, _parameters(table)), max_retries)

    def objects(self, table: TableEntry) -> TableRequests:
        """Single objects of the table, re-fetched as the pinned API version renders them."""
        return self.connection.requests_of(table.name, self._build(self._definitions["retrieve_error_handler"], _parameters(table)))

    def events(self, max_retries: Optional[int] = None) -> TableRequests:
        return self.lists(self.events_table, max_retries)


def _parameters(table: TableEntry) -> Mapping[str, Any]:
    return {"name": table.name, "permission": table.permission}
