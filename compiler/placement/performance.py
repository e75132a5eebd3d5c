"""The one evaluator: cost, response times and every violated constraint of a placement.

Every solver's answer is re-checked here; nothing else decides whether a placement is feasible.
The models are SPACE4AI-D's (../shared/reference/placement-model.md §1):

* edge/VM resource type j with n_j replicas: an M/G/1 queue, load split evenly,
  ``U_j = Σ λ_ih·D_ihj / n_j`` and ``R = D / (1 − U_j)``; stable only while ``U_j < 1``;
* FaaS: the warm/cold model of Mahmoudi & Khazaei (``faas.py``);
* transfers between different resources: ``a + δ/B`` over the fastest network domain that
  holds both layers (``×8`` on δ with ``Conventions(transfer_bits=True)``); same resource: 0;
* a component's time is its chain weighted by early exits:
  ``R_i = R_1 + Σ_k Π_{l<k}(1−e_l)·(R_k + t_{k−1,k})``; a path adds the transfers between
  consecutive components;
* cost over the horizon T: ``Σ c_j·n_j·T`` for edge/VM plus ``Σ c_j·warm·rate·T`` for FaaS.

A FaaS partition is modelled and charged at its own rate λ_ih (default, as the C++ tool) or
at its component's rate λ_i (``Conventions(faas_rate="component")``, as the Python tool).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from compiler.placement.faas import faas_response_time
from compiler.placement.system import Option, Placement, System

RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Conventions:
    """The two points where the reference implementations disagree."""

    faas_rate: str = "partition"  # or "component"
    transfer_bits: bool = False  # True: a + 8·δ/B (data sizes in MB, bandwidth in Mb/s)

    def __post_init__(self) -> None:
        if self.faas_rate not in ("partition", "component"):
            raise ValueError("faas_rate is 'partition' or 'component'")


DEFAULT = Conventions()
PYTHON_TOOL = Conventions(faas_rate="component")


@dataclass(frozen=True)
class Violation:
    """A broken constraint: ``kind`` (stable identifier), what, and by how much."""

    kind: str
    subject: str
    message: str
    excess: float = 0.0


@dataclass(frozen=True)
class Evaluation:
    cost: float
    violations: tuple[Violation, ...]
    partition_times: Mapping[tuple[str, str], float] = field(default_factory=dict)
    component_times: Mapping[str, float] = field(default_factory=dict)
    path_times: Mapping[str, float] = field(default_factory=dict)
    utilisation: Mapping[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations


def _over(value: float, limit: float) -> bool:
    return value > limit * (1 + RELATIVE_TOLERANCE) + 1e-12


def option_for(system: System, component: str, partition: str, resource: str) -> Option | None:
    return next((o for o in system.options_for(component, partition) if o.resource == resource),
                None)


def faas_rate(system: System, component: str, partition_rate: float,
              conventions: Conventions) -> float:
    """The arrival rate a FaaS partition is modelled and charged at (see ``Conventions``)."""
    if conventions.faas_rate == "partition":
        return partition_rate
    return system.component_rates[component]


def transfer_time(system: System, resource_a: str, resource_b: str, size: float,
                  conventions: Conventions = DEFAULT) -> float | None:
    if resource_a == resource_b:
        return 0.0
    return system.network_delay(system.resource(resource_a).layer,
                                system.resource(resource_b).layer, size,
                                bits=conventions.transfer_bits)


def evaluate(system: System, placement: Placement,
             conventions: Conventions = DEFAULT) -> Evaluation:
    violations: list[Violation] = []

    def violate(kind: str, subject: str, message: str, excess: float = 0.0) -> None:
        violations.append(Violation(kind, subject, message, excess))

    # -- structure: a deployment per component, a compatible resource per partition
    chosen = []  # (component, deployment, partition, resource, option, partition rate)
    for component in system.components:
        name = placement.deployments.get(component.name)
        deployment = next((d for d in component.deployments if d.name == name), None)
        if deployment is None:
            violate("structure", component.name,
                    f"{component.name} has no (or an unknown) deployment: {name!r}")
            continue
        rates = system.partition_rates(component.name, deployment)
        for part, rate in zip(deployment.partitions, rates, strict=True):
            resource = placement.resources.get((component.name, part.name))
            option = option_for(system, component.name, part.name, resource) if resource else None
            if option is None:
                violate("structure", f"{component.name}/{part.name}",
                        f"{component.name}/{part.name} is not placed on a compatible resource "
                        f"(got {resource!r})")
                continue
            chosen.append((component.name, deployment, part, resource, option, rate))
    if violations:
        return Evaluation(math.inf, tuple(violations))

    # -- resource types: one per edge/VM layer, replicas within bounds, memory
    used_by_layer: dict[str, set[str]] = defaultdict(set)
    memory: dict[str, float] = defaultdict(float)
    for _, _, part, resource, option, _ in chosen:
        res = system.resource(resource)
        if res.is_faas:
            if _over(option.memory, res.memory):
                violate("memory", resource, f"{part.name} needs {option.memory:g} MB on "
                        f"{resource}, which has {res.memory:g}", option.memory - res.memory)
        else:
            used_by_layer[res.layer].add(resource)
            memory[resource] += option.memory
    for layer, names in sorted(used_by_layer.items()):
        if len(names) > 1:
            violate("layer", layer, f"layer {layer} uses {len(names)} resource types "
                    f"({', '.join(sorted(names))}); at most one is allowed", len(names) - 1)
    replicas: dict[str, int] = {}
    for resource in sorted(memory):
        res = system.resource(resource)
        n = placement.replicas.get(resource)
        if n is None or not 1 <= n <= res.number:
            violate("replicas", resource, f"{resource} needs 1..{res.number} replicas, got {n!r}")
            n = res.number
        replicas[resource] = n
        if _over(memory[resource], res.memory):
            violate("memory", resource, f"partitions on {resource} need {memory[resource]:g} "
                    f"MB, it has {res.memory:g}", memory[resource] - res.memory)

    # -- no move back from cloud/FaaS to the edge
    where = {(c, p.name): system.resource(r).tier for c, _, p, r, _, _ in chosen}
    by_component: dict[str, list] = defaultdict(list)
    for entry in chosen:
        by_component[entry[0]].append(entry)
    for component, entries in by_component.items():
        tiers = [where[(component, e[2].name)] for e in entries]
        for earlier, later, entry in zip(tiers, tiers[1:], entries[1:], strict=False):
            if earlier.is_cloud and not later.is_cloud:
                violate("move-back", f"{component}/{entry[2].name}",
                        f"{component}/{entry[2].name} runs on the edge after an earlier "
                        "partition ran in the cloud")
    for source, target, _ in system.edges:
        last = by_component[source][-1]
        first = by_component[target][0]
        if where[(source, last[2].name)].is_cloud and not where[(target, first[2].name)].is_cloud:
            violate("move-back", f"{source}->{target}",
                    f"{target} runs on the edge after {source} ran in the cloud")

    # -- utilisation and response times
    load: dict[str, float] = defaultdict(float)
    for _, _, _, resource, option, rate in chosen:
        if resource in replicas:
            load[resource] += rate * option.demand
    utilisation = {r: load[r] / replicas[r] for r in sorted(load)}
    for resource, u in utilisation.items():
        if u >= 1:
            violate("stability", resource, f"{resource} is saturated: utilisation {u:.3f} >= 1 "
                    f"with {replicas[resource]} replica(s)", u - 1)
    times: dict[tuple[str, str], float] = {}
    for component, _, part, resource, option, rate in chosen:
        if resource in replicas:
            u = utilisation[resource]
            times[(component, part.name)] = option.demand / (1 - u) if u < 1 else math.inf
        else:
            res = system.resource(resource)
            times[(component, part.name)] = faas_response_time(
                faas_rate(system, component, rate, conventions), option.demand_warm,
                option.demand_cold, res.idle_time)

    def transfer(resource_a: str, resource_b: str, size: float, subject: str) -> float:
        delay = transfer_time(system, resource_a, resource_b, size, conventions)
        if delay is None:
            violate("network", subject, f"no network domain connects {resource_a} and "
                    f"{resource_b}")
            return math.inf
        return delay

    component_times: dict[str, float] = {}
    for component, entries in by_component.items():
        deployment = entries[0][1]
        total = 0.0
        for k, (weight, entry) in enumerate(zip(deployment.weights(), entries, strict=True)):
            step = times[(component, entry[2].name)]
            if k:
                before = entries[k - 1]
                step += transfer(before[3], entry[3], before[2].data_to(entry[2].name),
                                 f"{component}/{before[2].name}->{entry[2].name}")
            total += weight * step
        component_times[component] = total

    path_times: dict[str, float] = {}
    for constraint in system.global_constraints:
        total = sum(component_times[c] for c in constraint.path)
        for a, b in zip(constraint.path, constraint.path[1:], strict=False):
            last, first = by_component[a][-1], by_component[b][0]
            total += transfer(last[3], first[3], last[2].data_to(b), f"{a}->{b}")
        path_times[constraint.name] = total

    for component, limit in system.local_constraints.items():
        value = component_times.get(component, math.inf)
        if _over(value, limit):
            violate("local", component, f"{component} responds in {value:.4g} s, over its "
                    f"limit of {limit:.4g} s", value - limit)
    for constraint in system.global_constraints:
        value = path_times[constraint.name]
        if _over(value, constraint.threshold):
            violate("global", constraint.name, f"path {constraint.name} "
                    f"({' -> '.join(constraint.path)}) takes {value:.4g} s, over its limit of "
                    f"{constraint.threshold:.4g} s", value - constraint.threshold)

    # -- cost over the horizon
    cost = sum(system.resource(r).cost * n for r, n in replicas.items()) * system.time
    for component, _, _, resource, option, rate in chosen:
        if resource not in replicas:
            cost += (system.resource(resource).cost * option.demand_warm
                     * faas_rate(system, component, rate, conventions) * system.time)

    return Evaluation(cost, tuple(violations), MappingProxyType(times),
                      MappingProxyType(component_times), MappingProxyType(path_times),
                      MappingProxyType(utilisation))
