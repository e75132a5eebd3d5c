"""Candidate resources: layers, resources and network domains, and a network for every dependency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load.application import LoadedApplication
from compiler.validate.registry import check, suggest


@check("infrastructure")
def layers_and_resources(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    by_number: dict[int, list] = defaultdict(list)
    for layer in infra.layers:
        by_number[layer.number].append(layer)
        match = re.fullmatch(r"computationalLayer(\d+)", layer.key)
        if match and int(match.group(1)) != layer.number:
            yield diagnostic(
                "AIS405", f"{layer.key} has number {layer.number}",
                f"rename the key to computationalLayer{layer.number} or fix the number; tools "
                "that read the key and those that read the number would disagree",
                layer.loc("number"))
    for number, layers in by_number.items():
        if len(layers) > 1:
            yield diagnostic(
                "AIS404", f"{len(layers)} computational layers have number {number} "
                f"({', '.join(lay.domain + '/' + lay.key for lay in layers)})",
                "give every layer its own number", layers[1].loc("number"),
                [lay.loc("number") for lay in layers[:1]])
    first: dict[str, object] = {}
    for resource in infra.resources():
        if resource.name in first:
            yield diagnostic(
                "AIS410", f"resource name '{resource.name}' is used twice",
                "containers refer to resources by name: give each resource its own name",
                resource.loc("name"), [first[resource.name].loc("name")])
        else:
            first[resource.name] = resource
        if resource.is_faas:
            if resource.idle_time is None:
                yield diagnostic(
                    "AIS411", f"FaaS resource '{resource.name}' has no idleTime",
                    "add idleTime: seconds an idle instance stays warm (e.g. 600); the "
                    "serverless response-time model needs it", resource.loc())
        else:
            missing = [k for k, v in (("totalNodes", resource.total_nodes),
                                      ("processors", resource.processors)) if not v]
            if missing:
                yield diagnostic(
                    "AIS412", f"resource '{resource.name}' of a {resource.layer_type.value} "
                    f"layer has no {' and no '.join(missing)}",
                    "edge and VM resources need totalNodes (maximum nodes) and processors "
                    "(with computingUnits = cores)", resource.loc())


@check("infrastructure")
def network_domains(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    keys = {d.key for d in infra.domains}
    for dom in infra.domains:
        for i, sub in enumerate(dom.sub_domains):
            if sub not in keys:
                yield diagnostic(
                    "AIS401", f"network domain {dom.key} lists sub-domain '{sub}', which does "
                    "not exist", suggest(sub, keys), dom.loc(f"sub_domains.{i}"))
    for dom in infra.domains:
        if _reaches(infra, dom.key, dom.key):
            yield diagnostic(
                "AIS406", f"network domain {dom.key} contains itself through subNetworkDomains",
                "sub-domains form a tree: remove the back reference", dom.loc("sub_domains"))
    if len(infra.layers) < 2:
        return
    reach = {d.key: infra.domain_layers(d.key) for d in infra.domains}
    for layer in infra.layers:
        connected = any(layer.number in layers and len(layers) > 1 for layers in reach.values())
        if not connected:
            yield diagnostic(
                "AIS402", f"computational layer {layer.number} ({layer.key}) shares no network "
                "domain with any other layer, so no data can reach it",
                "add a network domain whose subNetworkDomains include its domain and another "
                "layer's domain (AccessDelay and Bandwidth of that link)", layer.loc("key"))


def _reaches(infra, start: str, target: str) -> bool:
    stack = list(getattr(infra.domain(start), "sub_domains", ()))
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        dom = infra.domain(current)
        if dom:
            stack.extend(dom.sub_domains)
    return False


@check("dag", "deployments", "infrastructure")
def dependencies_have_a_network(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    existing = {lay.number for lay in infra.layers}

    def layers_of(component: str) -> set[int]:
        return {n for d in app.deployments if d.component == component for n in d.layers} \
            & existing

    for dep in app.dag.dependencies:
        src, dst = layers_of(dep.source), layers_of(dep.target)
        if not src or not dst:
            continue
        if any(a == b or infra.shared_domains(a, b) for a in src for b in dst):
            continue
        yield diagnostic(
            "AIS403", f"{dep.source} (layers {sorted(src)}) and {dep.target} (layers "
            f"{sorted(dst)}) have no candidate layers that share a network domain",
            "add a network domain that connects one of each side's layers", dep.loc())
