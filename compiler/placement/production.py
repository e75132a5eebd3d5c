"""``production_deployment.yaml``: a placement in the AI-SPRINT seed's format, and back.

``System.Components.<key>`` has the component (or partition) ``name``, its
``executionLayer`` and the container that runs it with ``selectedExecutionResource``;
``System.NetworkDomains`` is candidate_resources.yaml pruned to the chosen layers and
resources, ``totalNodes`` set to the replicas; ``DeploymentName`` names the folder under
aisprint/deployments/; ``Feasible`` says whether the placement meets every constraint.
Partition keys follow SPACE4AI-D: ``component1_partition1_1`` for the candidate entry
``component1_partitionX_1``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from compiler.errors import AisprintError
from compiler.layout import OPTIMAL_DEPLOYMENT
from compiler.placement.from_application import ApplicationSystem
from compiler.placement.system import Placement

CONTAINER_FIELDS = ("image", "memorySize", "computingUnits", "trustedExecution",
                    "networkProtection", "fileSystemProtection", "GPURequirement")


def _container_dict(container) -> dict[str, Any]:
    image: Any = list(container.image) if len(container.image) > 1 else \
        (container.image[0] if container.image else "")
    return {"image": image, "memorySize": container.memory_size,
            "computingUnits": container.computing_units,
            "trustedExecution": container.trusted_execution,
            "networkProtection": container.network_protection,
            "fileSystemProtection": container.file_system_protection,
            "GPURequirement": container.gpu_requirement}


@dataclass(frozen=True)
class ProductionRow:
    """One placed component or partition, as production_deployment.yaml lists it."""

    key: str  # candidate_deployments key (partitions: component1_partition1_1)
    name: str  # component or partition name
    layer: int
    container_key: str
    container: object  # compiler.model.Container
    resource: str


def production_document(rows, *, candidate_resources: dict, replicas: dict[str, int],
                        feasible: bool, deployment_name: str = OPTIMAL_DEPLOYMENT) -> dict:
    components: dict[str, Any] = {}
    used_layers: dict[int, set[str]] = {}
    for row in rows:
        used_layers.setdefault(row.layer, set()).add(row.resource)
        components[row.key] = {
            "name": row.name,
            "executionLayer": row.layer,
            "Containers": {row.container_key: {**_container_dict(row.container),
                                               "selectedExecutionResource": row.resource}},
        }
    return {"System": {
        "name": candidate_resources.get("System", {}).get("name", ""),
        "NetworkDomains": _pruned_domains(candidate_resources, used_layers, dict(replicas)),
        "Components": components,
        "DeploymentName": deployment_name,
        "Feasible": feasible,
    }}


def partition_key(entry_key: str, unit_name: str) -> str:
    """``component1_partitionX_1`` -> ``component1_partition1_1`` (the cut of the unit)."""
    if "_partition" not in unit_name:
        return entry_key
    cut = unit_name.rsplit("_partition", 1)[1].split("_")[0]
    return re.sub(r"_partitionX_", f"_partition{cut}_", entry_key)


def _pruned_domains(candidate_resources: dict, used: dict[int, set[str]],
                    replicas: dict[str, int]) -> dict:
    out = {}
    for key, domain in candidate_resources["System"]["NetworkDomains"].items():
        layers = domain.get("ComputationalLayers")
        if not layers:
            out[key] = copy.deepcopy(domain)  # a link between domains: kept whole
            continue
        kept = {}
        for layer_key, layer in layers.items():
            if layer["number"] not in used:
                continue
            resources = {}
            for res_key, res in layer["Resources"].items():
                if res["name"] in used[layer["number"]]:
                    res = copy.deepcopy(res)
                    if res["name"] in replicas:
                        res["totalNodes"] = replicas[res["name"]]
                    resources[res_key] = res
            kept[layer_key] = {**copy.deepcopy({k: v for k, v in layer.items()
                                                if k != "Resources"}), "Resources": resources}
        if kept:
            out[key] = {**copy.deepcopy({k: v for k, v in domain.items()
                                         if k != "ComputationalLayers"}),
                        "ComputationalLayers": kept}
    return out


def placement_from_production(mapped: ApplicationSystem, data: dict) -> Placement:
    """Read a production_deployment.yaml back into a placement of ``mapped.system``."""
    system = mapped.system
    try:
        entries = data["System"]["Components"]
    except (KeyError, TypeError):
        raise AisprintError("not a production deployment: System.Components is missing") \
            from None
    unit_owner = {unit: comp for comp, unit in mapped.entries}
    deployments, resources = {}, {}
    for entry in entries.values():
        unit = entry["name"]
        if unit not in unit_owner:
            raise AisprintError(f"production deployment names {unit}, which is not a "
                                "component or partition of this application")
        component = unit_owner[unit]
        (container,) = entry["Containers"].values()
        resources[(component, unit)] = container["selectedExecutionResource"]
        deployment = next(d for d in system.component(component).deployments
                          if any(p.name == unit for p in d.partitions))
        deployments[component] = deployment.name
    replicas = {}
    domains = data["System"].get("NetworkDomains") or \
        data["System"].get("Resources", {}).get("NetworkDomains", {})
    for domain in domains.values():
        for layer in (domain.get("ComputationalLayers") or {}).values():
            for res in layer.get("Resources", {}).values():
                if res["name"] in system.resource_index and \
                        not system.resource(res["name"]).is_faas:
                    replicas[res["name"]] = int(res.get("totalNodes", 1))
    used = {r for r in resources.values() if not system.resource(r).is_faas}
    return Placement(deployments, resources, {r: replicas.get(r, 1) for r in used})
