from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from stripe_sandbox import Sandbox, keys


class StripeClient:
    """The one request builder the tests use: encodes Stripe's form/deepObject query style."""

    def __init__(self, url: str, key: str | None = keys.SECRET_TEST, account: str | None = None):
        self.url, self.key, self.account = url, key, account
        self.session = requests.Session()

    def using(self, **changes: Any) -> StripeClient:
        values = {"key": self.key, "account": self.account, **changes}
        return StripeClient(self.url, **values)

    @staticmethod
    def encode(params: dict[str, Any]) -> list[tuple[str, Any]]:
        """{"created": {"gte": 1}, "types": ["a"]} -> created[gte]=1&types[]=a, as Stripe's clients send."""
        pairs: list[tuple[str, Any]] = []
        for name, value in params.items():
            if isinstance(value, dict):
                pairs += [(f"{name}[{key}]", sub) for key, sub in value.items()]
            elif isinstance(value, (list, tuple)):
                pairs += [(f"{name}[]", item) for item in value]
            else:
                pairs.append((name, value))
        return pairs

    def get(self, path: str, /, timeout: float = 10, **params: Any) -> requests.Response:
        headers = {"Stripe-Version": "2023-08-16"}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        if self.account is not None:
            headers["Stripe-Account"] = self.account
        return self.session.get(self.url + path, params=self.encode(params), headers=headers, timeout=timeout)

    def ok(self, path: str, /, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def error(self, path: str, status: int, /, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == status, response.text
        return response.json()["error"]

    def events_of(self, object_id: str) -> list[dict[str, Any]]:
        """The events carrying the object `object_id`, newest first."""
        return [e for e in self.all("/v1/events") if e["data"]["object"].get("id") == object_id]

    def all(self, path: str, /, **params: Any) -> list[dict[str, Any]]:
        """Every object of a list, paging with starting_after as a connector does."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.ok(path, limit=100, **params)
            found += page["data"]
            if not page["has_more"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


@pytest.fixture(scope="session")
def shared() -> Iterator[Sandbox]:
    """A read-only sandbox for tests that only look; tests that change data use `sandbox`."""
    with Sandbox(seed=42, size=3000, rate_limit_test=0, rate_limit_live=0, orders_api=True) as sb:
        yield sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """For tests that change data; they look at a change's events at once, before Stripe's usual delay."""
    with Sandbox(seed=7, size=600, rate_limit_test=0, rate_limit_live=0, event_delay_seconds=0) as sb:
        yield sb


@pytest.fixture(scope="session")
def api(shared: Sandbox) -> StripeClient:
    return StripeClient(shared.url)


@pytest.fixture
def client(sandbox: Sandbox) -> StripeClient:
    return StripeClient(sandbox.url)
