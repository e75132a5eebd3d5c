"""The application model: frozen values that every later stage reads.

Loaders (``compiler.load``) build these from the AI-SPRINT input files; nothing here does I/O.
Every value remembers where it was written: ``obj.loc("field")`` is the file, line and column
of that field (``"field.3"`` for the fourth item of a list field). Locations never take part in
equality, so a model loaded from sources equals one loaded from ``annotations.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from compiler.diagnostics import Location
from compiler.layout import BASE_DESIGN


@dataclass(frozen=True)
class Located:
    """Base of model values: field name -> where it was written."""

    locations: Mapping[str, Location] = field(
        default_factory=dict, compare=False, repr=False, kw_only=True
    )

    def loc(self, name: str = "") -> Location | None:
        """Where field ``name`` (``""`` = the object itself) was written, if known."""
        if name in self.locations:
            return self.locations[name]
        head = name.rsplit(".", 1)[0] if "." in name else ""
        return self.locations.get(head) or self.locations.get("")


def freeze(value: Any) -> Any:
    """Deep-freeze plain YAML data: dicts become read-only mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of ``freeze``: plain dicts and lists again (for YAML/JSON output)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


# ----------------------------------------------------------------------------- the DAG


@dataclass(frozen=True)
class Dependency(Located):
    source: str
    target: str
    probability: float


@dataclass(frozen=True)
class Dag(Located):
    name: str
    components: tuple[str, ...]
    dependencies: tuple[Dependency, ...] = ()
    alternative_components: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))

    def successors(self, component: str) -> tuple[str, ...]:
        return tuple(d.target for d in self.dependencies if d.source == component)

    def predecessors(self, component: str) -> tuple[str, ...]:
        return tuple(d.source for d in self.dependencies if d.target == component)

    def edge(self, source: str, target: str) -> Dependency | None:
        return next((d for d in self.dependencies
                     if d.source == source and d.target == target), None)

    def sources(self) -> tuple[str, ...]:
        targets = {d.target for d in self.dependencies}
        return tuple(c for c in self.components if c not in targets)

    def topological_order(self) -> tuple[str, ...] | None:
        """Components in dependency order (stable: ties keep declaration order); None if cyclic."""
        indegree = {c: 0 for c in self.components}
        for d in self.dependencies:
            if d.target in indegree and d.source in indegree:
                indegree[d.target] += 1
        ready = [c for c in self.components if indegree[c] == 0]
        order: list[str] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for succ in self.successors(node):
                if succ in indegree:
                    indegree[succ] -= 1
                    if indegree[succ] == 0:
                        ready.append(succ)
        return tuple(order) if len(order) == len(self.components) else None


# ----------------------------------------------------------------------------- resources


class LayerType(StrEnum):
    VIRTUAL = "Virtual"
    PHYSICAL_TO_BE_PROVISIONED = "PhysicalToBeProvisioned"
    PHYSICAL_ALREADY_PROVISIONED = "PhysicalAlreadyProvisioned"
    NATIVE_CLOUD_FUNCTION = "NativeCloudFunction"

    @property
    def is_faas(self) -> bool:
        return self is LayerType.NATIVE_CLOUD_FUNCTION

    @property
    def is_physical(self) -> bool:
        return self in (LayerType.PHYSICAL_TO_BE_PROVISIONED,
                        LayerType.PHYSICAL_ALREADY_PROVISIONED)


@dataclass(frozen=True)
class Processor(Located):
    key: str
    computing_units: float
    name: str = ""
    type: str = ""
    architecture: str = ""
    internal_memory: float | None = None
    sgx: bool = False


@dataclass(frozen=True)
class AcceleratorUnit(Located):
    key: str
    type: str
    computing_units: float = 1
    name: str = ""
    architecture: str = ""
    memory_size: float | None = None


@dataclass(frozen=True)
class Resource(Located):
    """A machine kind (edge device, VM flavour) or a FaaS configuration, in one layer."""

    key: str
    name: str
    layer: int
    layer_type: LayerType
    memory_size: float
    cost: float
    description: str = ""
    total_nodes: int | None = None
    storage_size: str | float | None = None
    storage_type: str = ""
    os_distribution: str = ""
    os_type: str = ""
    os_version: str = ""
    image_id: str = ""
    flavor_name: str = ""
    secure_boot: bool = False
    measured_boot: bool = False
    on_spot: bool = False
    processors: tuple[Processor, ...] = ()
    accelerators: tuple[AcceleratorUnit, ...] = ()
    architecture: str = ""  # FaaS configurations name it directly
    region: str = ""
    idle_time: float | None = None
    transition_cost: float | None = None

    @property
    def is_faas(self) -> bool:
        return self.layer_type.is_faas

    @property
    def cores(self) -> float:
        return sum(p.computing_units for p in self.processors) or 1

    @property
    def cpu_architecture(self) -> str:
        return self.architecture or next(
            (p.architecture for p in self.processors if p.architecture), "amd64")

    @property
    def has_sgx(self) -> bool:
        return any(p.sgx for p in self.processors)

    @property
    def gpus(self) -> int:
        return int(sum(a.computing_units for a in self.accelerators if a.type == "GPU"))


@dataclass(frozen=True)
class ComputationalLayer(Located):
    key: str
    number: int
    type: LayerType
    resources: tuple[Resource, ...]
    name: str = ""
    domain: str = ""  # key of the network domain it is written in


@dataclass(frozen=True)
class NetworkDomain(Located):
    key: str
    access_delay: float
    bandwidth: float
    name: str = ""
    sub_domains: tuple[str, ...] = ()
    layers: tuple[int, ...] = ()  # numbers of the layers written directly inside it


@dataclass(frozen=True)
class Infrastructure(Located):
    """``candidate_resources.yaml``: network domains, their layers and the layers' resources."""

    name: str
    domains: tuple[NetworkDomain, ...]
    layers: tuple[ComputationalLayer, ...]

    def layer(self, number: int) -> ComputationalLayer | None:
        return next((lay for lay in self.layers if lay.number == number), None)

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources() if r.name == name), None)

    def resources(self) -> Iterator[Resource]:
        for layer in self.layers:
            yield from layer.resources

    def domain(self, key: str) -> NetworkDomain | None:
        return next((d for d in self.domains if d.key == key), None)

    def domain_layers(self, key: str) -> frozenset[int]:
        """Layers reachable through a domain: its own plus, recursively, its sub-domains'."""
        seen: set[str] = set()
        stack, layers = [key], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            dom = self.domain(current)
            if dom is None:
                continue
            layers.update(dom.layers)
            stack.extend(dom.sub_domains)
        return frozenset(layers)

    def shared_domains(self, layer_a: int, layer_b: int) -> tuple[NetworkDomain, ...]:
        """Domains through which data can travel between two layers."""
        return tuple(d for d in self.domains
                     if {layer_a, layer_b} <= self.domain_layers(d.key))


# ----------------------------------------------------------------------------- deployments

_PARTITION = re.compile(r"^(?P<base>.+?)_partition(?P<cut>X|\d+)_(?P<part>\d+)$")


@dataclass(frozen=True)
class PartitionName:
    """``<base>_partition<cut>_<part>``; the candidate file writes the cut as a literal X."""

    base: str
    cut: str
    part: int


def parse_partition_name(name: str) -> PartitionName | None:
    match = _PARTITION.match(name)
    if not match:
        return None
    return PartitionName(match["base"], match["cut"], int(match["part"]))


def looks_like_partition(name: str) -> bool:
    return "_partition" in name


@dataclass(frozen=True)
class Container(Located):
    key: str
    memory_size: float
    computing_units: float
    candidate_resources: tuple[str, ...]
    image: tuple[str, ...] = ()
    trusted_execution: bool = False
    network_protection: bool = False
    file_system_protection: bool = False
    gpu_requirement: bool = False
    expose_service: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CandidateDeployment(Located):
    """One entry of ``candidate_deployments.yaml``: a component, or one partition of it."""

    key: str
    name: str
    layers: tuple[int, ...]
    containers: tuple[Container, ...]

    @property
    def partition(self) -> PartitionName | None:
        return parse_partition_name(self.name)

    @property
    def component(self) -> str:
        part = self.partition
        return part.base if part else self.name


# ----------------------------------------------------------------------------- annotations

ANNOTATION_NAMES = (
    "component_name", "exec_time", "expected_throughput", "partitionable_model",
    "device_constraints", "early_exits_model", "model_performance", "detect_metric_drift",
    "security", "annotation",
)


@dataclass(frozen=True)
class ExecTime:
    local_time_thr: float | None = None
    global_time_thr: float | None = None
    prev_components: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentAnnotations(Located):
    """The annotations of one component, as ``{annotation: {argument: value}}``.

    ``source`` is the key the original tool uses in annotations.yaml: the path of main.py
    joined from the application directory as given (e.g. ``app/src/mask-detector/main.py``).
    ``folder`` is the name of the folder under src/. Locations are keyed
    ``"<annotation>"`` and ``"<annotation>.<argument>"``.
    """

    source: str
    folder: str
    values: Mapping[str, Mapping[str, Any]]

    @property
    def component(self) -> str:
        return str(self.values.get("component_name", {}).get("name", ""))

    @property
    def exec_time(self) -> ExecTime | None:
        raw = self.values.get("exec_time")
        if raw is None:
            return None
        return ExecTime(raw.get("local_time_thr"), raw.get("global_time_thr"),
                        tuple(raw.get("prev_components", ())))

    @property
    def onnx_file(self) -> str | None:
        part = self.values.get("partitionable_model")
        return part.get("onnx_file") if part else None

    @property
    def num_partitions(self) -> int:
        part = self.values.get("partitionable_model") or {}
        return int(part.get("num_partitions", 1))

    @property
    def transition_probabilities(self) -> tuple[float, ...]:
        """``early_exits_model``: the probability of going on after each partition but the
        last (the rest exits early and skips to the next component)."""
        raw = (self.values.get("early_exits_model") or {}).get("transition_probabilities")
        return tuple(float(p) for p in raw) if isinstance(raw, (list, tuple)) else ()

    @property
    def expected_rate(self) -> float | None:
        raw = self.values.get("expected_throughput")
        return raw.get("rate") if raw else None

    @property
    def security(self) -> Mapping[str, bool]:
        return self.values.get("security", MappingProxyType({}))


@dataclass(frozen=True)
class LocalConstraint(Located):
    component: str
    threshold: float


@dataclass(frozen=True)
class GlobalConstraint(Located):
    path: tuple[str, ...]
    threshold: float


# ----------------------------------------------------------------------------- other inputs


@dataclass(frozen=True)
class PhysicalNode(Located):
    """Connection data (physical_nodes.yaml) for a resource IM does not create."""

    layer: int
    resource: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Method(Located):
    key: str
    name: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class Space4aiDSettings(Located):
    edge_layers: tuple[str, ...] = ()
    cloud_layers: tuple[str, ...] = ()
    faas_layers: tuple[str, ...] = ()
    methods: tuple[Method, ...] = ()
    seed: int | None = None
    verbose_level: int | None = None
    time: float = 1.0


@dataclass(frozen=True)
class Application(Located):
    """Everything a user commits about one application, loaded and cross-linked."""

    root: str
    dag: Dag
    infrastructure: Infrastructure
    deployments: tuple[CandidateDeployment, ...]
    annotations: tuple[ComponentAnnotations, ...] = ()
    physical_nodes: tuple[PhysicalNode, ...] = ()
    space4aid: Space4aiDSettings | None = None

    @property
    def name(self) -> str:
        return self.dag.name

    def annotations_of(self, component: str) -> ComponentAnnotations | None:
        return next((a for a in self.annotations if a.component == component), None)

    def deployments_of(self, component: str) -> tuple[CandidateDeployment, ...]:
        """The candidate entry of a component and those of its partitions."""
        return tuple(d for d in self.deployments if d.component == component)

    def expected_load(self) -> float | None:
        """Requests per second the application is designed for: the ``expected_throughput``
        of its first source that has one (None when no source says)."""
        rates = [a.expected_rate for a in (self.annotations_of(s) for s in self.dag.sources())
                 if a is not None and a.expected_rate]
        return float(rates[0]) if rates else None

    def go_on_probability(self, component: str, part: int) -> float:
        """Probability that a request leaving partition ``part`` (1-based) of a component goes
        on to its next partition rather than exiting early (1 without early exits)."""
        ann = self.annotations_of(component)
        probabilities = ann.transition_probabilities if ann else ()
        return probabilities[part - 1] if part <= len(probabilities) else 1.0

    def design_choices(self, component: str, cuts: Sequence[str] | None = None
                       ) -> tuple[tuple[str, tuple[CandidateDeployment, ...]], ...]:
        """``(design, entries in chain order)`` per way of deploying a component: ``base``
        first, then ``partition<cut>`` in cut order. ``cuts`` are the cuts whose code exists
        (a ``_partitionX_`` entry stands for each of them); ``None`` reads X as cut 1 and
        keeps every numbered cut."""
        by_cut: dict[str, list[CandidateDeployment]] = {}
        for entry in self.deployments_of(component):
            by_cut.setdefault(entry.partition.cut if entry.partition else "", []).append(entry)
        chosen: dict[str, list[CandidateDeployment]] = {}
        for cut, group in by_cut.items():
            if cut == "":
                chosen[BASE_DESIGN] = group
            elif cut == "X":
                for real in ("1",) if cuts is None else cuts:
                    chosen.setdefault(f"partition{real}", group)
            elif cuts is None or cut in cuts:
                chosen[f"partition{cut}"] = group
        return tuple(
            (design, tuple(sorted(group, key=lambda e: e.partition.part if e.partition else 0)))
            for design, group in sorted(chosen.items(),
                                        key=lambda kv: (kv[0] != BASE_DESIGN, len(kv[0]), kv[0])))

    def _exec_times(self) -> Iterator[tuple[str, ComponentAnnotations, ExecTime]]:
        for component in self.dag.components:
            ann = self.annotations_of(component)
            if ann is not None and ann.exec_time is not None:
                yield component, ann, ann.exec_time

    def local_constraints(self) -> tuple[LocalConstraint, ...]:
        """``local_time_thr``: the response time of one component, in seconds."""
        return tuple(
            LocalConstraint(component, et.local_time_thr,
                            locations={"": ann.loc("exec_time.local_time_thr")})
            for component, ann, et in self._exec_times() if et.local_time_thr is not None)

    def global_constraints(self) -> tuple[GlobalConstraint, ...]:
        """``global_time_thr``: the response time of the path prev_components -> component."""
        return tuple(
            GlobalConstraint((*et.prev_components, component), et.global_time_thr,
                             locations={"": ann.loc("exec_time.global_time_thr")})
            for component, ann, et in self._exec_times() if et.global_time_thr is not None)
