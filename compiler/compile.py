"""``aisprint compile``: from an application folder to every deployment artifact.

One direction: load → validate → design tree → placement → deployment views → emitters →
manifest. ``build`` is the core: given what was read, it returns the artifacts as
``{relative path: bytes}`` with no clock, randomness or network, so compiling twice gives the
same bytes. ``compiler.gitops.folder.write_tree`` is the edge that puts them on disk.

The placement is the cheapest feasible one when the application carries performance models
(``oscarp/performance_models.json``); otherwise the seed's base rule (first candidate layer,
first container, first resource).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from compiler import __version__
from compiler.design.component_partitions import boundary_sizes
from compiler.design.deployments import (
    DeploymentView,
    Unit,
    base_units,
    count_deployments,
    enumerate_deployments,
    expand,
)
from compiler.diagnostics import Diagnostic, Severity, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import MANIFEST
from compiler.load import files as boundary
from compiler.load.application import PARTITION_FILE, scan_inputs
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import ApplicationSystem, system_from_application
from compiler.placement.interop import dumps_solution, solution_json, system_json
from compiler.placement.maxload import max_load
from compiler.placement.performance import DEFAULT
from compiler.placement.production import production_document
from compiler.placement.result import SolveResult
from compiler.placement.solve import PlacementOutcome, solve
from compiler.validate import validate_application
from compiler.write import write_atomically
from targets import EMITTERS, EmitContext, dump_yaml
from targets.deployment_tree import production_rows, replicas_of

MANIFEST_SCHEMA = "https://aisprint-gitops.github.io/schemas/manifest/v1.json"
DEFAULT_MAX_DEPLOYMENTS = 64


@dataclass(frozen=True)
class CompileResult:
    artifacts: Mapping[str, bytes]
    placement: str  # how the optimal deployment was chosen
    cost: float | None
    timings: tuple[tuple[str, float], ...]
    warnings: tuple[Diagnostic, ...] = field(default=())


class _Clock:
    def __init__(self):
        self.stages: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.append((stage, now - self._last))
        self._last = now


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_inputs(app_dir: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every input file of the application, by relative POSIX path (sorted), read through the
    input boundary (``compiler.load.files``: regular files inside the application, capped).

    Raises ``InvalidInput`` for what the boundary refuses; ``aisprint validate`` reports the
    same (``scan_inputs`` is its list too), so a validated application reads cleanly."""
    listed, problems = scan_inputs(app_dir)
    found: dict[str, bytes] = {}
    for rel in listed:
        data, problem = boundary.read_bytes(app_dir, rel)
        if data is None:
            problems.append(problem)
        else:
            found[rel] = data
    if problems:
        raise InvalidInput(problems)
    return found


def designed_cuts(inputs: Mapping[str, bytes]) -> dict[str, tuple[str, ...]]:
    """The cuts whose two halves `aisprint design` generated, per component (in cut order)."""
    parts: dict[tuple[str, str], set[int]] = {}
    for rel in inputs:
        match = PARTITION_FILE.match(rel)
        if match and match["rel"] == "main.py":
            parts.setdefault((match["component"], match["cut"]), set()).add(int(match["part"]))
    cuts: dict[str, list[str]] = {}
    for (component, cut), found in sorted(parts.items(), key=lambda kv: (kv[0][0],
                                                                         int(kv[0][1]))):
        if found >= {1, 2}:
            cuts.setdefault(component, []).append(cut)
    return {component: tuple(found) for component, found in cuts.items()}


def oscar_script(unit: str) -> bytes:
    """What OSCAR runs for every file arriving in a service's input bucket."""
    return (
        "#!/bin/sh\n"
        "# OSCAR runs this script for each file that arrives in the service's input bucket:\n"
        "# the component's main.py reads it and writes its results where OSCAR uploads them.\n"
        "set -e\n"
        f"cd /opt/{unit}\n"
        'exec python main.py "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR"\n').encode()


def _design_tree(app, inputs: Mapping[str, bytes], cuts: Mapping[str, tuple[str, ...]]
                 ) -> dict[str, bytes]:
    """``aisprint/designs/``: every component's code as ``base``, the partitions `aisprint
    design` generated beside it, a ``script.sh`` per design and component_partitions.yaml."""
    files: dict[str, bytes] = {}
    partitions: dict[str, dict] = {}
    for component in app.dag.components:
        ann = app.annotations_of(component)
        folder = ann.folder if ann else component
        prefix = f"src/{folder}/"
        for rel, data in inputs.items():
            if rel.startswith(prefix):
                files[f"aisprint/designs/{component}/base/{rel[len(prefix):]}"] = data
        files[f"aisprint/designs/{component}/base/script.sh"] = oscar_script(component)
        designs = ["base"]
        for cut in cuts.get(component, ()):
            for part in (1, 2):
                design = f"partition{cut}_{part}"
                designs.append(design)
                prefix = f"aisprint/designs/{component}/{design}/"
                files.update((rel, data) for rel, data in inputs.items()
                             if rel.startswith(prefix))
                files[prefix + "script.sh"] = oscar_script(f"{component}_{design}")
        partitions[component] = {"partitions": designs}
    files["aisprint/designs/component_partitions.yaml"] = yaml.safe_dump(
        {"components": partitions}, sort_keys=False).encode()
    return files


def units_from_placement(app, mapped, placement) -> tuple[Unit, ...]:
    """The units (component or partition, resource, container) a placement puts where."""
    system = mapped.system
    units = []
    for component in system.components:
        deployment = component.deployment(placement.deployments[component.name])
        for part in deployment.partitions:
            entry = mapped.entries[(component.name, part.name)]
            resource = placement.resources[(component.name, part.name)]
            container_key = mapped.containers[(component.name, part.name, resource)]
            design = "base" if entry.partition is None else \
                "partition" + part.name.split("_partition")[-1]  # e.g. partition1_1
            units.append(Unit(part.name, component.name, design, entry,
                              next(c for c in entry.containers if c.key == container_key),
                              resource,
                              int(system.resource(resource).layer.removeprefix(
                                  "computationalLayer")),
                              placement.replicas.get(resource)))
    return tuple(units)


def build(app_dir: str | os.PathLike[str], *, mode: str = "fast",
          time_limit: float | None = None, targets: tuple[str, ...] | None = None,
          max_deployments: int | None = DEFAULT_MAX_DEPLOYMENTS) -> CompileResult:
    """Compile an application folder into artifacts (nothing is written).

    ``max_deployments`` bounds the ``deploymentN`` folders of the design space (which grows
    exponentially with the components); ``None`` writes them all."""
    clock = _Clock()
    root = Path(app_dir)
    report = validate_application(app_dir)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    app = report.application
    inputs = read_inputs(root)
    warnings = list(report.warnings)
    clock.lap("load + validate")

    cuts = designed_cuts(inputs)
    artifacts = _design_tree(app, inputs, cuts)
    space = count_deployments(app, cuts) - 1  # the first one is base
    shown = space if max_deployments is None else min(space, max(max_deployments, 0))
    candidates = tuple(
        expand(app, f"deployment{i}", units) for i, units in enumerate(
            itertools.islice(enumerate_deployments(app, cuts), 1, shown + 1), 1))
    if shown < space:
        warnings.append(diagnostic(
            "AIS805", f"the design space has {space} deployments besides base; only "
            f"deployment1..{shown} are written", "pass --max-deployments N (or all) to write "
            "more; the placement always searches the whole space", None))
    clock.lap("design")

    base = expand(app, "base", base_units(app))
    performance, found = load_performance(app_dir)
    warnings += [d for d in found if d.severity is not Severity.ERROR]
    if any(d.severity is Severity.ERROR for d in found):
        raise InvalidInput(found)
    if performance is not None and cuts:
        # what half 1 of a generated cut sends on is a fact of the design; a measured size in
        # oscarp/components_data_size.yaml (aisprint profile) wins over it
        performance = replace(performance, data_sizes={**boundary_sizes(root),
                                                        **performance.data_sizes})
    how, cost, feasible, optimal_units = "base rule (no performance models)", None, True, \
        base.units
    evaluation, load = None, app.expected_load()
    if performance is not None:
        # a partitioned deployment needs its generated code (aisprint design)
        solved = solve_application(app, performance, mode=mode, time_limit=time_limit,
                                       cuts=lambda component: cuts.get(component, ()))
        mapped, result = solved.mapped, solved.result
        warnings += mapped.warnings
        how = f"{result.method}, {result.status}"
        cost, feasible = result.cost, result.feasible
        optimal_units = units_from_placement(app, mapped, result.placement)
        evaluation = result.evaluation
        load = mapped.system.arrival_rate
    clock.lap("placement")

    views: tuple[DeploymentView, ...] = (
        base,
        expand(app, "optimal_deployment", optimal_units),
        expand(app, "current_deployment", optimal_units),
    )
    context = EmitContext(app, views, report.loaded.documents["candidate_resources"].data,
                          inputs["common_config/application_dag.yaml"], feasible,
                          candidates=candidates, cuts=cuts)
    for name, emitter in EMITTERS.items():
        if targets is None or name in targets:
            for path, data in emitter.emit(context).items():
                if artifacts.get(path, data) != data:
                    raise RuntimeError(f"two emitters write different {path}")
                artifacts[path] = data
    clock.lap("emit")

    artifacts[MANIFEST] = manifest(artifacts, inputs, placement=how, cost=cost,
                                   qos=qos_predictions(app, evaluation), load=load)
    clock.lap("manifest")
    return CompileResult(dict(sorted(artifacts.items())), how, cost, tuple(clock.stages),
                         tuple(warnings))


def emit_deployment(report, inputs: Mapping[str, bytes], name: str, units: tuple[Unit, ...],
                    *, feasible: bool = True) -> dict[str, bytes]:
    """The files of one deployment folder for ``units`` (what the reconciler rewrites), from a
    valid ``validate_application`` report and the application's ``read_inputs``."""
    app = report.application
    context = EmitContext(app, (expand(app, name, units),),
                          report.loaded.documents["candidate_resources"].data,
                          inputs["common_config/application_dag.yaml"], feasible,
                          cuts=designed_cuts(inputs))
    prefix = f"aisprint/deployments/{name}/"
    return {path: data for emitter in EMITTERS.values()
            for path, data in emitter.emit(context).items() if path.startswith(prefix)}


def qos_predictions(app, evaluation) -> list[dict]:
    """Every QoS limit with the placement's predicted response time (None without models).

    Global paths are named path1, path2 … in annotation order (as the placement names them),
    local limits by their component; ``aisprint plan`` and ``diff`` read these back."""
    rows = []
    for i, constraint in enumerate(app.global_constraints(), 1):
        time_ = evaluation.path_times.get(f"path{i}") if evaluation is not None else None
        rows.append({"name": f"path{i}", "kind": "global", "components": list(constraint.path),
                     "limit": float(constraint.threshold), "predicted": _round(time_)})
    for constraint in app.local_constraints():
        time_ = evaluation.component_times.get(constraint.component) \
            if evaluation is not None else None
        rows.append({"name": constraint.component, "kind": "local",
                     "components": [constraint.component],
                     "limit": float(constraint.threshold), "predicted": _round(time_)})
    return rows


def _round(value: float | None) -> float | None:
    """Six significant digits: the same text on every platform, plenty for seconds."""
    return None if value is None else float(f"{value:.6g}")


def manifest(artifacts: Mapping[str, bytes], inputs: Mapping[str, bytes], *, placement: str,
             cost: float | None, qos: list[dict] | None = None,
             load: float | None = None) -> bytes:
    doc = {
        "$schema": MANIFEST_SCHEMA,
        "tool": {"name": "aisprint-gitops", "version": __version__},
        "placement": {"method": placement, "cost": cost, "load": load, "qos": qos or []},
        "inputs": {path: sha256(data) for path, data in sorted(inputs.items())},
        "files": manifest_files(artifacts),
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def manifest_files(artifacts: Mapping[str, bytes]) -> dict[str, dict]:
    """The manifest's ``files``: digest and size of every artifact but the manifest."""
    return {path: {"sha256": sha256(data), "size": len(data)}
            for path, data in sorted(artifacts.items()) if path != MANIFEST}


# ----------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class SolvedApplication:
    mapped: ApplicationSystem
    result: SolveResult  # feasible


def solve_application(application, performance, *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None, cuts=None) -> SolvedApplication:
    """The cheapest feasible placement of a validated application, or AIS804 saying why not."""
    mapped = system_from_application(application, performance, arrival_rate=arrival_rate,
                                     cuts=cuts)
    settings = application.space4aid
    if settings is not None and settings.seed is not None and seed == 1:
        seed = settings.seed  # SPACE4AI-D.yaml's Seed, unless one was given
    result = solve(mapped.system, mode=mode, time_limit=time_limit, seed=seed,
                   conventions=conventions or DEFAULT, progress=progress)
    if not result.feasible:
        explanation = "; ".join(result.explanation) or "no feasible placement was found"
        raise InvalidInput([diagnostic(
            "AIS804", f"no placement meets every constraint: {explanation}",
            "relax the exec_time limits, add resources, or allow more layers in "
            "candidate_deployments.yaml")])
    return SolvedApplication(mapped, result)


def place_application(app_dir: str | os.PathLike[str], *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None, write: bool = True) -> PlacementOutcome:
    """`aisprint space4aid APP_DIR`: place an application and write optimal_deployment/."""
    report = validate_application(app_dir)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    performance, found = load_performance(app_dir)
    if any(d.severity is Severity.ERROR for d in found):
        raise InvalidInput(found)
    solved = solve_application(report.application, performance, arrival_rate=arrival_rate,
                               mode=mode, time_limit=time_limit, seed=seed,
                               conventions=conventions, progress=progress)
    mapped, result, settings = solved.mapped, solved.result, report.application.space4aid
    written: list[Path] = []
    if write:
        target = Path(app_dir) / "aisprint" / "deployments" / "optimal_deployment"
        units = units_from_placement(report.application, mapped, result.placement)
        production = production_document(
            production_rows(units),
            candidate_resources=report.loaded.documents["candidate_resources"].data,
            replicas=replicas_of(units), feasible=result.feasible)
        files = {
            target / "production_deployment.yaml": dump_yaml(production).decode(),
            target / "space4ai-d" / "system.json":
                json.dumps(system_json(mapped.system), indent=2) + "\n",
            target / "space4ai-d" / "solution.json":
                dumps_solution(solution_json(mapped.system, result.placement,
                                             result.evaluation)),
        }
        bisection = _binary_search_method(settings)
        found_max = None
        if bisection is not None:
            # SPACE4AI-D's BS method: how far the chosen placement stretches
            found_max = max_load(mapped.system, result.placement, conventions or DEFAULT,
                                 upper=bisection[0], epsilon=bisection[1])
            at_max = mapped.system.with_arrival_rate(found_max.arrival_rate)
            files[target / "space4ai-d" / "max_lambda.json"] = dumps_solution(
                solution_json(at_max, result.placement, found_max.evaluation))
        for path, text in files.items():
            write_atomically(path, text, inside=Path(app_dir))
            written.append(path)
        return PlacementOutcome(mapped.system, result, tuple(written),
                                tuple(report.warnings) + tuple(found) + mapped.warnings,
                                found_max)
    return PlacementOutcome(mapped.system, result, tuple(written),
                            tuple(report.warnings) + tuple(found) + mapped.warnings)


def _binary_search_method(settings) -> tuple[float, float] | None:
    """(upperBoundLambda, epsilon) of a BS/BinarySearch method in SPACE4AI-D.yaml, if any."""
    for method in getattr(settings, "methods", ()):
        if method.name in ("BS", "BinarySearch"):
            return (float(method.parameters.get("upperBoundLambda", 0)) or None,
                    float(method.parameters.get("epsilon", 1e-5)))
    return None
