"""The built connector image, as the image tests and airbyte-cdk's standard tests on the image find and inspect it."""

import json
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE_TEST_CONFIG = REPO_ROOT / "acceptance-test-config.yml"


def image_under_test(config: pytest.Config) -> str:
    """`--connector-image` if given, else the image acceptance-test-config.yml names (what the build script tags)."""
    return config.getoption("--connector-image") or yaml.safe_load(ACCEPTANCE_TEST_CONFIG.read_text())["connector_image"]


def require_image(image: str) -> None:
    """Skips where no Docker daemon answers; fails, saying how to build it, where the image is missing."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH")
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("no Docker daemon answers")
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
        pytest.fail(f"image {image} is not built; run scripts/build_image_offline.sh first")


def inspect(image: str) -> Dict[str, Any]:
    return json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True).stdout)[0]


def layer_files(image: str) -> Iterator[Tuple[str, bytes]]:
    """Every regular file of every layer of the image, deleted ones included, as (path, content)."""
    with tempfile.TemporaryFile() as saved:
        subprocess.run(["docker", "save", image], stdout=saved, check=True)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            for layer_path in manifest[0]["Layers"]:
                with tarfile.open(fileobj=archive.extractfile(layer_path), mode="r|") as layer:
                    for member in layer:
                        if member.isfile():
                            yield member.name, layer.extractfile(member).read()


def write_host_network_docker(directory: Path) -> Path:
    """Writes a `docker` into `directory` that adds `--network host` to `docker run`, for putting first on PATH.

    airbyte-cdk's image tests run `docker run` without network options, but the sandbox listens on the host's
    loopback address only, which a container reaches only on the host network."""
    real_docker = shutil.which("docker")
    shim = directory / "docker"
    shim.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = run ]; then shift; exec "{real_docker}" run --network host "$@"; fi\n'
        f'exec "{real_docker}" "$@"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


def run_in_image(image: str, *command: str, entrypoint: Optional[str] = None) -> subprocess.CompletedProcess:
    prefix: List[str] = ["docker", "run", "--rm"] + (["--entrypoint", entrypoint] if entrypoint else [])
    return subprocess.run(prefix + [image, *command], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
