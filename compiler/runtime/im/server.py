"""A real Infrastructure Manager on 127.0.0.1, run from its own virtualenv.

IM (PyPI ``IM``) pulls in Ansible and pins libraries of its own, so it never shares this
project's environment: it lives in ``.tools/im-venv`` (git-ignored; ``install_im`` creates it,
about 1.5 minutes) or wherever ``$AISPRINT_IM_PYTHON`` points. ``start_im_server`` sets IM's
configuration (loopback address, a free port, a private DATA_DB and log) *before* importing
``IM.im_service`` — IM reads it at import time — and waits until ``GET /version`` answers.
Tests use it with the Dummy connector; ``aisprint up`` can use it as its local IM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import requests

from compiler.errors import AisprintError
from compiler.runtime.loopback import free_port

IM_PYTHON_ENV = "AISPRINT_IM_PYTHON"
IM_REQUIREMENT = "IM>=2.0,<3"
DEFAULT_VENV = Path(__file__).resolve().parents[3] / ".tools" / "im-venv"

# Runs inside IM's venv: configure, then import the service (it reads Config at import).
LAUNCHER = """
import sys
from IM.config import Config
port, data_db, log_file = sys.argv[1:4]
Config.REST_ADDRESS = "127.0.0.1"
Config.REST_PORT = int(port)
Config.DATA_DB = data_db
Config.LOG_FILE = log_file
Config.LOG_LEVEL = "INFO"
Config.VM_INFO_UPDATE_FREQUENCY = 1
Config.VM_INFO_UPDATE_ERROR_GRACE_PERIOD = 10
Config.CHECK_CTXT_PROCESS_INTERVAL = 1
Config.CONFMAMAGER_CHECK_STATE_INTERVAL = 1
Config.DELAY_BETWEEN_VM_RETRIES = 1
sys.argv = sys.argv[:1]
from IM import im_service
im_service.main()
"""


class IMUnavailable(AisprintError):
    """No IM installation can be found or made."""


def _has_im(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "import IM.tosca.Tosca"],
                              capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@lru_cache(maxsize=8)
def find_im_python(explicit: str | None = None) -> Path | None:
    """A python that can import IM: given, ``$AISPRINT_IM_PYTHON``, or .tools/im-venv."""
    for candidate in (explicit, os.environ.get(IM_PYTHON_ENV), DEFAULT_VENV / "bin" / "python"):
        if candidate and Path(candidate).is_file() and _has_im(Path(candidate)):
            return Path(candidate)
    return None


def install_im(venv: Path = DEFAULT_VENV, *, python: str = sys.executable) -> Path:
    """Create ``venv`` and install IM from PyPI into it; its python. Raises IMUnavailable."""
    target = venv / "bin" / "python"
    steps = ([python, "-m", "venv", str(venv)],
             [str(target), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              IM_REQUIREMENT])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise IMUnavailable(f"cannot install IM into {venv}: {tail}")
    find_im_python.cache_clear()
    return target


@dataclass(frozen=True)
class IMServer:
    """A running IM: its URL, process id and private folder (database, log)."""

    url: str
    pid: int
    workdir: Path

    @property
    def log(self) -> Path:
        return self.workdir / "im.log"

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (IM saves its data and ends its Ansible children), then SIGKILL."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                    return
            except ChildProcessError:
                return
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def start_im_server(python: Path, workdir: Path, *, port: int | None = None,
                    timeout: float = 60.0) -> IMServer:
    """Start IM on 127.0.0.1 (a free port unless given) and wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    with open(workdir / "stdout.log", "wb") as out:
        process = subprocess.Popen(
            [str(python), "-c", LAUNCHER, str(port), str(workdir / "inf.dat"),
             str(workdir / "im.log")], cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    server = IMServer(f"http://127.0.0.1:{port}", process.pid, workdir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (workdir / "stdout.log").read_text(errors="replace")[-800:]
            raise IMUnavailable(f"IM exited with code {process.returncode}: {output}")
        try:
            if requests.get(f"{server.url}/version", timeout=2).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise IMUnavailable(f"IM did not answer on {server.url} within {timeout:g} s")
