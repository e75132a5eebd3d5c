"""What one run of the local backend did: runs per component (the backend's records) and
response times per component and QoS path (the metrics store, as AMS computes them)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.runtime.local.backend import JobRecord, LocalBackend
from compiler.runtime.local.topology import Topology
from compiler.runtime.metrics import QoSPath


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

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Summary:
        """The summary as ``to_json`` wrote it (a background backend's ``summary.json``)."""
        return cls(
            doc["seconds"], doc["inputs"],
            tuple(ComponentSummary(c["unit"], c["service"], c["jobs"], c["failed"],
                                   c["sessions"], c["outputs"], c["mean_seconds"])
                  for c in doc["components"]),
            tuple(PathSummary(p["id"], tuple(p["components"]), p["limit"], p["mean_seconds"],
                              p["p95_seconds"], p["requests"], p["method"])
                  for p in doc["paths"]),
            tuple(JobRecord.from_json(f) for f in doc["failures"]), tuple(doc["results"]),
            doc["metrics_store"])


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
