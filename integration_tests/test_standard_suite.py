"""airbyte-cdk's standard source tests, run in-process from acceptance-test-config.yml.

Its check and read scenarios use integration_tests/sandbox_config.json, which points at a local Stripe sandbox
on port 12111; the fixture below runs that sandbox for as long as these tests run.
"""

from typing import Optional

import pytest

from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from source_stripe import SourceStripe
from stripe_sandbox import SandboxProcess

SANDBOX_PORT = 12111


@pytest.fixture(scope="module", autouse=True)
def sandbox_on_the_configured_port():
    with SandboxProcess(seed=3, size=600, port=SANDBOX_PORT, orders_api=True) as sandbox:
        yield sandbox


class TestStripeStandardSuite(SourceTestSuiteBase):
    connector = SourceStripe

    @classmethod
    def create_connector(cls, scenario: Optional[ConnectorTestScenario]) -> SourceStripe:
        """A declarative source reads with the config it is built with, as the `source-stripe` entry point builds it."""
        config = (scenario or ConnectorTestScenario()).get_config_dict(
            empty_if_missing=True, connector_root=cls.get_connector_root_dir()
        )
        return SourceStripe(config=config)
