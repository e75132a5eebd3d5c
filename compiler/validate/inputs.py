"""The optional inputs: physical_nodes.yaml and SPACE4AI-D.yaml agree with the resources, and
SPACE4AI-D.yaml's methods say what the solver runs."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load.application import LoadedApplication
from compiler.load.methods import method_diagnostics
from compiler.model import LayerType
from compiler.validate.registry import check, suggest


@check("infrastructure", "physical_nodes")
def physical_nodes_match(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    for node in app.physical_nodes:
        resource = infra.resource(node.resource)
        if resource is None or resource.layer != node.layer:
            where = f"layer {node.layer}" if resource is None else f"layer {resource.layer}"
            yield diagnostic(
                "AIS703", f"physical_nodes.yaml describes '{node.resource}' in layer "
                f"{node.layer}, but candidate_resources.yaml has no such resource there"
                + ("" if resource is None else f" (it is in {where})"),
                suggest(node.resource, [r.name for r in infra.resources()]), node.loc("name"))
            continue
        wns = node.data.get("wns")
        if wns is not None and resource.total_nodes is not None \
                and len(wns) != resource.total_nodes:
            yield diagnostic(
                "AIS705", f"'{node.resource}' lists {len(wns)} worker nodes but totalNodes is "
                f"{resource.total_nodes}", "list one entry in wns per node, or fix totalNodes",
                node.loc())


@check("infrastructure")
def physical_resources_have_nodes(app: LoadedApplication) -> Iterator[Diagnostic]:
    if app.physical_nodes is None and "physical_nodes" in app.documents:
        return  # the file exists but is broken: reported by its own checks
    described = {(n.layer, n.resource) for n in app.physical_nodes or ()}
    for layer in app.infrastructure.layers:
        if not layer.type.is_physical:
            continue
        for resource in layer.resources:
            if (layer.number, resource.name) not in described:
                needs = ("the MinIO endpoint and OSCAR cluster name"
                         if layer.type is LayerType.PHYSICAL_ALREADY_PROVISIONED
                         else "SSH access to the front-end and worker nodes")
                yield diagnostic(
                    "AIS704", f"'{resource.name}' is in a {layer.type.value} layer but "
                    "common_config/physical_nodes.yaml does not describe it",
                    f"add it to physical_nodes.yaml with {needs} (secrets as ${{VAR}})",
                    resource.loc("name"))


@check("infrastructure", "space4aid")
def space4aid_layers(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    by_key = {}
    for layer in infra.layers:
        by_key[layer.key] = layer
        by_key.setdefault(f"computationalLayer{layer.number}", layer)
    settings = app.space4aid
    seen: dict[str, str] = {}
    for field_name, kind in (("edge_layers", "EdgeResources"), ("cloud_layers", "CloudResources"),
                             ("faas_layers", "FaaSResources")):
        for i, key in enumerate(getattr(settings, field_name)):
            where = settings.loc(f"{field_name}.{i}")
            layer = by_key.get(key)
            if layer is None:
                yield diagnostic("AIS701", f"{kind} names {key}, which is not a layer of "
                                 "candidate_resources.yaml", suggest(key, by_key), where)
                continue
            if key in seen:
                yield diagnostic("AIS702", f"{key} is listed in both {seen[key]} and {kind}",
                                 "a layer is either edge, cloud or FaaS", where)
            seen[key] = kind
            if layer.type.is_faas != (kind == "FaaSResources"):
                yield diagnostic(
                    "AIS702", f"{key} is a {layer.type.value} layer but is listed in {kind}",
                    "NativeCloudFunction layers are FaaS; every other type is edge or cloud",
                    where)


@check("space4aid")
def space4aid_methods(app: LoadedApplication) -> Iterator[Diagnostic]:
    # the placement reads the same file through the same module: what validation reports is
    # what `compile` and `space4aid` run (no method accepted here and then ignored there)
    yield from method_diagnostics(app.space4aid)
