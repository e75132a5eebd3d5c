"""Runtime metrics: the ``execution_time`` points AMS components write, and what AMS makes of them.

Every component reports one point per request (formats reference §5.4): measurement
``execution_time``, tags ``session_id, kubernetes_cluster_id, resource_id, component_name``,
fields ``job_start_time, function_start_time, job_end_time, function_duration, job_duration,
job_overhead`` (epoch seconds and seconds). From them AMS computes (§5.2):

* the response time of a QoS constraint's path, per ``session_id``: the latest
  ``job_end_time`` of the path's last component minus the earliest ``job_start_time`` of its
  first component, averaged over the window; a local constraint is a path of one component;
* the throughput of ``throughput_component``: distinct sessions seen in the window.

``MetricsSource`` is the one interface the reconciler and the local runner use; three stores
implement it: InfluxDB 1.x (HTTP API, InfluxQL), InfluxDB 2.x (token/org/bucket, Flux over
``/api/v2/query``, line protocol over ``/api/v2/write``) and an embedded SQLite file for the
local runner when no InfluxDB is configured. Stores only fetch raw points; the statistics are
computed here, by one pure function, so every store gives the same numbers.

When a path has no session that crossed it whole in the window (points written without
``session_id``, like the local SDK's), its time is the sum of its components' mean times, and
the result says so (``method = "sum_of_components"``).

Configuration comes from the environment (``INFLUX_URL``, ``INFLUX_TOKEN`` — the names AMS's
Telegraf configuration uses — ``INFLUX_VERSION``, ``INFLUX_DB``, ``INFLUX_USER``,
``INFLUX_PASSWORD``, ``INFLUX_ORG``, ``INFLUX_BUCKET``) or a YAML file without secrets.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sqlite3
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import requests
import yaml

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput

MEASUREMENT = "execution_time"
TAGS = ("component_name", "kubernetes_cluster_id", "resource_id", "session_id")
FIELDS = ("function_duration", "function_start_time", "job_duration", "job_end_time",
          "job_overhead", "job_start_time")
DEFAULT_DATABASE = "aisprint"
DEFAULT_ORG = "ai-sprint"  # AMS creates every application's bucket in this org (§5.2)
SECRET_KEYS = ("password", "token")


class MetricsError(InvalidInput):
    """A metrics store is misconfigured, unreachable, or refused a request."""


def _fail(code: str, message: str, hint: str = "", file: str = "") -> MetricsError:
    return MetricsError([diagnostic(code, message, hint, Location(file) if file else None)])


# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class ExecutionTimePoint:
    """One ``execution_time`` point, as an AMS component writes it (times in epoch seconds)."""

    component_name: str
    job_start_time: float
    job_end_time: float
    session_id: str = ""
    kubernetes_cluster_id: str = ""
    resource_id: str = ""
    function_start_time: float | None = None
    function_duration: float | None = None
    job_duration: float | None = None
    job_overhead: float | None = None

    def __post_init__(self) -> None:
        # the fields a component derives from its three clocks, when not given
        fstart = self.job_start_time if self.function_start_time is None else \
            self.function_start_time
        job = self.job_end_time - self.job_start_time
        fdur = self.job_end_time - fstart if self.function_duration is None else \
            self.function_duration
        object.__setattr__(self, "function_start_time", float(fstart))
        object.__setattr__(self, "function_duration", float(fdur))
        if self.job_duration is None:
            object.__setattr__(self, "job_duration", float(job))
        if self.job_overhead is None:
            object.__setattr__(self, "job_overhead", float(self.job_duration - fdur))

    @property
    def time(self) -> float:
        """The point's timestamp: when the job ended."""
        return self.job_end_time

    @property
    def response_time(self) -> float:
        return self.job_end_time - self.job_start_time

    def tags(self) -> dict[str, str]:
        return {t: getattr(self, t) for t in TAGS if getattr(self, t)}

    def fields(self) -> dict[str, float]:
        return {f: float(getattr(self, f)) for f in FIELDS}


def point_from_record(record: Mapping[str, Any]) -> ExecutionTimePoint:
    """A point from a mapping: AMS names, or what ``aisprint.monitoring`` writes as a JSON line
    (``start``, ``end``, ``component_name``, ``resource_id`` and, when set, ``session_id``)."""
    def given(key: str):  # a CSV or SQL row writes an absent value as "" or NULL
        value = record.get(key)
        return None if value in (None, "") else value

    start = given("job_start_time") if given("job_start_time") is not None else given("start")
    end = given("job_end_time") if given("job_end_time") is not None else given("end")
    if start is None or end is None or not record.get("component_name"):
        raise _fail("AIS989", f"not an execution_time record: {dict(record)!r}",
                    "a record needs component_name and job_start_time/job_end_time "
                    "(or start/end, as aisprint.monitoring writes them)")

    def opt(key: str) -> float | None:
        value = given(key)
        return None if value is None else float(value)

    return ExecutionTimePoint(
        component_name=str(record["component_name"]),
        job_start_time=float(start), job_end_time=float(end),
        session_id=str(record.get("session_id") or ""),
        kubernetes_cluster_id=str(record.get("kubernetes_cluster_id") or ""),
        resource_id=str(record.get("resource_id") or ""),
        function_start_time=opt("function_start_time"),
        function_duration=opt("function_duration"),
        job_duration=opt("job_duration"), job_overhead=opt("job_overhead"))


def points_from_jsonl(path: Path) -> tuple[ExecutionTimePoint, ...]:
    """Every ``execution_time`` point in a JSON-lines file (``AISPRINT_METRICS_FILE``)."""
    points = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record.get("measurement", MEASUREMENT) == MEASUREMENT:
                points.append(point_from_record(record))
    return tuple(points)


@dataclass(frozen=True)
class QoSPath:
    """One QoS constraint as AMS checks it: a path of components and a limit in seconds."""

    id: str
    components: tuple[str, ...]
    threshold: float
    kind: str = "global"  # "local" (one component) or "global"


@dataclass(frozen=True)
class QoSSpec:
    paths: tuple[QoSPath, ...]
    throughput_component: str | None = None


def qos_from_mapping(data: Mapping[str, Any], *, prefix: str = "", file: str = "") -> QoSSpec:
    """Read one AMS QoS constraints document (``system: {local_constraints, …}``)."""
    system = data.get("system") if isinstance(data, Mapping) else None
    if not isinstance(system, Mapping):
        raise _fail("AIS990", "not an AMS QoS constraints file: no `system` mapping",
                    "expected `system: {name, local_constraints, global_constraints}`", file)
    paths = []
    try:
        for cid, c in sorted((system.get("local_constraints") or {}).items()):
            paths.append(QoSPath(prefix + cid, (str(c["component_name"]),),
                                 float(c["threshold"]), "local"))
        for cid, c in sorted((system.get("global_constraints") or {}).items()):
            paths.append(QoSPath(prefix + cid, tuple(map(str, c["path_components"])),
                                 float(c["threshold"]), "global"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail("AIS990", f"a QoS constraint is malformed ({exc!r})",
                    "a local constraint has component_name and threshold; a global one "
                    "path_components and threshold", file) from None
    tp = system.get("throughput_component")
    return QoSSpec(tuple(paths), str(tp) if tp and isinstance(tp, str) else None)


def load_qos(deployment_dir: Path) -> QoSSpec:
    """The QoS constraints of one deployment, from its ``ams/qos_constraints_L<n>.yaml`` files.

    AMS numbers constraints from 1 in each layer's file, so ids are prefixed ``L<n>/``."""
    paths: list[QoSPath] = []
    throughput = None
    files = sorted(Path(deployment_dir, "ams").glob("qos_constraints_L*.yaml"),
                   key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise _fail("AIS990", f"cannot read QoS constraints: {exc}", "", str(file)) from None
        layer = file.stem.rsplit("_", 1)[-1]
        spec = qos_from_mapping(data, prefix=f"{layer}/", file=str(file))
        paths.extend(spec.paths)
        throughput = throughput or spec.throughput_component
    return QoSSpec(tuple(paths), throughput)


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float
    p95: float
    max: float

    @staticmethod
    def of(values: Sequence[float]) -> Stats | None:
        if not values:
            return None
        ordered = sorted(values)
        rank = max(1, math.ceil(0.95 * len(ordered)))  # nearest-rank percentile
        return Stats(len(ordered), sum(ordered) / len(ordered), ordered[rank - 1], ordered[-1])


@dataclass(frozen=True)
class PathTimes:
    path: QoSPath
    stats: Stats | None  # None: no data in the window
    method: str  # "end_to_end" (per session, as AMS) | "sum_of_components" | "no_data"

    @property
    def violated(self) -> bool:
        """AMS warns when the window's mean response time is above the threshold."""
        return self.stats is not None and self.stats.mean > self.path.threshold


@dataclass(frozen=True)
class ResponseTimes:
    window: float
    now: float
    components: tuple[tuple[str, Stats], ...]  # sorted by component name
    paths: tuple[PathTimes, ...]  # in the order asked

    def component(self, name: str) -> Stats | None:
        return dict(self.components).get(name)

    def path(self, path_id: str) -> PathTimes:
        for p in self.paths:
            if p.path.id == path_id:
                return p
        raise KeyError(path_id)

    def violations(self) -> tuple[PathTimes, ...]:
        return tuple(p for p in self.paths if p.violated)

    def to_json(self) -> dict:
        return {"window": self.window, "now": self.now,
                "components": {name: asdict(s) for name, s in self.components},
                "paths": [{"id": p.path.id, "components": list(p.path.components),
                           "threshold": p.path.threshold, "method": p.method,
                           "violated": p.violated,
                           "stats": asdict(p.stats) if p.stats else None} for p in self.paths]}


# --------------------------------------------------------------------------- the pure core

def _in_window(t: float, window: float, now: float) -> bool:
    return now - window < t <= now


def _sessions(points: Iterable[ExecutionTimePoint]) -> dict[object, list[ExecutionTimePoint]]:
    """Points by session; a point without session_id is a request of its own."""
    grouped: dict[object, list[ExecutionTimePoint]] = {}
    for i, p in enumerate(points):
        grouped.setdefault(p.session_id or ("", i), []).append(p)
    return grouped


def path_times(points: Sequence[ExecutionTimePoint], path: QoSPath, window: float,
               now: float) -> PathTimes:
    first, last = path.components[0], path.components[-1]
    on_path = [p for p in points if p.component_name in path.components]
    times = []
    for session in _sessions(on_path).values():
        ends = [p.job_end_time for p in session if p.component_name == last]
        starts = [p.job_start_time for p in session if p.component_name == first]
        if ends and starts and _in_window(max(ends), window, now):
            times.append(max(ends) - min(starts))
    if times:
        return PathTimes(path, Stats.of(times), "end_to_end")
    per_component = [Stats.of([p.response_time for p in on_path if p.component_name == c
                               and _in_window(p.time, window, now)])
                     for c in path.components]
    if len(path.components) > 1 and all(per_component):
        parts = [s for s in per_component if s]
        return PathTimes(path, Stats(min(s.count for s in parts), sum(s.mean for s in parts),
                                     sum(s.p95 for s in parts), sum(s.max for s in parts)),
                         "sum_of_components")
    return PathTimes(path, None, "no_data")


def summarize(points: Sequence[ExecutionTimePoint], window: float, now: float,
              paths: Sequence[QoSPath] = ()) -> ResponseTimes:
    """Per-component and per-path response times over ``(now - window, now]``."""
    by_component: dict[str, list[float]] = {}
    for p in points:
        if _in_window(p.time, window, now):
            by_component.setdefault(p.component_name, []).append(p.response_time)
    components = tuple((name, Stats.of(v)) for name, v in sorted(by_component.items()))
    return ResponseTimes(window, now, components,  # type: ignore[arg-type]
                         tuple(path_times(points, q, window, now) for q in paths))


def throughput_of(points: Iterable[ExecutionTimePoint], component: str, window: float,
                  now: float) -> float:
    """Requests per second: distinct sessions of ``component`` ending in the window."""
    seen = [p for p in points if p.component_name == component
            and _in_window(p.time, window, now)]
    return len(_sessions(seen)) / window


# --------------------------------------------------------------------------- the interface

@runtime_checkable
class MetricsSource(Protocol):
    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        """Store points (the local runner); returns how many were written."""
        ...

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        """Raw points with ``start < time <= end``, optionally of some components only."""
        ...

    def response_times(self, window: float, now: float | None = None,
                       paths: Sequence[QoSPath] = ()) -> ResponseTimes:
        ...

    def throughput(self, component: str, window: float, now: float | None = None) -> float:
        ...


class _Summarizing:
    """``response_times`` and ``throughput`` for any store that can list raw points."""

    execution_times: Callable[..., tuple[ExecutionTimePoint, ...]]

    def response_times(self, window: float, now: float | None = None,
                       paths: Sequence[QoSPath] = ()) -> ResponseTimes:
        now = _time.time() if now is None else now
        # a session that ends inside the window may have started before it: look back one
        # more window for the first components of paths
        points = self.execution_times(now - 2 * window, now)
        return summarize(points, window, now, paths)

    def throughput(self, component: str, window: float, now: float | None = None) -> float:
        now = _time.time() if now is None else now
        return throughput_of(self.execution_times(now - window, now, (component,)),
                             component, window, now)


# --------------------------------------------------------------------------- line protocol

def _escape_key(text: str) -> str:
    return re.sub(r"([,= \\])", r"\\\1", text)


def _ns(t: float) -> int:
    return int(round(t * 1e9))


def line_protocol(points: Iterable[ExecutionTimePoint]) -> str:
    lines = []
    for p in points:
        tags = "".join(f",{k}={_escape_key(v)}" for k, v in sorted(p.tags().items()))
        fields = ",".join(f"{k}={v!r}" for k, v in sorted(p.fields().items()))
        lines.append(f"{MEASUREMENT}{tags} {fields} {_ns(p.time)}")
    return "\n".join(lines) + ("\n" if lines else "")


# --------------------------------------------------------------------------- HTTP plumbing

class _Http:
    def __init__(self, url: str, what: str, timeout: float, retries: int):
        self.url = url.rstrip("/")
        self.what = what
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                reply = self.session.request(method, self.url + path, timeout=self.timeout,
                                             **kwargs)
            except requests.RequestException as exc:
                if attempt < self.retries:
                    _time.sleep(delay)
                    delay *= 2
                    continue
                raise _fail("AIS987", f"{self.what} at {self.url} cannot be reached: {exc}",
                            "check the URL (INFLUX_URL) and that the server runs") from None
            if reply.status_code >= 500 and attempt < self.retries:
                _time.sleep(delay)
                delay *= 2
                continue
            if reply.status_code >= 400:
                raise _fail("AIS988", f"{self.what} refused {method} {path.split('?')[0]}: "
                            f"HTTP {reply.status_code}: {_server_message(reply)}",
                            "check the database/bucket name and the credentials "
                            "(INFLUX_USER/INFLUX_PASSWORD or INFLUX_TOKEN)")
            return reply
        raise AssertionError("unreachable")


def _server_message(reply: requests.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text.strip()[:500]
    if isinstance(body, Mapping):
        return str(body.get("error") or body.get("message") or body)[:500]
    return str(body)[:500]


# --------------------------------------------------------------------------- InfluxDB 1.x

def _influxql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def influxql_select(start: float, end: float, components: Sequence[str] = ()) -> str:
    query = (f'SELECT * FROM "{MEASUREMENT}" WHERE time > {_ns(start)} '
             f"AND time <= {_ns(end)}")
    if components:
        query += " AND (" + " OR ".join(f'"component_name" = {_influxql_string(c)}'
                                        for c in sorted(set(components))) + ")"
    return query


class InfluxV1Source(_Summarizing):
    """InfluxDB 1.x through its HTTP API: ``/write`` (line protocol) and ``/query`` (InfluxQL)."""

    def __init__(self, url: str, database: str = DEFAULT_DATABASE, username: str = "",
                 password: str = "", *, timeout: float = 10.0, retries: int = 2):
        self.database = database
        self.http = _Http(url, "InfluxDB", timeout, retries)
        if username:
            self.http.session.auth = (username, password)

    def ensure_database(self) -> None:
        self.http.request("POST", "/query",
                          data={"q": f'CREATE DATABASE "{self.database}"'})

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        points = list(points)
        if points:
            self.http.request("POST", "/write", params={"db": self.database, "precision": "ns"},
                              data=line_protocol(points).encode())
        return len(points)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        reply = self.http.request(
            "GET", "/query", params={"db": self.database, "epoch": "ns", "chunked": "true",
                                     "chunk_size": "10000",
                                     "q": influxql_select(start, end, components)})
        points = []
        for line in reply.text.splitlines():
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except ValueError:
                raise _fail("AIS989", f"InfluxDB answered with something not JSON: "
                            f"{line[:200]!r}") from None
            for result in body.get("results", []):
                if "error" in result:
                    raise _fail("AIS988", f"InfluxDB refused the query: {result['error']}",
                                f"does the database {self.database!r} exist?")
                for series in result.get("series", []):
                    columns = series["columns"]
                    for values in series["values"]:
                        points.append(point_from_record(dict(zip(columns, values, strict=True))))
        points.sort(key=lambda p: (p.time, p.component_name, p.session_id))
        return tuple(points)


# --------------------------------------------------------------------------- InfluxDB 2.x

def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def _flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def flux_select(bucket: str, start: float, end: float, components: Sequence[str] = ()) -> str:
    # Flux's range is start-inclusive and stop-exclusive; the store's contract is
    # start < t <= end, so both bounds move by one nanosecond
    lines = [f"from(bucket: {_flux_string(bucket)})",
             f"  |> range(start: {_rfc3339(_ns(start) + 1)}, stop: {_rfc3339(_ns(end) + 1)})",
             f"  |> filter(fn: (r) => r._measurement == {_flux_string(MEASUREMENT)})"]
    if components:
        cond = " or ".join(f"r.component_name == {_flux_string(c)}"
                           for c in sorted(set(components)))
        lines.append(f"  |> filter(fn: (r) => {cond})")
    lines += ['  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
              "  |> group()",
              '  |> sort(columns: ["_time"])']
    return "\n".join(lines) + "\n"


def parse_annotated_csv(text: str) -> list[dict[str, str]]:
    """Rows of InfluxDB 2's (annotated) CSV: tables separated by blank lines, each with its
    own header, annotation rows starting with ``#``."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for record in csv.reader(io.StringIO(text)):
        if not record or all(not cell for cell in record):
            header = None  # a blank line ends a table
            continue
        if record[0].startswith("#"):
            continue
        if header is None:
            header = record
            continue
        rows.append(dict(zip(header, record, strict=False)))
    return rows


class InfluxV2Source(_Summarizing):
    """InfluxDB 2.x: ``/api/v2/write`` (line protocol) and ``/api/v2/query`` (Flux, CSV out)."""

    def __init__(self, url: str, org: str, bucket: str, token: str, *, timeout: float = 10.0,
                 retries: int = 2):
        self.org, self.bucket = org, bucket
        self.http = _Http(url, "InfluxDB", timeout, retries)
        self.http.session.headers["Authorization"] = f"Token {token}"

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        points = list(points)
        if points:
            self.http.request("POST", "/api/v2/write",
                              params={"org": self.org, "bucket": self.bucket, "precision": "ns"},
                              headers={"Content-Type": "text/plain; charset=utf-8"},
                              data=line_protocol(points).encode())
        return len(points)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        reply = self.http.request(
            "POST", "/api/v2/query", params={"org": self.org},
            headers={"Content-Type": "application/vnd.flux", "Accept": "application/csv"},
            data=flux_select(self.bucket, start, end, components).encode())
        try:
            rows = parse_annotated_csv(reply.text)
            points = [point_from_record(r) for r in rows
                      if r.get("_measurement", MEASUREMENT) == MEASUREMENT]
        except (KeyError, ValueError) as exc:
            raise _fail("AIS989", f"InfluxDB's CSV answer cannot be read ({exc!r}): "
                        f"{reply.text[:200]!r}") from None
        points.sort(key=lambda p: (p.time, p.component_name, p.session_id))
        return tuple(points)


# --------------------------------------------------------------------------- embedded store

_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {MEASUREMENT} (
  time REAL NOT NULL,
  {", ".join(f"{t} TEXT NOT NULL" for t in TAGS)},
  {", ".join(f"{f} REAL NOT NULL" for f in FIELDS)});
CREATE INDEX IF NOT EXISTS {MEASUREMENT}_time ON {MEASUREMENT} (time);"""


class EmbeddedStore(_Summarizing):
    """A SQLite file (one table ``execution_time``) in the local runner's state folder; safe
    for several writer processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise _fail("AIS991", f"the embedded metrics store cannot be opened: {exc}",
                        "check the state folder is writable", str(self.path)) from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        columns = ("time", *TAGS, *FIELDS)
        rows = [(p.time, *(getattr(p, t) for t in TAGS), *(p.fields()[f] for f in FIELDS))
                for p in points]
        try:
            with self._connect() as db:
                db.executemany(f"INSERT INTO {MEASUREMENT} ({', '.join(columns)}) VALUES "
                               f"({', '.join('?' * len(columns))})", rows)
        except sqlite3.Error as exc:
            raise _fail("AIS991", f"cannot write to the embedded metrics store: {exc}", "",
                        str(self.path)) from None
        return len(rows)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        query = f"SELECT * FROM {MEASUREMENT} WHERE time > ? AND time <= ?"
        args: list[Any] = [start, end]
        if components:
            query += f" AND component_name IN ({', '.join('?' * len(set(components)))})"
            args += sorted(set(components))
        query += " ORDER BY time, component_name, session_id"
        try:
            with self._connect() as db:
                db.row_factory = sqlite3.Row
                rows = db.execute(query, args).fetchall()
        except sqlite3.Error as exc:
            raise _fail("AIS991", f"cannot read the embedded metrics store: {exc}", "",
                        str(self.path)) from None
        return tuple(point_from_record(dict(r)) for r in rows)


# --------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class MetricsConfig:
    """Where metrics live. Secrets are never part of it: they are read from the environment
    (``INFLUX_PASSWORD``, ``INFLUX_TOKEN``) when the source is opened."""

    backend: str = "embedded"  # "influxdb1" | "influxdb2" | "embedded"
    url: str = ""
    database: str = DEFAULT_DATABASE
    username: str = ""
    org: str = DEFAULT_ORG
    bucket: str = ""
    store: str = ""  # embedded: the SQLite file (default <state_dir>/metrics.sqlite)
    source: str = field(default="", compare=False)  # where the settings came from


_FILE_KEYS = {"backend", "url", "version", "database", "username", "org", "bucket", "store"}


def load_config(file: Path | None = None, environ: Mapping[str, str] | None = None,
                app_name: str = "") -> MetricsConfig:
    """Settings from a YAML file (``metrics:`` mapping, optional), overridden by the
    environment. Without a URL anywhere, the embedded store is used."""
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    source = "environment"
    if file is not None:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise _fail("AIS986", f"cannot read the metrics configuration: {exc}", "",
                        str(file)) from None
        section = data.get("metrics", data) if isinstance(data, Mapping) else None
        if not isinstance(section, Mapping):
            raise _fail("AIS986", "the metrics configuration is not a mapping",
                        "write `metrics: {url: …, version: 1, database: …}`", str(file))
        secrets = sorted(k for k in section if any(s in str(k).lower() for s in SECRET_KEYS))
        if secrets:
            raise _fail("AIS986", f"the metrics configuration holds secrets ({', '.join(secrets)})",
                        "remove them from the file; set INFLUX_PASSWORD or INFLUX_TOKEN in the "
                        "environment instead", str(file))
        unknown = sorted(set(map(str, section)) - _FILE_KEYS)
        if unknown:
            raise _fail("AIS986", f"unknown metrics settings: {', '.join(unknown)}",
                        f"known settings: {', '.join(sorted(_FILE_KEYS))}", str(file))
        settings = dict(section)
        source = str(file)
    for key, var in (("url", "INFLUX_URL"), ("version", "INFLUX_VERSION"),
                     ("database", "INFLUX_DB"), ("username", "INFLUX_USER"),
                     ("org", "INFLUX_ORG"), ("bucket", "INFLUX_BUCKET")):
        if env.get(var):
            settings[key] = env[var]
    backend = str(settings.pop("backend", "") or "")
    version = str(settings.pop("version", "") or "")
    if not backend:
        if not settings.get("url"):
            backend = "embedded"
        elif version:
            backend = {"1": "influxdb1", "2": "influxdb2"}.get(version.split(".")[0], "")
            if not backend:
                raise _fail("AIS986", f"unknown InfluxDB version {version!r}",
                            "INFLUX_VERSION is 1 (InfluxQL) or 2 (Flux)")
        else:
            backend = "influxdb2" if env.get("INFLUX_TOKEN") else "influxdb1"
    if backend not in ("influxdb1", "influxdb2", "embedded"):
        raise _fail("AIS986", f"unknown metrics backend {backend!r}",
                    "backend is influxdb1, influxdb2 or embedded")
    if backend != "embedded" and not settings.get("url"):
        raise _fail("AIS986", f"the {backend} backend needs a URL", "set INFLUX_URL")
    if backend == "influxdb2" and not settings.get("bucket"):
        if not app_name:
            raise _fail("AIS986", "InfluxDB 2 needs a bucket", "set INFLUX_BUCKET")
        settings["bucket"] = f"{re.sub(r'[^a-z0-9]+', '-', app_name.lower()).strip('-')}-bucket"
    return MetricsConfig(backend=backend, **{k: str(v) for k, v in settings.items()},
                         source=source)


def open_source(config: MetricsConfig, *, state_dir: Path | None = None,
                environ: Mapping[str, str] | None = None) -> MetricsSource:
    """The store ``config`` names, with secrets from the environment."""
    env = os.environ if environ is None else environ
    if config.backend == "influxdb1":
        return InfluxV1Source(config.url, config.database, config.username,
                              env.get("INFLUX_PASSWORD", ""))
    if config.backend == "influxdb2":
        token = env.get("INFLUX_TOKEN", "")
        if not token:
            raise _fail("AIS986", "InfluxDB 2 needs a token", "set INFLUX_TOKEN")
        return InfluxV2Source(config.url, config.org, config.bucket, token)
    store = Path(config.store) if config.store else \
        Path(state_dir or ".aisprint") / "metrics.sqlite"
    return EmbeddedStore(store)


__all__ = ["EmbeddedStore", "ExecutionTimePoint", "InfluxV1Source", "InfluxV2Source",
           "MetricsConfig", "MetricsError", "MetricsSource", "PathTimes", "QoSPath", "QoSSpec",
           "ResponseTimes", "Stats", "flux_select", "influxql_select", "line_protocol",
           "load_config", "load_qos", "open_source", "parse_annotated_csv", "point_from_record",
           "points_from_jsonl", "qos_from_mapping", "summarize", "throughput_of"]
