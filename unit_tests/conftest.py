import pytest

from source_stripe import transport
from unit_tests.stripe_api import StripeApi


@pytest.fixture
def stripe(requests_mock) -> StripeApi:
    return StripeApi(requests_mock)


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch) -> list:
    """Records the waits of the retry loop and the request budget instead of sleeping them, so error paths run in
    milliseconds."""
    waits: list = []
    monkeypatch.setattr(transport, "sleep", waits.append)
    return waits
