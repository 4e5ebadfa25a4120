"""docs/reliability.md, which `make reliability` regenerates, names every fault, bad input and command tried."""

from pathlib import Path

from integration_tests import test_stripe_fidelity_end_to_end
from integration_tests.test_faults_end_to_end import LOST_RIGHTS, TRANSIENT_FAULTS
from integration_tests.test_secrets_end_to_end import COMMANDS
from unit_tests.test_bad_input import BAD_INPUT

REPORT = Path(__file__).parents[1] / "docs" / "reliability.md"


def test_the_reliability_report_names_every_case_the_suites_try():
    report = REPORT.read_text()

    unreported = [case for case in (*TRANSIENT_FAULTS, *LOST_RIGHTS, *BAD_INPUT, *COMMANDS) if case.replace("_", " ") not in report]

    assert unreported == [], "run `make reliability` to regenerate docs/reliability.md"


def test_the_reliability_report_names_every_inconvenient_stripe_behaviour_tried():
    report = REPORT.read_text()
    tests = {name: test for name, test in vars(test_stripe_fidelity_end_to_end).items() if name.startswith("test_")}

    def rows(name, test):
        """A parametrized test's rows are named by its parameters' ids, any other by the test."""
        ids = [mark.kwargs["ids"] for mark in getattr(test, "pytestmark", []) if mark.name == "parametrize"]
        return [i.replace("_", " ") for each in ids for i in each] or [name[len("test_") :].replace("_", " ")]

    unreported = [row for name, test in tests.items() for row in rows(name, test) if row not in report]

    assert tests and unreported == [], "run `make reliability` to regenerate docs/reliability.md"
