"""Measure how many list requests a second the sandbox serves to concurrent keep-alive clients.

    python sandbox/bench_throughput.py [--clients 20] [--seconds 5] [--limit 10] [--size 3000]

The server runs in its own process (as a connector test would use it); the clients are threads with
one requests.Session each. Bounded by --seconds; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import requests
from stripe_sandbox import Sandbox, keys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--limit", type=int, default=10, help="page size requested")
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args()

    with Sandbox.spawn(size=args.size, rate_limit_test=0) as sandbox:
        url = f"{sandbox.url}/v1/customers"
        headers = {"Authorization": f"Bearer {keys.SECRET_TEST}"}
        latencies: list[float] = []
        failures = 0
        lock = threading.Lock()
        deadline = time.perf_counter() + args.seconds

        def client() -> None:
            nonlocal failures
            session = requests.Session()
            cursor = None
            while time.perf_counter() < deadline:
                params = {"limit": args.limit, **({"starting_after": cursor} if cursor else {})}
                started = time.perf_counter()
                response = session.get(url, params=params, headers=headers, timeout=30)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures += response.status_code != 200
                page = response.json()
                cursor = page["data"][-1]["id"] if page.get("has_more") else None

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started

    latencies.sort()
    print(
        f"{len(latencies)} requests in {wall:.1f}s with {args.clients} clients, limit={args.limit}: "
        f"{len(latencies) / wall:.0f} req/s, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, non-200: {failures}"
    )


if __name__ == "__main__":
    main()
