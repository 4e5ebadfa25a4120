import sys

from airbyte_cdk.entrypoint import launch

from source_stripe.source import SourceStripe


def run() -> None:
    args = sys.argv[1:]
    launch(SourceStripe.from_args(args), args)


if __name__ == "__main__":
    run()
