"""airbyte-cdk's standard source tests from acceptance-test-config.yml: in-process, and with `-m image_tests` against
the built image (`connector_image` there, or `--connector-image`), as `.ci/run` does after building it.

Its check and read scenarios use integration_tests/sandbox_config.json, which points at a local Stripe sandbox
on port 12111; the fixture below runs that sandbox for as long as these tests run.
"""

import fcntl
import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import pytest

from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from integration_tests.connector_image import image_under_test, require_image, write_host_network_docker
from source_stripe import SourceStripe
from stripe_sandbox import SandboxProcess

SANDBOX_PORT = 12111


@contextmanager
def port_held_alone(port: int) -> Iterator[None]:
    """Waits until no other pytest-xdist worker, or test run on this machine, holds `port` through this lock."""
    with open(Path(tempfile.gettempdir()) / f"stripe-sandbox-port-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def fail_unless_free(port: int) -> None:
    """Something outside the tests holding the port (most likely the README's `stripe-sandbox`, still running) is
    said in one sentence, not as a sandbox that failed to start."""
    with socket.socket() as probe:
        # As the sandbox binds: connections of an earlier run still closing (TIME_WAIT) do not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        free = _binds(probe, port)
    if not free:
        pytest.fail(
            f"Port {port}, which integration_tests/sandbox_config.json names, is in use (a stripe-sandbox left "
            "running?): stop what holds it, then run the tests again.",
            pytrace=False,
        )


def _binds(probe: socket.socket, port: int) -> bool:
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module", autouse=True)
def sandbox_on_the_configured_port():
    with port_held_alone(SANDBOX_PORT):
        fail_unless_free(SANDBOX_PORT)
        with SandboxProcess(seed=3, size=600, port=SANDBOX_PORT, orders_api=True) as sandbox:
            yield sandbox


@pytest.fixture
def connector_image_override(request) -> str:
    """Image tests run on the image the build script made, never on one airbyte-cdk would build by pulling the base."""
    return image_under_test(request.config)


@pytest.fixture
def read_from_streams() -> str:
    """airbyte-cdk reads nothing in the image unless told; the basic_read scenario names the tables to read."""
    return "all"


@pytest.fixture
def read_scenarios() -> str:
    """Every basic_read scenario, not only airbyte-cdk's default `config.json` one."""
    return "all"


@pytest.fixture(autouse=True)
def image_tests_reach_the_sandbox(request, tmp_path_factory, monkeypatch):
    if request.node.get_closest_marker("image_tests"):
        require_image(image_under_test(request.config))
        shim_dir = write_host_network_docker(tmp_path_factory.mktemp("host-network-docker"))
        monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")


class TestStripeStandardSuite(SourceTestSuiteBase):
    connector = SourceStripe

    @classmethod
    def create_connector(cls, scenario: Optional[ConnectorTestScenario]) -> SourceStripe:
        """A declarative source reads with the config it is built with, as the `source-stripe` entry point builds it."""
        config = (scenario or ConnectorTestScenario()).get_config_dict(
            empty_if_missing=True, connector_root=cls.get_connector_root_dir()
        )
        return SourceStripe(config=config)


def test_a_port_something_else_listens_on_is_said_in_one_sentence():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]

        with pytest.raises(pytest.fail.Exception, match=rf"^Port {port}, which .* is in use \(a stripe-sandbox left running\?\)"):
            fail_unless_free(port)
