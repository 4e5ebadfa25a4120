"""The README's main job: sync every Stripe table into a local DuckDB file through PyAirbyte, and show what arrived.

With no argument it starts the local Stripe sandbox (a few thousand realistic objects) and syncs that; given a
config file it syncs the real Stripe account the config names.

    python scripts/demo.py [--config secrets/config.json] [--db demo/stripe.duckdb] [--size 3000]
"""

import argparse
import json
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict

# PyAirbyte otherwise asks Airbyte's online registry about every connector it runs; the connector is installed here.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402  (must see the environment above)
from sqlalchemy import text  # noqa: E402

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
WHERE s.status = 'active' AND json_extract_string(i.price, '$.recurring.usage_type') = 'licensed'
GROUP BY 1 ORDER BY 1 DESC LIMIT 12
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="a source-stripe config file; without it, a local sandbox is synced")
    parser.add_argument("--db", type=Path, default=Path("demo/stripe.duckdb"), help="DuckDB file to write (default: %(default)s)")
    parser.add_argument("--size", type=int, default=3000, help="sandbox objects across all tables (default: %(default)s)")
    args = parser.parse_args()

    with ExitStack() as stack:
        config = _config_from_file(args.config) if args.config else _start_sandbox(stack, args.size)
        executable = shutil.which("source-stripe") or str(Path(sys.executable).with_name("source-stripe"))
        source = ab.get_source("source-stripe", config=config, local_executable=executable)

        _say("checking the connection")
        source.check()
        source.select_all_streams()

        args.db.parent.mkdir(parents=True, exist_ok=True)
        cache = ab.DuckDBCache(db_path=str(args.db), schema_name="main")
        _say(f"syncing {len(source.get_selected_streams())} tables into {args.db}")
        started = time.monotonic()
        source.read(cache=cache, force_full_refresh=True)
        _say(f"sync finished in {time.monotonic() - started:.1f}s")

        _print_counts(cache, source.get_selected_streams())
        _print_query(cache, BUSINESS_QUERY)
    _say(f"the database is at {args.db.resolve()} (open it with `duckdb {args.db}`)")
    return 0


def _config_from_file(path: Path) -> Dict[str, Any]:
    _say(f"syncing the Stripe account configured in {path}")
    return json.loads(path.read_text())


def _start_sandbox(stack: ExitStack, size: int) -> Dict[str, Any]:
    from stripe_sandbox import SandboxProcess, keys

    _say(f"starting the local Stripe sandbox with about {size} objects")
    sandbox = stack.enter_context(SandboxProcess(seed=7, size=size, orders_api=True))
    _say(f"sandbox listening on {sandbox.url}; it stops when the demo ends")
    return {"api_key": keys.SECRET_TEST, "environment": "test", "api_base_url": sandbox.url}


def _print_counts(cache: Any, streams: list) -> None:
    print("\nrows per table")
    with cache.get_sql_engine().connect() as connection:
        for stream in sorted(streams):
            count = connection.execute(text(f'SELECT count(*) FROM main."{stream}"')).scalar()
            print(f"  {stream:<24}{count:>8}")


def _print_query(cache: Any, query: str) -> None:
    print("\n" + query.strip().splitlines()[0].lstrip("- "))
    with cache.get_sql_engine().connect() as connection:
        result = connection.execute(text(query))
        columns = list(result.keys())
        print("  " + "".join(f"{column:>22}" for column in columns))
        for row in result:
            print("  " + "".join(f"{str(value):>22}" for value in row))


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
