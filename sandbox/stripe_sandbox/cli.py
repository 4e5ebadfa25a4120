"""`stripe-sandbox` / `python -m stripe_sandbox`: generate the data, then serve it on loopback."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from datetime import UTC, datetime

from .faults import Knobs
from .server import LOOPBACK_HOSTS, SandboxServer
from .state import SandboxState


def _moment(text: str) -> int:
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stripe-sandbox", description="A local, stateful Stripe API sandbox.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (only loopback is allowed)")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=_positive, default=3000, help="about how many objects the platform account has")
    parser.add_argument("--sellers", type=int, default=0, help="small connected accounts besides the two larger ones")
    parser.add_argument("--now", type=_moment, default=None, help="sandbox clock start (unix seconds or ISO 8601)")
    parser.add_argument("--storm-seconds", type=float, default=0, help="answer every request with 429 for this long")
    knobs = parser.add_argument_group("knobs (also settable at runtime: POST /_sandbox/knobs)")
    for knob in fields(Knobs):
        flag = "--" + knob.name.replace("_", "-")
        if knob.type in ("bool", bool):
            knobs.add_argument(flag, action=argparse.BooleanOptionalAction, default=knob.default)
        else:
            knobs.add_argument(flag, type=type(knob.default), default=knob.default)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.host not in LOOPBACK_HOSTS:
        print(f"stripe-sandbox: refusing to listen on {args.host!r}; use 127.0.0.1", file=sys.stderr)
        return 2
    knobs = Knobs(**{knob.name: getattr(args, knob.name) for knob in fields(Knobs)})
    started = time.perf_counter()
    state = SandboxState(seed=args.seed, size=args.size, now=args.now, knobs=knobs, sellers=args.sellers)
    state.dataset(state.platform.id, "test")  # generate before listening, so the first request is fast
    print(f"stripe-sandbox generated test data in {time.perf_counter() - started:.2f}s", file=sys.stderr)
    server = SandboxServer(state, args.host, args.port)
    if args.storm_seconds:
        state.faults.start_storm(args.storm_seconds)
    print(f"stripe-sandbox listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
