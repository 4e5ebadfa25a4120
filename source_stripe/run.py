import ctypes
import sys
from typing import Any, List

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.logger import PRINT_BUFFER, init_logger
from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.errors import is_explained, trace_line
from source_stripe.source import SourceStripe


M_ARENA_MAX = -8  # glibc's mallopt parameter
# The connector's threads mostly wait on the network. By default Python makes a busy thread hand the GIL over every
# 5 ms to any thread waiting for it, and each handoff to a thread on another core costs more CPU than the turn it buys:
# at 20 ms a sync with no latency spends 5-8% less CPU. The request budget's tenth-of-a-second steps are unaffected.
GIL_SWITCH_INTERVAL_SECONDS = 0.02
USAGE = (
    "source-stripe: name a command: spec, check --config CONFIG, discover --config CONFIG, or "
    "read --config CONFIG --catalog CATALOG [--state STATE] (source-stripe --help says more)."
)
# What argparse exits with for a command line it cannot use.
BAD_ARGUMENTS_EXIT_CODE = 2


def use_few_malloc_arenas() -> None:
    """glibc gives threads that allocate at once malloc arenas of their own; with dozens of workers, memory freed after
    each page stays spread over them, and resident memory crept from 150 to 240 MB over a million records. With two
    arenas it stays flat. Other C libraries have no such arenas, and nothing to do."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_ARENA_MAX, 2)


class Entrypoint(AirbyteEntrypoint):
    def validate_connection(self, source_spec: ConnectorSpecification, config: Any) -> None:
        """The CDK checks the config against the spec before `check` unless asked not to, as it does before discover
        and read, and would refuse a badly written date by quoting the spec's regex: SourceStripe.check says what
        is wrong with the field instead."""
        if self.source.check_config_against_spec:
            super().validate_connection(source_spec, config)


def run() -> None:
    use_few_malloc_arenas()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    sys.exit(main(sys.argv[1:]))


def main(args: List[str]) -> int:
    """Runs the command `args` name and returns the exit code. A bug is raised, for the handler of uncaught exceptions
    to report with its traceback."""
    # The entrypoint installs that handler, which turns an error into a TRACE message, only after the source is
    # built, and building it reads the config, catalog and state files.
    init_uncaught_exception_handler(init_logger("airbyte"))
    if AirbyteEntrypoint.parse_args(args).command is None:
        print(USAGE, file=sys.stderr)
        return BAD_ARGUMENTS_EXIT_CODE
    try:
        # What airbyte_cdk.entrypoint.launch does, with the Entrypoint above, which launch cannot be given.
        entrypoint = Entrypoint(SourceStripe.from_args(args))
        with PRINT_BUFFER:
            for message in entrypoint.run(entrypoint.parse_args(args)):
                # One write per message: threads printing a message and its line break apart would interleave them.
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if not is_explained(error):
            raise
        print(trace_line(error))
        return 1
    return 0


if __name__ == "__main__":
    run()
