"""Measure how long the sandbox takes to generate a dataset, and its peak memory.

    python sandbox/bench_generation.py [--size 3000 30000]

Memory is traced while generating, which makes it slower than in a test's sandbox.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from stripe_sandbox.state import SandboxState


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, nargs="+", default=[3000, 30_000])
    args = parser.parse_args()

    for size in args.size:
        tracemalloc.start()
        started = time.perf_counter()
        state = SandboxState(seed=42, size=size)
        state.dataset(state.platform.id, "test")
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"generated size={size} in {elapsed:.2f}s (traced, so slower than normal), peak {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
