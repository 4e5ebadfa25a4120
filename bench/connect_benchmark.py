"""Measures one connection reading a Connect platform's accounts (`connected_accounts: all`) against the local Stripe
sandbox, and prints each figure next to its target.

    python bench/connect_benchmark.py                          # both scenarios
    python bench/connect_benchmark.py --only no-change --accounts 1 100 1000

Scenarios (real `source-stripe read`s of every table in a subprocess; the sandbox runs in another):
- no-change: a full sync of N accounts (the platform, two larger connected accounts and small ones), an hour without
  changes, then an incremental sync: its requests, per account, and the size of its state (the largest STATE message,
  and all tables' last ones).
- budget: the first sync of 300 small accounts and two larger ones at Stripe-like latency (300 ± 100 ms), a live key
  at 100 requests/s: sustained requests/s across accounts, and the share of 429s.

Speed targets are printed, never asserted: the machine and its load decide the figures.
"""

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync_benchmark import config_for, run_sync, say  # noqa: E402
from source_stripe.planning import EVENTS_LISTED_LATE_MARGIN  # noqa: E402
from stripe_sandbox import SandboxProcess  # noqa: E402

PLATFORM_SIZE = 300  # the platform's own objects: the connected accounts are what is measured


def no_change(account_counts):
    print("no-change, connected_accounts all: requests of an incremental sync an hour after a full one")
    for accounts in account_counts:
        # The sandbox platform always has two larger connected accounts; small sellers make up the rest. One account
        # is the platform alone, read as a connection without connected_accounts reads it.
        sellers = max(0, accounts - 3)
        with SandboxProcess(seed=8, size=PLATFORM_SIZE, rate_limit_live=0, sellers=sellers, startup_timeout=600) as sandbox:
            config = {**config_for(sandbox, "live"), "no_request_budget": True}
            if accounts > 1:
                config["connected_accounts"] = "all"
            sandbox.advance_clock(EVENTS_LISTED_LATE_MARGIN + 60)
            first = run_sync(sandbox, config, incremental=True)
            sandbox.advance_clock(3600)
            second = run_sync(sandbox, config, incremental=True, state=first.final_state)
            by_path = {path: sum(counts.values()) for path, counts in sandbox.stats()["by_path"].items()}
        state = [json.dumps(message, separators=(",", ":")) for message in second.final_state]
        print(f"  {accounts} account(s): the platform and {accounts - 1} connected, {first.records} records in the full sync")
        say("requests of the no-change sync", f"{second.requests}", "")
        say("  per account", f"{second.requests / accounts:.1f}", "about 1 events request + the lookback pages")
        say("  events requests per account", f"{by_path.get('/v1/events', 0) / accounts:.1f}", "about 1")
        say("largest STATE message", f"{max(map(len, state)) / 1024:.1f} KB", "one position pair per account")
        say("  all tables' state", f"{sum(map(len, state)) / 1024:.0f} KB", "")
        print("    " + ", ".join(f"{path.removeprefix('/v1/')}: {n}" for path, n in sorted(by_path.items(), key=lambda item: -item[1])[:8]))


def budget(sellers):
    with SandboxProcess(seed=9, size=PLATFORM_SIZE, sellers=sellers, latency_ms=300, latency_jitter_ms=100, rate_limit_live=100, startup_timeout=600) as sandbox:
        figures = run_sync(sandbox, {**config_for(sandbox, "live"), "connected_accounts": "all"}, incremental=True)
    print(f"budget, {sellers + 3} accounts: {figures.records} records, {figures.seconds:.1f} s, latency 300 ± 100 ms, 100 requests/s allowed")
    say("requests/s sustained (middle 80%)", f"{figures.sustained_requests_per_second:.1f}", ">= 90")
    say("429 share of responses", f"{100 * figures.rate_limited / max(figures.requests, 1):.2f} %", "0 %")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=["no-change", "budget"])
    parser.add_argument("--accounts", type=int, nargs="*", default=[1, 100, 1_000], help="accounts for no-change")
    parser.add_argument("--budget-sellers", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    scenarios = {"no-change": lambda: no_change(args.accounts), "budget": lambda: budget(args.budget_sellers)}
    for name in args.only:
        scenarios[name]()


if __name__ == "__main__":
    main()
