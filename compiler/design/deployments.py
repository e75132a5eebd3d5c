"""Deployments as the emitters see them: which unit (component or partition) runs where.

A ``DeploymentView`` is one folder of ``aisprint/deployments/``: its units with their layer,
resource and container, the DAG rewritten over the units (a partitioned component becomes the
chain ``c_partition1_1 -> c_partition1_2``; with ``early_exits_model`` the link carries the
annotated transition probability p and a bypass edge 1-p leads to the next component), and
the QoS constraints expanded the way the AI-SPRINT design tool does it (§1.10 of the
formats reference):

* a local limit of a plain component stays local; of a partitioned one it becomes a global
  limit over its partitions, carried by the last partition;
* a global limit spans the expanded path (partitioned components replaced by their partitions);
* local limits belong to the layer of their component, global ones to the layer of the path's
  last unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from compiler.layout import BASE_DESIGN
from compiler.model import Application, CandidateDeployment, Container


@dataclass(frozen=True)
class Unit:
    name: str  # component, or <component>_partition<cut>_<part>
    component: str
    design: str  # base | partition<cut>_<part>
    entry: CandidateDeployment
    container: Container
    resource: str
    layer: int
    replicas: int | None = None  # edge/VM nodes; None for FaaS


@dataclass(frozen=True)
class QosConstraint:
    kind: str  # local | global
    units: tuple[str, ...]  # local: (unit,); global: the path
    threshold: float
    layer: int


@dataclass(frozen=True)
class DeploymentView:
    name: str
    units: tuple[Unit, ...]
    dependencies: tuple[tuple[str, str, float], ...]
    constraints: tuple[QosConstraint, ...]
    throughput_unit: str | None

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    def units_of(self, component: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.component == component)

    def layers(self) -> tuple[int, ...]:
        return tuple(sorted({u.layer for u in self.units}))


def base_units(app: Application) -> tuple[Unit, ...]:
    """The seed's base rule: first candidate layer, container1, its first resource."""
    units = []
    for component in app.dag.topological_order() or app.dag.components:
        entry = next(d for d in app.deployments_of(component) if d.partition is None)
        container = entry.containers[0]
        resource_name = container.candidate_resources[0]
        resource = app.infrastructure.resource(resource_name)
        units.append(Unit(component, component, BASE_DESIGN, entry, container, resource_name,
                          entry.layers[0],
                          None if resource.is_faas else (resource.total_nodes or 1)))
    return tuple(units)


def _unit_on_layer(app: Application, component: str, design: str, unit_name: str,
                   entry: CandidateDeployment, layer: int) -> Unit | None:
    """The unit on ``layer``: the first container that lists a resource of that layer, and
    its first such resource."""
    for container in entry.containers:
        for name in container.candidate_resources:
            resource = app.infrastructure.resource(name)
            if resource is not None and resource.layer == layer:
                return Unit(unit_name, component, design, entry, container, name, layer,
                            None if resource.is_faas else (resource.total_nodes or 1))
    return None


def design_units(app: Application, component: str, cuts: Sequence[str]
                 ) -> list[list[tuple[str, str, CandidateDeployment]]]:
    """Per design choice of a component (base first), its units in chain order as
    ``(unit name, design folder, candidate entry)``: ``c, base`` or
    ``c_partition<cut>_<part>, partition<cut>_<part>``."""
    designs = []
    for design, entries in app.design_choices(component, cuts):
        cut = design.removeprefix("partition")
        designs.append([
            (component, BASE_DESIGN, entry) if entry.partition is None else
            (f"{component}_partition{cut}_{entry.partition.part}",
             f"partition{cut}_{entry.partition.part}", entry)
            for entry in entries])
    return designs


def _designs(app: Application, component: str, cuts: Sequence[str]
             ) -> list[list[tuple[Unit, ...]]]:
    """Per design choice of a component (base first), its units on every layer combination."""
    return [list(itertools.product(*(
        [u for layer in entry.layers
         if (u := _unit_on_layer(app, component, folder, name, entry, layer)) is not None]
        for name, folder, entry in units)))
        for units in design_units(app, component, cuts)]


def count_deployments(app: Application, cuts: Mapping[str, Sequence[str]]) -> int:
    """How many deployments ``enumerate_deployments`` yields, without enumerating them."""
    total = 1
    for component in app.dag.components:
        total *= sum(len(d) for d in _designs(app, component, tuple(cuts.get(component, ()))))
    return total


def enumerate_deployments(app: Application, cuts: Mapping[str, Sequence[str]]
                          ) -> Iterator[tuple[Unit, ...]]:
    """The seed's design space in its order (§1.8): every combination of design choices per
    component (all base first), and inside it every product of the candidate layers. The
    first one is the base deployment; the seed numbers the others ``deployment1..N``. Lazy:
    the space grows exponentially with the components."""
    order = app.dag.topological_order() or app.dag.components
    per_component = [_designs(app, c, tuple(cuts.get(c, ()))) for c in order]
    for choice in itertools.product(*per_component):
        for combination in itertools.product(*choice):
            yield tuple(unit for units in combination for unit in units)


def expand(app: Application, name: str, units: tuple[Unit, ...]) -> DeploymentView:
    """Rewrite the DAG and the QoS constraints over ``units``."""
    chains: dict[str, list[Unit]] = {}
    for unit in units:
        chains.setdefault(unit.component, []).append(unit)
    dependencies = []
    for chain in chains.values():
        for k, (a, b) in enumerate(zip(chain, chain[1:], strict=False), 1):
            dependencies.append((a.name, b.name, app.go_on_probability(a.component, k)))
    for dep in app.dag.dependencies:
        chain = chains[dep.source]
        for k, unit in enumerate(chain[:-1], 1):  # early exits bypass the rest of the chain
            exits = 1.0 - app.go_on_probability(dep.source, k)
            if exits > 0:
                dependencies.append((unit.name, chains[dep.target][0].name,
                                     round(exits * dep.probability, 12)))
        dependencies.append((chain[-1].name, chains[dep.target][0].name, dep.probability))

    def layer_of(unit_name: str) -> int:
        return next(u.layer for u in units if u.name == unit_name)

    def expanded(components) -> list[str]:
        return [u.name for c in components for u in chains[c]]

    constraints = []
    for component in app.dag.components:
        ann = app.annotations_of(component)
        et = ann.exec_time if ann else None
        if et is None:
            continue
        chain = [u.name for u in chains[component]]
        if et.local_time_thr is not None:
            if len(chain) == 1:
                constraints.append(QosConstraint("local", (chain[0],), et.local_time_thr,
                                                 layer_of(chain[0])))
            else:
                constraints.append(QosConstraint("global", tuple(chain), et.local_time_thr,
                                                 layer_of(chain[-1])))
        if et.global_time_thr is not None:
            path = expanded(et.prev_components) + chain
            constraints.append(QosConstraint("global", tuple(path), et.global_time_thr,
                                             layer_of(path[-1])))
    throughput = None
    for component in app.dag.components:
        ann = app.annotations_of(component)
        if ann is not None and ann.expected_rate is not None:
            throughput = chains[component][0].name
            break
    return DeploymentView(name, units, tuple(dependencies), tuple(constraints), throughput)


def has_qos(app: Application) -> bool:
    return any(a.exec_time is not None for a in app.annotations)
