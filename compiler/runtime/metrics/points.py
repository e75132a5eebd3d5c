"""The ``execution_time`` point every AMS-instrumented component writes per request (formats
reference §5.4), read from any record shape, and written as InfluxDB line protocol."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def fail(code: str, message: str, hint: str = "", file: str = "") -> MetricsError:
    return MetricsError([diagnostic(code, message, hint, Location(file) if file else None)])


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
        raise fail("AIS989", f"not an execution_time record: {dict(record)!r}",
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


# --------------------------------------------------------------------------- line protocol

def _escape_key(text: str) -> str:
    return re.sub(r"([,= \\])", r"\\\1", text)


def nanoseconds(t: float) -> int:
    return int(round(t * 1e9))


def line_protocol(points: Iterable[ExecutionTimePoint]) -> str:
    lines = []
    for p in points:
        tags = "".join(f",{k}={_escape_key(v)}" for k, v in sorted(p.tags().items()))
        fields = ",".join(f"{k}={v!r}" for k, v in sorted(p.fields().items()))
        lines.append(f"{MEASUREMENT}{tags} {fields} {nanoseconds(p.time)}")
    return "\n".join(lines) + ("\n" if lines else "")
