"""When the reconciler re-places: QoS violations that last, and loads that left their band.

Pure: a ``Sample`` of measurements and the ``Memory`` of earlier cycles in, the triggers that
fire and the next ``Memory`` out. No clock is read; the caller passes the time.

Hysteresis, so a placement does not flap:

* a limit must be exceeded for ``window`` seconds in a row before it fires, and its clock
  restarts only once the measure is back under ``(1 - margin)`` of the limit;
* the measured load must stay outside ``planned × (1 ± band)`` for ``window`` seconds, measured
  in every cycle of them (a cycle with no traffic restarts the clock);
* after a change, nothing fires for ``cooldown`` seconds (the new placement must settle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from compiler.runtime.metrics import QoSPath


@dataclass(frozen=True)
class Policy:
    window: float = 60.0  # seconds a violation (or a load outside its band) must last
    band: float = 0.2  # relative half-width of the load band around the planned load
    margin: float = 0.05  # a violation clears under (1 - margin) x its limit
    cooldown: float = 300.0  # seconds after a change during which nothing fires


def describe(limit: QoSPath) -> str:
    kind = "component" if len(limit.components) == 1 else "path"
    return f"{kind} {' → '.join(limit.components)}"


@dataclass(frozen=True)
class Sample:
    time: float
    response_times: Mapping[str, float]  # QoS path id -> measured mean response time (s)
    load: float | None = None  # requests per second, None when unknown


@dataclass(frozen=True)
class Memory:
    """What a reconciler remembers between cycles (it is persisted with its state)."""

    over_since: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    load_out_since: float | None = None
    last_change: float | None = None

    def to_json(self) -> dict:
        return {"over_since": dict(sorted(self.over_since.items())),
                "load_out_since": self.load_out_since, "last_change": self.last_change}

    @classmethod
    def from_json(cls, data: Mapping | None) -> Memory:
        data = data or {}
        return cls(MappingProxyType(dict(data.get("over_since") or {})),
                   data.get("load_out_since"), data.get("last_change"))


@dataclass(frozen=True)
class Trigger:
    kind: str  # qos | load
    subject: str  # the QoS path's id, or "load"
    measured: float
    limit: float
    since: float
    message: str


def assess(policy: Policy, limits: tuple[QoSPath, ...], planned_load: float | None,
           sample: Sample, memory: Memory) -> tuple[tuple[Trigger, ...], Memory]:
    now = sample.time
    over = dict(memory.over_since)
    fired: list[Trigger] = []
    for limit in limits:
        measured = sample.response_times.get(limit.id)
        if measured is None:
            continue  # no traffic on that path in the window: nothing to judge
        if measured > limit.threshold:
            over.setdefault(limit.id, now)
        elif measured < limit.threshold * (1 - policy.margin):
            over.pop(limit.id, None)
        since = over.get(limit.id)
        if since is not None and now - since >= policy.window:
            fired.append(Trigger(
                "qos", limit.id, measured, limit.threshold, since,
                f"{describe(limit)} over its limit: {measured:.3g} s measured for "
                f"{now - since:.0f} s (limit {limit.threshold:.3g} s)"))
    # a window without traffic says nothing about the load: the clock restarts, so a quiet
    # spell between two batches never counts as time out of the band
    load_out_since = None if sample.load is None else memory.load_out_since
    if sample.load is not None and planned_load:
        low, high = planned_load * (1 - policy.band), planned_load * (1 + policy.band)
        if low <= sample.load <= high:
            load_out_since = None
        elif load_out_since is None:
            load_out_since = now
        if load_out_since is not None and now - load_out_since >= policy.window:
            direction = "above" if sample.load > high else "below"
            fired.append(Trigger(
                "load", "load", sample.load, planned_load, load_out_since,
                f"load {sample.load:.3g} req/s {direction} the band around the planned "
                f"{planned_load:.3g} req/s (±{policy.band:.0%}) for {now - load_out_since:.0f} s"))
    settling = memory.last_change is not None and now - memory.last_change < policy.cooldown
    next_memory = replace(memory, over_since=MappingProxyType(dict(sorted(over.items()))),
                          load_out_since=load_out_since)
    return (() if settling else tuple(fired)), next_memory


def changed(memory: Memory, now: float) -> Memory:
    """The memory after a new placement was committed: clocks restart, cooldown begins."""
    return Memory(MappingProxyType({}), None, now)
