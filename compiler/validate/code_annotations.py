"""Annotations: they match the DAG, QoS paths are paths of it, model files exist inside the
application, alternatives are defined."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load import files as boundary
from compiler.load.application import LoadedApplication
from compiler.validate.registry import check, known_components, suggest


@check("dag", "annotations")
def annotations_match_dag(app: LoadedApplication) -> Iterator[Diagnostic]:
    known = known_components(app.dag)
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
                "is not in the DAG", suggest(a.component, known)
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
