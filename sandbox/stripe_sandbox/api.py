"""Stripe's GET API as the connector sees it: auth, accounts, rate limits, parameter checks, lists.

Validation follows Stripe's order and wording, since connectors (and their tests) key off messages
such as "Received unknown parameter: foo" or the permission named in a 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl

from . import access
from . import keys as keys_module
from .access import ApiError
from .spec import EVENT_WINDOW, FILTERED_TABLES, TABLE_FACTS, TABLE_OBJECTS, Endpoint
from .state import SandboxState
from .dataset import Dataset
from .store import PARENT_TABLES, MixedList, page

PAGING = {"limit", "starting_after", "ending_before", "expand", "created"}
RANGE_OPS = ("gt", "gte", "lt", "lte")
SUBSCRIPTION_STATUSES = (
    "active", "all", "canceled", "ended", "incomplete", "incomplete_expired",
    "past_due", "paused", "trialing", "unpaid",
)  # fmt: skip
DOCS = "https://stripe.com/docs"


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    route: str  # the endpoint template, so stats don't grow one entry per object id
    headers: dict[str, str] = field(default_factory=dict)


# Stripe filters the event list by at most this many types at once.
MAX_EVENT_TYPES = 20


def _invalid(message: str, param: str | None = None, **extra: str) -> ApiError:
    return ApiError(400, message, **({"param": param} if param else {}), **extra)


def _missing(object_type: str, object_id: str, param: str, status: int = 404) -> ApiError:
    return ApiError(
        status,
        f"No such {object_type}: '{object_id}'",
        code="resource_missing",
        param=param,
        doc_url=f"{DOCS}/error-codes/resource-missing",
    )


def _unrecognized(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


@dataclass
class Query:
    plain: dict[str, str]
    deep: dict[str, dict[str, str]]  # name[key]=value; name[]=value collects under keys "0", "1", ...


def parse_query(raw: str, endpoint: Endpoint) -> Query:
    query = Query({}, {})
    for name, value in parse_qsl(raw, keep_blank_values=True):
        found = re.fullmatch(r"([A-Za-z0-9_]+)(?:\[([^\[\]]*)\])?", name)
        base, key = (found.group(1), found.group(2)) if found else (name, None)
        if base not in endpoint.params or (key is not None and base not in endpoint.deep_object):
            raise _invalid(f"Received unknown parameter: {name}", name)
        if key is None:
            query.plain[base] = value
        else:
            bucket = query.deep.setdefault(base, {})
            bucket[key or str(len(bucket))] = value
    for name in endpoint.required:
        if name not in query.plain:
            raise _invalid(f"Missing required param: {name}.", name)
    return query


def _integer(value: str, param: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _invalid(f"Invalid integer: {value}", param) from None


def _boolean(value: str, param: str) -> bool:
    if value not in ("true", "false"):
        raise _invalid(f"Invalid boolean: {value}", param)
    return value == "true"


def _range(query: Query, name: str) -> dict[str, int]:
    """created=123, or created[gte]=…&created[lt]=…, as Stripe accepts both."""
    if name in query.plain:
        exact = _integer(query.plain[name], name)
        return {"gte": exact, "lte": exact}
    bounds = {}
    for op, value in query.deep.get(name, {}).items():
        if op not in RANGE_OPS:
            raise _invalid(f"Received unknown parameter: {name}[{op}]", f"{name}[{op}]")
        bounds[op] = _integer(value, f"{name}[{op}]")
    return bounds


def _in_range(value: Any, bounds: dict[str, int]) -> bool:
    if not isinstance(value, int):
        return False
    return (
        ("gt" not in bounds or value > bounds["gt"])
        and ("gte" not in bounds or value >= bounds["gte"])
        and ("lt" not in bounds or value < bounds["lt"])
        and ("lte" not in bounds or value <= bounds["lte"])
    )


def _limit(query: Query) -> int:
    if "limit" not in query.plain:
        return 10
    limit = _integer(query.plain["limit"], "limit")
    if limit < 1:
        raise _invalid("This value must be greater than or equal to 1.", "limit")
    if limit > 100:
        raise _invalid("This value must be less than or equal to 100.", "limit")
    return limit


class StripeApi:
    def __init__(self, state: SandboxState):
        self.state = state

    def handle(self, method: str, path: str, raw_query: str, headers: dict[str, str]) -> Response:
        """`headers` has lower-case names."""
        match = self.state.spec.match(path)
        route = match[0].template if match else "(unrecognized)"
        try:
            return self._handle(method, path, raw_query, headers, match)
        except ApiError as error:
            extra = {}
            if error.status == 401:
                extra["WWW-Authenticate"] = 'Basic realm="Stripe"'
            if error.status == 429:
                extra["Stripe-Should-Retry"] = "true"
            return Response(error.status, {"error": error.error}, route, extra)

    def _handle(self, method, path, raw_query, headers, match) -> Response:
        state = self.state
        key, account_id = access.admitted(state, headers)
        mode = keys_module.mode_of(key)
        if not state.faults.admit(mode):
            raise ApiError(
                429,
                "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                code="rate_limit",
                doc_url=f"{DOCS}/error-codes/rate-limit",
            )
        if match is None or method != "GET":
            raise _unrecognized(method, path)
        endpoint, path_args = match
        if endpoint.table == "order_returns" and not state.knobs.orders_api:
            raise _unrecognized(method, path)
        access.refuse_what_the_key_may_not_read(state, key, account_id, endpoint)
        access.refuse_products_the_account_lacks(state, account_id, endpoint)
        query = parse_query(raw_query, endpoint)
        if endpoint.kind == "account":
            return Response(200, state.account_objects[account_id], endpoint.template)
        dataset = state.dataset(account_id, mode)
        handler = getattr(self, f"_{endpoint.kind}")
        return Response(200, handler(dataset, endpoint, path, path_args, query), endpoint.template)

    # -- endpoints -----------------------------------------------------------------------------

    def _retrieve(self, dataset: Dataset, endpoint: Endpoint, path: str, args: tuple[str, ...], query: Query):
        object_id = args[-1]
        table = next((dataset.tables[t] for t in endpoint.tables if object_id in dataset.tables[t].objects), dataset.tables[endpoint.table])
        obj = table.objects.get(object_id)
        if len(args) > 1 and obj is not None and obj[table.parent_field] != args[0]:
            obj = None  # one parent's object, asked of another (or of the one it left: a detached payment method)
        if obj is None:
            if endpoint.table == "customers" and object_id in table.deleted:
                return {"id": object_id, "object": "customer", "deleted": True}
            raise _missing(TABLE_OBJECTS[endpoint.table], object_id, "id")
        return obj

    def _event(self, dataset: Dataset, endpoint: Endpoint, path: str, args: tuple[str, ...], query: Query):
        event = dataset.events.objects.get(args[0])
        now = self.state.now
        if event is None or event["created"] < now - EVENT_WINDOW or not dataset.events.is_listed(event, now):
            raise _missing("event", args[0], "id")
        return event

    def _list(self, dataset: Dataset, endpoint: Endpoint, path: str, args: tuple[str, ...], query: Query):
        table = dataset.tables[endpoint.table] if len(endpoint.tables) == 1 else MixedList([dataset.tables[t] for t in endpoint.tables])
        filtered = [FILTERED_TABLES[key] for key in ((table.name, name) for name in query.plain) if key in FILTERED_TABLES]
        if filtered:
            table = dataset.tables[filtered[0]]
        parent = None
        if table.parent_field:
            parent_table = PARENT_TABLES[table.parent_field]
            parent = args[0] if args else query.plain[table.parent_field]
            if parent not in dataset.tables[parent_table].objects:
                raise _missing(TABLE_OBJECTS[parent_table], parent, table.parent_field)
            if parent_table == "payouts" and not dataset.tables[parent_table].objects[parent]["automatic"]:
                raise _invalid("Balance transaction history can only be filtered on automatic transfers, not manual.", "payout")
        accept = self._filters(endpoint, query, skip=table.parent_field)
        data, has_more = self._page(dataset, table, table.keys(parent), query, accept, floor=None)
        if table.parent_field and not TABLE_FACTS[table.name]["names_parent"]:
            # The sandbox indexes these rows by their parent, which Stripe's object does not name (an invoice's lines).
            data = [{name: value for name, value in obj.items() if name != table.parent_field} for obj in data]
        return {"object": "list", "data": data, "has_more": has_more, "url": path}

    def _events(self, dataset: Dataset, endpoint: Endpoint, path: str, args: tuple[str, ...], query: Query):
        types = list(query.deep.get("types", {}).values())
        single = query.plain.get("type")
        if types and single is not None:
            raise _invalid("You may only specify one of these parameters: type, types.", "types")
        if len(types) > MAX_EVENT_TYPES:
            raise _invalid(f"Invalid array: types may have at most {MAX_EVENT_TYPES} elements.", "types")
        if types:
            wanted = set(types)
            of_type = lambda event: event["type"] in wanted  # noqa: E731
        elif single is not None:
            of_type = lambda event: fnmatchcase(event["type"], single)  # noqa: E731 - Stripe allows "customer.*"
        else:
            of_type = lambda event: True  # noqa: E731
        log, now = dataset.events, self.state.now
        accept = of_type if not log.visible_at else lambda event: of_type(event) and log.is_listed(event, now)
        # Stripe keeps 30 days of events; older ones are gone whatever the created filter asks.
        floor = self.state.now - EVENT_WINDOW
        data, has_more = self._page(dataset, dataset.events, dataset.events.order, query, accept, floor=floor)
        return {"object": "list", "data": data, "has_more": has_more, "url": path}

    # -- shared list machinery -----------------------------------------------------------------

    def _page(self, dataset, table, keys, query: Query, accept, floor: int | None):
        limit = _limit(query)
        after, before = query.plain.get("starting_after"), query.plain.get("ending_before")
        if after is not None and before is not None:
            raise _invalid(
                "You may only specify one of these parameters: ending_before, starting_after.", "ending_before"
            )
        created = _range(query, "created") if "created" in query.plain or "created" in query.deep else {}
        if floor is not None:
            created["gte"] = max(created.get("gte", floor), floor)
        with dataset.lock:
            cursors = {}
            for param, cursor_id in (("starting_after", after), ("ending_before", before)):
                if cursor_id is not None:
                    cursor = table.objects.get(cursor_id)
                    if cursor is None:
                        object_type = "event" if table is dataset.events else TABLE_OBJECTS[table.name]
                        raise _missing(object_type, cursor_id, param, status=400)
                    cursors[param] = table.key(cursor)
            return page(table, keys, limit=limit, created=created, accept=accept, **cursors)

    def _filters(self, endpoint: Endpoint, query: Query, skip: str | None) -> Callable[[dict[str, Any]], bool] | None:
        """Turn the list's filter parameters into one predicate. Filters on fields the sandbox doesn't
        model (e.g. test_clock on objects without one) simply match nothing, as in Stripe."""
        checks: list[Callable[[dict[str, Any]], bool]] = []
        example = self.state.spec.examples[TABLE_OBJECTS[endpoint.table]]
        for name, value in query.plain.items():
            if name in PAGING or name == skip:
                continue
            if endpoint.table == "subscriptions" and name == "status":
                continue
            if endpoint.table == "subscriptions" and name == "price":
                checks.append(lambda o, v=value: any(i["price"]["id"] == v for i in o["items"]["data"]))
            elif name in example and isinstance(example[name], bool):
                wanted = _boolean(value, name)
                checks.append(lambda o, n=name, w=wanted: o.get(n) is w)
            elif name in example:
                checks.append(lambda o, n=name, v=value: _id_of(o.get(n)) == v)
        for name, values in query.deep.items():
            if name in PAGING:
                continue
            if set(values) <= set(RANGE_OPS) and name in example:
                bounds = _range(query, name)
                checks.append(lambda o, n=name, b=bounds: _in_range(o.get(n), b))
            elif name in ("ids", "lookup_keys"):
                field_name, wanted = ("id" if name == "ids" else "lookup_key"), set(values.values())
                checks.append(lambda o, f=field_name, w=wanted: o.get(f) in w)
            elif name in example:
                for sub, value in values.items():
                    checks.append(lambda o, n=name, s=sub, v=value: str((o.get(n) or {}).get(s)).lower() == v)
        if endpoint.table == "subscriptions":
            status = query.plain.get("status")
            if status is not None and status not in SUBSCRIPTION_STATUSES:
                raise _invalid(f"Invalid status: must be one of {', '.join(SUBSCRIPTION_STATUSES)}", "status")
            if status is None:
                checks.append(lambda o: o["status"] != "canceled")  # Stripe hides canceled by default
            elif status == "ended":
                checks.append(lambda o: o["status"] in ("canceled", "incomplete_expired"))
            elif status != "all":
                checks.append(lambda o, s=status: o["status"] == s)
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda o: all(check(o) for check in checks)


def _id_of(value: Any) -> Any:
    """What a filter on a field compares: the id of an object the field embeds (a promotion code's coupon)."""
    return value["id"] if isinstance(value, dict) and "id" in value else value
