"""What AMS makes of the points: QoS constraints as paths with limits, response time per path
and throughput (§5.2), computed by one pure function whatever store the points came from; and
``MetricsSource``, the one interface of the stores."""

from __future__ import annotations

import math
import re
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

from compiler.layout import QOS_PREFIX
from compiler.runtime.metrics.points import ExecutionTimePoint, fail


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
        raise fail("AIS990", "not an AMS QoS constraints file: no `system` mapping",
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
        raise fail("AIS990", f"a QoS constraint is malformed ({exc!r})",
                    "a local constraint has component_name and threshold; a global one "
                    "path_components and threshold", file) from None
    tp = system.get("throughput_component")
    return QoSSpec(tuple(paths), str(tp) if tp and isinstance(tp, str) else None)


def qos_from_files(files: Mapping[str, bytes | str]) -> QoSSpec:
    """The QoS constraints of one deployment from its ``qos_constraints_L<n>.yaml`` documents
    (file path -> text), in layer order.

    AMS numbers constraints from 1 in each layer's file, so ids are prefixed ``L<n>/``."""
    def layer_number(path: str) -> int:
        return int(re.sub(r"\D", "", Path(path).stem) or 0)

    paths: list[QoSPath] = []
    throughput = None
    for file in sorted(files, key=lambda f: (layer_number(f), f)):
        try:
            data = yaml.safe_load(files[file])
        except yaml.YAMLError as exc:
            raise fail("AIS990", f"cannot read QoS constraints: {exc}", "", file) from None
        layer = Path(file).stem.rsplit("_", 1)[-1]
        spec = qos_from_mapping(data, prefix=f"{layer}/", file=file)
        paths.extend(spec.paths)
        throughput = throughput or spec.throughput_component
    return QoSSpec(tuple(paths), throughput)


def load_qos(deployment_dir: Path) -> QoSSpec:
    """The QoS constraints of one deployment folder, from its ``ams/`` files."""
    files = {}
    for file in Path(deployment_dir).glob(f"{QOS_PREFIX}*.yaml"):
        try:
            files[str(file)] = file.read_bytes()
        except OSError as exc:
            raise fail("AIS990", f"cannot read QoS constraints: {exc}", "", str(file)) from None
    return qos_from_files(files)


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


class Summarizing:
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
