"""The library API: what every command does, callable without a shell.

The CLI, the GitHub Action and the reconciler call these functions (never a subprocess); each
returns a value or raises an ``AisprintError`` subclass, which the CLI maps to an exit code.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Severity, diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.validate import ValidationReport, validate_application


def validate(app_dir: str | os.PathLike[str] = ".", *,
             warnings_as_errors: bool = False) -> ValidationReport:
    """Validate an application folder. Never raises for bad input: read ``report.valid``."""
    report = validate_application(app_dir)
    if warnings_as_errors and report.warnings:
        promoted = tuple(
            Diagnostic(d.code, Severity.ERROR, d.message, d.hint, d.location, d.related)
            if d.severity is Severity.WARNING else d for d in report.diagnostics)
        report = ValidationReport(report.app_dir, promoted, report.loaded)
    return report


def write_atomically(path: Path, text: str, *, inside: Path | None = None) -> None:
    """Replace ``path`` with ``text`` in one rename: readers see the old file or the new one.

    ``inside``: the folder ``path`` belongs to (an application). A folder on the way that is
    a symlink or a file is refused (AIS952) before anything is created, so a hostile
    ``aisprint -> /elsewhere`` never takes a write out of it. An ``OSError`` (disk full, no
    permission, read-only) is AIS955, with the temporary file removed.
    """
    from compiler.gitops.swap import failing_as, unsafe

    path = Path(path)
    if inside is not None:
        folder = Path(inside)
        for part in path.parent.relative_to(inside).parts:
            folder = folder / part
            if folder.is_symlink():
                raise unsafe(folder, f"is a symlink (to {os.readlink(folder)})",
                             f"replace the symlink {folder} with a real folder")
            if folder.exists() and not folder.is_dir():
                raise unsafe(folder, "is a file where a folder is needed",
                             f"remove or rename {folder}")
    with failing_as(str(path), intact=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class DesignResult:
    annotations_file: Path
    components: tuple[str, ...]
    changed: bool
    warnings: tuple[Diagnostic, ...]


def design_annotations(app_dir: str | os.PathLike[str]) -> DesignResult:
    """First step of ``aisprint design``: write common_config/annotations.yaml from src/.

    The application must validate (warnings allowed), as the original tool validates the
    annotations before it goes on; nothing is written otherwise.
    """
    from compiler.load.annotations import annotations_yaml

    report = validate(app_dir)
    # A stale annotations.yaml is exactly what this step repairs: not a reason to stop.
    blocking = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    if blocking:
        raise InvalidInput(report.diagnostics)
    loaded = report.loaded
    if not loaded.source_documents:
        raise InvalidInput([diagnostic(
            "AIS001", f"{os.path.join(loaded.app_dir, 'src')} has no component sources",
            "put each component in src/<component>/main.py with its annotations on def main")])
    text = annotations_yaml(loaded.annotations)
    target = Path(loaded.app_dir) / "common_config" / "annotations.yaml"
    old = target.read_text(encoding="utf-8") if target.is_file() else None
    if old != text:
        write_atomically(target, text, inside=Path(loaded.app_dir))
    return DesignResult(target, tuple(a.component for a in loaded.annotations), old != text,
                        tuple(d for d in report.diagnostics
                              if d.severity is not Severity.ERROR and d.code != "AIS512"))


def design_partitions(app_dir: str | os.PathLike[str], *, max_boundary_tensors: int | None = None,
                      enabled: bool = True, progress=None):
    """Second step of ``aisprint design``: cut the ONNX model of every ``partitionable_model``
    component and write ``aisprint/designs/<c>/partition<i>_<n>/`` and
    component_partitions.yaml (``compiler.design.partitioner``). Run after
    ``design_annotations``; raises InvalidInput (AIS901–AIS904) for models it cannot cut."""
    from compiler.design import partition
    from compiler.design.partitioner import partition_application

    report = validate(app_dir)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    loaded = report.loaded
    return partition_application(
        loaded.app_dir, loaded.annotations, order=report.application.dag.components,
        max_boundary_tensors=max_boundary_tensors or partition.DEFAULT_MAX_BOUNDARY,
        enabled=enabled, progress=progress)


def new_application(name: str, parent: str | os.PathLike[str] = ".") -> Path:
    """Scaffold a complete application folder that validates unchanged."""
    from compiler.scaffold import scaffold

    target = Path(parent) / name
    if target.exists():
        raise AisprintError(
            f"{target} already exists: choose another name or remove it first "
            "(new-application never overwrites files)")
    return scaffold(name, target)


# ----------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class PlacementOutcome:
    """A solved placement with where it came from and what was written."""

    system: object  # compiler.placement.system.System
    result: object  # compiler.placement.milp.SolveResult
    written: tuple[Path, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    max_load: object | None = None  # compiler.placement.maxload.MaxLoad


def solve_system_file(system_file: str | os.PathLike[str], *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None) -> PlacementOutcome:
    """Solve a SPACE4AI-D system JSON file."""
    from compiler.load.space4ai import load_system
    from compiler.placement.performance import DEFAULT
    from compiler.placement.solve import solve

    system = load_system(system_file, arrival_rate=arrival_rate)
    result = solve(system, mode=mode, time_limit=time_limit, seed=seed,
                   conventions=conventions or DEFAULT, progress=progress)
    return PlacementOutcome(system, result)


def evaluate_solution_file(system_file: str | os.PathLike[str],
                           solution_file: str | os.PathLike[str], *,
                           arrival_rate: float | None = None, conventions=None):
    """The evaluator's verdict on a SPACE4AI-D solution JSON for a system JSON."""
    import json

    from compiler.load.space4ai import load_system
    from compiler.placement.interop import placement_from_solution
    from compiler.placement.performance import DEFAULT, evaluate

    try:
        data = json.loads(Path(solution_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AisprintError(f"cannot read the solution {solution_file}: {exc}") from None
    if arrival_rate is None and isinstance(data, dict) and "Lambda" in data:
        arrival_rate = float(data["Lambda"])
    system = load_system(system_file, arrival_rate=arrival_rate)
    placement = placement_from_solution(system, data)
    return system, placement, evaluate(system, placement, conventions or DEFAULT)


@dataclass(frozen=True)
class SolvedApplication:
    mapped: object  # compiler.placement.from_application.ApplicationSystem
    result: object  # compiler.placement.milp.SolveResult (feasible)


def solve_application(application, performance, *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None, cuts=None) -> SolvedApplication:
    """The cheapest feasible placement of a validated application, or AIS804 saying why not."""
    from compiler.placement.from_application import system_from_application
    from compiler.placement.performance import DEFAULT
    from compiler.placement.solve import solve

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
    import json

    from compiler.compile import units_from_placement
    from compiler.load.oscarp import load_performance
    from compiler.placement.interop import dumps_solution, solution_json, system_json
    from compiler.placement.performance import DEFAULT
    from compiler.placement.production import production_document
    from targets import dump_yaml
    from targets.deployment_tree import production_rows, replicas_of

    report = validate(app_dir)
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
            from compiler.placement.maxload import max_load

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


# ----------------------------------------------------------------------------- gitops


def plan(app_dir: str | os.PathLike[str] = ".", **options):
    """What compiling ``app_dir`` would change: a frozen ``compiler.gitops.plan.Plan``
    (``compiler.deploy.plan``: ``rev``, ``against``, ``repo``, ``branch``, ``prefix``…)."""
    from compiler.deploy import plan as make

    return make(app_dir, **options)


def diff(rev1: str, rev2: str, **options):
    """The plan between two revisions of a deployment repository (``compiler.deploy.diff``)."""
    from compiler.deploy import diff as make

    return make(rev1, rev2, **options)


def commit_deployment(app_dir: str | os.PathLike[str], *, repo: str | os.PathLike[str],
                      **options):
    """Compile and commit to a deployment repository through the one writer
    (``compiler.deploy.commit``); returns (``WriteResult``, ``Plan``)."""
    from compiler.deploy import commit

    return commit(app_dir, repo=repo, **options)
