"""The processes of the local backend: its warm ``Worker`` children
(``compiler.runtime.local.worker``), how a child is stopped, and how a recorded PID is recognised
and stopped (``aisprint down``)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from compiler.runtime.local.errors import local_error
from compiler.runtime.local.topology import Service

WORKER_MODULE = "compiler.runtime.local.worker"
RECONCILER_COMMAND = "compiler.cli.main reconcile "  # in the reconciler's command line


def stop_process(process: subprocess.Popen, grace: float) -> int:
    """SIGTERM a child, SIGKILL it when it outlives ``grace`` seconds; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Worker:
    """One warm worker process of a service (``compiler.runtime.local.worker``)."""

    def __init__(self, service: Service, log: Path, ready_timeout: float = 120.0):
        self.service = service
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log, "ab")  # noqa: SIM115 - lives as long as the worker
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(service.design_dir)],
            cwd=service.design_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, env=self._environment(), start_new_session=False)
        hello = self._read(ready_timeout)
        if not hello or not hello.get("ready"):
            self.stop()
            error = (hello or {}).get("error") or "it exited or did not answer"
            raise local_error("AIS969", f"service {service.name!r}: its main.py cannot be loaded: "
                              f"{error}", f"see {log}", service.design_dir / "main.py")
        self.warm = bool(hello.get("warm"))

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(dict(self.service.env))
        # the design folder first: its own aisprint SDK, as in the image
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.service.design_dir), *filter(None, [env.get("PYTHONPATH", "")])])
        env.pop("AISPRINT_METRICS_FILE", None)
        return env

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self, timeout: float | None) -> dict | None:
        stream = self.process.stdout
        if timeout is not None:
            ready, _, _ = select.select([stream], [], [], timeout)
            if not ready:
                return None
        line = stream.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return None

    def run(self, request: dict, timeout: float | None) -> dict | None:
        """One request; None when the worker died or took longer than ``timeout``."""
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read(timeout)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        try:
            if self.process.stdin:
                self.process.stdin.close()  # a worker ends when its stdin closes
        except OSError:
            pass
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            stop_process(self.process, grace)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


def command_line(pid: int) -> str | None:
    """The command line of a live process, "" when it cannot be read, None when gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    if Path(f"/proc/{pid}/stat").is_file():
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return None  # a zombie: already dead, waiting for its parent
        except (OSError, IndexError):
            pass
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if command_line(p) is not None]
        if alive:
            time.sleep(0.05)
    return alive


def terminate(pid: int, grace: float) -> None:
    """SIGTERM, then SIGKILL when ``pid`` outlives ``grace`` seconds."""
    os.kill(pid, signal.SIGTERM)
    if _wait_gone([pid], grace):
        os.kill(pid, signal.SIGKILL)
        _wait_gone([pid], 5)
