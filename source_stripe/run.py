import sys

from airbyte_cdk.entrypoint import launch
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.logger import init_logger

from source_stripe.source import SourceStripe


def run() -> None:
    # The entrypoint installs the handler that turns an error into a TRACE message only after the source is built,
    # and building it reads the config, catalog and state files.
    init_uncaught_exception_handler(init_logger("airbyte"))
    args = sys.argv[1:]
    launch(SourceStripe.from_args(args), args)


if __name__ == "__main__":
    run()
