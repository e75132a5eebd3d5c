"""The placement problem as frozen values: what SPACE4AI-D calls a *system*.

A ``System`` is the same whichever way it was written (the SPACE4AI-D system JSON, or an
application's AI-SPRINT YAML): components with their candidate deployments (chains of
partitions), resources grouped in computational layers, network domains, which partition may
run where and how fast, QoS constraints, the arrival rate Λ and the time horizon T.

A ``Placement`` is one answer: a deployment per component, a resource per partition of the
chosen deployments, and a replica count per edge/VM resource type in use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType


class Tier(StrEnum):
    """Where a resource lives; the order matters (no moving back from cloud to edge)."""

    EDGE = "edge"
    CLOUD = "cloud"
    FAAS = "faas"

    @property
    def is_cloud(self) -> bool:
        return self is not Tier.EDGE


@dataclass(frozen=True)
class Partition:
    """One step of a deployment's chain. ``next`` names the following partition, or (for the
    last one) the successor components; ``data_sizes`` are the bytes sent to each of them."""

    name: str
    early_exit: float = 0.0
    next: tuple[str, ...] = ()
    data_sizes: tuple[float, ...] = ()

    def data_to(self, target: str) -> float:
        try:
            return self.data_sizes[self.next.index(target)]
        except (ValueError, IndexError):
            return self.data_sizes[0] if self.data_sizes else 0.0


@dataclass(frozen=True)
class Deployment:
    name: str
    partitions: tuple[Partition, ...]

    @property
    def first(self) -> Partition:
        return self.partitions[0]

    @property
    def last(self) -> Partition:
        return self.partitions[-1]

    def weights(self) -> tuple[float, ...]:
        """Share of a component's requests that reach each partition (early exits leave)."""
        out, share = [], 1.0
        for part in self.partitions:
            out.append(share)
            share *= 1.0 - part.early_exit
        return tuple(out)


@dataclass(frozen=True)
class Component:
    name: str
    deployments: tuple[Deployment, ...]

    def deployment(self, name: str) -> Deployment:
        return next(d for d in self.deployments if d.name == name)


@dataclass(frozen=True)
class ResourceType:
    """An edge device or VM type (``number`` = most replicas), or a FaaS configuration: the
    resource type ``j`` of the model, as the solver sees it (``compiler.model.Resource`` is the
    one ``candidate_resources.yaml`` declares)."""

    name: str
    tier: Tier
    layer: str
    cost: float
    memory: float
    number: int = 1
    cores: float = 1.0
    idle_time: float = 600.0
    description: str = ""

    @property
    def is_faas(self) -> bool:
        return self.tier is Tier.FAAS


@dataclass(frozen=True)
class Layer:
    name: str
    tier: Tier
    resources: tuple[str, ...]
    transition_cost: float = 0.0


@dataclass(frozen=True)
class Domain:
    """A network domain as the solver sees it: the layers it joins (for an application, its
    sub-domains' too: ``compiler.model.NetworkDomain`` nests them); a transfer across it takes
    ``access_delay`` plus size over ``bandwidth`` (``System.network_delay``)."""

    name: str
    layers: frozenset[str]
    access_delay: float
    bandwidth: float


@dataclass(frozen=True)
class Option:
    """Partition ``(component, partition)`` may run on ``resource``: its memory and speed.

    ``demand`` is the service time on an edge/VM node (queueing model ``QTedge``/``QTcloud``);
    FaaS options carry ``demand_warm`` and ``demand_cold`` (model ``PACSLTK``)."""

    resource: str
    memory: float
    model: str
    demand: float = 0.0
    demand_warm: float = 0.0
    demand_cold: float = 0.0


@dataclass(frozen=True)
class PathConstraint:
    """A global QoS constraint: the response time along ``path`` stays within ``threshold``."""

    name: str
    path: tuple[str, ...]
    threshold: float


@dataclass(frozen=True)
class System:
    name: str
    components: tuple[Component, ...]
    edges: tuple[tuple[str, str, float], ...]  # (source, target, transition probability)
    resources: tuple[ResourceType, ...]
    layers: tuple[Layer, ...]
    domains: tuple[Domain, ...]
    options: Mapping[tuple[str, str], tuple[Option, ...]]  # (component, partition) -> options
    local_constraints: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    global_constraints: tuple[PathConstraint, ...] = ()
    arrival_rate: float = 1.0
    time: float = 1.0

    # -- lookups (cached: a System never changes)

    @cached_property
    def component_index(self) -> Mapping[str, Component]:
        return MappingProxyType({c.name: c for c in self.components})

    @cached_property
    def resource_index(self) -> Mapping[str, ResourceType]:
        return MappingProxyType({r.name: r for r in self.resources})

    @cached_property
    def layer_index(self) -> Mapping[str, Layer]:
        return MappingProxyType({lay.name: lay for lay in self.layers})

    def component(self, name: str) -> Component:
        return self.component_index[name]

    def resource(self, name: str) -> ResourceType:
        return self.resource_index[name]

    def successors(self, component: str) -> tuple[tuple[str, float], ...]:
        return tuple((t, p) for s, t, p in self.edges if s == component)

    def predecessors(self, component: str) -> tuple[tuple[str, float], ...]:
        return tuple((s, p) for s, t, p in self.edges if t == component)

    @cached_property
    def order(self) -> tuple[str, ...]:
        """Components in topological order (declaration order among ties)."""
        indegree = {c.name: 0 for c in self.components}
        for _, target, _ in self.edges:
            indegree[target] += 1
        ready = [c.name for c in self.components if indegree[c.name] == 0]
        out: list[str] = []
        while ready:
            node = ready.pop(0)
            out.append(node)
            for target, _ in self.successors(node):
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        if len(out) != len(self.components):
            raise ValueError("the application graph has a cycle")
        return tuple(out)

    @cached_property
    def sources(self) -> tuple[str, ...]:
        targets = {t for _, t, _ in self.edges}
        return tuple(c.name for c in self.components if c.name not in targets)

    @cached_property
    def component_rates(self) -> Mapping[str, float]:
        """λ_i: every source receives Λ; the rest what their predecessors pass on."""
        rates = {name: 0.0 for name in self.component_index}
        for source in self.sources:
            rates[source] = self.arrival_rate
        for name in self.order:
            for target, probability in self.successors(name):
                rates[target] += probability * rates[name]
        return MappingProxyType(rates)

    def partition_rates(self, component: str, deployment: Deployment) -> tuple[float, ...]:
        rate = self.component_rates[component]
        return tuple(rate * w for w in deployment.weights())

    def with_arrival_rate(self, arrival_rate: float) -> System:
        return replace(self, arrival_rate=arrival_rate)

    def options_for(self, component: str, partition: str) -> tuple[Option, ...]:
        return self.options.get((component, partition), ())

    @cached_property
    def constrained_components(self) -> frozenset[str]:
        names = set(self.local_constraints)
        for constraint in self.global_constraints:
            names.update(constraint.path)
        return frozenset(names)

    def network_delay(self, layer_a: str, layer_b: str, size: float, *, bits: bool = False
                      ) -> float | None:
        """Fastest transfer of ``size`` between two layers over a domain holding both."""
        best = None
        amount = size * 8 if bits else size
        for domain in self.domains:
            if layer_a in domain.layers and layer_b in domain.layers:
                delay = domain.access_delay + amount / domain.bandwidth
                if best is None or delay < best:
                    best = delay
        return best


@dataclass(frozen=True)
class Placement:
    """An answer: deployment per component, resource per partition, replicas per node type."""

    deployments: Mapping[str, str]
    resources: Mapping[tuple[str, str], str]  # (component, partition) -> resource
    replicas: Mapping[str, int]  # edge/VM resource -> replicas (FaaS: absent)

    def assignments(self, system: System) -> Iterator[tuple[str, Deployment, Partition, str]]:
        """(component, deployment, partition, resource) for every placed partition."""
        for component in system.components:
            deployment = component.deployment(self.deployments[component.name])
            for part in deployment.partitions:
                yield (component.name, deployment, part,
                       self.resources[(component.name, part.name)])

    def used_resources(self) -> frozenset[str]:
        return frozenset(self.resources.values())

    def key(self) -> tuple:
        """A hashable identity (for caches and tabu lists)."""
        return (tuple(sorted(self.deployments.items())),
                tuple(sorted(self.resources.items())),
                tuple(sorted(self.replicas.items())))
