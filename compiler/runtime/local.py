"""The embedded local backend: a compiled deployment run as local processes, with OSCAR's
semantics, on one machine.

What it reads (a compiled tree, ``<repo>/aisprint/…``; default deployment
``current_deployment``): the OSCAR services of ``oscar/fdl.yaml`` and the serverless functions
of the IM templates (``im/*.yaml``, nodes ``tosca.nodes.aisprint.FaaS.Function``) — their
input and output storage paths, environment and cores — and ``application_dag.yaml`` for the
branch probabilities. Each service runs the real entry point of its design,
``aisprint/designs/<component>/<design>/main.py``.

OSCAR semantics, locally:

* storage: every storage path ``<bucket>/<folder>`` (whatever its provider: MinIO of a
  cluster, S3) is the folder ``<state>/buckets/<bucket>/<folder>``; objects stay there, as in
  a bucket;
* a file arriving in a folder that is a service's input triggers one run of that service (an
  input's ``prefix``/``suffix`` filters are honoured); a file counts as arrived when its size
  and time are the same on two polls (writers are not required to rename);
* a run gets the file staged in a private folder, named ``aisprint-<uuid>-<name>`` when it
  does not carry a session yet (the seed's script.sh does the same, so AMS can follow one
  request along the path: the UUID is the ``session_id``); every file the run writes is
  uploaded, prefixed with the session when the component did not keep it, to each of the
  service's output folders (an output's ``prefix``/``suffix`` filters are honoured) — which
  are the next services' inputs;
* branches: OSCAR itself triggers every service reading a folder. With ``routing="dag"`` (the
  default) the DAG's probabilities are honoured, deterministically: edges of probability 1 are
  always taken; the edges of a unit below 1 are one exclusive choice (an early exit or its
  bypass), picked by the session's hash — the same request always takes the same branch, and
  over many requests each branch gets its share. ``routing="all"`` triggers every successor;
* runs happen in warm workers (``compiler.runtime.local_worker``): the component is imported
  once and its model stays loaded. At most N runs of a service at once, N = its cores
  (``COMPUTING_UNITS``, rounded up), at most this machine's CPUs, at most ``max_parallel``;
  workers start when there is work for them;
* metrics: each run's ``execution_time`` point (§5.4), as the component's SDK reported it, or
  measured by the runner when the component reports none, goes to the metrics store:
  InfluxDB when ``INFLUX_URL`` … are set, else the embedded store ``<state>/metrics.sqlite``.

State folder: ``buckets/``, ``work/`` (runs in progress), ``logs/<service>.log`` (the
components' output), ``jobs.jsonl`` (one line per run), ``seen/<service>.txt`` (files already
taken — name, size, time — so a restart does not run them again), ``up.json`` (PIDs of the
backend, its workers and the reconciler, for ``aisprint down``; the deployment's fingerprint
and how many times it was reloaded).

The reconciler beside it: ``compile_into`` commits the compiled tree to a git repository
(``<state>/repo``) through the GitOps writer, which keeps that repository's work tree in step
with its branch. The backend runs from the work tree and re-reads the deployment when its files
change (``topology_fingerprint``, recorded in ``up.json``), restarting the services that
changed — so a reconciler that commits a new ``current_deployment`` there (``aisprint up``
starts one, ``compiler.runtime.local_reconcile``) is applied without further calls.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.runtime.metrics import (
    ExecutionTimePoint,
    MetricsConfig,
    MetricsSource,
    QoSPath,
    load_qos,
    point_from_record,
)

DEFAULT_DEPLOYMENT = "current_deployment"
FAAS_FUNCTION = "tosca.nodes.aisprint.FaaS.Function"
UP_FILE = "up.json"
SESSION_RE = re.compile(
    r"^aisprint-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
WORKER_MODULE = "compiler.runtime.local_worker"
RECONCILER_COMMAND = "compiler.cli.main reconcile "  # in the reconciler's command line
RELOAD_CHECK = 2.0  # seconds between looks at the repository for a new deployment


class LocalError(InvalidInput):
    """The local backend cannot run what it was given, or cannot start."""


def _fail(code: str, message: str, hint: str = "", file: str | Path = "") -> LocalError:
    return LocalError([diagnostic(code, message, hint, Location(str(file)) if file else None)])


# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Storage:
    """One input or output of a service: a folder under ``buckets/`` and OSCAR's filters."""

    path: str  # <bucket>/<folder>, as in the FDL
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()

    def accepts(self, name: str) -> bool:
        bare = SESSION_RE.sub("", name).lstrip("-")
        return ((not self.prefixes or any(n.startswith(p) for p in self.prefixes
                                           for n in (name, bare)))
                and (not self.suffixes or any(name.endswith(s) for s in self.suffixes)))


@dataclass(frozen=True)
class Service:
    name: str  # the OSCAR service / function name
    unit: str  # COMPONENT_NAME: the unit of the DAG (component or partition)
    design_dir: Path
    inputs: tuple[Storage, ...]
    outputs: tuple[Storage, ...]
    env: tuple[tuple[str, str], ...]
    cores: float
    source: str  # the artifact it was read from


@dataclass(frozen=True)
class Topology:
    repo: Path
    deployment: str
    services: tuple[Service, ...]
    edges: tuple[tuple[str, str, float], ...]  # units, from application_dag.yaml
    qos: tuple[QoSPath, ...]

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def by_unit(self, unit: str) -> Service | None:
        return next((s for s in self.services if s.unit == unit), None)

    def entry_services(self) -> tuple[Service, ...]:
        """Services no other unit feeds (the DAG's sources): where new requests go."""
        fed = {b for _, b, _ in self.edges}
        return tuple(s for s in self.services if s.unit not in fed)

    def producers_of(self, path: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if any(o.path == path for o in s.outputs))


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


# --------------------------------------------------------------------------- pure helpers

def session_of(name: str) -> str:
    match = SESSION_RE.match(Path(name).name)
    return match.group(1).lower() if match else ""


def with_session(name: str, session: str) -> str:
    """``name`` carrying ``session`` as the seed names files: ``aisprint-<uuid>-<name>``."""
    return name if session_of(name) == session else f"aisprint-{session}-{name}"


def parallelism(service: Service, cpus: int | None = None, cap: int | None = None) -> int:
    """Runs of one service at once: its cores rounded up, at most the CPUs, at most ``cap``."""
    n = max(1, math.ceil(service.cores - 1e-9)) if service.cores > 0 else 1
    n = min(n, max(1, cpus if cpus is not None else (os.cpu_count() or 1)))
    return max(1, min(n, cap) if cap else n)


def _fraction(*parts: str) -> float:
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def chosen_successors(unit: str, session: str, edges: Sequence[tuple[str, str, float]]
                      ) -> frozenset[str]:
    """The successors of ``unit`` one request (session) goes on to, the DAG's probabilities
    honoured deterministically: p >= 1 always; the p < 1 edges are one exclusive choice by
    the session's hash (when they sum to less than 1, the rest is "none of them")."""
    out = [(b, p) for a, b, p in edges if a == unit]
    chosen = {b for b, p in out if p >= 1}
    choice = sorted((b, p) for b, p in out if p < 1)
    if choice:
        u, acc = _fraction(session, unit), 0.0
        for b, p in choice:
            acc += max(p, 0.0)
            if u < acc:
                chosen.add(b)
                break
    return frozenset(chosen)


def _storage(items: Any, where: str) -> tuple[Storage, ...]:
    result = []
    for item in items or ():
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str) \
                or not item["path"].strip("/"):
            raise _fail("AIS968", f"a storage entry has no path: {item!r}",
                        "every input/output is {storage_provider, path: <bucket>/<folder>}",
                        where)
        path = "/".join(p for p in item["path"].split("/") if p)
        if ".." in path.split("/"):
            raise _fail("AIS968", f"a storage path leaves its bucket: {item['path']!r}", "",
                        where)
        result.append(Storage(path, tuple(str(v) for v in item.get("prefix") or ()),
                              tuple(str(v) for v in item.get("suffix") or ())))
    return tuple(result)


def _env(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("variables", raw.get("Variables", raw))
    return {str(k): str(v) for k, v in (inner or {}).items()
            if not isinstance(v, Mapping)}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _fail("AIS968", f"cannot read {path.name}: {exc}", "compile the application "
                    "again (aisprint compile APP --out DIR)", path) from None


def aisprint_root(repo: Path) -> Path:
    repo = Path(repo)
    return repo if repo.name == "aisprint" and (repo / "deployments").is_dir() \
        else repo / "aisprint"


def _design_for(root: Path, unit: str) -> Path:
    match = re.match(r"^(.*)_(partition\d+_\d+)$", unit)
    component, design = (match.group(1), match.group(2)) if match else (unit, "base")
    return root / "designs" / component / design


def load_topology(repo: Path, deployment: str = DEFAULT_DEPLOYMENT) -> Topology:
    """Read what the local backend runs from a compiled tree (files only, no side effects)."""
    root = aisprint_root(Path(repo))
    folder = root / "deployments" / deployment
    if not folder.is_dir():
        known = sorted(p.name for p in (root / "deployments").glob("*") if p.is_dir()) \
            if (root / "deployments").is_dir() else []
        raise _fail("AIS968", f"no deployment {deployment!r} in {root}",
                    f"known deployments: {', '.join(known) or 'none'} — compile the "
                    "application first: aisprint compile APP --out DIR", folder)
    services: dict[str, Service] = {}

    def add(props: Mapping, source: Path, design_dir: Path | None) -> None:
        name = str(props.get("name") or "")
        if not name:
            raise _fail("AIS968", "a service has no name", "", source)
        env = _env(props.get("environment", props.get("env_variables")))
        unit = env.get("COMPONENT_NAME", name)
        design = design_dir or _design_for(root, unit)
        if not (design / "main.py").is_file():
            raise _fail("AIS968", f"service {name!r}: no main.py in {design}",
                        "the compiled tree is incomplete: compile the application again",
                        source)
        try:
            cores = float(env.get("COMPUTING_UNITS") or props.get("cpu") or 1)
        except (TypeError, ValueError):
            cores = 1.0
        inputs = _storage(props.get("input"), str(source))
        if not inputs:
            raise _fail("AIS968", f"service {name!r} has no input", "", source)
        services.setdefault(name, Service(
            name, unit, design.resolve(), inputs, _storage(props.get("output"), str(source)),
            tuple(sorted(env.items())), cores, str(source.relative_to(root.parent))))

    fdl = folder / "oscar" / "fdl.yaml"
    if fdl.is_file():
        data = _read_yaml(fdl) or {}
        for entry in ((data.get("functions") or {}).get("oscar") or []) \
                if isinstance(data, Mapping) else []:
            for props in (entry or {}).values():
                script = props.get("script") if isinstance(props, Mapping) else None
                if not isinstance(props, Mapping):
                    raise _fail("AIS968", "an FDL entry is not a service mapping", "", fdl)
                design = (fdl.parent / script).resolve().parent if isinstance(script, str) \
                    and not script.startswith("/") else None
                add(props, fdl, design)
    for template in sorted((folder / "im").glob("*.yaml")):
        data = _read_yaml(template) or {}
        nodes = ((data.get("topology_template") or {}).get("node_templates") or {}) \
            if isinstance(data, Mapping) else {}
        for node in nodes.values():
            if isinstance(node, Mapping) and node.get("type") == FAAS_FUNCTION:
                add(node.get("properties") or {}, template, None)
    if not services:
        raise _fail("AIS968", f"deployment {deployment!r} has no service to run",
                    "it needs oscar/fdl.yaml or im/*.yaml with FaaS.Function nodes", folder)
    dag = _read_yaml(folder / "application_dag.yaml") if (
        folder / "application_dag.yaml").is_file() else {}
    edges = []
    for dep in ((dag or {}).get("System") or {}).get("dependencies") or []:
        if isinstance(dep, Sequence) and len(dep) >= 2:
            edges.append((str(dep[0]), str(dep[1]), float(dep[2]) if len(dep) > 2 else 1.0))
    qos = load_qos(folder).paths if (folder / "ams").is_dir() else ()
    return Topology(Path(repo), deployment, tuple(sorted(services.values(),
                                                         key=lambda s: s.name)),
                    tuple(edges), qos)


def topology_fingerprint(repo: Path, deployment: str = DEFAULT_DEPLOYMENT) -> str:
    """A hash of the files a topology is read from (and of its designs' entry points)."""
    root = aisprint_root(Path(repo))
    folder = root / "deployments" / deployment
    digest = hashlib.sha256()
    files = sorted([*folder.glob("oscar/*.yaml"), *folder.glob("im/*.yaml"),
                    *folder.glob("application_dag.yaml"), *root.glob("designs/*/*/main.py")])
    for path in files:
        try:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()


# --------------------------------------------------------------------------- workers

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
    """One warm worker process of a service (``compiler.runtime.local_worker``)."""

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
            raise _fail("AIS969", f"service {service.name!r}: its main.py cannot be loaded: "
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


# --------------------------------------------------------------------------- the backend

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
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

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
                tmp = folder / f".{Path(path).name}.part"
                shutil.copyfile(path, tmp)
                os.replace(tmp, destination)
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
        self.on_event({"event": "reloaded", "stopped": changed, "started": added})

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
                tmp = destination.with_name(f".{name}.part")
                if i == len(targets) - 1:
                    shutil.move(str(path), tmp)
                else:
                    shutil.copyfile(path, tmp)
                os.replace(tmp, destination)
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


# --------------------------------------------------------------------------- summary

@dataclass(frozen=True)
class ComponentSummary:
    unit: str
    service: str
    jobs: int
    failed: int
    sessions: int
    outputs: int
    mean: float | None  # per request (session), as AMS times a one-component path


@dataclass(frozen=True)
class PathSummary:
    id: str
    components: tuple[str, ...]
    limit: float
    mean: float | None
    p95: float | None
    count: int
    method: str

    @property
    def ok(self) -> bool | None:
        return None if self.mean is None else self.mean <= self.limit


@dataclass(frozen=True)
class Summary:
    seconds: float
    inputs: int
    components: tuple[ComponentSummary, ...]
    paths: tuple[PathSummary, ...]
    failures: tuple[JobRecord, ...]
    results: tuple[str, ...]  # files in the last services' output folders (under buckets/)
    metrics_store: str

    def to_json(self) -> dict:
        return {
            "seconds": round(self.seconds, 3), "inputs": self.inputs,
            "metrics_store": self.metrics_store,
            "components": [{"unit": c.unit, "service": c.service, "jobs": c.jobs,
                            "failed": c.failed, "sessions": c.sessions, "outputs": c.outputs,
                            "mean_seconds": None if c.mean is None else round(c.mean, 6)}
                           for c in self.components],
            "paths": [{"id": p.id, "components": list(p.components), "limit": p.limit,
                       "mean_seconds": None if p.mean is None else round(p.mean, 6),
                       "p95_seconds": None if p.p95 is None else round(p.p95, 6),
                       "requests": p.count, "method": p.method, "ok": p.ok}
                      for p in self.paths],
            "failures": [f.to_json() for f in self.failures],
            "results": list(self.results)}


def summarize_run(backend: LocalBackend, since: float, inputs: int,
                  until: float | None = None) -> Summary:
    """What happened since ``since``: runs per component (from the backend's records) and
    response times per component and QoS path (from the metrics store, as AMS computes
    them: per session, last end minus first start)."""
    now = (until or time.time()) + 1e-3
    records = [r for r in backend.records if r.job_start >= since - 1e-6]
    topology = backend.topology
    own = [QoSPath(f"component/{s.unit}", (s.unit,), math.inf, "local")
           for s in topology.services]
    times = backend.metrics.response_times(now - since + 1.0, now, [*own, *topology.qos])
    components = []
    for service in topology.services:
        mine = [r for r in records if r.service == service.name]
        stats = times.path(f"component/{service.unit}").stats
        components.append(ComponentSummary(
            service.unit, service.name, len(mine), sum(not r.ok for r in mine),
            len({r.session for r in mine}), sum(len(r.outputs) for r in mine),
            stats.mean if stats else None))
    order = {u: i for i, u in enumerate(_topological(topology))}
    components.sort(key=lambda c: (order.get(c.unit, len(order)), c.unit))
    paths = tuple(PathSummary(p.path.id, p.path.components, p.path.threshold,
                              p.stats.mean if p.stats else None,
                              p.stats.p95 if p.stats else None,
                              p.stats.count if p.stats else 0, p.method)
                  for p in times.paths if not p.path.id.startswith("component/"))
    sinks = [s for s in topology.services
             if not any(a == s.unit for a, _, _ in topology.edges)]
    results = sorted({o for r in records for o in r.outputs
                      if any(r.service == s.name for s in sinks)})
    return Summary(now - since, inputs, tuple(components), paths,
                   tuple(r for r in records if not r.ok), tuple(results),
                   type(backend.metrics).__name__)


def _topological(topology: Topology) -> list[str]:
    units = [s.unit for s in topology.services]
    placed: list[str] = []
    remaining = list(units)
    while remaining:
        ready = [u for u in remaining
                 if all(a in placed or a not in units for a, b, _ in topology.edges if b == u)]
        if not ready:
            ready = remaining[:1]
        for u in sorted(ready):
            placed.append(u)
            remaining.remove(u)
    return placed


# --------------------------------------------------------------------------- up / down

def read_up_file(state_dir: Path) -> dict | None:
    try:
        return json.loads((Path(state_dir) / UP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cmdline(pid: int) -> str | None:
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


def running_backend(state_dir: Path) -> dict | None:
    """The up.json of a backend that is still running from ``state_dir``, else None."""
    data = read_up_file(state_dir)
    if not data or not isinstance(data.get("pid"), int) or data["pid"] == os.getpid():
        return None
    line = _cmdline(data["pid"])
    return data if line is not None and ("aisprint" in line or "compiler" in line
                                         or line == "") else None


def _wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _cmdline(p) is not None]
        if alive:
            time.sleep(0.05)
    return alive


def _terminate(pid: int, grace: float) -> None:
    """SIGTERM, then SIGKILL when ``pid`` outlives ``grace`` seconds."""
    os.kill(pid, signal.SIGTERM)
    if _wait_gone([pid], grace):
        os.kill(pid, signal.SIGKILL)
        _wait_gone([pid], 5)


def stop_backend(state_dir: Path, timeout: float = 15.0) -> list[tuple[int, str]]:
    """Stop what ``aisprint up`` started from ``state_dir``, by the PIDs it recorded: the
    backend (SIGTERM, then SIGKILL after ``timeout``), and any worker or reconciler still
    alive. Returns ``(pid, what)`` of every process stopped; a PID now used by another program
    is left."""
    data = read_up_file(state_dir) or {}
    stopped: list[tuple[int, str]] = []
    workers = [p for p in data.get("workers") or [] if isinstance(p, int)
               and WORKER_MODULE in (_cmdline(p) or "")]
    reconciler = (data.get("reconciler") or {}).get("pid") \
        if isinstance(data.get("reconciler"), Mapping) else None
    if not (isinstance(reconciler, int) and RECONCILER_COMMAND in (_cmdline(reconciler) or "")):
        reconciler = None
    main = data.get("pid")
    if isinstance(main, int) and main != os.getpid():
        line = _cmdline(main)
        if line is not None and ("aisprint" in line or "compiler" in line or line == ""):
            _terminate(main, timeout)
            stopped.append((main, "backend"))
    for pid in workers:  # the backend stops its workers; any left are stopped here
        if _cmdline(pid) is not None:
            _terminate(pid, 5)
        stopped.append((pid, "worker"))
    if reconciler is not None:  # the backend stops the reconciler it started; else here
        if _cmdline(reconciler) is not None:
            _terminate(reconciler, 10)
        stopped.append((reconciler, "reconciler"))
    (Path(state_dir) / UP_FILE).unlink(missing_ok=True)
    return stopped


PHOTO_HINT = ("pass the folder of files to process: aisprint up APP --images DIR "
              "(or --no-images to start empty and drop files into the first service's input "
              "folder later)")


def default_images(environ: Mapping[str, str] | None = None, cwd: Path | None = None
                   ) -> Path | None:
    """``../shared/images``: beside the working folder, beside this checkout, or under
    ``$AISPRINT_SHARED``; None when none exists."""
    env = os.environ if environ is None else environ
    candidates = []
    if env.get("AISPRINT_SHARED"):
        candidates.append(Path(env["AISPRINT_SHARED"]) / "images")
    candidates.append((cwd or Path.cwd()).resolve().parent / "shared" / "images")
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "images")
    return next((c for c in candidates if c.is_dir()), None)


def input_files(images: Path) -> list[Path]:
    """The files ``aisprint up`` feeds the application (sorted; hidden files left out)."""
    images = Path(images)
    if images.is_file():
        return [images]
    if not images.is_dir():
        raise _fail("AIS967", f"no such folder of inputs: {images}", PHOTO_HINT)
    files = sorted(p for p in images.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise _fail("AIS967", f"{images} holds no files to process", PHOTO_HINT)
    return files


@dataclass(frozen=True)
class Compiled:
    """What ``compile_into`` left in the repository."""

    repo: Path
    head: str  # the branch head: the tree the backend runs
    commit: str | None  # the commit made, None when the tree was already this one
    files: int


def compile_into(app_dir: Path, out: Path) -> Compiled:
    """Compile ``app_dir`` and commit it to the git repository ``out`` (created when missing)
    through the GitOps writer (``compiler.deploy.commit``), which keeps the work tree — what
    the backend reads — in step with the branch. An unchanged application makes no commit."""
    from compiler.deploy import commit
    from compiler.gitops.repo import Reader

    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not (out / ".git").exists():
        raise _fail("AIS956", f"{out} holds files but is not a git repository (an older "
                    "`aisprint up` compiled into it as a plain folder?)",
                    f"remove it (rm -r {out}) so that up commits the compiled tree there, or "
                    "pass another --out", out)
    result, _plan = commit(app_dir, repo=out)
    _ignore_bytecode(out)
    head = result.commit or result.previous or ""
    return Compiled(out, head, result.commit, len(Reader(out).read_tree(head)))


def _ignore_bytecode(repo: Path) -> None:
    """Workers import the designs' main.py from the work tree: their ``__pycache__`` must not
    count as hand edits of the compiled tree (the writer refuses to write over those)."""
    exclude = Path(repo) / ".git" / "info" / "exclude"
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    missing = [p for p in ("__pycache__/", "*.pyc") if p not in lines]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")


def is_git_repository(path: Path) -> bool:
    return (Path(path) / ".git").exists()


def metrics_config(state_dir: Path, app_name: str = "",
                   environ: Mapping[str, str] | None = None) -> MetricsConfig:
    """Where the backend writes its metrics: InfluxDB when the INFLUX_* environment names one,
    else the embedded store ``<state>/metrics.sqlite`` (given as a path, so a reconciler with
    another state folder reads the same store)."""
    from compiler.runtime.metrics import load_config

    config = load_config(None, environ, app_name=app_name)
    if config.backend == "embedded" and not config.store:
        config = replace(config, store=str(Path(state_dir).resolve() / "metrics.sqlite"))
    return config


def open_metrics(state_dir: Path, app_name: str = "",
                 environ: Mapping[str, str] | None = None) -> MetricsSource:
    """InfluxDB when the INFLUX_* environment names one (its database created when it is
    InfluxDB 1.x), else the embedded store in the state folder."""
    from compiler.runtime.metrics import InfluxV1Source, open_source

    source = open_source(metrics_config(state_dir, app_name, environ),
                         state_dir=Path(state_dir), environ=environ)
    if isinstance(source, InfluxV1Source):
        source.ensure_database()
    return source


__all__ = ["Compiled", "ComponentSummary", "Job", "JobRecord", "LocalBackend", "LocalError",
           "PathSummary", "Service", "Storage", "Summary", "Topology", "aisprint_root",
           "chosen_successors", "compile_into", "is_git_repository", "load_topology",
           "metrics_config", "open_metrics", "parallelism", "read_up_file", "running_backend",
           "session_of", "stop_backend", "summarize_run", "topology_fingerprint",
           "with_session"]
