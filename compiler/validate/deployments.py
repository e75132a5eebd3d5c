"""Candidate deployments: every component deployable, partition chains whole, containers that fit
their resources."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load.application import LoadedApplication
from compiler.model import looks_like_partition
from compiler.validate.registry import check, known_components, suggest


@check("dag", "deployments")
def deployment_components(app: LoadedApplication) -> Iterator[Diagnostic]:
    known = known_components(app.dag)
    names = Counter(d.name for d in app.deployments)
    reported = set()
    for dep in app.deployments:
        if names[dep.name] > 1 and dep.name not in reported:
            reported.add(dep.name)
            others = [d.loc("name") for d in app.deployments if d.name == dep.name][1:]
            yield diagnostic("AIS309", f"two candidate deployment entries are named '{dep.name}'",
                             "merge their containers into one entry", dep.loc("name"), others)
        if looks_like_partition(dep.name) and dep.partition is None:
            yield diagnostic(
                "AIS307", f"'{dep.name}' looks like a partition but does not follow "
                "<component>_partitionX_Y", "write e.g. blurry-faces-onnx_partitionX_1 and "
                "blurry-faces-onnx_partitionX_2 (X is the cut, Y the part, from 1)",
                dep.loc("name"))
            continue
        if dep.component not in known:
            yield diagnostic(
                "AIS301", f"candidate deployment '{dep.name}' is for component "
                f"'{dep.component}', which is not in the DAG",
                suggest(dep.component, known) or "add the component to application_dag.yaml",
                dep.loc("name"))
    bases = {d.name for d in app.deployments if d.partition is None}
    for i, component in enumerate(app.dag.components):
        if component not in bases:
            yield diagnostic(
                "AIS302", f"component '{component}' has no entry in candidate_deployments.yaml",
                "add an entry with name, candidateExecutionLayers and Containers for it",
                app.dag.loc(f"components.{i}"))


@check("deployments")
def partition_chains(app: LoadedApplication) -> Iterator[Diagnostic]:
    chains: dict[tuple[str, str], list] = defaultdict(list)
    for dep in app.deployments:
        part = dep.partition
        if part:
            chains[(part.base, part.cut)].append((part.part, dep))
    for (base, cut), members in chains.items():
        parts = sorted(p for p, _ in members)
        expected = list(range(1, max(parts) + 1))
        if parts != expected or len(parts) < 2:
            missing = sorted(set(range(1, max(max(parts), 2) + 1)) - set(parts))
            extra = [p for p, n in Counter(parts).items() if n > 1]
            what = []
            if missing:
                what.append("missing " + ", ".join(f"{base}_partition{cut}_{m}" for m in missing))
            if extra:
                what.append("repeated part " + ", ".join(map(str, extra)))
            first = min(members, key=lambda m: m[0])[1]
            yield diagnostic(
                "AIS308", f"the partitions of {base} (cut {cut}) are not a complete chain: "
                + "; ".join(what), "a cut splits a model into parts _1 … _N (N >= 2); "
                "every part needs its own entry", first.loc("name"))


@check("deployments", "infrastructure")
def containers_fit_resources(app: LoadedApplication) -> Iterator[Diagnostic]:
    infra = app.infrastructure
    layer_numbers = {lay.number for lay in infra.layers}
    all_names = [r.name for r in infra.resources()]
    for dep in app.deployments:
        for i, number in enumerate(dep.layers):
            if number not in layer_numbers:
                yield diagnostic(
                    "AIS305", f"'{dep.name}' lists computational layer {number}, which "
                    "candidate_resources.yaml does not define",
                    "defined layers: " + ", ".join(map(str, sorted(layer_numbers))),
                    dep.loc(f"layers.{i}"))
        for container in dep.containers:
            fitting = []
            known_resources = []
            for j, name in enumerate(container.candidate_resources):
                where = container.loc(f"candidate_resources.{j}")
                resource = infra.resource(name)
                if resource is None:
                    yield diagnostic(
                        "AIS303", f"container {container.key} of '{dep.name}' names resource "
                        f"'{name}', which candidate_resources.yaml does not define",
                        suggest(name, all_names), where)
                    continue
                known_resources.append(resource)
                if resource.layer not in dep.layers:
                    yield diagnostic(
                        "AIS304", f"resource '{name}' is in layer {resource.layer}, which is not "
                        f"among the candidateExecutionLayers {list(dep.layers)} of '{dep.name}'",
                        f"add {resource.layer} to candidateExecutionLayers or pick a resource "
                        "of those layers", where)
                if container.memory_size <= resource.memory_size:
                    fitting.append(resource)
                lacks = [what for what, needed, has in (
                    ("SGX (trustedExecution)", container.trusted_execution, resource.has_sgx),
                    ("a GPU (GPURequirement)", container.gpu_requirement, resource.gpus > 0))
                    if needed and not has and not resource.is_faas]
                if lacks:
                    yield diagnostic(
                        "AIS311", f"container {container.key} of '{dep.name}' needs "
                        f"{' and '.join(lacks)}, which resource '{name}' does not have",
                        "remove the resource from candidateExecutionResources, or describe "
                        "its SGXFlag / accelerators in candidate_resources.yaml", where)
                arch = _image_architecture(container.image)
                if arch and resource.cpu_architecture != arch:
                    yield diagnostic(
                        "AIS310", f"container {container.key} of '{dep.name}' has an {arch} "
                        f"image but resource '{name}' is {resource.cpu_architecture}",
                        "build an image for the resource's architecture, or drop the resource",
                        where)
            if known_resources and not fitting:
                sizes = ", ".join(f"{r.name} {r.memory_size:g} MB" for r in known_resources)
                yield diagnostic(
                    "AIS306", f"container {container.key} of '{dep.name}' needs "
                    f"{container.memory_size:g} MB, more than any candidate resource has "
                    f"({sizes})", "lower memorySize or add a resource with more memory",
                    container.loc("memory_size"))


def _image_architecture(images: tuple[str, ...]) -> str:
    if len(images) != 1:
        return ""
    match = re.search(r"_(amd64|arm64)(?::|$)", images[0])
    return match.group(1) if match else ""
