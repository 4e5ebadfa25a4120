"""The README's main job: sync every Stripe table into a local DuckDB file through PyAirbyte, change some data, sync
again incrementally, and show what arrived and what changed.

With no argument it starts the local Stripe sandbox (a few thousand realistic objects), syncs it, then creates,
updates and deletes objects through the sandbox's admin API and runs an incremental sync. Given a config file it
syncs the real Stripe account the config names, then runs a second, incremental sync without changing anything.
Each run starts from a fresh database file.

    python scripts/demo.py [--config secrets/config.json] [--db demo/stripe.duckdb] [--size 3000]
"""

import argparse
import json
import logging
import os
import shutil
import sys
import time
import warnings
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

# PyAirbyte otherwise asks Airbyte's online registry about every connector it runs; the connector is installed here.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The Google Cloud libraries PyAirbyte imports warn on import about their Python 3.11 support; nothing here uses them.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")

import airbyte as ab  # noqa: E402  (must see the environment above)
from query_duckdb import example_command  # noqa: E402  (scripts/query_duckdb.py, next to this script)
from sqlalchemy import text  # noqa: E402

from source_stripe.summary import SUMMARY_TITLE  # noqa: E402

BUSINESS_QUERY = """
-- Monthly recurring revenue of active subscriptions, by the month they started (licensed prices, in the price's currency).
SELECT strftime(to_timestamp(s.start_date), '%Y-%m')                                    AS started,
       count(DISTINCT s.id)                                                              AS active_subscriptions,
       round(sum(
           CAST(json_extract(i.price, '$.unit_amount') AS DOUBLE) * coalesce(i.quantity, 1) / 100
           * CASE json_extract_string(i.price, '$.recurring.interval')
                 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 ELSE 1 END
           / coalesce(CAST(json_extract(i.price, '$.recurring.interval_count') AS DOUBLE), 1)), 2) AS mrr
FROM subscriptions s
JOIN subscription_items i ON i.subscription = s.id
WHERE s.status = 'active' AND NOT s.is_deleted AND NOT i.is_deleted
  AND json_extract_string(i.price, '$.recurring.usage_type') = 'licensed'
GROUP BY 1 ORDER BY 1 DESC LIMIT 12
"""

COLUMNS_OF_TABLE = (
    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = :table"
)

# Per table and id: (_airbyte_raw_id, is_deleted, hash of the data columns but observed_at). The raw id says whether
# the row now holds a record of the last sync; the hash whether that record differs from what the row held before.
Snapshot = Dict[str, Dict[str, Tuple[str, bool, int]]]


@dataclass
class SyncReport:
    seconds: float
    records: Dict[str, int]  # records the sync read, per table
    requests: Optional[int]  # API requests it made (known for the sandbox only)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="a source-stripe config file; without it, a local sandbox is synced")
    parser.add_argument("--db", type=Path, default=Path("demo/stripe.duckdb"), help="DuckDB file to write (default: %(default)s)")
    parser.add_argument("--size", type=int, default=3000, help="sandbox objects across all tables (default: %(default)s)")
    args = parser.parse_args()

    with ExitStack() as stack:
        sandbox = None if args.config else _start_sandbox(stack, args.size)
        config = _config_from_file(args.config) if args.config else _sandbox_config(sandbox)
        executable = shutil.which("source-stripe") or str(Path(sys.executable).with_name("source-stripe"))
        source = ab.get_source("source-stripe", config=config, local_executable=executable)

        _say("checking the connection")
        source.check()
        source.select_all_streams()
        streams = sorted(source.get_selected_streams())

        _start_fresh_database(args.db)
        cache = ab.DuckDBCache(db_path=str(args.db), schema_name="main")

        _say(f"1/4 first sync: all {len(streams)} tables into {args.db}")
        first = _sync(source, cache, streams, sandbox)
        saved = cache.get_state_provider(source_name=source.name).known_stream_names
        _say(f"first sync finished in {first.seconds:.1f}s: {_requests(first)}{sum(first.records.values())} records; "
             f"state saved for {len(saved)} tables")
        _print_counts(cache, streams)
        _print_query(cache, BUSINESS_QUERY)

        before = _snapshot(cache, streams)
        if sandbox is not None:
            _say("2/4 changing data in the sandbox through its admin API")
            _change_sandbox_data(sandbox)
        else:
            _say("2/4 a real account: changing nothing, so the next sync shows only what changed in Stripe meanwhile "
                 "and what the lookback window re-reads")

        _say("3/4 incremental sync: from the saved state, only what is new or changed")
        second = _sync(source, cache, streams, sandbox)
        _say(f"incremental sync finished in {second.seconds:.1f}s: {_requests(second, first)}"
             f"{sum(second.records.values())} records")

        _say("4/4 what changed in the warehouse")
        _print_changes(before, _snapshot(cache, streams), second.records)
        _print_query(cache, BUSINESS_QUERY)
    _say(f"the database is at {args.db.resolve()}; the next run starts it afresh. Query it with")
    print(f"  {example_command(args.db)}")
    return 0


def _config_from_file(path: Path) -> Dict[str, Any]:
    _say(f"syncing the Stripe account configured in {path}")
    return json.loads(path.read_text())


def _start_sandbox(stack: ExitStack, size: int) -> Any:
    from stripe_sandbox import SandboxProcess

    _say(f"starting the local Stripe sandbox with about {size} objects")
    sandbox = stack.enter_context(SandboxProcess(seed=7, size=size, orders_api=True))
    _say(f"sandbox listening on {sandbox.url}; it stops when the demo ends")
    return sandbox


def _sandbox_config(sandbox: Any) -> Dict[str, Any]:
    from stripe_sandbox import keys

    return {"api_key": keys.SECRET_TEST, "environment": "test", "api_base_url": sandbox.url}


def _start_fresh_database(db: Path) -> None:
    """Each run starts from an empty file: PyAirbyte keeps the sync state in the database itself, so a previous run's
    file would turn this run's first sync into an incremental one against a brand-new sandbox."""
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        # Refuse to delete something that is not a DuckDB database (its header carries the magic "DUCK" at byte 8).
        with db.open("rb") as file:
            if file.read(12)[8:12] != b"DUCK":
                raise SystemExit(f"[demo] {db} exists and is not a DuckDB database; choose another --db")
        _say(f"removing the previous run's {db}: each run starts from a fresh database file")
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)


def _sync(source: Any, cache: Any, streams: List[str], sandbox: Any) -> SyncReport:
    """Read every table incrementally (PyAirbyte passes the state saved in the cache; none on the first sync), then
    keep the newest version of each object.

    Records are appended rather than merged: PyAirbyte's merge matches on the primary key only, ignores the cursor,
    and does not dedup within a sync, while this connector may send several versions of one object in a sync (a new
    customer both from the list and from its `customer.created` event). Merging would then insert the same new id
    twice, or keep an arbitrary one of an existing id's versions. Appending everything and keeping the highest
    `observed_at` per id is the "append + deduped" contract the connector is built for."""
    rows_before = _row_counts(cache, streams)
    if sandbox is not None:
        sandbox.reset_stats()
    started = time.monotonic()
    with _connector_summary(source) as summary:
        source.read(cache=cache, write_strategy="append")
    seconds = time.monotonic() - started
    print("\n" + "\n".join(summary) + "\n", flush=True)
    requests = sandbox.stats()["total"] if sandbox is not None else None
    rows_after = _row_counts(cache, streams)
    _keep_newest_version_per_id(cache, streams)
    return SyncReport(seconds, {stream: rows_after[stream] - rows_before[stream] for stream in streams}, requests)


@contextmanager
def _connector_summary(source: Any) -> Iterator[List[str]]:
    """The summary that closes the connector's sync, picked from its log messages, which PyAirbyte passes on to its
    logger for the connector (and from there to a log file only)."""
    summary: List[str] = []

    class PickSummary(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith(SUMMARY_TITLE):
                summary[:] = record.getMessage().splitlines()

    picker = PickSummary()
    connector_logger = logging.getLogger(f"airbyte.{source.name}")
    connector_logger.addHandler(picker)
    try:
        yield summary
    finally:
        connector_logger.removeHandler(picker)


def _row_counts(cache: Any, streams: List[str]) -> Dict[str, int]:
    with cache.get_sql_engine().connect() as connection:
        tables = text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
        existing = set(connection.execute(tables).scalars())
        return {stream: _count_rows(connection, stream) if stream in existing else 0 for stream in streams}


def _count_rows(connection: Any, stream: str) -> int:
    return connection.execute(text(f'SELECT count(*) FROM main."{stream}"')).scalar()


def _keep_newest_version_per_id(cache: Any, streams: List[str]) -> None:
    # On a tie in observed_at the record the connector sent last wins: PyAirbyte gives each record a UUIDv7
    # _airbyte_raw_id as it receives it, so those ids sort in arrival order (DuckDB's rowid need not).
    with cache.get_sql_engine().begin() as connection:
        for stream in streams:
            connection.execute(text(f"""
                DELETE FROM main."{stream}" WHERE _airbyte_raw_id IN (
                    SELECT _airbyte_raw_id FROM (
                        SELECT _airbyte_raw_id, row_number() OVER (
                                   PARTITION BY id ORDER BY observed_at DESC, _airbyte_raw_id DESC) AS age
                        FROM main."{stream}")
                    WHERE age > 1)"""))


def _snapshot(cache: Any, streams: List[str]) -> Snapshot:
    snapshot: Snapshot = {}
    with cache.get_sql_engine().connect() as connection:
        for stream in streams:
            columns = connection.execute(text(COLUMNS_OF_TABLE), {"table": stream}).scalars()
            # observed_at moves on every re-read and PyAirbyte's own columns on every load: neither is a change.
            content = ", ".join(f'"{c}"' for c in columns if c != "observed_at" and not c.startswith("_airbyte_"))
            query = f'SELECT id, _airbyte_raw_id, is_deleted, hash({content}) FROM main."{stream}"'
            rows = connection.execute(text(query))
            snapshot[stream] = {row[0]: (row[1], bool(row[2]), row[3]) for row in rows}
    return snapshot


def _change_sandbox_data(sandbox: Any) -> None:
    """Create, update and delete objects across several tables, as an hour of business would. Existing objects are
    picked older than the connector's lookback window (a week by default), so their changes can reach the warehouse
    only through Stripe's events."""
    truth = sandbox.truth()
    week_ago = sandbox.now - 7 * 86_400
    # The newest subscriptions started over a week ago, so that the MRR table (the last twelve start months) moves.
    falling_behind, growing, leaving = _active_subscriptions_of_distinct_customers(truth["subscriptions"], week_ago, 3)
    # A product no subscription uses, deleted below with its prices; the price renamed is another product's.
    used = {i["price"]["product"] for s in truth["subscriptions"] for i in s["items"]["data"]}
    product = next(p for p in reversed(truth["products"]) if p["id"] not in used)
    price = next(p for p in reversed(truth["prices"]) if p["product"] != product["id"])
    monthly_price = next(
        p for p in truth["prices"]
        if p["active"] and p["type"] == "recurring" and p["recurring"]["usage_type"] == "licensed"
        and p["recurring"]["interval"] == "month"
    )
    renamed = [c for c in reversed(truth["customers"]) if c["id"] != leaving["customer"]][:2]

    # The sandbox clock stands still between calls, and the first sync read at this very second: as in real life, the
    # changes come a while after the sync, and the next sync an hour later, when every event is listed.
    sandbox.advance_clock(60)
    _change("advanced the sandbox clock by a minute: the changes come after the first sync")
    new_customers = [
        sandbox.create("customers", name=f"Demo Customer {n}", email=f"demo{n}@example.com", metadata={"by": "demo"})
        for n in (1, 2, 3)
    ]
    for customer in new_customers:
        _change(f"created customer {customer['id']} ({customer['email']})")
    subscription = sandbox.create("subscriptions", customer=new_customers[0]["id"], items=[monthly_price["id"]])
    _change(f"created subscription {subscription['id']} for {new_customers[0]['id']} on {monthly_price['id']} "
            f"({monthly_price['unit_amount'] / 100:.2f} {monthly_price['currency']}/month)")

    for customer in renamed:
        sandbox.update("customers", customer["id"], metadata={**customer["metadata"], "segment": "enterprise"})
        _change(f"updated customer {customer['id']}: metadata segment=enterprise")
    sandbox.update("subscriptions", falling_behind["id"], status="past_due")
    _change(f"updated subscription {falling_behind['id']} (started {_month(falling_behind)}): "
            "status active -> past_due (a payment failed)")
    item = _licensed_items(growing)[0]
    quantity = item.get("quantity") or 1
    sandbox.update("subscription_items", item["id"], quantity=quantity + 2)
    _change(f"updated subscription item {item['id']} of {growing['id']} (started {_month(growing)}): "
            f"quantity {quantity} -> {quantity + 2}")
    sandbox.update("prices", price["id"], nickname="Legacy (renamed by the demo)")
    _change(f"updated price {price['id']}: nickname {price['nickname']!r} -> 'Legacy (renamed by the demo)'")

    sandbox.delete("customers", leaving["customer"])
    _change(f"deleted customer {leaving['customer']}; Stripe cancels its subscriptions, "
            f"among them {leaving['id']} (started {_month(leaving)})")
    sandbox.delete("products", product["id"])
    _change(f"deleted product {product['id']} ({product['name']}) and its prices")

    sandbox.advance_clock(3600)
    _change("advanced the sandbox clock by an hour")


def _active_subscriptions_of_distinct_customers(
    subscriptions: List[Dict[str, Any]], created_before: int, count: int
) -> List[Dict[str, Any]]:
    """The first `count` active subscriptions with a licensed item created before `created_before`, one per customer,
    in list order (newest first), so that deleting one's customer cancels none of the others."""
    picked: List[Dict[str, Any]] = []
    for subscription in subscriptions:
        if len(picked) == count:
            break
        if (
            subscription["status"] == "active"
            and subscription["created"] < created_before
            and _licensed_items(subscription)
            and subscription["customer"] not in {s["customer"] for s in picked}
        ):
            picked.append(subscription)
    return picked


def _month(subscription: Dict[str, Any]) -> str:
    return time.strftime("%Y-%m", time.gmtime(subscription["start_date"]))


def _licensed_items(subscription: Dict[str, Any]) -> List[Dict[str, Any]]:
    items = subscription["items"]["data"]
    return [i for i in items if (i["price"].get("recurring") or {}).get("usage_type") == "licensed"]


def _print_counts(cache: Any, streams: List[str]) -> None:
    print("\nrows per table")
    width = _name_width(streams)
    with cache.get_sql_engine().connect() as connection:
        for stream in streams:
            print(f"  {stream:<{width}}{_count_rows(connection, stream):>8}")


def _name_width(streams: Iterable[str]) -> int:
    """A column as wide as the longest table name, and a space."""
    return max(len(stream) for stream in streams) + 1


def _print_changes(before: Snapshot, after: Snapshot, records_read: Dict[str, int]) -> None:
    """Per table, what became of each record the last sync read: the one kept for its object made a row new, changed,
    newly deleted or the same as before; the others were superseded by a newer version of their object. So the
    columns after "read" add up to it."""
    columns = ("read", "added", "updated", "deleted", "unchanged", "superseded")
    width = _name_width(after)
    print(f"\n  {'table':<{width}}" + "".join(f"{c:>11}" for c in columns))
    totals = dict.fromkeys(columns, 0)
    for stream in sorted(after):
        counts = dict.fromkeys(columns, 0)
        counts["read"] = records_read[stream]
        for object_id, (record, deleted, content) in after[stream].items():
            old = before[stream].get(object_id)
            if deleted and (old is None or not old[1]):
                counts["deleted"] += 1
            elif old is None:
                counts["added"] += 1
            elif content != old[2]:
                counts["updated"] += 1
            elif record != old[0]:
                counts["unchanged"] += 1
        counts["superseded"] = counts["read"] - sum(counts[c] for c in columns[1:-1])
        totals = {c: totals[c] + counts[c] for c in columns}
        print(f"  {stream:<{width}}" + "".join(f"{counts[c]:>11}" for c in columns))
    print(f"  {'total':<{width}}" + "".join(f"{totals[c]:>11}" for c in columns))
    print("  read = added + updated + deleted + unchanged + superseded: what became of each record the sync read.")
    print("  added / updated / deleted: it made a row new, changed its content, newly marked it is_deleted;")
    print("  unchanged: it held what its row already did (read again by the lookback window, usage summaries);")
    print("  superseded: a newer version of its object replaced it (one object can arrive more than once: listed,")
    print("  then from its events), or the warehouse already held one as new")


def _print_query(cache: Any, query: str) -> None:
    print("\n" + query.strip().splitlines()[0].lstrip("- "))
    with cache.get_sql_engine().connect() as connection:
        result = connection.execute(text(query))
        columns = list(result.keys())
        print("  " + "".join(f"{column:>22}" for column in columns))
        for row in result:
            print("  " + "".join(f"{str(value):>22}" for value in row))
    print()


def _requests(report: SyncReport, compared_to: Optional[SyncReport] = None) -> str:
    if report.requests is None:
        return ""
    than = f" (the first sync made {compared_to.requests})" if compared_to and compared_to.requests else ""
    return f"{report.requests} API requests{than}, "


def _change(message: str) -> None:
    print(f"[demo]   {message}", flush=True)


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
