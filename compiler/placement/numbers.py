"""The ranges the placement computes safely in, and the check that a ``System`` keeps to them.

The schemas already refuse such numbers in the files (``compiler/load/schema.py``: AIS105,
AIS109, AIS110), with the same bounds as here; a test keeps the two in step. A ``System`` can
also be built in code, read from a SPACE4AI-D JSON or given an arrival rate on the command
line, so every solver entry checks again and names the wrong value (AIS806) instead of dividing
by zero, raising OverflowError or handing HiGHS a coefficient it reads as infinite.

Within these ranges the evaluator and the FaaS model stay finite, and the MILP's coefficients
stay below ~1e13 once its objective is scaled (``milp._MilpBuilder``): the largest values of every
range together still solve (tests/placement/test_numbers.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.errors import InvalidInput
from compiler.placement.system import System

SECONDS = 1e6  # any time in seconds: ~11.6 days
COST = 1e4  # per node and hour, or per GB-second of a function: far above any price list
NODES = 1000  # replicas of one resource type (the MILP has one binary per count)
MEMORY = 1e9  # MB: a petabyte
CORES = 1e5
RATE = 1e6  # requests per second
DATA = 1e6  # MB sent per request
HORIZON = 1e4  # the time horizon T the cost is counted over


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    open_low: bool = False  # low itself is excluded (a divisor, or a rate that must flow)

    def holds(self, value: float) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.low if self.open_low else value >= self.low
        return above and value <= self.high

    def __str__(self) -> str:
        return f"{self.low:g} {'<' if self.open_low else '<='} x <= {self.high:g}"


ARRIVAL_RATE = Range(0, RATE)  # files say > 0; a measured load may be 0 (nothing flows)
TIME_HORIZON = Range(0, HORIZON, open_low=True)
RESOURCE_COST = Range(0, COST)
RESOURCE_MEMORY = Range(0, MEMORY)
REPLICAS = Range(1, NODES)
RESOURCE_CORES = Range(0, CORES, open_low=True)
IDLE_TIME = Range(1e-3, SECONDS)  # the FaaS model divides by it
TRANSITION_COST = Range(0, COST)
ACCESS_DELAY = Range(0, 3600)
BANDWIDTH = Range(1e-6, 1e7)  # divides every transfer
DEMAND = Range(0, SECONDS)
FAAS_DEMAND = Range(1e-6, SECONDS)  # the FaaS model divides by warm and cold times
OPTION_MEMORY = Range(0, MEMORY)
DATA_SIZE = Range(0, DATA)
PROBABILITY = Range(0, 1)
# below a millisecond a limit is within the solvers' tolerances (1e-7 s) of zero
TIME_LIMIT = Range(1e-3, SECONDS)


def _values(system: System):
    """``(what, value, range)`` for every number the placement computes with."""
    yield "the arrival rate Λ", system.arrival_rate, ARRIVAL_RATE
    yield "the time horizon T", system.time, TIME_HORIZON
    for r in system.resources:
        yield f"the cost of {r.name}", r.cost, RESOURCE_COST
        yield f"the memory of {r.name}", r.memory, RESOURCE_MEMORY
        if r.is_faas:
            yield f"the idle time of {r.name}", r.idle_time, IDLE_TIME
        else:
            yield f"the number of {r.name} nodes", r.number, REPLICAS
            yield f"the cores of {r.name}", r.cores, RESOURCE_CORES
    for layer in system.layers:
        yield f"the transition cost of {layer.name}", layer.transition_cost, TRANSITION_COST
    for d in system.domains:
        yield f"the access delay of {d.name}", d.access_delay, ACCESS_DELAY
        yield f"the bandwidth of {d.name}", d.bandwidth, BANDWIDTH
    for source, target, probability in system.edges:
        yield f"the probability of {source} -> {target}", probability, PROBABILITY
    for c in system.components:
        for dep in c.deployments:
            for p in dep.partitions:
                yield f"the early-exit probability of {c.name}/{p.name}", p.early_exit, \
                    PROBABILITY
                for size in p.data_sizes:
                    yield f"the data size sent by {c.name}/{p.name}", size, DATA_SIZE
    faas = {r.name for r in system.resources if r.is_faas}
    for (component, partition), options in sorted(system.options.items()):
        for o in options:
            where = f"{component}/{partition} on {o.resource}"
            yield f"the memory of {where}", o.memory, OPTION_MEMORY
            if o.resource in faas:
                yield f"the warm time of {where}", o.demand_warm, FAAS_DEMAND
                yield f"the cold-start time of {where}", o.demand_cold, FAAS_DEMAND
            else:
                yield f"the demand of {where}", o.demand, DEMAND
    for component, limit in sorted(system.local_constraints.items()):
        yield f"the response-time limit of {component}", limit, TIME_LIMIT
    for g in system.global_constraints:
        yield f"the response-time limit of path {g.name}", g.threshold, TIME_LIMIT


def _show(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**16:
        return "an integer of hundreds of digits" if abs(value) >= 10**100 else f"{value:.3e}"
    return f"{value:g}" if isinstance(value, (int, float)) else repr(value)


def number_problems(system: System) -> list[Diagnostic]:
    """An AIS806 diagnostic for every number of ``system`` outside its range."""
    return [diagnostic("AIS806", f"{what} is {_show(value)}; the placement needs {rng}",
                       f"use a finite value in {rng}")
            for what, value, rng in _values(system) if not rng.holds(value)]


def check_system(system: System) -> None:
    """Raise ``InvalidInput`` (AIS806) when a number of ``system`` is out of its range."""
    problems = number_problems(system)
    if problems:
        raise InvalidInput(problems)
