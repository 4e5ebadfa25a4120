"""Run SQL on a DuckDB file (the demo's, by default) with only the venv, and print the result as a table.

The demo installs the duckdb Python package (PyAirbyte brings it), not DuckDB's own `duckdb` shell, so this is the
command the demo suggests. Without a query it lists the tables and their rows.

    .venv/bin/python scripts/query_duckdb.py [--db demo/stripe.duckdb] ["SELECT count(*) FROM customers"]
"""

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path

DEFAULT_DB = Path("demo/stripe.duckdb")
EXAMPLE_QUERY = "SELECT status, count(*) FROM subscriptions GROUP BY status ORDER BY 2 DESC"
TABLES = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT starts_with(table_name, '_airbyte') ORDER BY 1"


def example_command(db: Path) -> str:
    """The command line that queries `db`, runnable from the current directory with this interpreter."""
    script = os.path.relpath(Path(__file__).resolve())
    return shlex.join([os.path.relpath(sys.executable), script, "--db", str(db), EXAMPLE_QUERY])


def tables_and_rows(connection) -> str:
    """A query counting every table's rows (DuckDB's own row estimates drift once rows are deleted)."""
    tables = [name for (name,) in connection.sql(TABLES).fetchall()]
    return " UNION ALL ".join(f"SELECT '{name}' AS table_name, count(*) AS rows FROM main.\"{name}\"" for name in tables)


def main() -> int:
    # Piped into `head`, stop quietly when the reader has had enough, as a shell tool does, not with a traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="DuckDB file to query (default: %(default)s)")
    parser.add_argument("query", nargs="?", help="SQL to run (default: the tables and their rows)")
    args = parser.parse_args()
    if not args.db.is_file():
        print(f"{args.db} does not exist: run `make demo` first, or pass --db", file=sys.stderr)
        return 2

    import duckdb  # the demo extra's; imported here so a missing file is reported without it

    with duckdb.connect(str(args.db), read_only=True) as connection:
        try:
            result = connection.sql(args.query or tables_and_rows(connection))
        except duckdb.Error as error:
            print(error, file=sys.stderr)
            return 1
        if result is not None:
            result.show(max_rows=1000, max_width=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
