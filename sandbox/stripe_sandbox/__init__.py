"""A local, stateful Stripe API sandbox for testing source-stripe; see the README."""

from . import keys
from .client import Sandbox, SandboxProcess
from .faults import Knobs

__all__ = ["Knobs", "Sandbox", "SandboxProcess", "keys"]
