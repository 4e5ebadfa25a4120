"""Config rules JSON schema cannot express, each refused with one sentence that says what to do (and never the key)."""

import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

_KEY_SHAPE = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]+$")
_DATE_SHAPE = "%Y-%m-%dT%H:%M:%SZ"
_KEY_ADVICE = (
    "A Stripe API key starts with sk_live_, rk_live_, sk_test_ or rk_test_; a restricted key (rk_…) "
    "with Read permissions only is recommended (Stripe dashboard > Developers > API keys)."
)


class InvalidConfig(AirbyteTracedException):
    def __init__(self, message: str) -> None:
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


def key_mode(api_key: str) -> str:
    """'live' or 'test', as the key's prefix says."""
    return "live" if api_key[3:8] == "live_" else "test"


def parse_date(config: Mapping[str, Any], field: str) -> Optional[datetime]:
    value = config.get(field)
    if not value:
        return None
    try:
        return datetime.strptime(value, _DATE_SHAPE).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        raise InvalidConfig(f"{field} must be a UTC time written as YYYY-MM-DDTHH:MM:SSZ, e.g. 2023-01-01T00:00:00Z.")


def validate_config(config: Mapping[str, Any]) -> None:
    api_key = config.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        raise InvalidConfig(f"The API key is missing. {_KEY_ADVICE}")
    if api_key.startswith("pk_"):
        raise InvalidConfig(f"That is a publishable key (pk_…), which cannot read data. {_KEY_ADVICE}")
    if not _KEY_SHAPE.match(api_key):
        raise InvalidConfig(f"The API key does not look like a Stripe key. {_KEY_ADVICE}")

    environment = config.get("environment")
    if environment not in ("live", "test"):
        raise InvalidConfig("environment must be 'live' or 'test'.")
    if key_mode(api_key) != environment:
        raise InvalidConfig(
            f"The API key is a {key_mode(api_key)}-mode key but the environment is set to {environment}: "
            f"use a {environment}-mode key ({'sk_' + environment}_… or {'rk_' + environment}_…) or change the environment."
        )

    start, end = parse_date(config, "start_date"), parse_date(config, "end_date")
    if start and end and end <= start:
        raise InvalidConfig("end_date must be later than start_date; leave end_date empty to read up to now.")

    lookback = config.get("lookback_window_days", 0)
    if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 0:
        raise InvalidConfig("lookback_window_days must be a whole number of days, 0 or more.")

    timeout = config.get("read_timeout_seconds")
    if timeout is not None and not (is_positive_number(timeout) and timeout <= 300):
        raise InvalidConfig("read_timeout_seconds must be a number of seconds above 0 and at most 300.")

    base_url = config.get("api_base_url")
    if base_url and not _is_allowed_base_url(base_url):
        raise InvalidConfig(
            "api_base_url must be an https:// URL, or http:// on a loopback address such as http://127.0.0.1:12111."
        )


def is_positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_allowed_base_url(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
