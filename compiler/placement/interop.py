"""Solutions in the SPACE4AI-D output JSON (``Output.json`` / ``best_sol_<Λ>.json``).

``{Lambda, components: {c: {s: {h: {<layer>: {<resource>: {...}}, response_time}},
response_time, response_time_threshold}}, global_constraints: {p: {components,
global_res_time, path_response_time}}, total_cost, feasible}``. Edge/VM entries carry
``number`` (replicas) and ``cost`` = unit cost × replicas, as the original tools write them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from compiler.errors import AisprintError
from compiler.placement.performance import Evaluation
from compiler.placement.system import Placement, System, Tier


def placement_from_solution(system: System, data: dict[str, Any]) -> Placement:
    """Read a placement back from a solution JSON (the inverse of ``solution_json``)."""
    deployments: dict[str, str] = {}
    resources: dict[tuple[str, str], str] = {}
    replicas: dict[str, int] = {}
    for component, entry in (data.get("components") or {}).items():
        if component not in system.component_index:
            raise AisprintError(f"the solution places {component}, which is not in the system")
        names = [k for k in entry if k not in ("response_time", "response_time_threshold")]
        if len(names) != 1:
            raise AisprintError(f"the solution gives {component} {len(names)} deployments; "
                                "exactly one is expected")
        deployments[component] = names[0]
        for partition, placed in entry[names[0]].items():
            layers = {k: v for k, v in placed.items() if k != "response_time"}
            chosen = [(layer, res, spec) for layer, by_res in layers.items()
                      for res, spec in by_res.items()]
            if len(chosen) != 1:
                raise AisprintError(f"{component}/{partition} is placed on {len(chosen)} "
                                    "resources; exactly one is expected")
            _, res, spec = chosen[0]
            resources[(component, partition)] = res
            if res in system.resource_index and not system.resource(res).is_faas:
                # the Python tool may write different counts per partition and charges the
                # largest; one count per resource type is the model, so take the largest
                replicas[res] = max(replicas.get(res, 0), int(spec.get("number", 1)))
    return Placement(deployments, resources, replicas)


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else "inf"


def solution_json(system: System, placement: Placement, evaluation: Evaluation) -> dict:
    components: dict[str, Any] = {}
    for component in system.components:
        deployment = component.deployment(placement.deployments[component.name])
        parts: dict[str, Any] = {}
        for part in deployment.partitions:
            res = system.resource(placement.resources[(component.name, part.name)])
            if res.is_faas:
                spec = {"description": res.description or "No description", "cost": res.cost,
                        "memory": res.memory, "idle_time_before_kill": res.idle_time,
                        "transition_cost": system.layer_index[res.layer].transition_cost}
            else:
                n = placement.replicas[res.name]
                spec = {"description": res.description or "No description",
                        "cost": res.cost * n, "memory": res.memory, "number": n}
            parts[part.name] = {res.layer: {res.name: spec},
                                "response_time": _finite(
                                    evaluation.partition_times.get((component.name, part.name),
                                                                   math.inf))}
        components[component.name] = {
            deployment.name: parts,
            "response_time": _finite(evaluation.component_times.get(component.name, math.inf)),
            "response_time_threshold": _finite(system.local_constraints.get(component.name,
                                                                            math.inf)),
        }
    return {
        "Lambda": system.arrival_rate,
        "components": components,
        "global_constraints": {
            g.name: {"components": list(g.path), "global_res_time": g.threshold,
                     "path_response_time": _finite(evaluation.path_times.get(g.name, math.inf))}
            for g in system.global_constraints},
        "total_cost": evaluation.cost,
        "feasible": evaluation.feasible,
    }


def dumps_solution(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def system_json(system: System) -> dict:
    """A ``System`` in the SPACE4AI-D system JSON format (the inverse of ``load_system``)."""
    def resources_of(tier: Tier) -> dict:
        out: dict[str, Any] = {}
        for layer in system.layers:
            if layer.tier is not tier:
                continue
            entries: dict[str, Any] = {}
            for name in layer.resources:
                r = system.resource(name)
                if tier is Tier.FAAS:
                    entries[name] = {"cost": r.cost, "memory": r.memory,
                                     "idle_time_before_kill": r.idle_time}
                else:
                    entries[name] = {"number": r.number, "cost": r.cost, "memory": r.memory,
                                     "n_cores": r.cores}
                if r.description:
                    entries[name]["description"] = r.description
            if tier is Tier.FAAS:
                entries["transition_cost"] = layer.transition_cost
            out[layer.name] = entries
        return out

    compatibility: dict[str, Any] = {}
    performance: dict[str, Any] = {}
    for (component, partition), options in system.options.items():
        compatibility.setdefault(component, {})[partition] = [
            {"resource": o.resource, "memory": o.memory} for o in options]
        performance.setdefault(component, {})[partition] = {
            o.resource: ({"model": o.model, "demandWarm": o.demand_warm,
                          "demandCold": o.demand_cold}
                         if system.resource(o.resource).is_faas
                         else {"model": o.model, "demand": o.demand})
            for o in options}
    return {
        "DirectedAcyclicGraph": {
            c.name: {"next": [t for t, _ in system.successors(c.name)],
                     "transition_probability": [p for _, p in system.successors(c.name)]}
            for c in system.components},
        "Components": {
            c.name: {d.name: {p.name: {"next": list(p.next), "data_size": list(p.data_sizes),
                                       "early_exit_probability": p.early_exit}
                              for p in d.partitions} for d in c.deployments}
            for c in system.components},
        "EdgeResources": resources_of(Tier.EDGE),
        "CloudResources": resources_of(Tier.CLOUD),
        "FaaSResources": resources_of(Tier.FAAS),
        "CompatibilityMatrix": compatibility,
        "Performance": performance,
        "Lambda": system.arrival_rate,
        "LocalConstraints": {c: {"local_res_time": t} for c, t in system.local_constraints.items()},
        "GlobalConstraints": {g.name: {"components": list(g.path), "global_res_time": g.threshold}
                              for g in system.global_constraints},
        "NetworkTechnology": {d.name: {"computationalLayers": sorted(d.layers),
                                       "AccessDelay": d.access_delay, "Bandwidth": d.bandwidth}
                              for d in system.domains},
        "Time": system.time,
    }
