"""Model values from schema-valid ``common_config`` documents.

Each ``build_*`` function takes a ``YamlDocument`` that already passed its JSON Schema (so
types and required keys are known to be right) and returns frozen model values that keep the
document's positions. They never raise on schema-valid input.
"""

from __future__ import annotations

from typing import Any

from compiler.load.yamlpos import YamlDocument
from compiler.model import (
    AcceleratorUnit,
    CandidateDeployment,
    ComputationalLayer,
    Container,
    Dag,
    Dependency,
    Infrastructure,
    LayerType,
    Method,
    NetworkDomain,
    PhysicalNode,
    Processor,
    Resource,
    Space4aiDSettings,
    freeze,
)


def _locations(doc: YamlDocument, path: tuple, fields: dict[str, str]) -> dict:
    """Map model field names to positions of the YAML keys they come from."""
    out = {"": doc.loc(path)}
    for field_name, yaml_key in fields.items():
        out[field_name] = doc.loc(path + (yaml_key,))
        value = doc.get(path + (yaml_key,))
        if isinstance(value, list):
            for i in range(len(value)):
                out[f"{field_name}.{i}"] = doc.loc(path + (yaml_key, i))
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def build_dag(doc: YamlDocument) -> Dag:
    system = doc.data["System"]
    deps = []
    for i, (source, target, probability) in enumerate(system.get("dependencies") or []):
        base = ("System", "dependencies", i)
        deps.append(Dependency(source, target, float(probability), locations={
            "": doc.loc(base), "source": doc.loc(base + (0,)),
            "target": doc.loc(base + (1,)), "probability": doc.loc(base + (2,))}))
    alternatives = {k: tuple(v) for k, v in (system.get("alternative_components") or {}).items()}
    return Dag(system["name"], tuple(system["components"]), tuple(deps), freeze(alternatives),
               locations=_locations(doc, ("System",), {
                   "name": "name", "components": "components", "dependencies": "dependencies",
                   "alternative_components": "alternative_components"}))


_RESOURCE_FIELDS = {
    "name": "name", "memory_size": "memorySize", "cost": "cost", "description": "description",
    "total_nodes": "totalNodes", "storage_size": "storageSize", "storage_type": "storageType",
    "os_distribution": "operatingSystemDistribution", "os_type": "operatingSystemType",
    "os_version": "operatingSystemVersion", "image_id": "operatingSystemImageId",
    "flavor_name": "flavorName", "secure_boot": "secureBoot", "measured_boot": "measuredBoot",
    "on_spot": "onSpot", "processors": "processors", "accelerators": "accelerators",
    "architecture": "architecture", "region": "region", "idle_time": "idleTime",
    "transition_cost": "transitionCost",
}


def _resource(doc: YamlDocument, path: tuple, key: str, layer: int, kind: LayerType) -> Resource:
    r = doc.get(path)
    processors = tuple(
        Processor(pk, p["computingUnits"], _text(p.get("name")), _text(p.get("type")),
                  _text(p.get("architecture")), p.get("internalMemory"), bool(p.get("SGXFlag")),
                  locations=_locations(doc, path + ("processors", pk), {
                      "computing_units": "computingUnits", "architecture": "architecture",
                      "sgx": "SGXFlag"}))
        for pk, p in (r.get("processors") or {}).items())
    accelerators = tuple(
        AcceleratorUnit(f"{ak}.{uk}", _text(u.get("type")), u.get("computingUnits", 1),
                        _text(u.get("name")), _text(u.get("architecture")), u.get("memorySize"),
                        locations={"": doc.loc(path + ("accelerators", ak, "processors", uk))})
        for ak, a in (r.get("accelerators") or {}).items()
        for uk, u in (a.get("processors") or {}).items())
    return Resource(
        key=key, name=r["name"], layer=layer, layer_type=kind, memory_size=r["memorySize"],
        cost=r["cost"], description=_text(r.get("description")),
        total_nodes=r.get("totalNodes"), storage_size=r.get("storageSize"),
        storage_type=_text(r.get("storageType")),
        os_distribution=_text(r.get("operatingSystemDistribution")),
        os_type=_text(r.get("operatingSystemType")),
        os_version=_text(r.get("operatingSystemVersion")),
        image_id=_text(r.get("operatingSystemImageId")), flavor_name=_text(r.get("flavorName")),
        secure_boot=bool(r.get("secureBoot")), measured_boot=bool(r.get("measuredBoot")),
        on_spot=bool(r.get("onSpot")), processors=processors, accelerators=accelerators,
        architecture=_text(r.get("architecture")), region=_text(r.get("region")),
        idle_time=r.get("idleTime"), transition_cost=r.get("transitionCost"),
        locations=_locations(doc, path, _RESOURCE_FIELDS) | {"key": doc.loc(path, key=True)},
    )


def build_infrastructure(doc: YamlDocument) -> Infrastructure:
    system = doc.data["System"]
    domains, layers = [], []
    for dk, d in system["NetworkDomains"].items():
        dpath = ("System", "NetworkDomains", dk)
        numbers = []
        for lk, lay in (d.get("ComputationalLayers") or {}).items():
            lpath = dpath + ("ComputationalLayers", lk)
            kind = LayerType(lay["type"])
            resources = tuple(
                _resource(doc, lpath + ("Resources", rk), rk, lay["number"], kind)
                for rk in lay["Resources"])
            layers.append(ComputationalLayer(
                lk, lay["number"], kind, resources, _text(lay.get("name")), dk,
                locations=_locations(doc, lpath, {"number": "number", "type": "type",
                                                  "name": "name", "resources": "Resources"})
                | {"key": doc.loc(lpath, key=True)}))
            numbers.append(lay["number"])
        domains.append(NetworkDomain(
            dk, d["AccessDelay"], d["Bandwidth"], _text(d.get("name")),
            tuple(d.get("subNetworkDomains") or ()), tuple(numbers),
            locations=_locations(doc, dpath, {"sub_domains": "subNetworkDomains",
                                              "access_delay": "AccessDelay",
                                              "bandwidth": "Bandwidth"})
            | {"key": doc.loc(dpath, key=True)}))
    return Infrastructure(_text(system.get("name")), tuple(domains), tuple(layers),
                          locations={"": doc.loc(("System",))})


def build_deployments(doc: YamlDocument) -> tuple[CandidateDeployment, ...]:
    out = []
    for key, entry in doc.data["Components"].items():
        path = ("Components", key)
        containers = []
        for ck, c in entry["Containers"].items():
            cpath = path + ("Containers", ck)
            image = c.get("image")
            images = tuple(image) if isinstance(image, list) else ((image,) if image else ())
            containers.append(Container(
                ck, c["memorySize"], c["computingUnits"], tuple(c["candidateExecutionResources"]),
                images, bool(c.get("trustedExecution")), bool(c.get("networkProtection")),
                bool(c.get("fileSystemProtection")), bool(c.get("GPURequirement")),
                freeze(c["ExposeService"]) if c.get("ExposeService") is not None else None,
                locations=_locations(doc, cpath, {
                    "memory_size": "memorySize", "computing_units": "computingUnits",
                    "candidate_resources": "candidateExecutionResources", "image": "image",
                    "trusted_execution": "trustedExecution", "gpu_requirement": "GPURequirement"})
                | {"key": doc.loc(cpath, key=True)}))
        out.append(CandidateDeployment(
            key, entry["name"], tuple(entry["candidateExecutionLayers"]), tuple(containers),
            locations=_locations(doc, path, {"name": "name", "layers": "candidateExecutionLayers",
                                             "containers": "Containers"})
            | {"key": doc.loc(path, key=True)}))
    return tuple(out)


def build_physical_nodes(doc: YamlDocument) -> tuple[PhysicalNode, ...]:
    out = []
    for lk, lay in doc.data["ComputationalLayers"].items():
        for rk, res in lay["Resources"].items():
            path = ("ComputationalLayers", lk, "Resources", rk)
            data = {k: v for k, v in res.items() if k != "name"}
            out.append(PhysicalNode(lay["number"], res["name"], freeze(data),
                                    locations={"": doc.loc(path), "name": doc.loc(path + ("name",)),
                                               "layer": doc.loc(("ComputationalLayers", lk,
                                                                 "number"))}))
    return tuple(out)


def build_space4aid(doc: YamlDocument) -> Space4aiDSettings:
    data = doc.data
    methods = tuple(
        Method(mk, m["name"], freeze({k: v for k, v in m.items() if k != "name"}),
               locations={"": doc.loc(("Methods", mk))})
        for mk, m in (data.get("Methods") or {}).items())
    return Space4aiDSettings(
        tuple(data.get("EdgeResources") or ()), tuple(data.get("CloudResources") or ()),
        tuple(data.get("FaaSResources") or ()), methods, data.get("Seed"),
        data.get("VerboseLevel"), float(data.get("Time", 1)),
        locations=_locations(doc, (), {"edge_layers": "EdgeResources",
                                       "cloud_layers": "CloudResources",
                                       "faas_layers": "FaaSResources",
                                       "seed": "Seed", "verbose_level": "VerboseLevel"}))
