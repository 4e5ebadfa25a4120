"""docs/reliability.md, which `make reliability` regenerates, names every fault, bad input and command tried."""

from pathlib import Path

from integration_tests.test_faults_end_to_end import LOST_RIGHTS, TRANSIENT_FAULTS
from integration_tests.test_secrets_end_to_end import COMMANDS
from unit_tests.test_bad_input import BAD_INPUT

REPORT = Path(__file__).parents[1] / "docs" / "reliability.md"


def test_the_reliability_report_names_every_case_the_suites_try():
    report = REPORT.read_text()

    unreported = [case for case in (*TRANSIENT_FAULTS, *LOST_RIGHTS, *BAD_INPUT, *COMMANDS) if case.replace("_", " ") not in report]

    assert unreported == [], "run `make reliability` to regenerate docs/reliability.md"
