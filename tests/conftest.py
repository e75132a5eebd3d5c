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
        pytest.skip(f"needs {path} (the shared data beside the repository)")
    return path


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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def influxd(tmp_path_factory):
    """A real InfluxDB 1.x on loopback (Debian package influxdb), stopped by its PID."""
    import time
    import urllib.request

    binary = shutil.which("influxd")
    if binary is None:
        pytest.skip("needs influxd (Debian package influxdb; .ci/run installs it)")
    root = tmp_path_factory.mktemp("influxdb")
    http_port, rpc_port = free_port(), free_port()
    config = root / "influxdb.conf"
    config.write_text(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
""")
    process = subprocess.Popen([binary, "run", "-config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as reply:
                if reply.status == 204:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("influxd did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
