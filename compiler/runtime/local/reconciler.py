"""The reconciler beside the local backend.

``aisprint up`` runs ``aisprint reconcile REPO --watch`` as a child process on the git
repository the backend runs from (``<state>/repo``):

* it judges the metrics the backend's workers write — the same store: the embedded
  ``<state>/metrics.sqlite``, or the InfluxDB the ``INFLUX_*`` environment names — through a
  metrics configuration written to ``<state>/reconciler/metrics.yaml`` (no secrets in it: those
  stay in the environment the child inherits);
* it applies nothing to an IM (``IM_URL`` is not passed on): locally, the backend is the
  infrastructure, and it follows the repository by itself — a re-placement the reconciler
  commits changes the work tree, and the backend reloads the services that moved;
* its state is ``<state>/reconciler`` and its log (one JSON line per cycle) is
  ``<state>/logs/reconciler.log``; its PID goes into ``up.json`` so that ``aisprint down``
  stops it, and the backend that started it stops it when it stops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.runtime.local.errors import local_error
from compiler.runtime.local.lifecycle import metrics_config
from compiler.runtime.local.processes import stop_process

STATE = "reconciler"
LOG = "reconciler.log"
METRICS_FILE = "metrics.yaml"


@dataclass(frozen=True)
class ReconcilerOptions:
    interval: float = 5.0  # seconds between cycles
    violation_window: float = 60.0  # --for: seconds a violation must last
    cooldown: float = 300.0  # seconds after a change during which nothing fires


def write_metrics_config(state_dir: Path, app_name: str = "",
                         environ: Mapping[str, str] | None = None) -> Path:
    """The backend's metrics store as a configuration file the reconciler reads."""
    config = metrics_config(state_dir, app_name, environ)
    settings = {k: v for k, v in asdict(config).items() if k != "source" and v not in ("", None)}
    path = Path(state_dir) / STATE / METRICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"metrics": settings}, sort_keys=True), encoding="utf-8")
    return path


def command(repo: Path, app_dir: Path | None, state_dir: Path, options: ReconcilerOptions,
            config: Path) -> list[str]:
    """``aisprint reconcile`` as this Python runs it (without ``--app`` it judges and commits
    nothing: a trigger then says AIS965)."""
    return [sys.executable, "-m", "compiler.cli.main", "reconcile", str(repo), "--watch",
            "--interval", f"{options.interval:g}",
            *(["--app", str(app_dir)] if app_dir is not None else []),
            "--state", str(Path(state_dir) / STATE), "--metrics-config", str(config),
            "--for", f"{options.violation_window:g}", "--cooldown", f"{options.cooldown:g}",
            "-o", "json"]


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    env.pop("IM_URL", None)  # the local backend is the infrastructure: nothing goes to an IM
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cycles_in(text: str) -> list[dict]:
    """The cycle lines (``-o json``) of a reconciler log; notes and errors left out."""
    found = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            cycle = json.loads(line)
        except ValueError:
            continue
        if isinstance(cycle, dict) and "status" in cycle:
            found.append(cycle)
    return found


class Reconciler:
    """A running ``aisprint reconcile --watch`` child of the backend."""

    def __init__(self, process: subprocess.Popen, log: Path, offset: int,
                 options: ReconcilerOptions):
        self.process = process
        self.log = log
        self.offset = offset  # where this run's lines start in the log
        self.options = options

    @classmethod
    def start(cls, repo: Path, app_dir: Path | None, state_dir: Path,
              options: ReconcilerOptions | None = None, app_name: str = "",
              environ: Mapping[str, str] | None = None) -> Reconciler:
        """Start it; ``app_name`` as the backend was given it (it names an InfluxDB 2
        bucket when INFLUX_BUCKET is not set)."""
        options = options or ReconcilerOptions()
        state_dir = Path(state_dir).resolve()
        config = write_metrics_config(state_dir, app_name, environ)
        log = state_dir / "logs" / LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            offset = handle.tell()
            try:
                process = subprocess.Popen(
                    command(Path(repo).resolve(), Path(app_dir).resolve() if app_dir else None,
                            state_dir, options, config),
                    stdin=subprocess.DEVNULL, stdout=handle, stderr=handle,
                    env=child_environment(environ), start_new_session=True)
            except OSError as exc:
                raise local_error("AIS970", f"the reconciler could not start: {exc}",
                                  "run `aisprint up --no-reconcile`, or start `aisprint reconcile` "
                                  f"on {repo} yourself", log) from None
        return cls(process, log, offset, options)

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def _text(self) -> str:
        try:
            with open(self.log, "rb") as handle:
                handle.seek(self.offset)
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    def cycles(self) -> list[dict]:
        """The cycles this run of the reconciler has logged so far."""
        return cycles_in(self._text())

    def last_line(self) -> str:
        lines = self._text().strip().splitlines()
        return lines[-1] if lines else ""

    def wait_cycles(self, count: int, timeout: float) -> bool:
        """Until ``count`` cycles are logged (True), it exits or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while len(self.cycles()) < count:
            if self.exit_code() is not None or time.monotonic() > deadline:
                return len(self.cycles()) >= count
            time.sleep(0.1)
        return True

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM (a cycle in progress is cut short: the git writer and the state file are
        crash-safe), then SIGKILL after ``grace``; returns the exit code."""
        return stop_process(self.process, grace)

    def status(self) -> ReconcilerStatus:
        """Where it is now: running or not, and what its cycles did."""
        cycles = self.cycles()
        return ReconcilerStatus(self.pid, self.log, self.options.interval, self.exit_code(),
                                len(cycles), tuple(c["commit"] for c in cycles if c.get("commit")),
                                cycles[-1] if cycles else None)


@dataclass(frozen=True)
class ReconcilerStatus:
    """The reconciler beside the backend as ``aisprint up`` reports it (its summary)."""

    pid: int
    log: Path
    interval: float  # seconds between cycles
    exit_code: int | None  # None while it runs
    cycles: int
    commits: tuple[str, ...]  # the re-placements it committed, oldest first
    last: Mapping[str, Any] | None  # its last cycle, as it logged it (``-o json``)

    @property
    def running(self) -> bool:
        return self.exit_code is None

    def to_json(self) -> dict:
        return {"pid": self.pid, "log": str(self.log), "interval": self.interval,
                "running": self.running, "exit_code": self.exit_code, "cycles": self.cycles,
                "commits": list(self.commits), "last": self.last}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReconcilerStatus:
        return cls(doc["pid"], Path(doc["log"]), doc["interval"], doc["exit_code"],
                   doc["cycles"], tuple(doc["commits"]), doc["last"])


__all__ = ["Reconciler", "ReconcilerOptions", "ReconcilerStatus", "command", "cycles_in",
           "write_metrics_config"]
