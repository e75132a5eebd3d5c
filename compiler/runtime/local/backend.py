"""The backend: ``LocalBackend`` watches the services' input folders, runs each arrived file in
a warm worker, uploads what the run wrote to the next services' inputs, records the run
(``jobs.jsonl``, the metrics store) and reloads the deployment when its files change."""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import InvalidInput
from compiler.runtime.local.errors import LocalError
from compiler.runtime.local.processes import Worker
from compiler.runtime.local.topology import (
    Service,
    Storage,
    Topology,
    chosen_successors,
    load_topology,
    parallelism,
    session_of,
    topology_fingerprint,
    with_session,
)
from compiler.runtime.metrics import ExecutionTimePoint, MetricsSource, point_from_record
from compiler.write import place_atomically, write_atomically

UP_FILE = "up.json"
RELOAD_CHECK = 2.0  # seconds between looks at the repository for a new deployment


@dataclass(frozen=True)
class Job:
    service: str
    input: Path  # the file in its bucket folder
    session: str
    enqueued: float
    seq: int


@dataclass(frozen=True)
class JobRecord:
    service: str
    unit: str
    seq: int
    input: str  # relative to buckets/
    session: str
    ok: bool
    error: str
    job_start: float
    job_end: float
    outputs: tuple[str, ...]  # relative to buckets/
    worker: int

    def to_json(self) -> dict:
        return {"service": self.service, "unit": self.unit, "seq": self.seq,
                "input": self.input, "session": self.session, "ok": self.ok,
                "error": self.error, "job_start": self.job_start, "job_end": self.job_end,
                "outputs": list(self.outputs), "worker": self.worker}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> JobRecord:
        return cls(doc["service"], doc["unit"], doc["seq"], doc["input"], doc["session"],
                   doc["ok"], doc["error"], doc["job_start"], doc["job_end"],
                   tuple(doc["outputs"]), doc["worker"])


Event = Mapping[str, Any]


@dataclass
class _ServiceState:
    service: Service
    queue: queue.Queue = field(default_factory=queue.Queue)
    threads: list[threading.Thread] = field(default_factory=list)
    workers: dict[int, Worker] = field(default_factory=dict)  # slot -> worker
    busy: int = 0
    seen: set[str] = field(default_factory=set)


class LocalBackend:
    """Runs a topology until ``stop()``. Thread-based; one warm worker process per slot."""

    def __init__(self, topology: Topology, state_dir: Path, metrics: MetricsSource, *,
                 routing: str = "dag", max_parallel: int | None = None, poll: float = 0.1,
                 timeout: float | None = 600.0, on_event: Callable[[Event], None] | None = None,
                 watch_repository: bool = True):
        if routing not in ("dag", "all"):
            raise ValueError(routing)
        self.topology = topology
        self.state = Path(state_dir).resolve()
        self.buckets = self.state / "buckets"
        self.metrics = metrics
        self.routing = routing
        self.max_parallel = max_parallel
        self.poll = poll
        self.timeout = timeout
        self.on_event = on_event or (lambda _e: None)
        self.watch_repository = watch_repository
        self._lock = threading.RLock()
        self._metrics_lock = threading.Lock()
        self._stop = threading.Event()
        self._services: dict[str, _ServiceState] = {}
        self._pending: dict[str, tuple[int, int]] = {}  # file -> (size, mtime) last poll
        self._seq = 0
        self._generation = 0
        self._dirty = True
        self._scanner: threading.Thread | None = None
        self._fingerprint = ""
        self.reloads = 0  # deployments re-read since start (a commit changed them)
        self.records: list[JobRecord] = []
        self.skipped: list[tuple[str, str]] = []  # (service, input) not taken: another branch
        self.started = 0.0

    # -- lifecycle
    def start(self) -> LocalBackend:
        for sub in ("buckets", "work", "logs", "seen"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self._fingerprint = topology_fingerprint(self.topology.repo, self.topology.deployment)
        self._start_services(self.topology.services)
        self._write_up_file()
        self._scanner = threading.Thread(target=self._scan_loop, name="local-scan", daemon=True)
        self._scanner.start()
        return self

    def _start_services(self, services: Iterable[Service]) -> None:
        for service in services:
            for storage in (*service.inputs, *service.outputs):
                (self.buckets / storage.path).mkdir(parents=True, exist_ok=True)
            state = _ServiceState(service)
            seen_file = self.state / "seen" / f"{service.name}.txt"
            if seen_file.is_file():
                state.seen = set(seen_file.read_text(encoding="utf-8").splitlines())
            self._services[service.name] = state
            for slot in range(parallelism(service, cap=self.max_parallel)):
                thread = threading.Thread(target=self._dispatch, args=(state, slot),
                                          name=f"local-{service.name}-{slot}", daemon=True)
                state.threads.append(thread)
                thread.start()

    def _stop_services(self, names: Iterable[str]) -> None:
        states = [self._services.pop(n) for n in list(names) if n in self._services]
        for state in states:
            for _ in state.threads:
                state.queue.put(None)
        for state in states:
            for thread in state.threads:
                thread.join()

    def stop(self) -> None:
        self._stop.set()
        if self._scanner:
            self._scanner.join()
        self._stop_services(list(self._services))
        up = self.state / UP_FILE
        try:
            data = json.loads(up.read_text(encoding="utf-8"))
            if data.get("pid") == os.getpid():
                up.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> LocalBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state file for `aisprint down`
    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for s in self._services.values() for w in s.workers.values())

    def _write_up_file(self, extra: Mapping[str, Any] | None = None) -> None:
        path = self.state / UP_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if data.get("pid") not in (None, os.getpid()):
            data = {}
        data.update({"pid": os.getpid(), "workers": self.worker_pids(),
                     "repo": str(self.topology.repo), "deployment": self.topology.deployment,
                     "started": self.started, "state": str(self.state),
                     "fingerprint": self._fingerprint, "reloads": self.reloads})
        data.update(extra or {})
        write_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o644)

    def update_up_file(self, **extra: Any) -> None:
        with self._lock:
            self._write_up_file(extra)

    # -- feeding
    def upload(self, files: Iterable[Path], service: Service | None = None) -> list[Path]:
        """Copy files into the input folder of ``service`` (default: every entry service),
        atomically; returns where they landed."""
        targets = [service] if service else list(self.topology.entry_services())
        placed = []
        for path in files:
            for target in targets:
                folder = self.buckets / target.inputs[0].path
                destination = folder / Path(path).name
                place_atomically(path, destination)
                placed.append(destination)
        self.notify()
        return placed

    def notify(self) -> None:
        with self._lock:
            self._generation += 1
            self._dirty = True

    def idle(self) -> bool:
        """Nothing queued, running, or arrived but not yet taken."""
        with self._lock:
            return not self._dirty and not self._pending and all(
                s.busy == 0 and s.queue.empty() for s in self._services.values())

    def wait_idle(self, timeout: float | None = None, tick: Callable[[], None] | None = None
                  ) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stop.is_set():
            if self.idle():
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            if tick:
                tick()
            time.sleep(min(0.05, self.poll))
        return False

    # -- scanning
    def _scan_loop(self) -> None:
        next_reload_check = time.monotonic() + RELOAD_CHECK
        while not self._stop.is_set():
            try:
                self._scan_once()
                if self.watch_repository and time.monotonic() >= next_reload_check:
                    next_reload_check = time.monotonic() + RELOAD_CHECK
                    self._maybe_reload()
            except Exception as exc:  # noqa: BLE001 - keep watching; say what happened
                self.on_event({"event": "error", "error": f"{type(exc).__name__}: {exc}"})
            self._stop.wait(self.poll)

    def _scan_once(self) -> None:
        with self._lock:
            generation = self._generation
        found_new = False
        pending: dict[str, tuple[int, int]] = {}
        for state in list(self._services.values()):
            service = state.service
            for storage in service.inputs:
                folder = self.buckets / storage.path
                try:
                    entries = sorted(os.scandir(folder), key=lambda e: e.name)
                except OSError:
                    continue
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    rel = f"{storage.path}/{entry.name}"
                    stat = entry.stat()
                    signature = (stat.st_size, stat.st_mtime_ns)
                    if f"{rel}\t{signature[0]}\t{signature[1]}" in state.seen:
                        continue  # taken already (an object written again is new)
                    key = f"{service.name}\0{rel}"
                    if self._pending.get(key) != signature:
                        pending[key] = signature  # arrived, or still being written
                        continue
                    found_new = True
                    self._take(state, storage, Path(entry.path), rel, signature)
        with self._lock:
            self._pending = pending
            if not found_new and not pending and generation == self._generation:
                self._dirty = False

    def _take(self, state: _ServiceState, storage: Storage, path: Path, rel: str,
              signature: tuple[int, int]) -> None:
        service = state.service
        key = f"{rel}\t{signature[0]}\t{signature[1]}"
        state.seen.add(key)
        with open(self.state / "seen" / f"{service.name}.txt", "a", encoding="utf-8") as f:
            f.write(key + "\n")
        if not storage.accepts(path.name):
            return
        session = session_of(path.name)
        if self.routing == "dag" and session:
            producers = self.topology.producers_of(storage.path)
            if producers and not any(service.unit in chosen_successors(p.unit, session,
                                                                       self.topology.edges)
                                     for p in producers):
                self.skipped.append((service.name, rel))
                self.on_event({"event": "skipped", "service": service.name, "input": rel,
                               "session": session})
                return
        with self._lock:
            self._seq += 1
            job = Job(service.name, path, session or str(uuid.uuid4()), time.time(), self._seq)
        self.on_event({"event": "queued", "service": service.name, "input": rel,
                       "session": job.session})
        state.queue.put(job)

    def _maybe_reload(self) -> None:
        fingerprint = topology_fingerprint(self.topology.repo, self.topology.deployment)
        if fingerprint == self._fingerprint:
            return
        try:
            new = load_topology(self.topology.repo, self.topology.deployment)
        except LocalError as exc:
            self.on_event({"event": "error", "error": f"deployment changed but cannot be "
                           f"run: {exc}"})
            self._fingerprint = fingerprint
            return
        old = {s.name: s for s in self.topology.services}
        fresh = {s.name: s for s in new.services}
        changed = sorted(n for n in old if n not in fresh or fresh[n] != old[n])
        added = sorted(n for n in fresh if n not in old or fresh[n] != old[n])
        self._stop_services(changed)
        self.topology = new
        self._start_services(fresh[n] for n in added)
        self._fingerprint = fingerprint
        self.reloads += 1
        self.update_up_file()
        self.notify()
        self.on_event({"event": "reloaded", "repo": str(self.topology.repo), "stopped": changed,
                       "started": added})

    # -- running
    def _dispatch(self, state: _ServiceState, slot: int) -> None:
        service = state.service
        log = self.state / "logs" / f"{service.name}.log"
        while True:
            job = state.queue.get()
            if job is None:
                break
            with self._lock:
                state.busy += 1
            try:
                worker = state.workers.get(slot)
                if worker is None or not worker.alive():
                    try:
                        worker = Worker(service, log)
                    except LocalError as exc:
                        self._finish(state, job, time.time(), None, [],
                                     exc.diagnostics[0].message, 0)
                        continue
                    with self._lock:
                        state.workers[slot] = worker
                        self._write_up_file()
                self._run(state, worker, job)
            finally:
                with self._lock:
                    state.busy -= 1
                    self._generation += 1
                    self._dirty = True
        worker = state.workers.pop(slot, None)
        if worker:
            worker.stop()

    def _run(self, state: _ServiceState, worker: Worker, job: Job) -> None:
        service = state.service
        work = self.state / "work" / service.name / f"job-{job.seq}"
        shutil.rmtree(work, ignore_errors=True)
        (work / "in").mkdir(parents=True)
        (work / "out").mkdir()
        job_start = time.time()
        self.on_event({"event": "started", "service": service.name,
                       "input": str(job.input.relative_to(self.buckets)),
                       "session": job.session})
        staged = work / "in" / with_session(job.input.name, job.session)
        try:
            os.link(job.input, staged)
        except OSError:
            shutil.copyfile(job.input, staged)
        metrics_file = work / "metrics.jsonl"
        reply = worker.run({"input": str(staged), "output": str(work / "out"), "env": {
            **dict(service.env), "UUID": job.session, "INPUT_FILE_PATH": str(staged),
            "TMP_OUTPUT_DIR": str(work / "out"), "AISPRINT_METRICS_FILE": str(metrics_file),
            "AISPRINT_JOB_START_TIME": repr(job_start)}}, self.timeout)
        if reply is None:
            error = "the worker died" if not worker.alive() else \
                f"no answer within {self.timeout:g} s"
            worker.process.kill()
            self._finish(state, job, job_start, None, [], error, worker.pid)
        else:
            outputs = self._upload_outputs(service, job, work / "out") if reply["ok"] else []
            self._finish(state, job, job_start, reply, outputs, reply.get("error", ""),
                         worker.pid)
        shutil.rmtree(work, ignore_errors=True)

    def _upload_outputs(self, service: Service, job: Job, out: Path) -> list[str]:
        written = []
        folders: dict[str, Storage] = {}
        for storage in service.outputs:
            folders.setdefault(storage.path, storage)
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            rel = path.relative_to(out)
            name = with_session(rel.name, job.session)
            targets = [s for s in folders.values() if s.accepts(name)]
            for i, storage in enumerate(targets):
                destination = self.buckets / storage.path / rel.parent / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                place_atomically(path, destination, move=i == len(targets) - 1)
                written.append(str(destination.relative_to(self.buckets)))
        return written

    def _finish(self, state: _ServiceState, job: Job, job_start: float, reply: dict | None,
                outputs: list[str], error: str, pid: int) -> None:
        service = state.service
        end = time.time()
        ok = bool(reply and reply.get("ok"))
        points = []
        for record in (reply or {}).get("records", []):
            try:
                points.append(point_from_record(record))
            except InvalidInput:
                continue  # not an execution_time record
        if reply and not points:
            # the component reports nothing itself (no exec_time annotation): the runner
            # measures the job, as the platform sees it
            env = dict(service.env)
            points.append(ExecutionTimePoint(
                component_name=service.unit, job_start_time=job_start,
                job_end_time=float(reply.get("function_end", end)), session_id=job.session,
                kubernetes_cluster_id=env.get("KCI", ""),
                resource_id=env.get("RESOURCE_ID", ""),
                function_start_time=float(reply.get("function_start", job_start))))
        if points:
            with self._metrics_lock:
                try:
                    self.metrics.write_points(points)
                except InvalidInput as exc:
                    self.on_event({"event": "error", "error": exc.diagnostics[0].message})
        record = JobRecord(service.name, service.unit, job.seq,
                           str(job.input.relative_to(self.buckets)), job.session, ok,
                           "" if ok else (error or "failed"), job_start, end, tuple(outputs),
                           pid)
        with self._lock:
            self.records.append(record)
            with open(self.state / "jobs.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self.on_event({"event": "finished", **record.to_json()})
