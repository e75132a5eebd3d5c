"""``aisprint up`` / ``down`` as a library: the local backend and the reconciler beside it,
started, fed, waited on and stopped — here, or in a background child.

* ``prepare`` decides everything before a process starts: no backend runs from the state
  folder yet, the inputs, the compile into the git repository, a deployment the backend can
  run, and whether a reconciler runs (it follows a git branch: a plain folder goes without);
* ``Supervisor`` runs them in this process: started on entry; ``process`` feeds the inputs and
  returns the frozen ``UpResult`` (also written to ``<state>/summary.json``); ``wait`` blocks
  until SIGTERM or Ctrl-C; stopped on exit;
* ``detach`` runs the same in a background child (``aisprint up … --detached-child`` in a new
  session, its output in ``<state>/up.log``) and returns once the child wrote its summary;
* ``down`` stops what ``up`` started, by the PIDs recorded in the state folder.

What happens on the way is told through ``on_event`` (the backend's events, plus
``compiled``, ``note``, ``starting``, ``reconciler-started`` and ``reconciler-exited``):
rendering is the caller's.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.runtime.local.backend import UP_FILE, Event, LocalBackend
from compiler.runtime.local.errors import local_error
from compiler.runtime.local.lifecycle import (
    PHOTO_HINT,
    compile_into,
    default_images,
    input_files,
    is_git_repository,
    open_metrics,
    running_backend,
    stop_backend,
)
from compiler.runtime.local.reconciler import Reconciler, ReconcilerOptions, ReconcilerStatus
from compiler.runtime.local.summary import Summary, summarize_run
from compiler.runtime.local.topology import DEFAULT_DEPLOYMENT, load_topology
from compiler.write import failing_as

SUMMARY_FILE = "summary.json"  # the result, written once the inputs are processed
FAILED_FILE = "failed.json"  # a background child that failed says why here
LOG_FILE = "up.log"  # a background child's output
PID_FILE = "up.pid"  # a background child's PID


@dataclass(frozen=True)
class UpOptions:
    """What runs, from where, and how."""

    app: Path  # the application folder (its name names the metrics' application)
    state: Path  # absolute: buckets, logs, metrics, PIDs
    repo: Path  # absolute: the compiled tree the backend runs (a git repository, or a folder)
    deployment: str = DEFAULT_DEPLOYMENT
    routing: str = "dag"  # dag: the DAG's branch probabilities; all: every successor
    parallel: int | None = None  # at most this many runs of a service at once
    timeout: float = 600.0  # seconds one run may take
    inputs: Path | None = None  # the file, or folder of files, processed at start
    reconciler: ReconcilerOptions | None = None  # None: no reconciler beside the backend


@dataclass(frozen=True)
class Prepared:
    """``prepare``'s decisions: ready to run."""

    options: UpOptions
    files: tuple[Path, ...]  # the inputs, in the order they are fed


@dataclass(frozen=True)
class UpResult:
    """What one ``aisprint up`` did with its inputs, and where it runs."""

    summary: Summary
    state: Path
    repo: Path
    inputs_folders: tuple[str, ...]  # where a file dropped later is processed
    reconciler: ReconcilerStatus | None

    def to_json(self) -> dict:
        return {**self.summary.to_json(), "state": str(self.state), "repo": str(self.repo),
                "inputs_folder": list(self.inputs_folders),
                "reconciler": self.reconciler.to_json() if self.reconciler else None}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> UpResult:
        return cls(Summary.from_json(doc), Path(doc["state"]), Path(doc["repo"]),
                   tuple(doc["inputs_folder"]),
                   ReconcilerStatus.from_json(doc["reconciler"]) if doc["reconciler"] else None)


@dataclass(frozen=True)
class Detached:
    """A backend left running in the background by ``detach``."""

    result: UpResult
    pid: int
    log: Path


def prepare(app: Path, state: Path, repo: Path, *, images: Path | None = None,
            no_images: bool = False, compile: bool = True, check: bool = True,
            reconcile: bool | None = None, reconciler: ReconcilerOptions | None = None,
            deployment: str = DEFAULT_DEPLOYMENT, routing: str = "dag",
            parallel: int | None = None, timeout: float = 600.0,
            on_event: Callable[[Event], None] | None = None) -> Prepared:
    """Refuse now what could not run (AIS966 a backend already runs from ``state``, AIS967 no
    inputs, AIS956 a reconciler asked for on a plain folder, the deployment unreadable);
    compile ``app`` into ``repo`` when ``compile`` (event ``compiled``, with the ``Compiled``);
    check the deployment when ``check``. ``reconcile``: None runs the reconciler when ``repo``
    is a git repository, and says why not otherwise (event ``note``)."""
    tell = on_event or (lambda _event: None)
    running = running_backend(state)
    if running:
        raise local_error(
            "AIS966", f"a local backend already runs from {state} (pid {running['pid']})",
            f"stop it first: aisprint down --state {state}, or use another --state",
            state / UP_FILE)
    inputs = None if no_images else Path(images) if images else default_images()
    if inputs is None and not no_images:
        raise local_error("AIS967", "no ../shared/images beside this folder or this "
                          "checkout, and no --images given", PHOTO_HINT)
    files = tuple(input_files(inputs)) if inputs else ()
    if compile:
        with failing_as(f"the state folder {state}"):  # a file, no permission: exit 1
            state.mkdir(parents=True, exist_ok=True)
        tell({"event": "compiled", "app": app, "compiled": compile_into(app, repo)})
    if check:
        load_topology(repo, deployment)
    if reconcile is not False and not is_git_repository(repo):
        if reconcile:
            raise local_error(
                "AIS956", f"--reconcile needs a git repository and {repo} is a plain folder",
                "let up compile into it (drop --no-compile; the folder must then be empty or "
                "a git repository), or pass --no-reconcile", repo)
        tell({"event": "note", "note": f"{repo} is not a git repository, so no reconciler "
              "runs beside the backend (compile into it with `aisprint up APP` or `aisprint "
              "compile APP --repo DIR`)"})
        reconcile = False
    options = UpOptions(app, state, repo, deployment, routing, parallel, timeout, inputs,
                        None if reconcile is False else reconciler or ReconcilerOptions())
    return Prepared(options, files)


class Supervisor:
    """The backend and its reconciler in this process, for as long as the ``with`` lasts.

    SIGTERM ends ``process`` and ``wait``; Ctrl-C (KeyboardInterrupt) stops everything and
    is not raised further. ``detached``: this process is ``detach``'s child, so a failure is
    also written to ``failed.json``, where the parent looks for it."""

    def __init__(self, options: UpOptions, *, on_event: Callable[[Event], None] | None = None,
                 detached: bool = False):
        self.options = options
        self.on_event = on_event or (lambda _event: None)
        self.detached = detached
        self.backend: LocalBackend | None = None
        self.reconciler: Reconciler | None = None
        self._stop = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> Supervisor:
        o = self.options
        for name in (SUMMARY_FILE, FAILED_FILE):
            (o.state / name).unlink(missing_ok=True)
        self._previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: self._stop.set())
        try:
            topology = load_topology(o.repo, o.deployment)
            metrics = open_metrics(o.state, app_name=o.app.name)
            self.on_event({"event": "starting",
                           "services": [s.name for s in topology.services]})
            self.backend = LocalBackend(topology, o.state, metrics, routing=o.routing,
                                        max_parallel=o.parallel, timeout=o.timeout,
                                        on_event=self.on_event)
            self.backend.start()
            if o.reconciler is not None:
                self.reconciler = Reconciler.start(o.repo, o.app if o.app.is_dir() else None,
                                                   o.state, o.reconciler, app_name=o.app.name)
                self.backend.update_up_file(reconciler={"pid": self.reconciler.pid,
                                                        "log": str(self.reconciler.log)})
                self.on_event({"event": "reconciler-started", "pid": self.reconciler.pid,
                               "interval": o.reconciler.interval,
                               "log": str(self.reconciler.log)})
        except BaseException:
            self.__exit__(*sys.exc_info())  # what started is stopped; the error goes on
            raise
        return self

    def process(self, files: tuple[Path, ...], *, settle: bool = False) -> UpResult:
        """Feed ``files`` and wait until the backend is idle (or SIGTERM). ``settle``: also
        wait for a reconciler cycle that ends after the batch, so the result holds its
        verdict."""
        backend = self.backend
        since = time.time()
        if files:
            backend.upload(files)
            while not backend.wait_idle(timeout=0.5) and not self._stop.is_set():
                pass
        done = time.time()
        if self.reconciler is not None and settle:
            self.reconciler.wait_cycles(len(self.reconciler.cycles()) + 1,
                                        timeout=self.options.reconciler.interval + 60)
        result = UpResult(summarize_run(backend, since, len(files), done), self.options.state,
                          self.options.repo,
                          tuple(str(backend.buckets / s.inputs[0].path)
                                for s in backend.topology.entry_services()),
                          self.reconciler.status() if self.reconciler else None)
        (self.options.state / SUMMARY_FILE).write_text(
            json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
        return result

    def wait(self) -> None:
        """Until SIGTERM (or Ctrl-C); says once when the reconciler exits on its own."""
        told = False
        while not self._stop.wait(0.5):
            if self.reconciler is not None and not told \
                    and self.reconciler.exit_code() is not None:
                told = True
                self.on_event({"event": "reconciler-exited", "status": self.reconciler.status(),
                               "last_line": self.reconciler.last_line()})

    def __exit__(self, kind, error, _traceback) -> bool:
        try:
            try:
                if self.reconciler is not None:
                    self.reconciler.stop()
            finally:
                if self.backend is not None:
                    self.backend.stop()
            if self.detached and isinstance(error, Exception):
                (self.options.state / FAILED_FILE).write_text(
                    json.dumps({"error": str(error)}) + "\n")
        finally:
            signal.signal(signal.SIGTERM, self._previous)
        return kind is not None and issubclass(kind, KeyboardInterrupt)


def child_command(options: UpOptions) -> list[str]:
    """``aisprint up`` as ``detach`` runs it in the background: the tree as it is (compiled
    already), the reconciler asked for or refused explicitly."""
    o = options
    command = [sys.executable, "-m", "compiler.cli.main", "up", str(o.app.resolve()),
               "--state", str(o.state), "--out", str(o.repo), "--no-compile",
               "--deployment", o.deployment, "--routing", o.routing, "--timeout", str(o.timeout),
               "--detached-child"]
    command += ["--images", str(o.inputs.resolve())] if o.inputs else ["--no-images"]
    if o.reconciler is None:
        command += ["--no-reconcile"]
    else:
        command += ["--reconcile", "--reconcile-interval", f"{o.reconciler.interval:g}",
                    "--reconcile-for", f"{o.reconciler.violation_window:g}",
                    "--reconcile-cooldown", f"{o.reconciler.cooldown:g}"]
    if o.parallel:
        command += ["--parallel", str(o.parallel)]
    return command


def detach(options: UpOptions) -> Detached:
    """Run ``options`` in a background child (a new session, so it outlives this process)
    and return once it has processed its inputs; AIS970, with the last lines of its log,
    when it stopped before."""
    state = options.state
    for name in (SUMMARY_FILE, FAILED_FILE):
        (state / name).unlink(missing_ok=True)
    log = state / LOG_FILE
    with open(log, "ab") as handle:
        process = subprocess.Popen(child_command(options), stdin=subprocess.DEVNULL,
                                   stdout=handle, stderr=handle, start_new_session=True)
    (state / PID_FILE).write_text(f"{process.pid}\n")
    while not (state / SUMMARY_FILE).exists():
        if process.poll() is not None or (state / FAILED_FILE).exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise local_error(
                "AIS970", "the background backend stopped before it was ready: "
                + (" | ".join(tail) or f"exit {process.returncode}"), f"see {log}", log)
        time.sleep(0.1)
    result = UpResult.from_json(json.loads((state / SUMMARY_FILE).read_text()))
    return Detached(result, process.pid, log)


def down(state: Path) -> tuple[tuple[int, str], ...]:
    """Stop what ``aisprint up`` started from ``state``: ``(pid, what)`` of each process
    stopped (``stop_backend``)."""
    stopped = stop_backend(state)
    (Path(state) / PID_FILE).unlink(missing_ok=True)
    return tuple(stopped)
