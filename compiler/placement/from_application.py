"""An application's AI-SPRINT inputs as a placement ``System`` (what the SPACE4AI parser did).

* components and transition probabilities from the DAG;
* per component the deployment ``base`` (one partition, named after the component) and, for
  each cut ``X`` of ``<name>_partitionX_1 … _N`` candidate entries, the deployment
  ``partitionX`` whose partitions are those entries;
* a partition may run on every resource its containers list (first container that names it),
  with that container's memory, if ``oscarp/performance_models.json`` has a model for it (a
  learnt one is evaluated at the resource's declared cores);
* layers: ``computationalLayerN``; edge or cloud as SPACE4AI-D.yaml says, else physical layers
  are edge and virtual ones cloud; NativeCloudFunction layers are FaaS;
* network domains hold their own layers and, through ``subNetworkDomains``, their children's;
* QoS from the exec_time annotations; Λ from ``expected_throughput`` of the source (or given).

``ApplicationSystem`` keeps the way back from placement names to candidate entries and
containers, for ``production_deployment.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.errors import InvalidInput
from compiler.load.learnt import LEARNT_MODELS, learnt_demand
from compiler.load.oscarp import PerformanceData
from compiler.model import Application, CandidateDeployment, LayerType
from compiler.placement.numbers import DEMAND
from compiler.placement.system import (
    Component,
    Deployment,
    Domain,
    Layer,
    Option,
    Partition,
    PathConstraint,
    ResourceType,
    System,
    Tier,
)

QUEUE_MODELS = ("QTedge", "QTcloud")
FAAS_MODELS = ("PACSLTK", "PACSLTKSTATIC", "MLLIBfaas")


@dataclass(frozen=True)
class ApplicationSystem:
    system: System
    entries: Mapping[tuple[str, str], CandidateDeployment]  # (component, partition) -> entry
    containers: Mapping[tuple[str, str, str], str]  # (component, partition, resource) -> key
    warnings: tuple[Diagnostic, ...] = ()
    # (component, partition) -> its design: base, or partition<cut>_<half> (aisprint design)
    designs: Mapping[tuple[str, str], str] = field(default_factory=dict)
    layers: Mapping[str, int] = field(default_factory=dict)  # resource -> layer number


def layer_name(number: int) -> str:
    return f"computationalLayer{number}"


def _tier(app: Application, number: int, kind: LayerType) -> Tier:
    if kind.is_faas:
        return Tier.FAAS
    settings = app.space4aid
    if settings is not None:
        if layer_name(number) in settings.edge_layers:
            return Tier.EDGE
        if layer_name(number) in settings.cloud_layers:
            return Tier.CLOUD
    return Tier.EDGE if kind.is_physical else Tier.CLOUD


def _unit_names(entry: CandidateDeployment, cut: str) -> list[str]:
    """Names a performance file may use for an entry: as written, and with X as the cut."""
    names = [entry.name]
    if entry.partition is not None:
        names.append(re.sub(r"_partitionX_", f"_partition{cut}_", entry.name))
    return names


def system_from_application(app: Application, performance: PerformanceData | None, *,
                            arrival_rate: float | None = None,
                            cuts: Callable[[str], Sequence[str]] | None = None
                            ) -> ApplicationSystem:
    """``cuts(component)`` lists the cuts whose code `aisprint design` has generated: the
    compiler offers only those partitioned deployments, and a ``_partitionX_`` entry of
    candidate_deployments.yaml stands for each of them. Default (``None``): every entry, with
    X read as cut 1."""
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    infra = app.infrastructure
    if performance is None:
        raise InvalidInput([diagnostic(
            "AIS802", "the application has no oscarp/performance_models.json, so it cannot be "
            "placed by cost", "write the demand of each component on each resource in "
            "oscarp/performance_models.json (schemas/performance_models.schema.json; OSCAR-P "
            "writes this file)", None)])

    resources, layers = [], []
    for lay in infra.layers:
        tier = _tier(app, lay.number, lay.type)
        names = []
        for r in lay.resources:
            names.append(r.name)
            resources.append(ResourceType(
                r.name, tier, layer_name(lay.number), r.cost, r.memory_size,
                number=r.total_nodes or 1, cores=r.cores,
                idle_time=r.idle_time if r.idle_time is not None else 600.0,
                description=r.description))
        transition = max((r.transition_cost or 0 for r in lay.resources), default=0.0)
        layers.append(Layer(layer_name(lay.number), tier, tuple(names), float(transition)))
    domains = tuple(Domain(d.key, frozenset(layer_name(n) for n in infra.domain_layers(
        d.key)), d.access_delay, d.bandwidth) for d in infra.domains)
    by_resource = {r.name: r for r in resources}

    sizes = performance.data_sizes
    entries: dict[tuple[str, str], CandidateDeployment] = {}
    designs: dict[tuple[str, str], str] = {}
    layer_numbers = {r.name: lay.number for lay in infra.layers for r in lay.resources}
    containers: dict[tuple[str, str, str], str] = {}
    options: dict[tuple[str, str], tuple[Option, ...]] = {}
    components = []
    for name in app.dag.topological_order() or app.dag.components:
        successors = app.dag.successors(name)
        deployments = []
        for dep_name, group in app.design_choices(
                name, None if cuts is None else tuple(cuts(name))):
            cut = dep_name.removeprefix("partition")
            parts = []
            for k, entry in enumerate(group):
                unit = entry.name if entry.partition is None else \
                    re.sub(r"_partitionX_", f"_partition{cut}_", entry.name)
                last = k == len(group) - 1
                following = successors if last else (
                    re.sub(r"_partitionX_", f"_partition{cut}_", group[k + 1].name),)
                size = next((sizes[n] for n in _unit_names(entry, cut) if n in sizes), 0.0)
                early_exit = 0.0 if last else 1.0 - app.go_on_probability(name, k + 1)
                parts.append(Partition(unit, early_exit, tuple(following),
                                       tuple(size for _ in following)))
                entries[(name, unit)] = entry
                designs[(name, unit)] = "base" if entry.partition is None else \
                    f"partition{cut}_{entry.partition.part}"
                found = []
                for container in entry.containers:
                    for res_name in container.candidate_resources:
                        res = by_resource.get(res_name)
                        if res is None or any(o.resource == res_name for o in found) or \
                                layer_numbers[res_name] not in entry.layers:
                            continue
                        model = next((performance.model(name, n, res_name)
                                      for n in _unit_names(entry, cut)
                                      if performance.model(name, n, res_name)), None)
                        option, why = _option(res, container.memory_size, model,
                                              performance.root)
                        if option is None:
                            code = "AIS801" if model is None else "AIS803"
                            warnings.append(diagnostic(
                                code, f"{unit} has no usable performance model on {res_name} "
                                f"({'none given' if model is None else model.get('model')}"
                                f"{': ' + why if why else ''}); it will not be placed there",
                                "add its demand (QTedge/QTcloud) or demandWarm/demandCold "
                                "(PACSLTK) to oscarp/performance_models.json, or learn it with "
                                "`aisprint profile APP_DIR`",
                                performance.document.loc((name,))))
                            continue
                        found.append(option)
                        containers[(name, unit, res_name)] = container.key
                options[(name, unit)] = tuple(found)
            deployments.append(Deployment(dep_name, tuple(parts)))
        usable = [d for d in deployments
                  if all(options.get((name, p.name)) for p in d.partitions)]
        if not usable:
            errors.append(diagnostic(
                "AIS802", f"{name} cannot be placed: no candidate resource of it has a usable "
                "performance model", f"add {name}'s demand on its candidate resources to "
                "oscarp/performance_models.json", app.dag.loc("components")))
        components.append(Component(name, tuple(deployments)))
    if errors:
        raise InvalidInput(errors + warnings)

    local = {c.component: float(c.threshold) for c in app.local_constraints()}
    global_ = tuple(PathConstraint(f"path{i}", c.path, float(c.threshold))
                    for i, c in enumerate(app.global_constraints(), 1))
    if arrival_rate is None:
        arrival_rate = app.expected_load() or 1.0
    time_horizon = app.space4aid.time if app.space4aid else 1.0
    system = System(
        name=app.name, components=tuple(components),
        edges=tuple((d.source, d.target, d.probability) for d in app.dag.dependencies),
        resources=tuple(resources), layers=tuple(layers), domains=domains,
        options=MappingProxyType(options), local_constraints=MappingProxyType(local),
        global_constraints=global_, arrival_rate=arrival_rate, time=time_horizon)
    return ApplicationSystem(system, MappingProxyType(entries), MappingProxyType(containers),
                             tuple(warnings), MappingProxyType(designs),
                             MappingProxyType(layer_numbers))


def _option(resource: ResourceType, memory: float, model: Mapping | None, root: str = ""
            ) -> tuple[Option | None, str]:
    """The option a model gives, or ``(None, why not)``. A learnt model (CoreBasedPredictor,
    written by `aisprint profile`) is evaluated at the resource's declared cores: its demand is
    the predicted service time of one request on one node (compiler/load/learnt.py)."""
    if model is None:
        return None, ""
    kind = model.get("model")
    if resource.is_faas:
        if kind in FAAS_MODELS and "demandWarm" in model and "demandCold" in model:
            return Option(resource.name, memory, "PACSLTK",
                          demand_warm=float(model["demandWarm"]),
                          demand_cold=float(model["demandCold"])), ""
        return None, ""
    if kind in QUEUE_MODELS and "demand" in model:
        return Option(resource.name, memory, kind, demand=float(model["demand"])), ""
    if kind in LEARNT_MODELS:
        demand, how = learnt_demand(model, resource.cores, root)
        if demand is None:
            return None, how
        if not DEMAND.holds(demand):  # a regressor extrapolating to inf or 1e30 s
            return None, f"it predicts {demand:g} s at {resource.cores:g} cores, outside {DEMAND}"
        queue = "QTedge" if resource.tier is Tier.EDGE else "QTcloud"
        return Option(resource.name, memory, queue, demand=demand), ""
    return None, ""
