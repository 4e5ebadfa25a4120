import time
import types

import pytest

from airbyte_cdk.sources.streams.http import rate_limiting
from unit_tests.stripe_api import StripeApi


@pytest.fixture
def stripe(requests_mock) -> StripeApi:
    return StripeApi(requests_mock)


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch) -> list:
    """Records the waits of the CDK's retry loop instead of sleeping them, so error paths run in milliseconds."""
    waits: list = []
    monkeypatch.setattr(rate_limiting, "time", types.SimpleNamespace(sleep=waits.append, time=time.time, monotonic=time.monotonic))
    return waits
