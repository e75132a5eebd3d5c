"""Run one unit's real entry point over inputs, in worker processes limited to given CPUs.

A worker process (a fresh ``python -m compiler.profile.runner``, nothing inherited from ours)
pins itself to its CPUs (``os.sched_setaffinity`` on Linux), sets the usual thread-count
variables and makes every ONNX Runtime session it creates use that many intra-op threads —
what a container limited to those cores runs with when it is configured well. It then imports
the unit's ``main.py`` once and calls ``main({"input": FILE, "output": DIR})`` per file, as
OSCAR's script does through ``python main.py FILE DIR``; only that call is timed, never the
interpreter start nor the import.

Each worker first processes one input untimed (a warm-up: the first call of a component
builds its ONNX Runtime session); then the parent sends the runs: each idle worker gets the
next file, so a run's inputs are spread over the ``p`` workers as OSCAR spreads jobs over
replicas.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class WorkerJob:
    key: tuple  # (repetition, input index), echoed back
    input: str
    output: str


@dataclass(frozen=True)
class JobResult:
    key: tuple
    worker: int
    start: float  # time.monotonic() at the call (comparable across processes on Linux)
    end: float
    seconds: float  # wall time of main() alone
    returned: tuple[str, ...]  # paths main() returned (what the unit sends on)
    error: str = ""


class UnitFailure(Exception):
    """A unit could not be run: ``kind`` is load | crash | died | timeout."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail


def _limit_onnxruntime(threads: int) -> None:
    try:
        # deferred: only a worker needs ONNX Runtime (slow to import), and the campaign's
        # process imports this module too
        import onnxruntime as ort
    except ImportError:
        return
    base = ort.InferenceSession

    class LimitedSession(base):  # type: ignore[misc, valid-type]
        def __init__(self, path_or_bytes, sess_options=None, *args, **kwargs):
            options = sess_options if sess_options is not None else ort.SessionOptions()
            if options.intra_op_num_threads == 0:
                options.intra_op_num_threads = threads
            if options.inter_op_num_threads == 0:
                options.inter_op_num_threads = 1
            super().__init__(path_or_bytes, options, *args, **kwargs)

    ort.InferenceSession = LimitedSession


def _load_main(main_py: str) -> Callable:
    main_py = str(Path(main_py).resolve())
    folder = str(Path(main_py).parent)
    sys.path.insert(0, folder)
    os.chdir(folder)
    spec = importlib.util.spec_from_file_location("aisprint_profiled_unit", main_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = getattr(module, "main", None)
    if not callable(main):
        raise AttributeError(f"{main_py} defines no function main(args)")
    return main


def _returned_paths(value, output: str) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    paths = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            if not path.is_absolute():
                path = Path(output) / path
            if path.is_file():
                paths.append(str(path))
    return tuple(paths)


def _serve(main_py: str, cpus: Sequence[int], threads: int, log: str
           ) -> None:  # pragma: no cover - runs in the worker process
    """The worker: JSON lines in on stdin, JSON lines out on the original stdout; whatever
    the component prints goes to ``log``."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 1)
    os.dup2(handle, 2)

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    try:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(cpus))
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)
        _limit_onnxruntime(threads)
        main = _load_main(main_py)
    except BaseException:  # noqa: BLE001 - everything is reported to the parent
        send({"kind": "load", "detail": traceback.format_exc()})
        return
    send({"kind": "ready"})
    for line in sys.stdin:
        job = json.loads(line)
        Path(job["output"]).mkdir(parents=True, exist_ok=True)
        error = ""
        returned: object = None
        start = time.monotonic()
        began = time.perf_counter()
        try:
            returned = main({"input": job["input"], "output": job["output"]})
        except BaseException:  # noqa: BLE001
            error = traceback.format_exc()
        seconds = time.perf_counter() - began
        end = time.monotonic()
        send({"kind": "done", "start": start, "end": end, "seconds": seconds,
              "returned": list(_returned_paths(returned, job["output"])), "error": error})


class WorkerPool:
    """``parallelism`` worker processes of one unit, each on ``cores`` CPUs of its own.

    Workers are plain ``python -m compiler.profile.runner`` processes talking JSON lines over
    pipes (no multiprocessing: it re-imports the caller's main script, which a CLI or a
    notebook cannot promise to guard). The parent hands each idle worker the next job."""

    def __init__(self, main_py: Path, *, parallelism: int, cores: int, cpus: Sequence[int],
                 log: Path, timeout: float = 600.0) -> None:
        self.timeout = timeout
        self.main_py = main_py
        self.log = log
        self.processes: list = []
        for i in range(parallelism):
            mine = [str(c) for c in cpus[i * cores:(i + 1) * cores]]
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "compiler.profile.runner", str(main_py),
                 ",".join(mine), str(cores), str(log)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1))
        for index in range(parallelism):
            message = self._read(index, time.monotonic() + self.timeout)
            if message["kind"] == "load":
                self.close(force=True)
                raise UnitFailure("load", f"importing {main_py} failed", message["detail"])

    def _read(self, index: int, deadline: float) -> dict:
        process = self.processes[index]
        while True:
            ready, _, _ = select.select([process.stdout], [], [],
                                        max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
            if ready:
                line = process.stdout.readline()
                if line:
                    return json.loads(line)
                process.wait(timeout=5)
                self.close(force=True)
                raise UnitFailure("died", f"a worker running {self.main_py} exited with code "
                                  f"{process.returncode}", self._log_tail())
            if time.monotonic() > deadline:
                self.close(force=True)
                raise UnitFailure("timeout", f"{self.main_py} took more than "
                                  f"{self.timeout:g} s on one input")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def run(self, jobs: Sequence[WorkerJob], on_done: Callable[[JobResult], None] | None = None
            ) -> list[JobResult]:
        """Process every job (the next idle worker takes the next job); completion order."""
        pending = list(jobs)
        pending.reverse()
        busy: dict[int, tuple[WorkerJob, float]] = {}
        done: list[JobResult] = []
        while len(done) < len(jobs):
            for index in range(len(self.processes)):
                if index not in busy and pending:
                    job = pending.pop()
                    self.processes[index].stdin.write(
                        json.dumps({"input": job.input, "output": job.output}) + "\n")
                    self.processes[index].stdin.flush()
                    busy[index] = (job, time.monotonic() + self.timeout)
            streams = {self.processes[i].stdout: i for i in busy}
            ready, _, _ = select.select(list(streams), [], [], POLL_SECONDS)
            for stream in ready:
                index = streams[stream]
                job, deadline = busy.pop(index)
                message = self._read(index, deadline)
                if message["kind"] != "done":
                    continue
                if message["error"]:
                    self.close(force=True)
                    raise UnitFailure("crash", f"{self.main_py} failed on {job.input}",
                                      message["error"])
                result = JobResult(job.key, index, message["start"], message["end"],
                                   message["seconds"], tuple(message["returned"]))
                done.append(result)
                if on_done is not None:
                    on_done(result)
            for job, deadline in busy.values():
                if time.monotonic() > deadline:
                    self.close(force=True)
                    raise UnitFailure("timeout", f"{self.main_py} took more than "
                                      f"{self.timeout:g} s on {job.input}")
        return done

    def close(self, force: bool = False) -> None:
        """Stop the workers: when they finish their current job, or at once (``force``)."""
        for process in self.processes:
            if force:
                process.kill()
            elif process.stdin and not process.stdin.closed:
                with contextlib.suppress(OSError):
                    process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=10 if not force else 5)
            except Exception:  # noqa: BLE001 - a stuck worker is killed, whatever happened
                process.kill()
                process.wait(timeout=5)
            for stream in (process.stdout, process.stdin):
                if stream and not stream.closed:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.processes = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def actual_parallelism(results: Sequence[JobResult]) -> int:
    """Most jobs running at the same moment (OSCAR-P's actual parallelism)."""
    events = sorted([(r.start, 1) for r in results] + [(r.end, -1) for r in results],
                    key=lambda e: (e[0], e[1]))
    running = best = 0
    for _, step in events:
        running += step
        best = max(best, running)
    return best


if __name__ == "__main__":  # pragma: no cover - the worker process
    _serve(sys.argv[1], [int(c) for c in sys.argv[2].split(",") if c], int(sys.argv[3]),
           sys.argv[4])
