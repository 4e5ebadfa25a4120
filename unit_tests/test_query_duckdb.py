"""The command the demo's last line suggests queries its DuckDB file with only the venv (no `duckdb` shell)."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import duckdb

import query_duckdb  # scripts/query_duckdb.py, on the tests' path

SCRIPT = shlex.join([sys.executable, query_duckdb.__file__])


@pytest.fixture
def demo_database(tmp_path: Path) -> Path:
    """A DuckDB file shaped like the demo's: a table per stream, and PyAirbyte's own tables beside them."""
    path = tmp_path / "stripe.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE subscriptions (id VARCHAR, status VARCHAR)")
        connection.execute("INSERT INTO subscriptions VALUES ('sub_1', 'active'), ('sub_2', 'active'), ('sub_3', 'canceled')")
        connection.execute("CREATE TABLE customers (id VARCHAR)")
        connection.execute("INSERT INTO customers VALUES ('cus_1')")
        connection.execute("DELETE FROM subscriptions WHERE id = 'sub_2'")
        connection.execute("CREATE TABLE _airbyte_state (stream_name VARCHAR)")
    return path


def run(command: str) -> subprocess.CompletedProcess:
    """In the current directory, which the suggested command is written for, as the demo prints it."""
    return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)


def test_the_suggested_command_prints_what_its_query_finds(demo_database):
    finished = run(query_duckdb.example_command(demo_database))

    assert finished.returncode == 0, finished.stderr
    assert "active" in finished.stdout and "canceled" in finished.stdout


def test_without_a_query_it_counts_each_tables_rows_leaving_out_pyairbytes_own(demo_database):
    finished = run(f"{SCRIPT} --db {demo_database}")

    assert finished.returncode == 0, finished.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in finished.stdout.splitlines() if line.count("│") == 3}
    assert {name: count for name, count in rows.items() if name in ("customers", "subscriptions", "_airbyte_state")} == {
        "customers": "1",
        "subscriptions": "2",
    }


def test_a_missing_database_or_a_wrong_query_is_one_sentence_not_a_traceback(demo_database, tmp_path):
    missing = run(f"{SCRIPT} --db {tmp_path / 'absent.duckdb'}")
    wrong = run(f"{SCRIPT} --db {demo_database} 'SELEC 1'")

    assert missing.returncode != 0 and "run `make demo` first" in missing.stderr
    assert wrong.returncode != 0 and "syntax error" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr


def test_piped_into_head_it_stops_quietly_once_head_has_read_enough(demo_database):
    long_result = "SELECT range AS i, repeat('x', 150) AS padding FROM range(5000)"

    finished = run(f"{SCRIPT} --db {demo_database} \"{long_result}\" | head -1")

    assert finished.stdout.startswith("┌")
    assert finished.stderr == ""
