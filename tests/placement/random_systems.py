"""Small random placement problems, for checking solvers against brute force."""

from __future__ import annotations

import itertools
import math
import random
from types import MappingProxyType

from compiler.placement.performance import DEFAULT, evaluate
from compiler.placement.system import (
    Component,
    Deployment,
    Domain,
    Layer,
    Option,
    Partition,
    PathConstraint,
    Placement,
    ResourceType,
    System,
    Tier,
)


def random_system(seed: int, components: int = 3) -> System:
    rng = random.Random(seed)
    resources = [
        ResourceType("E1", Tier.EDGE, "L1", rng.uniform(1, 5), 4096, number=rng.randint(1, 2)),
        ResourceType("E2", Tier.EDGE, "L1", rng.uniform(1, 5), 4096, number=rng.randint(1, 2)),
        ResourceType("V1", Tier.CLOUD, "L2", rng.uniform(0.5, 3), 8192, number=rng.randint(1, 3)),
        ResourceType("V2", Tier.CLOUD, "L2", rng.uniform(0.5, 3), 8192, number=rng.randint(1, 3)),
        ResourceType("F1", Tier.FAAS, "L3", rng.uniform(0.1, 1), 2048, idle_time=600),
        ResourceType("F2", Tier.FAAS, "L3", rng.uniform(0.1, 1), 2048, idle_time=600),
    ]
    layers = (Layer("L1", Tier.EDGE, ("E1", "E2")), Layer("L2", Tier.CLOUD, ("V1", "V2")),
              Layer("L3", Tier.FAAS, ("F1", "F2")))
    domains = (Domain("N1", frozenset({"L1", "L2", "L3"}), 0.01, rng.uniform(5, 50)),
               Domain("N2", frozenset({"L2", "L3"}), 0.001, 200.0))
    names = [f"c{i}" for i in range(1, components + 1)]
    edges = []
    for i in range(1, components):
        edges.append((names[i - 1], names[i], round(rng.uniform(0.4, 1), 3)))
    comps, options = [], {}
    for name in names:
        following = tuple(n for s, n, _ in edges if s == name)
        deployments = []
        counter = 0
        for s in range(rng.randint(1, 2)):
            parts = []
            size = 1 if s == 0 else 2
            for k in range(size):
                counter += 1
                pname = f"h{counter}"
                last = k == size - 1
                nxt = following if last else (f"h{counter + 1}",)
                parts.append(Partition(pname, 0.0 if last else round(rng.uniform(0, 0.5), 3),
                                       nxt, tuple(rng.uniform(0.1, 3) for _ in nxt)))
                opts = []
                for res in resources:
                    if rng.random() < 0.65:
                        if res.is_faas:
                            warm = rng.uniform(0.2, 1.5)
                            opts.append(Option(res.name, 512, "PACSLTK", demand_warm=warm,
                                               demand_cold=warm + rng.uniform(0.5, 2)))
                        else:
                            opts.append(Option(res.name, 512, "QTedge",
                                               demand=rng.uniform(0.05, 0.6)))
                options[(name, pname)] = tuple(opts)
            deployments.append(Deployment(f"s{s + 1}", tuple(parts)))
        comps.append(Component(name, tuple(deployments)))
    local = {names[0]: rng.uniform(0.5, 3)}
    path = tuple(names[:2])
    glob = (PathConstraint("p1", path, rng.uniform(1, 6)),)
    return System(f"random{seed}", tuple(comps), tuple(edges), tuple(resources), layers,
                  domains, MappingProxyType(options), MappingProxyType(local), glob,
                  arrival_rate=rng.uniform(0.5, 2.5), time=1.0)


def brute_force(system: System, conventions=DEFAULT) -> tuple[Placement, float] | None:
    """Every deployment, resource and replica count: the true optimum (small systems only)."""
    best = None
    per_component = []
    for comp in system.components:
        choices = []
        for dep in comp.deployments:
            option_lists = [[o.resource for o in system.options_for(comp.name, p.name)]
                            for p in dep.partitions]
            for combo in itertools.product(*option_lists):
                choices.append((dep.name, {(comp.name, p.name): r
                                           for p, r in zip(dep.partitions, combo, strict=True)}))
        per_component.append(choices)
    for picks in itertools.product(*per_component):
        deployments = {c.name: d for c, (d, _) in zip(system.components, picks, strict=True)}
        resources = {}
        for _, placed in picks:
            resources.update(placed)
        queue = sorted({r for r in resources.values() if not system.resource(r).is_faas})
        for counts in itertools.product(*[range(1, system.resource(r).number + 1)
                                          for r in queue]):
            placement = Placement(deployments, resources, dict(zip(queue, counts, strict=True)))
            ev = evaluate(system, placement, conventions)
            if ev.feasible and (best is None or ev.cost < best[1] - 1e-12):
                best = (placement, ev.cost)
    return best


def is_close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
