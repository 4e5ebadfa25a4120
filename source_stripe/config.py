"""The config's rules, the spec's and those JSON schema cannot express, each refused with one sentence that names the
field and says what to do (and never shows the key)."""

import difflib
import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Optional, Set, Tuple
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, ValidationError

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.utils.schema_helpers import InternalConfig
from airbyte_cdk.utils import AirbyteTracedException

_KEY_SHAPE = re.compile(r"(sk|rk)_(live|test)_[A-Za-z0-9]+")
_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number", "object": "a JSON object", "boolean": "true or false"}
_DATE_SHAPE = "%Y-%m-%dT%H:%M:%SZ"
DATE_SHAPE_SAID = "YYYY-MM-DDTHH:mm:ssZ"
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
        raise InvalidConfig(f"{field} must be a UTC time written as {DATE_SHAPE_SAID}, e.g. 2023-01-01T00:00:00Z (it is {value!r}).")


def connected_accounts(config: Mapping[str, Any]) -> Tuple[str, Tuple[str, ...]]:
    """The accounts setting, "none", "all", or "list" with its ids, from the spec's form ({"mode": …, "account_ids": […]}) or
    the shorthand a config file may use (see spelled_out)."""
    setting = spelled_out(config).get("connected_accounts")
    if not isinstance(setting, Mapping):
        return "none", ()
    return str(setting.get("mode") or "none"), tuple(setting.get("account_ids") or ())


def spelled_out(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """`config` with connected_accounts as the spec spells it for the Airbyte UI, an object, when a config file writes
    it short: "none", "all", or the list of account ids."""
    setting = config.get("connected_accounts") if isinstance(config, Mapping) else None
    if isinstance(setting, str):
        return {**config, "connected_accounts": {"mode": setting}}
    if isinstance(setting, list):
        return {**config, "connected_accounts": {"mode": "list", "account_ids": setting}}
    return config


def unknown_fields_warning(config: Mapping[str, Any], spec: Mapping[str, Any], manifest: Mapping[str, Any]) -> Optional[str]:
    """One sentence naming the fields of `config` the connector does not read, each with the known field closest to
    it, or None. Known: the spec's fields, the CDK's own, and those of Airbyte's earlier Stripe connector that the
    manifest's migrations take in."""
    known = set(spec.get("properties", {})) | InternalConfig.KEYWORDS | _legacy_fields(manifest)
    unknown = sorted(set(config) - known) if isinstance(config, Mapping) else []
    if not unknown:
        return None
    said = []
    for name in unknown:
        closest = difflib.get_close_matches(name, sorted(known), n=1)
        said.append(f"{name} (did you mean {closest[0]}?)" if closest else name)
    fields, are = ("a field", "it is") if len(unknown) == 1 else ("fields", "they are")
    return f"The config has {fields} this connector does not know, so {are} ignored: {', '.join(said)}."


def _legacy_fields(manifest: Mapping[str, Any]) -> Set[str]:
    migrations = manifest["spec"].get("config_normalization_rules", {}).get("config_migrations", [])
    return {
        pointer[0]
        for migration in migrations
        for step in migration["transformations"]
        if step["type"] == "ConfigRemoveFields"
        for pointer in step["field_pointers"]
    }


def validate_config(config: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    """Refuses the first thing wrong with `config`, checking it against `spec` (the connection specification) first."""
    config = spelled_out(config)
    error = next(iter(sorted(Draft7Validator(spec).iter_errors(config), key=lambda e: list(map(str, e.path)))), None)
    if error is not None:
        raise InvalidConfig(_explain(error, spec))
    api_key = config["api_key"]
    if not api_key:
        raise InvalidConfig(f"The API key is missing. {_KEY_ADVICE}")
    if api_key != api_key.strip():
        raise InvalidConfig("The API key has spaces or line breaks around it: paste it again without them.")
    if api_key.startswith("pk_"):
        raise InvalidConfig(f"That is a publishable key (pk_…), which cannot read data. {_KEY_ADVICE}")
    if not _KEY_SHAPE.fullmatch(api_key):
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

    if config.get("account_id") and connected_accounts(config)[0] != "none":
        raise InvalidConfig(
            "Set either account_id (one connected account) or connected_accounts (several), not both: list "
            f"{config['account_id']} among connected_accounts' account_ids instead."
        )

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
    if config.get("no_request_budget") and not (base_url and _is_loopback(base_url)):
        raise InvalidConfig(
            "no_request_budget is for benchmarks against a local Stripe sandbox only: set api_base_url to its loopback "
            "address (e.g. http://127.0.0.1:12111) or remove no_request_budget; Stripe itself allows 100 requests a "
            "second in live mode and 25 in test mode."
        )


def _explain(error: ValidationError, spec: Mapping[str, Any]) -> str:
    """One sentence for a spec violation, naming the field; a secret field's value is never repeated."""
    if not error.path:
        if error.validator == "required":
            return f"The config lacks {error.message.split(chr(39))[1]}, which is required."
        return f"The config must be a JSON object of fields, not {_TYPE_NAMES.get(type(error.instance).__name__, 'that')}."
    name = str(error.path[0])
    field = spec.get("properties", {}).get(name, {})
    given = "" if field.get("airbyte_secret") else f" (it is {error.instance!r})"
    rule = {
        "type": lambda: f"must be {_TYPE_NAMES.get(error.validator_value, error.validator_value)}",
        "enum": lambda: "must be one of " + ", ".join(map(repr, error.validator_value)),
        "pattern": lambda: f"must be written as {_shape_of(field)}",
        "minimum": lambda: f"must be at least {error.validator_value}",
        "exclusiveMinimum": lambda: f"must be more than {error.validator_value}",
        "maximum": lambda: f"must be at most {error.validator_value}",
        # Only connected_accounts offers choices of shape.
        "oneOf": lambda: 'must be "none", "all", or a list of connected account IDs written as acct_…',
    }.get(error.validator, lambda: "is not valid")()
    return f"{name} {rule}{given}."


def _shape_of(field: Mapping[str, Any]) -> str:
    """How a field with a pattern is written, in words rather than the pattern's regex (every other field of the spec
    with a pattern has a pattern_descriptor, as a test holds)."""
    return DATE_SHAPE_SAID if field.get("format") == "date-time" else field["pattern_descriptor"]


def is_positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_allowed_base_url(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(url)


def _is_loopback(url: str) -> bool:
    hostname = urlsplit(url).hostname
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname or "").is_loopback
    except ValueError:
        return False
