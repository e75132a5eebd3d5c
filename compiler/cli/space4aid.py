"""`aisprint space4aid`: the cheapest placement that meets every QoS constraint.

Three forms, as SPACE4AI-D:
  aisprint space4aid APP_DIR                          place an application (its YAML inputs)
  aisprint space4aid --system FILE --lambda 1.8       solve a SPACE4AI-D system JSON
  aisprint space4aid evaluate --system F --solution S the evaluator's verdict on a solution
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from pathlib import Path

import typer

from compiler import api
from compiler.cli.output import OutputFormat, say, use_colour
from compiler.errors import UsageError

RESULT_SCHEMA = "https://aisprint-gitops.github.io/schemas/space4aid-result/v1.json"


def _number(value):
    return value if value is None or math.isfinite(value) else None


@contextlib.contextmanager
def _progress(enabled: bool):
    """A spinner with the solver's latest news on a terminal; nothing in CI or for machines."""
    if not enabled or not use_colour(sys.stderr):
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("solving…") as status:
        yield lambda message: status.update(f"solving… {message}")


def _placement_json(system, placement) -> dict:
    out = {}
    for component in system.components:
        name = placement.deployments[component.name]
        parts = component.deployment(name).partitions
        out[component.name] = {"deployment": name, "partitions": {
            p.name: placement.resources[(component.name, p.name)] for p in parts}}
    return out


def _result_json(outcome, *, source: str, mode: str) -> dict:
    result, system = outcome.result, outcome.system
    doc = {
        "schema_version": RESULT_SCHEMA,
        "input": source,
        "lambda": system.arrival_rate,
        "mode": mode,
        "method": result.method,
        "status": result.status,
        "feasible": result.feasible,
        "total_cost": result.cost,
        "solve_seconds": round(result.seconds, 6),
        "optimality_gap": result.gap,
        "lower_bound": result.bound,
        "rounds": result.rounds,
        "explanation": list(result.explanation),
        "placement": _placement_json(system, result.placement) if result.feasible else None,
        "replicas": dict(sorted(result.placement.replicas.items())) if result.feasible else None,
        "written": [str(p) for p in outcome.written],
    }
    if outcome.max_load is not None:
        doc["max_lambda"] = outcome.max_load.arrival_rate
        doc["max_lambda_binding"] = list(outcome.max_load.binding)
    return doc


def _print_text(doc: dict) -> None:
    if not doc["feasible"]:
        print(f"✗ no feasible placement ({doc['status']}) for Λ = {doc['lambda']:g}")
        for line in doc["explanation"]:
            print(f"  - {line}")
        return
    gap = doc["optimality_gap"]
    proof = "proven optimal" if doc["status"] == "optimal" else (
        f"gap {gap:.2%}" if gap is not None else "optimality not proven")
    print(f"✓ cost {doc['total_cost']:.6g} at Λ = {doc['lambda']:g} ({proof}; "
          f"{doc['method']}, {doc['solve_seconds']:.2f} s)")
    width = max(len(c) for c in doc["placement"])
    for component, spec in doc["placement"].items():
        where = ", ".join(f"{p} → {r}" + (f" ×{doc['replicas'][r]}" if r in doc["replicas"]
                                          else "") for p, r in spec["partitions"].items())
        print(f"  {component:<{width}}  [{spec['deployment']}] {where}")
    if "max_lambda" in doc:
        print(f"  sustains up to Λ = {doc['max_lambda']:.6g} before: "
              + "; ".join(doc["max_lambda_binding"][:2]))
    for path in doc["written"]:
        print(f"  wrote {path}")


def space4aid(
    target: str | None = typer.Argument(
        None, show_default=False,
        help="Application folder, or `evaluate` to check a solution."),
    system: Path | None = typer.Option(None, "--system", help="A SPACE4AI-D system JSON."),
    solution: Path | None = typer.Option(None, "--solution", help="(evaluate) A solution JSON."),
    arrival_rate: float | None = typer.Option(
        None, "--lambda", "-L", help="Arrival rate Λ (req/s); default: the input's own."),
    mode: str = typer.Option("fast", "--mode", help="fast | exact | heuristic."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", help="Seconds (default: fast 8, exact 600)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the heuristic."),
    write_solution: Path | None = typer.Option(
        None, "--write-solution", help="Also write the solution as SPACE4AI-D JSON here."),
    faas_rate: str = typer.Option(
        "partition", "--faas-rate",
        help="Rate FaaS partitions are modelled and charged at: partition (C++ tool) or "
             "component (Python tool)."),
    transfer_bits: bool = typer.Option(
        False, "--transfer-bits", help="Transfers take a + 8·δ/B (δ in MB, B in Mb/s)."),
    with_max_load: bool = typer.Option(
        False, "--max-load", help="Also find the largest Λ the placement sustains."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o",
                                        help="text, or json for machines."),
) -> None:
    """Place components on the continuum at the lowest cost that meets every QoS constraint.

    Examples:

      aisprint space4aid examples/mask_detection

      aisprint space4aid --system system.json --lambda 1.8 --mode exact -o json

      aisprint space4aid evaluate --system system.json --solution sol.json

    Exit status: 0 feasible, 1 infeasible or invalid input, 64 bad command line.
    """
    from compiler.placement.performance import Conventions

    if mode not in ("fast", "exact", "heuristic"):
        raise UsageError(f"--mode must be fast, exact or heuristic, not {mode!r}")
    try:
        conventions = Conventions(faas_rate=faas_rate, transfer_bits=transfer_bits)
    except ValueError as exc:
        raise UsageError(f"--faas-rate: {exc}") from None

    if target == "evaluate":
        if system is None or solution is None:
            raise UsageError("evaluate needs --system FILE and --solution FILE")
        sys_, placement, evaluation = api.evaluate_solution_file(
            system, solution, arrival_rate=arrival_rate, conventions=conventions)
        doc = {
            "schema_version": RESULT_SCHEMA, "system": str(system), "solution": str(solution),
            "lambda": sys_.arrival_rate, "feasible": evaluation.feasible,
            "total_cost": _number(evaluation.cost),
            "violations": [{"kind": v.kind, "subject": v.subject, "message": v.message,
                            "excess": _number(v.excess)} for v in evaluation.violations],
            "component_response_times": {k: _number(v) for k, v in
                                         evaluation.component_times.items()},
            "path_response_times": {k: _number(v) for k, v in evaluation.path_times.items()},
            "utilisation": dict(evaluation.utilisation),
        }
        if output is OutputFormat.json:
            print(json.dumps(doc, indent=2))
        else:
            state = "✓ feasible" if evaluation.feasible else "✗ infeasible"
            print(f"{state}: cost {evaluation.cost:.6g} at Λ = {sys_.arrival_rate:g}")
            for v in evaluation.violations:
                print(f"  - [{v.kind}] {v.message}")
            for name, value in evaluation.path_times.items():
                print(f"  path {name}: {value:.4g} s")
        raise typer.Exit(0 if evaluation.feasible else 1)

    if (target is None) == (system is None):
        raise UsageError("give an application folder or --system FILE (one of them)")
    with _progress(output is OutputFormat.text) as progress:
        if system is not None:
            outcome = api.solve_system_file(system, arrival_rate=arrival_rate, mode=mode,
                                            time_limit=time_limit, seed=seed,
                                            conventions=conventions, progress=progress)
            source = str(system)
        else:
            outcome = api.place_application(target, arrival_rate=arrival_rate, mode=mode,
                                            time_limit=time_limit, seed=seed,
                                            conventions=conventions, progress=progress)
            source = target
            for warning in outcome.warnings:
                say(f"warning {warning.code}: {warning.message}")
    result = outcome.result
    if with_max_load and result.feasible:
        from dataclasses import replace

        from compiler.placement.maxload import max_load

        outcome = replace(outcome, max_load=max_load(outcome.system, result.placement,
                                                     conventions))
    if write_solution is not None and result.feasible:
        from compiler.placement.interop import dumps_solution, solution_json

        api.write_atomically(write_solution, dumps_solution(
            solution_json(outcome.system, result.placement, result.evaluation)))
        outcome = replace_written(outcome, write_solution)
    doc = _result_json(outcome, source=source, mode=mode)
    if output is OutputFormat.json:
        print(json.dumps(doc, indent=2))
    else:
        _print_text(doc)
    raise typer.Exit(0 if result.feasible else 1)


def replace_written(outcome, path: Path):
    from dataclasses import replace

    return replace(outcome, written=(*outcome.written, path))


def register(app: typer.Typer) -> None:
    app.command("space4aid")(space4aid)
