"""Determinism, size, and the ways of starting a sandbox (sandbox/bench_generation.py measures generation speed)."""

from __future__ import annotations

import subprocess
import sys

import requests
from stripe_sandbox import Sandbox, keys
from stripe_sandbox.state import SandboxState


def generated(seed: int, size: int) -> dict:
    state = SandboxState(seed=seed, size=size)
    return state.truth(state.platform.id, "test")


def test_same_seed_and_size_give_identical_data():
    assert generated(5, 600) == generated(5, 600)


def test_a_different_seed_gives_different_data():
    assert generated(5, 600)["customers"] != generated(6, 600)["customers"]


def test_size_is_roughly_the_total_object_count():
    # A small account's total swings with a few large subscriptions (dozens of invoice lines each), and a platform's
    # with its transfers, fees and Issuing program. Events, the last 30 days of changes to those objects, come on top.
    for size, tolerance in ((600, 0.2), (3000, 0.13)):
        total = sum(len(objects) for table, objects in generated(1, size).items() if table != "events")
        assert (1 - tolerance) * size <= total <= (1 + tolerance) * size


def test_spawned_sandbox_process_serves_the_same_data_as_a_thread():
    with Sandbox.spawn(seed=3, size=300, rate_limit_test=0) as process, Sandbox(seed=3, size=300) as thread:
        assert process.url.startswith("http://127.0.0.1:")
        response = requests.get(f"{process.url}/v1/customers", headers={"Authorization": f"Bearer {keys.SECRET_TEST}"})
        assert response.status_code == 200
        assert process.truth() == thread.truth()
        assert process.set_knobs(orders_api=True)["orders_api"] is True


def test_cli_refuses_to_listen_beyond_loopback():
    result = subprocess.run(
        [sys.executable, "-m", "stripe_sandbox", "--host", "0.0.0.0", "--port", "0", "--size", "50"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "refusing" in result.stderr
