"""The README's two-sync example, its commands taken from the README and run as written, against a small sandbox:
the second sync starts from the state the first left and reads only a little."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from integration_tests.connector_process import ALL_STREAMS
from stripe_sandbox import Sandbox

pytestmark = pytest.mark.end_to_end

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- two syncs: integration_tests/test_readme_end_to_end.py runs these commands as written -->"
SANDBOX_CONFIG = Path("integration_tests/sandbox_config.json")


def readme_two_syncs() -> List[str]:
    found = re.search(re.escape(MARKER) + r"\n```bash\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    assert found, "the README's two-sync commands are missing, or no longer follow their marker"
    return found.group(1).splitlines()


def a_checkout_whose_sandbox_config_names(tmp_path: Path, sandbox_url: str) -> Path:
    """A directory the commands can run in as in the repository, its sandbox config naming this test's sandbox,
    so nothing is written into the repository and no fixed port is needed."""
    for shared in ("scripts", "integration_tests/incremental_catalog.json"):
        (tmp_path / shared).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / shared).symlink_to(REPO_ROOT / shared)
    assert (Path(sys.prefix) / "bin" / "source-stripe").exists(), "run the tests with the venv's python (make test)"
    (tmp_path / ".venv").symlink_to(sys.prefix)
    config = json.loads((REPO_ROOT / SANDBOX_CONFIG).read_text())
    (tmp_path / SANDBOX_CONFIG).write_text(json.dumps({**config, "api_base_url": sandbox_url}))
    return tmp_path


def messages(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_readmes_second_sync_starts_from_the_firsts_state_and_reads_only_what_changed(tmp_path):
    commands = readme_two_syncs()
    outputs = [re.search(r"> (\S+\.jsonl)$", line).group(1) for line in commands if "source-stripe read" in line]
    assert len(outputs) == 2, commands

    with Sandbox(seed=17, size=300, orders_api=True) as sandbox:
        checkout = a_checkout_whose_sandbox_config_names(tmp_path, sandbox.url)
        for command in commands:
            finished = subprocess.run(command, shell=True, cwd=checkout, capture_output=True, text=True, timeout=300)
            assert finished.returncode == 0, f"{command}\n{finished.stderr[-2000:]}"

    first, second = (messages(checkout / output) for output in outputs)
    first_records, second_records = ([m for m in sync if m["type"] == "RECORD"] for sync in (first, second))
    assert not [m for m in first + second if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert len(second_records) < len(first_records) / 10, (len(first_records), len(second_records))
    last_of_second = {m["state"]["stream"]["stream_descriptor"]["name"]: m["state"] for m in second if m["type"] == "STATE"}
    assert sorted(last_of_second) == sorted(ALL_STREAMS)
    assert json.loads((checkout / "state.json").read_text()) == list(last_of_second.values()), "the third sync's state"
