"""Cross-file checks: what JSON Schema cannot see.

Each check is a small function registered with ``@check(<parts it needs>)``; it runs only when
those parts of the application loaded cleanly, so a broken file does not hide every other
finding (nor crash a check). A check yields diagnostics and never raises.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.load import files as boundary
from compiler.load.application import LoadedApplication
from compiler.load.schema import INPUT_FILES
from compiler.load.yamlpos import YamlDocument
from compiler.model import Dag, LayerType, looks_like_partition
from compiler.secrets import (
    ALLOW_ENV,
    credential_field,
    credential_shape,
    describe_literal,
    find_credential,
    is_reference,
    literals_allowed,
    variable_name,
)

Check = Callable[[LoadedApplication], Iterable[Diagnostic]]
CHECKS: list[tuple[tuple[str, ...], Check]] = []


def check(*needs: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS.append((needs, fn))
        return fn

    return register


def run_checks(loaded: LoadedApplication) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for needs, fn in CHECKS:
        if all(getattr(loaded, part) is not None for part in needs):
            out.extend(fn(loaded))
    return out


def _suggest(name: str, known: Iterable[str]) -> str:
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "known: " + ", ".join(known) if known else ""


def _known_components(dag: Dag) -> set[str]:
    names = set(dag.components)
    for alternatives in dag.alternative_components.values():
        names.update(alternatives)
    return names


# ----------------------------------------------------------------------------- DAG


@check("dag")
def dag_edges(app: LoadedApplication) -> Iterator[Diagnostic]:
    dag = app.dag
    known = set(dag.components)
    seen: dict[tuple[str, str], object] = {}
    for dep in dag.dependencies:
        for role in ("source", "target"):
            name = getattr(dep, role)
            if name not in known:
                yield diagnostic(
                    "AIS203", f"dependency {role} '{name}' is not in System.components",
                    _suggest(name, known) or "add it to System.components",
                    dep.loc(role))
        pair = (dep.source, dep.target)
        if pair in seen:
            yield diagnostic("AIS207", f"dependency {dep.source} -> {dep.target} is listed twice",
                             "keep one entry (its probability is the transition probability)",
                             dep.loc(), [seen[pair].loc()])
        else:
            seen[pair] = dep
        if not 0 <= dep.probability <= 1:
            yield diagnostic(
                "AIS205", f"transition probability {dep.probability:g} of {dep.source} -> "
                f"{dep.target} is not within [0, 1]",
                "it is the probability that a request leaving the source goes on to the target",
                dep.loc("probability"))
    totals: dict[str, float] = defaultdict(float)
    first_edge = {}
    for dep in dag.dependencies:
        totals[dep.source] += dep.probability
        first_edge.setdefault(dep.source, dep)
    for source, total in totals.items():
        if total > 1 + 1e-9:
            parts = " + ".join(f"{d.probability:g} ({d.target})"
                               for d in dag.dependencies if d.source == source)
            yield diagnostic(
                "AIS206", f"transition probabilities leaving {source} add up to {total:g} > 1: "
                f"{parts}", "they are the shares of requests that go on to each successor; "
                "scale them so their sum is at most 1", first_edge[source].loc("probability"))
    if dag.dependencies:
        used = {d.source for d in dag.dependencies} | {d.target for d in dag.dependencies}
        for i, name in enumerate(dag.components):
            if name not in used:
                yield diagnostic(
                    "AIS204", f"component '{name}' appears in no dependency",
                    "connect it with a [source, target, probability] dependency, or remove "
                    "it from System.components", dag.loc(f"components.{i}"))
    for owner in dag.alternative_components:
        if owner not in known:
            yield diagnostic("AIS203", f"alternative_components names '{owner}', which is not "
                             "in System.components", _suggest(owner, known),
                             dag.loc("alternative_components"))


def _find_cycle(dag: Dag) -> list[str] | None:
    known = set(dag.components)
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for succ in dag.successors(node):
            if succ not in known:
                continue
            if colour.get(succ) == 1:
                return stack[stack.index(succ):] + [succ]
            if succ not in colour:
                found = visit(succ)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for component in dag.components:
        if component not in colour:
            found = visit(component)
            if found:
                return found
    return None


@check("dag")
def dag_shape(app: LoadedApplication) -> Iterator[Diagnostic]:
    dag = app.dag
    cycle = _find_cycle(dag)
    if cycle:
        closing = dag.edge(cycle[-2], cycle[-1])
        yield diagnostic(
            "AIS201", "the dependencies form a cycle: " + " -> ".join(cycle),
            "an application is a directed acyclic graph; remove or reverse one of these edges",
            closing.loc() if closing else dag.loc("dependencies"))
        return
    known = set(dag.components)
    if any(d.source not in known or d.target not in known for d in dag.dependencies):
        return  # a misspelt name (AIS203) would make a spurious second source
    has_incoming = {d.target for d in dag.dependencies}
    sources = [c for c in dag.components if c not in has_incoming]
    if len(sources) > 1:
        yield diagnostic(
            "AIS202", f"the DAG has {len(sources)} source components ({', '.join(sources)}); "
            "exactly one is required", "requests enter the application at one component: add "
            "a front component that feeds the others, or connect them",
            dag.loc("dependencies") or dag.loc("components"))


# ----------------------------------------------------------------------------- deployments


@check("dag", "deployments")
def deployment_components(app: LoadedApplication) -> Iterator[Diagnostic]:
    known = _known_components(app.dag)
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
                _suggest(dep.component, known) or "add the component to application_dag.yaml",
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
                        _suggest(name, all_names), where)
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


# ----------------------------------------------------------------------------- resources


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
                    "not exist", _suggest(sub, keys), dom.loc(f"sub_domains.{i}"))
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


# ----------------------------------------------------------------------------- annotations


@check("dag", "annotations")
def annotations_match_dag(app: LoadedApplication) -> Iterator[Diagnostic]:
    known = _known_components(app.dag)
    first: dict[str, object] = {}
    for a in app.annotations:
        if a.component in first:
            yield diagnostic(
                "AIS513", f"{a.folder} and {first[a.component].folder} both declare "
                f"component_name '{a.component}'", "each component has one source folder",
                a.loc("component_name.name"), [first[a.component].loc("component_name.name")])
        else:
            first[a.component] = a
        if a.component not in known:
            yield diagnostic(
                "AIS510", f"src/{a.folder}/main.py declares component '{a.component}', which "
                "is not in the DAG", _suggest(a.component, known)
                or "add it to System.components in application_dag.yaml",
                a.loc("component_name.name"))
    declared = set(first)
    # components whose sources exist but failed to parse are reported there, not again here
    for doc in app.source_documents.values():
        for values in doc.data.values():
            name = (values.get("component_name") or {}).get("name") \
                if isinstance(values, dict) else None
            if isinstance(name, str):
                declared.add(name)
    if not app.annotations and not app.source_documents:
        return
    for i, component in enumerate(app.dag.components):
        if component not in declared:
            yield diagnostic(
                "AIS511", f"component '{component}' has no annotated source",
                f"add src/<folder>/main.py with @component_name(name='{component}') on "
                "def main", app.dag.loc(f"components.{i}"))


@check("dag", "annotations")
def qos_paths(app: LoadedApplication) -> Iterator[Diagnostic]:
    dag = app.dag
    timed = {a.component for a in app.annotations if a.exec_time is not None}
    for a in app.annotations:
        et = a.exec_time
        if et is None:
            continue
        prev = list(et.prev_components)
        if et.global_time_thr is not None and not prev:
            yield diagnostic(
                "AIS520", f"{a.component}: global_time_thr is set but prev_components is empty",
                "list the components before this one on the constrained path, e.g. "
                "prev_components=['first', 'second'], or use local_time_thr",
                a.loc("exec_time.global_time_thr"))
        if a.component in prev:
            yield diagnostic(
                "AIS523", f"{a.component}: prev_components contains the component itself",
                "list only the components before it on the path",
                a.loc(f"exec_time.prev_components.{prev.index(a.component)}"))
            continue
        path = prev + [a.component]
        for i in range(len(path) - 1):
            if dag.edge(path[i], path[i + 1]) is None:
                yield diagnostic(
                    "AIS521", f"{a.component}: the constrained path "
                    f"{' -> '.join(path)} is not a path of the DAG ({path[i]} -> "
                    f"{path[i + 1]} is not a dependency)",
                    "prev_components must list consecutive components in DAG order, ending "
                    "with the one just before this component",
                    a.loc(f"exec_time.prev_components.{i}"))
                break
        for i, name in enumerate(prev):
            if name in dag.components and name not in timed:
                yield diagnostic(
                    "AIS522", f"{a.component}: '{name}' is on a constrained path but has no "
                    "exec_time annotation", f"add @exec_time() to main() of {name} (it may be "
                    "empty): its response time is measured for the path",
                    a.loc(f"exec_time.prev_components.{i}"))


@check("annotations")
def onnx_files_exist(app: LoadedApplication) -> Iterator[Diagnostic]:
    if not app.source_documents or app.source is None:
        return
    for a in app.annotations:
        for kind in ("partitionable_model", "early_exits_model"):
            onnx_file = (a.values.get(kind) or {}).get("onnx_file")
            if not isinstance(onnx_file, str) or not onnx_file:
                continue
            # among the files read: a path that leaves is AIS525, never looked at here
            rel = f"src/{a.folder}/onnx/{onnx_file}"
            _, leaves = boundary.locate(app.source, rel)
            if leaves is None and rel not in app.source.files:
                yield diagnostic(
                    "AIS524", f"{a.component}: {kind} names onnx/{onnx_file}, which is not in "
                    f"src/{a.folder}/", f"put the model at src/{a.folder}/onnx/{onnx_file} "
                    "before `aisprint design` partitions it", a.loc(f"{kind}.onnx_file"))


@check("annotations")
def annotation_paths_inside(app: LoadedApplication) -> Iterator[Diagnostic]:
    """A model path in an annotation names a file of the component: `aisprint design` reads
    src/<folder>/onnx/<onnx_file> and must never reach outside it."""
    for a in app.annotations:
        for kind in ("partitionable_model", "early_exits_model"):
            onnx_file = (a.values.get(kind) or {}).get("onnx_file")
            if not isinstance(onnx_file, str):
                continue
            if "\x00" in onnx_file:
                yield diagnostic(
                    "AIS525", f"{a.component}: {kind} onnx_file={onnx_file!r} holds a NUL "
                    "character, which no file name can", "name the model by its path under "
                    f"src/{a.folder}/onnx/, e.g. onnx_file='model.onnx'",
                    a.loc(f"{kind}.onnx_file"))
                continue
            parts = onnx_file.replace("\\", "/").split("/")
            if onnx_file.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", onnx_file) \
                    or ".." in parts:
                yield diagnostic(
                    "AIS525", f"{a.component}: {kind} onnx_file={onnx_file!r} leaves "
                    f"src/{a.folder}/onnx/", "name the model by its path under the "
                    f"component's onnx/ folder, e.g. onnx_file='model.onnx' for "
                    f"src/{a.folder}/onnx/model.onnx", a.loc(f"{kind}.onnx_file"))


@check("dag")
def components_have_sources(app: LoadedApplication) -> Iterator[Diagnostic]:
    """compile copies src/<folder>/ into each component's container: without any component
    folder every container would be built with no main.py. (When some folders exist, the
    components they lack are reported by annotations_match_dag.)"""
    if app.annotation_sources:
        return
    for i, component in enumerate(app.dag.components):
        yield diagnostic(
            "AIS511", f"component '{component}' has no source: the application has no "
            "component folders under src/, so its container would have no main.py",
            f"add src/{component}/main.py with @component_name(name='{component}') on "
            "def main", app.dag.loc(f"components.{i}"))


@check("dag", "deployments")
def alternatives_are_defined(app: LoadedApplication) -> Iterator[Diagnostic]:
    """An alternative of a component is deployed in its place: it needs its own candidate
    deployment (and, when the application has sources, its own annotated source)."""
    doc = app.documents.get("application_dag")
    deployed = {d.component for d in app.deployments if d.partition is None}
    sourced = {a.component for a in app.annotations or ()}
    for owner, alternatives in app.dag.alternative_components.items():
        for i, alternative in enumerate(alternatives):
            where = doc.loc(("System", "alternative_components", owner, i)) if doc \
                else app.dag.loc("alternative_components")
            if alternative in app.dag.components or alternative == owner:
                yield diagnostic(
                    "AIS312", f"'{alternative}' is listed as an alternative of '{owner}' but "
                    "is a component of the DAG itself", "an alternative replaces its "
                    "component; list it only under alternative_components", where)
            elif alternative not in deployed:
                close = difflib.get_close_matches(alternative, sorted(deployed), n=1)
                yield diagnostic(
                    "AIS312", f"alternative '{alternative}' of '{owner}' has no entry in "
                    "candidate_deployments.yaml", (f"did you mean '{close[0]}'? " if close
                                                    else "") + "an alternative is deployed "
                    "in its component's place: add its entry (name, candidateExecutionLayers, "
                    "Containers), or remove the alternative", where)
            elif app.source_documents and alternative not in sourced:
                yield diagnostic(
                    "AIS312", f"alternative '{alternative}' of '{owner}' has no annotated "
                    "source in src/", f"add src/<folder>/main.py with "
                    f"@component_name(name='{alternative}') on def main", where)


# ----------------------------------------------------------------------------- secrets
# A literal credential is an error (AIS602), a warning (AIS601) when the user opted in for a
# local test; the emitters write a ${VAR} reference either way (compiler/secrets.py names it:
# the hint below gives the same name). A value shaped like a credential anywhere else is
# copied verbatim into the artifacts, so it is an error whatever the opt-in (AIS603, AIS604).
# No message shows any part of the value.

_SOURCE_SCAN_LIMIT = 1 << 20  # bytes read per file under src/ (the start holds any key)


def _walk(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield path + (key,), key, value
            yield from _walk(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield path + (i,), None, value
            yield from _walk(value, path + (i,))


def _credential_name(doc: YamlDocument, path: tuple) -> str:
    """The variable the fix writes: the emitters' name for physical_nodes.yaml (resource name
    + the field's path under it), the value's path elsewhere."""
    if path[:1] == ("ComputationalLayers",) and len(path) > 4 and path[2] == "Resources":
        resource = doc.get(path[:4] + ("name",))
        if isinstance(resource, str) and resource:
            return variable_name(resource, *path[4:])
    return variable_name(*path[-3:])


def secrets_in(doc: YamlDocument, allow_literals: bool = False) -> Iterator[Diagnostic]:
    for path, key, value in _walk(doc.data):
        if not isinstance(value, str) or not value.strip() or is_reference(value):
            continue
        field = key if isinstance(key, str) else next(
            (p for p in reversed(path) if isinstance(p, str)), "")
        if isinstance(key, str) and credential_field(key):
            var = _credential_name(doc, path)
            what = describe_literal(key, value)
            if allow_literals:
                yield diagnostic(
                    "AIS601", f"{what} is written in '{key}' ({ALLOW_ENV} allows it here)",
                    f"artifacts that need it carry ${{{var}}}, never the value: export {var} "
                    f"where you deploy, and write ${{{var}}} here before you commit",
                    doc.loc(path))
            else:
                yield diagnostic(
                    "AIS602", f"{what} is written in '{key}': credentials are never committed",
                    f"write ${{{var}}} here and export {var} where deployments run "
                    "(deploy and reconcile fill it in); rotate it if it was ever pushed. "
                    f"For a local test only, {ALLOW_ENV}=1 makes this a warning",
                    doc.loc(path))
            continue
        shape = credential_shape(value)
        if shape:
            yield diagnostic(
                "AIS603", f"{shape} is written in '{field}', which is copied into the "
                "compiled artifacts",
                "remove it: credentials belong only in physical_nodes.yaml's key, password "
                "and token fields, as ${VAR} references (endpoints without user:password@); "
                "rotate it if it was ever pushed", doc.loc(path))


def secrets_in_comments(doc: YamlDocument, text: str) -> Iterator[Diagnostic]:
    """Credential shapes outside the values (comments): the DAG file is copied as written."""
    lines = text[:_SOURCE_SCAN_LIMIT].splitlines()
    values = [v for _, _, v in _walk(doc.data) if isinstance(v, str)]
    for number, line in enumerate(lines, 1):
        found = find_credential(line)
        if found and not any(found[1] in v for v in values):
            yield diagnostic(
                "AIS603", f"{found[0]} is written in a comment of this file",
                "remove it (comments are committed, and some files are copied as written); "
                "rotate it if it was ever pushed", Location(doc.file, number, 1))


@check("documents")
def no_secrets(app: LoadedApplication) -> Iterator[Diagnostic]:
    allow = literals_allowed()
    paths = {spec.schema: spec.path for spec in INPUT_FILES}
    for schema, doc in app.documents.items():
        yield from secrets_in(doc, allow)
        data = app.source.files.get(paths.get(schema, "")) if app.source else None
        if data is not None:
            yield from secrets_in_comments(doc, data.decode("utf-8", "replace"))


@check()
def no_secrets_in_sources(app: LoadedApplication) -> Iterator[Diagnostic]:
    """Every file under src/ is copied into the designs (and their images): no text file may
    hold a credential. The files are the ones read (links inside the application followed,
    the others refused by the input boundary)."""
    if app.source is None:
        return
    for rel, data in app.source.files.items():
        if not rel.startswith("src/"):
            continue
        raw = data[:_SOURCE_SCAN_LIMIT]
        if b"\0" in raw[:8192]:
            continue  # binary (ONNX models, images): keys are text files
        text = raw.decode("utf-8", "replace")
        shape = credential_shape(text)
        if shape is None:
            continue
        line = next((i for i, row in enumerate(text.splitlines(), 1)
                     if credential_shape(row)), 0)
        yield diagnostic(
            "AIS604", f"{shape} is written in {rel}, which is copied into every design and "
            "container image", "remove it and read the credential from an environment "
            "variable at run time (os.environ); rotate it if it was ever pushed",
            Location(boundary.display(app.source, rel), line, 1 if line else 0))


# ----------------------------------------------------------------------------- other inputs


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
                _suggest(node.resource, [r.name for r in infra.resources()]), node.loc("name"))
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
                                 "candidate_resources.yaml", _suggest(key, by_key), where)
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
