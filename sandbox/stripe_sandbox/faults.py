"""Knobs that make the sandbox behave like a busy or flaky Stripe: rate limits, latency, faults.

Fault decisions come from a generator seeded with the sandbox seed, so a single client replaying the
same requests meets the same faults; with concurrent clients the interleaving decides who gets which.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields


@dataclass
class Knobs:
    rate_limit_live: int = 100  # requests per second per mode; 0 = unlimited (Stripe's defaults)
    rate_limit_test: int = 25
    latency_ms: float = 0.0  # added before every /v1 response: mean ...
    latency_jitter_ms: float = 0.0  # ... plus or minus up to this much
    fault_5xx: float = 0.0  # probabilities per /v1 request
    fault_reset: float = 0.0
    fault_truncate: float = 0.0
    fault_slow: float = 0.0
    slow_seconds: float = 30.0  # how long a "slow" response stalls
    orders_api: bool = False  # serve the legacy /v1/order_returns
    event_delay_seconds: int = 5  # each new event stays out of /v1/events for a random 0..N seconds, as Stripe's can
    account_403_names_permission: bool = False  # /v1/account refuses restricted keys naming a permission (newer accounts)
    connect_platform: bool = True  # the platform account uses Connect (lists its connected accounts)
    issuing: bool = True  # the platform account uses Stripe Issuing (its connected accounts never do)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def update(self, values: dict[str, object]) -> None:
        unknown = set(values) - set(self.names())
        if unknown:
            raise ValueError(f"unknown knobs: {sorted(unknown)}")
        for name, value in values.items():
            kind = type(getattr(self, name))
            setattr(self, name, kind(value))
        if self.event_delay_seconds < 0:
            raise ValueError("event_delay_seconds is a number of seconds, 0 or more")
        for name in ("fault_5xx", "fault_reset", "fault_truncate", "fault_slow"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability between 0 and 1")


# What a faulty response looks like; the server decides how to send each kind.
SERVER_ERROR, RESET, TRUNCATE, SLOW = "server_error", "reset", "truncate", "slow"


class Faults:
    def __init__(self, knobs: Knobs, seed: int):
        self.knobs = knobs
        self._rng = random.Random(f"stripe-sandbox/faults/{seed}")
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {"live": deque(), "test": deque()}
        self._storm_until = 0.0

    def start_storm(self, seconds: float) -> None:
        with self._lock:
            self._storm_until = time.monotonic() + seconds

    def storm_remaining(self) -> float:
        return max(0.0, self._storm_until - time.monotonic())

    def admit(self, mode: str) -> bool:
        """Stripe limits each mode with a one-second sliding window; rejected requests don't count."""
        now = time.monotonic()
        with self._lock:
            if now < self._storm_until:
                return False
            limit = self.knobs.rate_limit_live if mode == "live" else self.knobs.rate_limit_test
            if not limit:
                return True
            recent = self._recent[mode]
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= limit:
                return False
            recent.append(now)
            return True

    def latency(self) -> float:
        knobs = self.knobs
        if not knobs.latency_ms and not knobs.latency_jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(-knobs.latency_jitter_ms, knobs.latency_jitter_ms)
        return max(0.0, knobs.latency_ms + jitter) / 1000

    def pick(self) -> tuple[str | None, float]:
        """The fault for this request (or None) and a second draw the server uses to vary it."""
        knobs = self.knobs
        if not (knobs.fault_5xx or knobs.fault_reset or knobs.fault_truncate or knobs.fault_slow):
            return None, 0.0
        with self._lock:
            r, variant = self._rng.random(), self._rng.random()
        for kind, probability in (
            (SERVER_ERROR, knobs.fault_5xx),
            (RESET, knobs.fault_reset),
            (TRUNCATE, knobs.fault_truncate),
            (SLOW, knobs.fault_slow),
        ):
            if r < probability:
                return kind, variant
            r -= probability
        return None, variant

    def describe(self) -> dict[str, object]:
        return {**asdict(self.knobs), "storm_seconds": round(self.storm_remaining(), 3)}
