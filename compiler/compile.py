"""``aisprint compile``: from an application folder to every deployment artifact.

One direction: load → validate → design space → placement → deployment views → the emitters
of ``targets`` (the design tree first, the manifest last). ``build`` is the core: given what
was read, it returns the artifacts as ``{relative path: bytes}`` with no clock, randomness or
network, so compiling twice gives the same bytes. ``compiler.gitops.folder.write_tree`` is
the edge that puts them on disk.

The placement is the cheapest feasible one when the application carries performance models
(``oscarp/performance_models.json``); otherwise the seed's base rule (first candidate layer,
first container, first resource).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compiler.design.deployments import (
    DeploymentView,
    Unit,
    base_units,
    count_deployments,
    enumerate_deployments,
    expand,
)
from compiler.diagnostics import Diagnostic, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import (
    BASE_DEPLOYMENT,
    CURRENT_DEPLOYMENT,
    OPTIMAL_DEPLOYMENT,
    PRODUCTION,
)
from compiler.layout import deployment as deployment_folder
from compiler.load.methods import solver_options
from compiler.manifest import PlacementRecord, QosRecord
from compiler.placement.from_application import ApplicationSystem
from compiler.placement.interop import dumps_solution, solution_json, system_json
from compiler.placement.maxload import max_load
from compiler.placement.performance import DEFAULT
from compiler.placement.production import production_document
from compiler.placement.result import SolveResult
from compiler.placement.solve import DEFAULT_TIME_LIMIT, PlacementOutcome, solve
from compiler.workspace import Workspace
from compiler.write import write_atomically
from targets import EmitContext, dump_yaml, emit_tree
from targets.deployment_folders import production_rows, replicas_of

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


def units_from_placement(mapped: ApplicationSystem, placement) -> tuple[Unit, ...]:
    """The units (component or partition, design, resource, container) a placement puts
    where, told by the problem it solved (``ApplicationSystem``'s designs and layers)."""
    units = []
    for component in mapped.system.components:
        deployment = component.deployment(placement.deployments[component.name])
        for part in deployment.partitions:
            key = (component.name, part.name)
            entry, resource = mapped.entries[key], placement.resources[key]
            container = mapped.containers[(*key, resource)]
            units.append(Unit(part.name, component.name, mapped.designs[key], entry,
                              next(c for c in entry.containers if c.key == container),
                              resource, mapped.layers[resource],
                              placement.replicas.get(resource)))
    return tuple(units)


def build(app: str | os.PathLike[str] | Workspace, *, mode: str = "fast",
          time_limit: float | None = None, targets: tuple[str, ...] | None = None,
          max_deployments: int | None = DEFAULT_MAX_DEPLOYMENTS) -> CompileResult:
    """Compile an application (a folder, or a ``Workspace`` already loaded) into artifacts;
    nothing is written.

    ``max_deployments`` bounds the ``deploymentN`` folders of the design space (which grows
    exponentially with the components); ``None`` writes them all."""
    clock = _Clock()
    workspace = app if isinstance(app, Workspace) else Workspace.from_folder(app)
    app = workspace.application  # InvalidInput with every diagnostic unless it validates
    report, inputs, cuts = workspace.report, workspace.inputs, workspace.cuts
    warnings = list(report.warnings)
    clock.lap("load + validate")

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

    base = expand(app, BASE_DEPLOYMENT, base_units(app))
    how, cost, feasible, optimal_units = "base rule (no performance models)", None, True, \
        base.units
    evaluation, load = None, app.expected_load()
    if workspace.performance is not None:
        solved = solve_application(workspace, mode=mode, time_limit=time_limit)
        mapped, result = solved.mapped, solved.result
        warnings += mapped.warnings
        how = f"{result.method}, {result.status}"
        cost, feasible = result.cost, result.feasible
        optimal_units = units_from_placement(mapped, result.placement)
        evaluation = result.evaluation
        load = mapped.system.arrival_rate
    clock.lap("placement")

    views: tuple[DeploymentView, ...] = (
        base,
        expand(app, OPTIMAL_DEPLOYMENT, optimal_units),
        expand(app, CURRENT_DEPLOYMENT, optimal_units),
    )
    context = EmitContext(app, views, report.loaded.documents["candidate_resources"].data,
                          inputs["common_config/application_dag.yaml"], feasible,
                          candidates=candidates, cuts=cuts, inputs=inputs,
                          placement=PlacementRecord(how, cost, load,
                                                    qos_predictions(app, evaluation)))
    artifacts = emit_tree(context, targets)
    clock.lap("emit")
    return CompileResult(artifacts, how, cost, tuple(clock.stages), tuple(warnings))


def emit_deployment(workspace: Workspace, name: str, units: tuple[Unit, ...], *,
                    feasible: bool = True) -> dict[str, bytes]:
    """The files of one deployment folder for ``units`` (what the reconciler rewrites)."""
    app = workspace.application
    context = EmitContext(app, (expand(app, name, units),),
                          workspace.report.loaded.documents["candidate_resources"].data,
                          workspace.inputs["common_config/application_dag.yaml"], feasible,
                          cuts=workspace.cuts)
    prefix = f"{deployment_folder(name)}/"
    # the reconciler writes the manifest of the whole tree itself (Manifest.replaced)
    return {path: data for path, data in emit_tree(context, final=False).items()
            if path.startswith(prefix)}


def qos_predictions(app, evaluation) -> tuple[QosRecord, ...]:
    """Every QoS limit with the placement's predicted response time (None without models).

    Global paths are named path1, path2 … in annotation order (as the placement names them),
    local limits by their component; ``aisprint plan`` and ``diff`` read these back."""
    rows = []
    for i, constraint in enumerate(app.global_constraints(), 1):
        time_ = evaluation.path_times.get(f"path{i}") if evaluation is not None else None
        rows.append(QosRecord(f"path{i}", "global", tuple(constraint.path),
                              float(constraint.threshold), _round(time_)))
    for constraint in app.local_constraints():
        time_ = evaluation.component_times.get(constraint.component) \
            if evaluation is not None else None
        rows.append(QosRecord(constraint.component, "local", (constraint.component,),
                              float(constraint.threshold), _round(time_)))
    return tuple(rows)


def _round(value: float | None) -> float | None:
    """Six significant digits: the same text on every platform, plenty for seconds."""
    return None if value is None else float(f"{value:.6g}")


# ----------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class SolvedApplication:
    mapped: ApplicationSystem
    result: SolveResult  # feasible


def solve_application(workspace: Workspace, *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None) -> SolvedApplication:
    """The cheapest feasible placement of a valid application, or AIS804 saying why not."""
    mapped = workspace.problem(arrival_rate=arrival_rate)
    # SPACE4AI-D.yaml's Methods/Seed/VerboseLevel; validation reported what they map to
    options = solver_options(workspace.application.space4aid)
    result = solve(mapped.system, mode=mode,
                   time_limit=options.time_limit(time_limit, DEFAULT_TIME_LIMIT.get(mode, 0.0)),
                   seed=options.seed_or(seed), conventions=conventions or DEFAULT,
                   progress=progress if options.progress else None,
                   heuristic=options.heuristic())
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
    """`aisprint space4aid APP_DIR`: place an application and write optimal_deployment/
    (the same problem `aisprint compile` solves: ``Workspace.problem``)."""
    workspace = Workspace.from_folder(app_dir)
    report = workspace.report
    solved = solve_application(workspace, arrival_rate=arrival_rate, mode=mode,
                               time_limit=time_limit, seed=seed, conventions=conventions,
                               progress=progress)
    mapped, result, settings = solved.mapped, solved.result, report.application.space4aid
    written: list[Path] = []
    if write:
        target = Path(app_dir) / deployment_folder(OPTIMAL_DEPLOYMENT)
        units = units_from_placement(mapped, result.placement)
        production = production_document(
            production_rows(units),
            candidate_resources=report.loaded.documents["candidate_resources"].data,
            replicas=replicas_of(units), feasible=result.feasible)
        files = {
            target / PRODUCTION: dump_yaml(production).decode(),
            target / "space4ai-d" / "system.json":
                json.dumps(system_json(mapped.system), indent=2) + "\n",
            target / "space4ai-d" / "solution.json":
                dumps_solution(solution_json(mapped.system, result.placement,
                                             result.evaluation)),
        }
        bisection = solver_options(settings).max_load
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
                                tuple(report.warnings) + mapped.warnings,
                                found_max)
    return PlacementOutcome(mapped.system, result, tuple(written),
                            tuple(report.warnings) + mapped.warnings)
