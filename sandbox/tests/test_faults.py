"""Knobs: rate limits, 429 storms, latency, injected faults, and the legacy Orders API switch."""

from __future__ import annotations

import json
import time

import pytest
import requests
from stripe_sandbox import keys


def burst(client, count: int) -> list[requests.Response]:
    return [client.get("/v1/customers", limit=1) for _ in range(count)]


def test_rate_limit_answers_429_with_should_retry(sandbox, client):
    sandbox.set_knobs(rate_limit_test=5)
    responses = burst(client, 12)
    limited = [r for r in responses if r.status_code == 429]
    assert [r.status_code for r in responses[:5]] == [200] * 5 and limited
    assert limited[0].headers["Stripe-Should-Retry"] == "true"
    assert limited[0].json()["error"] == {
        "type": "invalid_request_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
    }
    assert sandbox.stats()["rate_limited"] == len(limited)
    time.sleep(1.05)
    assert client.get("/v1/customers").status_code == 200, "the window slides"


def test_live_and_test_modes_have_separate_limits(sandbox, client):
    sandbox.set_knobs(rate_limit_test=3, rate_limit_live=50)
    assert 429 in {r.status_code for r in burst(client, 6)}
    assert {r.status_code for r in burst(client.using(key=keys.SECRET_LIVE), 6)} == {200}


def test_a_429_storm_refuses_everything_for_its_duration(sandbox, client):
    sandbox.set_knobs(storm_seconds=0.6)
    assert {r.status_code for r in burst(client, 3)} == {429}
    time.sleep(0.7)
    assert client.get("/v1/customers").status_code == 200


def test_server_errors_use_stripes_api_error_envelope(sandbox, client):
    sandbox.set_knobs(fault_5xx=1.0)
    responses = burst(client, 30)
    assert {r.status_code for r in responses} == {500, 502, 503}
    for response in responses:
        assert response.json()["error"]["type"] == "api_error"
        expect_retry = response.status_code in (500, 503)
        assert (response.headers.get("Stripe-Should-Retry") == "true") is expect_retry
    sandbox.set_knobs(fault_5xx=0.0)
    assert client.get("/v1/customers").status_code == 200


def test_connection_reset_mid_body_breaks_the_read(sandbox, client):
    sandbox.set_knobs(fault_reset=1.0)
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError), match="reset"):
        client.get("/v1/customers", limit=100)
    sandbox.set_knobs(fault_reset=0.0)
    assert client.get("/v1/customers").status_code == 200, "the client recovers on a new connection"
    assert sandbox.stats()["by_status"]["reset"] == 1


def test_truncated_bodies_are_cut_short_or_invalid_json(sandbox, client):
    sandbox.set_knobs(fault_truncate=1.0)
    outcomes = set()
    for _ in range(12):
        try:
            client.get("/v1/customers", limit=100).json()
            outcomes.add("intact")
        except requests.exceptions.ChunkedEncodingError:
            outcomes.add("cut")
        except (json.JSONDecodeError, requests.exceptions.JSONDecodeError):
            outcomes.add("invalid_json")
    assert outcomes == {"cut", "invalid_json"}


def test_slow_responses_outlast_a_client_timeout(sandbox, client):
    sandbox.set_knobs(fault_slow=1.0, slow_seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.get("/v1/customers", timeout=0.3)


def test_latency_delays_every_response(sandbox, client):
    sandbox.set_knobs(latency_ms=150, latency_jitter_ms=50)
    started = time.perf_counter()
    burst(client, 3)
    assert time.perf_counter() - started >= 3 * 0.1


def test_faults_never_touch_the_admin_api(sandbox):
    sandbox.set_knobs(fault_5xx=1.0, storm_seconds=5)
    assert sandbox.truth()["customers"]
    assert sandbox.set_knobs(storm_seconds=0)["storm_seconds"] == 0


def test_unknown_knob_is_rejected(sandbox):
    with pytest.raises(RuntimeError, match="unknown knobs"):
        sandbox.set_knobs(fault_everything=1)


def test_order_returns_exist_only_with_the_orders_api_on(sandbox, client):
    error = client.error("/v1/order_returns", 404)
    assert error["message"] == (
        "Unrecognized request URL (GET: /v1/order_returns). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )
    assert sandbox.truth()["order_returns"] == []
    sandbox.set_knobs(orders_api=True)
    returns = client.all("/v1/order_returns")
    assert returns and all(r["id"].startswith("orret_") and r["order"].startswith("or_") for r in returns)
    assert returns == sandbox.truth()["order_returns"]


def test_stats_count_requests_per_endpoint_and_status(sandbox, client):
    sandbox.reset_stats()
    client.get("/v1/customers")
    client.get("/v1/customers/cus_missing")
    client.get("/v1/customers/cus_missing_too")
    stats = sandbox.stats()
    assert stats["total"] == 3
    assert stats["by_path"] == {"/v1/customers": {"200": 1}, "/v1/customers/{customer}": {"404": 2}}
