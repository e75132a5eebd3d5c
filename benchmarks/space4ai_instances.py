"""Generate SPACE4AI-D system JSON instances from 5 to 200 components, feasible by construction.

    python benchmarks/space4ai_instances.py OUT_DIR [--sizes 5 10 20] [--count 3] [--seed 1]
                                                    [--lambda 1.8]

writes ``OUT_DIR/<size>-components/system_description<k>.json`` in the format of the 80
published instances (``../shared/benchmarks/space4ai/instances``: the writer is
``compiler.placement.interop.system_json``, with the network key spelt ``computationallayers``
as in those files) and checks every file by reading it back with ``system_file.load_system``.

What an instance holds (all drawn from one ``random.Random`` seeded by size and seed, so a
(size, seed) pair always gives the same bytes):

* a DAG with one source ``c1``; every later component has one or two parents among the few
  before it (joins), a component with several successors splits its requests among them with
  transition probabilities summing to 1 (branches) or forks (probability 1 to each), lowered
  where needed so that no component sees more than Λ (1.01 Λ at worst);
* per component one to three deployments: ``s1`` the whole model in one partition, the others
  chains of two or three partitions with early exits and intermediate data sizes;
* computational layers: one device layer (a single slow node), one to three edge-node layers,
  one to four VM layers, one or two FaaS layers of configurations whose speed and price grow
  with their memory; the counts grow with the size;
* three or four network domains: an edge LAN, a cloud network, a slow WAN joining every layer,
  and from 50 components a metro link between the edge and the first VM layer;
* compatibilities drawn per partition (the device only near the source), demands = work over
  the resource's speed with noise, memory needs that can fill the device;
* local limits on about a third of the components and path (global) limits along random walks
  of two to six components.

**Feasible by construction.** Every partition except the source's pinned one has at least one
FaaS option. The *reference placement* puts each component on a deployment whose partitions
all have FaaS options, every partition on its fastest FaaS configuration, except that when the
source ``c1`` is pinned to the device (half the instances) its ``s1`` runs there alone, with a
demand capped so that the device stays at most half busy at the instance's Λ. FaaS has no
capacity or sharing limit, the source is the only component on the edge (so nothing moves back
from the cloud), and every pair of layers shares the WAN domain. The QoS limits are then *set
from that placement*: each local limit is the reference response time times a slack drawn in
``LOCAL_SLACK`` (1.3–2.5), each path limit the reference path time times a slack in
``PATH_SLACK`` (1.2–2.0), rounded up to 4 decimals. The reference is fast but dear (the
fastest FaaS tier costs the most per request), so the cheap placements a solver looks for are
the ones these limits make hard to find.
The generator evaluates the reference placement with ``compiler.placement.performance.evaluate``
and raises if it is not feasible, so an instance that is written is feasible at its Λ.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from compiler.placement.interop import system_json
from compiler.placement.performance import evaluate
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
from compiler.placement.system_file import system_from_json

SIZES = (5, 10, 20, 30, 50, 100, 200)
ARRIVAL_RATE = 1.8
LOCAL_SLACK = (1.3, 2.5)
PATH_SLACK = (1.2, 2.0)


@dataclass(frozen=True)
class Instance:
    """A generated system and the placement that proves it feasible."""

    system: System
    reference: Placement


def _up(value: float) -> float:
    """Round a limit up to 4 decimals: a tidy number that never drops below the reference."""
    return math.ceil(value * 1e4) / 1e4


def _split(rng: random.Random, k: int) -> list[float]:
    """Transition probabilities of a k-way branch: positive, summing to 1."""
    weights = [rng.uniform(0.2, 1.0) for _ in range(k)]
    total = sum(weights)
    shares = [round(w / total, 6) for w in weights]
    shares[-1] = round(1.0 - sum(shares[:-1]), 6)
    return shares


@dataclass(frozen=True)
class _Resources:
    resources: tuple[ResourceType, ...]
    layers: tuple[Layer, ...]
    domains: tuple[Domain, ...]
    speed: dict[str, float]


def _resources(rng: random.Random, n: int) -> _Resources:
    resources: list[ResourceType] = []
    layers: list[Layer] = []
    speed: dict[str, float] = {}
    counter = {"layer": 0, "EN": 0, "VM": 0, "F": 0}

    def new_layer(tier: Tier, names: list[str]) -> str:
        counter["layer"] += 1
        name = f"computationallayer{counter['layer']}"
        layers.append(Layer(name, tier, tuple(names)))
        return name

    # the device: one slow node next to the source (a camera, a drone)
    device_layer = f"computationallayer{counter['layer'] + 1}"
    resources.append(ResourceType("Device1", Tier.EDGE, device_layer, round(rng.uniform(2, 5), 4),
                                  8192, number=1))
    speed["Device1"] = rng.uniform(0.4, 0.7)
    new_layer(Tier.EDGE, ["Device1"])
    edge_layers = []
    for _ in range(1 + (n >= 20) + (n >= 100)):
        names = []
        layer = f"computationallayer{counter['layer'] + 1}"
        for _ in range(rng.randint(2, 4)):
            counter["EN"] += 1
            name = f"EN{counter['EN']}"
            resources.append(ResourceType(name, Tier.EDGE, layer, round(rng.uniform(3, 8), 4),
                                          16384, number=rng.randint(1, 2)))
            speed[name] = rng.uniform(0.7, 1.3)
            names.append(name)
        edge_layers.append(new_layer(Tier.EDGE, names))
    cloud_layers = []
    most = 4 if n < 100 else 6
    for _ in range(1 + (n >= 10) + (n >= 50) + (n >= 200)):
        names = []
        layer = f"computationallayer{counter['layer'] + 1}"
        for _ in range(rng.randint(2, 5)):
            counter["VM"] += 1
            name = f"VM{counter['VM']}"
            fast = rng.uniform(1.0, 3.0)
            resources.append(ResourceType(name, Tier.CLOUD, layer,
                                          round(fast * rng.uniform(0.4, 2.0), 4), 65536,
                                          number=rng.randint(2, most)))
            speed[name] = fast
            names.append(name)
        cloud_layers.append(new_layer(Tier.CLOUD, names))
    faas_layers = []
    for _ in range(1 + (n >= 50)):
        names = []
        layer = f"computationallayer{counter['layer'] + 1}"
        base = rng.uniform(0.6, 1.2)
        for tier_index in range(rng.randint(3, 6)):
            counter["F"] += 1
            name = f"F{counter['F']}"
            resources.append(ResourceType(name, Tier.FAAS, layer,
                                          round(base * 1.6 ** tier_index * rng.uniform(0.9, 1.1),
                                                4), 1024 * 2 ** tier_index, idle_time=600))
            speed[name] = 0.5 * 1.4 ** tier_index * rng.uniform(0.9, 1.1)
            names.append(name)
        faas_layers.append(new_layer(Tier.FAAS, names))

    edge_side = [device_layer, *edge_layers]
    cloud_side = [*cloud_layers, *faas_layers]
    domains = [
        Domain("ND1", frozenset(edge_side), 0.002, round(rng.uniform(80, 200), 2)),
        Domain("ND2", frozenset(cloud_side), round(rng.uniform(0.001, 0.003), 4),
               round(rng.uniform(500, 1500), 2)),
        Domain("ND3", frozenset(edge_side + cloud_side), round(rng.uniform(0.02, 0.05), 4),
               round(rng.uniform(20, 60), 2)),
    ]
    if n >= 50:
        domains.append(Domain("ND4", frozenset([*edge_layers, cloud_layers[0]]), 0.01,
                              round(rng.uniform(80, 150), 2)))
    return _Resources(tuple(resources), tuple(layers), tuple(domains), speed)


def _dag(rng: random.Random, names: list[str]) -> list[tuple[str, str, float]]:
    """Edges from earlier to later components. A component with several successors either
    branches (probabilities summing to 1) or forks (every successor gets every request); a
    probability is lowered where needed so that no component receives more than Λ (1.01 Λ
    where a join's last parent still passes its minimum of 1 %)."""
    parents: dict[str, list[str]] = {}
    for i in range(1, len(names)):
        window = names[max(0, i - 6):i]
        k = 2 if len(window) > 1 and rng.random() < 0.25 else 1
        parents[names[i]] = rng.sample(window, k)
    children: dict[str, list[str]] = {name: [] for name in names}
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)
    share = {name: 0.0 for name in names}  # λ_i / Λ, filled in topological (name) order
    share[names[0]] = 1.0
    edges = []
    for name in names:
        if not children[name]:
            continue
        fork = len(children[name]) == 1 or rng.random() < 0.5
        drawn = [1.0] * len(children[name]) if fork else _split(rng, len(children[name]))
        for child, p in zip(children[name], drawn, strict=True):
            room = (1.0 - share[child]) / share[name]
            p = max(0.01, min(p, math.floor(room * 1e6) / 1e6))
            share[child] += p * share[name]
            edges.append((name, child, p))
    return edges


def generate(components: int, seed: int = 1, *, arrival_rate: float = ARRIVAL_RATE) -> Instance:
    """One instance of ``components`` components; the same (components, seed) gives the same."""
    if components < 2:
        raise ValueError("an instance needs at least 2 components")
    rng = random.Random(f"space4ai-instance/{components}/{seed}")
    pool = _resources(rng, components)
    by_name = {r.name: r for r in pool.resources}
    faas = [r for r in pool.resources if r.is_faas]
    device = by_name["Device1"]
    names = [f"c{i}" for i in range(1, components + 1)]
    edges = _dag(rng, names)
    successors = {name: [(t, p) for s, t, p in edges if s == name] for name in names}
    depth = {names[0]: 0}
    for s, t, _ in edges:  # edges go from earlier to later names: one pass sets every depth
        depth[t] = min(depth.get(t, math.inf), depth[s] + 1)
    pinned = rng.random() < 0.5  # the source's s1 runs on the device only

    components_out: list[Component] = []
    options: dict[tuple[str, str], tuple[Option, ...]] = {}
    reference_deployment: dict[str, str] = {}
    for name in names:
        work = rng.uniform(0.15, 0.9)  # seconds of the whole model on a reference core
        outputs = tuple(round(rng.uniform(0.5, 8), 3) for _ in successors[name])
        following = tuple(t for t, _ in successors[name])
        deployments = []
        counter = 0
        shapes = [1]
        if rng.random() < 0.55:
            shapes.append(rng.randint(2, 3))
            if rng.random() < 0.4:
                shapes.append(rng.randint(2, 3))
        for d, size in enumerate(shapes):
            fractions = [rng.uniform(0.5, 1.5) for _ in range(size)]
            total = sum(fractions)
            overhead = rng.uniform(1.0, 1.15) if size > 1 else 1.0
            parts = []
            for k in range(size):
                counter += 1
                pname = f"h{counter}"
                last = k == size - 1
                parts.append(Partition(
                    pname, 0.0 if last or rng.random() < 0.5 else round(rng.uniform(0.1, 0.6), 3),
                    following if last else (f"h{counter + 1}",),
                    outputs if last else (round(rng.uniform(0.2, 4), 3),)))
                part_work = work * overhead * fractions[k] / total
                near_source = depth[name] <= 1
                pin = pinned and name == names[0] and d == 0
                opts = []
                for res in pool.resources:
                    if res.is_faas:
                        chance = 0.0 if pin else 0.7
                    elif res is device:
                        chance = 1.0 if pin else (0.6 if near_source and k == 0 else 0.0)
                    elif res.tier is Tier.EDGE:
                        chance = 0.0 if pin else (0.55 if k == 0 else 0.3)
                    else:
                        chance = 0.0 if pin else 0.6
                    if rng.random() < chance:
                        opts.append(res)
                if not pin and not any(r.is_faas for r in opts):
                    opts.append(rng.choice(faas))
                memory = rng.choice((256, 512, 1024, 2048))
                built = []
                for res in sorted(opts, key=pool.resources.index):
                    demand = part_work / pool.speed[res.name] * rng.uniform(0.85, 1.15)
                    if res.is_faas:
                        built.append(Option(res.name, res.memory, "PACSLTK",
                                            demand_warm=round(demand, 6),
                                            demand_cold=round(demand + rng.uniform(1, 4), 6)))
                    else:
                        if pin:  # the device stays at most half busy with the source alone
                            demand = min(demand, 0.5 / arrival_rate)
                        built.append(Option(res.name, memory, "QTedge" if res.tier is Tier.EDGE
                                            else "QTcloud", demand=round(demand, 6)))
                options[(name, pname)] = tuple(built)
            deployments.append(Deployment(f"s{d + 1}", tuple(parts)))
        components_out.append(Component(name, tuple(deployments)))
        if pinned and name == names[0]:
            reference_deployment[name] = "s1"
        else:
            reference_deployment[name] = rng.choice(deployments).name

    base = System(f"generated_{components}_{seed}", tuple(components_out), tuple(edges),
                  pool.resources, pool.layers, pool.domains, MappingProxyType(options),
                  arrival_rate=arrival_rate, time=1.0)
    reference = _reference(base, reference_deployment)
    times = evaluate(base, reference)
    if not times.feasible:
        raise RuntimeError(f"the reference placement of {base.name} is infeasible: "
                           f"{times.violations[0].message}")

    constrained = rng.sample(names, max(1, round(components / 3)))
    local = {c: _up(times.component_times[c] * rng.uniform(*LOCAL_SLACK))
             for c in sorted(constrained, key=names.index)}
    walks = []  # (path, slack), drawn in turn
    for _ in range(min(30, max(1, round(components / 6)))):
        path = _walk(rng, names, successors)
        if path is not None:
            walks.append((path, rng.uniform(*PATH_SLACK)))
    # the paths' times under the reference placement, transfers included, as evaluated
    probes = replace(base, global_constraints=tuple(
        PathConstraint(f"p{i}", path, 1e6) for i, (path, _) in enumerate(walks, 1)))
    path_times = evaluate(probes, reference).path_times
    paths = tuple(PathConstraint(g.name, g.path, _up(path_times[g.name] * slack))
                  for g, (_, slack) in zip(probes.global_constraints, walks, strict=True))
    system = replace(base, local_constraints=MappingProxyType(local), global_constraints=paths)
    check = evaluate(system, reference)
    if not check.feasible:  # cannot happen: every limit is at least the reference's time
        raise RuntimeError(f"{system.name}: the reference placement breaks a limit: "
                           f"{check.violations[0].message}")
    return Instance(system, reference)


def _walk(rng: random.Random, names: list[str], successors) -> tuple[str, ...] | None:
    """A path of 2 to 6 components following DAG edges from a random start."""
    starts = [n for n in names if successors[n]]
    if not starts:
        return None
    path = [rng.choice(starts)]
    length = rng.randint(2, 6)
    while len(path) < length and successors[path[-1]]:
        path.append(rng.choice(successors[path[-1]])[0])
    return tuple(path)


def _reference(system: System, deployments: dict[str, str]) -> Placement:
    """Each partition on its fastest FaaS configuration; a pinned source on the device."""
    resources: dict[tuple[str, str], str] = {}
    replicas: dict[str, int] = {}
    for component in system.components:
        deployment = component.deployment(deployments[component.name])
        for part in deployment.partitions:
            opts = system.options_for(component.name, part.name)
            on_faas = [o for o in opts if system.resource(o.resource).is_faas]
            if on_faas:
                best = min(on_faas, key=lambda o: (o.demand_warm, o.resource))
            else:  # the pinned source: its only option is the device
                best = opts[0]
                replicas[best.resource] = 1
            resources[(component.name, part.name)] = best.resource
    return Placement(dict(deployments), resources, replicas)


def instance_json(system: System) -> dict:
    """The system JSON, with the network key spelt as in the published instance files."""
    data = system_json(system)
    data["NetworkTechnology"] = {
        name: {"computationallayers": spec["computationalLayers"],
               "AccessDelay": spec["AccessDelay"], "Bandwidth": spec["Bandwidth"]}
        for name, spec in data["NetworkTechnology"].items()}
    return data


def dumps(system: System) -> str:
    return json.dumps(instance_json(system), indent=2) + "\n"


def write_instances(out: Path, sizes=SIZES, count: int = 3, seed: int = 1,
                    arrival_rate: float = ARRIVAL_RATE) -> list[Path]:
    """Write ``count`` instances per size and read each back (a file that does not parse or
    whose reference placement is not feasible once read back is an error, not a benchmark)."""
    written = []
    for size in sizes:
        folder = out / f"{size}-components"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(1, count + 1):
            instance = generate(size, seed * 1000 + k, arrival_rate=arrival_rate)
            path = folder / f"system_description{k}.json"
            path.write_text(dumps(instance.system), encoding="utf-8")
            again = system_from_json(json.loads(path.read_text(encoding="utf-8")),
                                     file=str(path))
            if not evaluate(again, instance.reference).feasible:
                raise RuntimeError(f"{path}: the reference placement is infeasible once read back")
            written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write <size>-components/ into")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--count", type=int, default=3, help="instances per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lambda", dest="arrival_rate", type=float, default=ARRIVAL_RATE)
    args = parser.parse_args()
    for path in write_instances(args.out, args.sizes, args.count, args.seed, args.arrival_rate):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
