"""A real Infrastructure Manager on 127.0.0.1, run from its own virtualenv.

IM (PyPI ``IM``) pulls in Ansible and pins libraries of its own, so it never shares this
project's environment: it lives in the project's ``.tools/im-venv`` (git-ignored;
``compiler.tools.install_im`` creates it, about 1.5 minutes) or wherever ``$AISPRINT_IM_PYTHON``
points (``compiler.tools.find_im_python``). ``start_im_server`` sets IM's
configuration (loopback address, a free port, a private DATA_DB and log) *before* importing
``IM.im_service`` — IM reads it at import time — and waits until ``GET /version`` answers.
Tests use it with the Dummy connector; ``aisprint up`` can use it as its local IM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from compiler.errors import AisprintError
from compiler.runtime.loopback import free_port

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
    """The IM server did not start or did not answer."""


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
