"""`aisprint space4aid`: the cheapest placement that meets every QoS constraint.

Three forms, as SPACE4AI-D:
  aisprint space4aid APP_DIR                          place an application (its YAML inputs)
  aisprint space4aid --system FILE --lambda 1.8       solve a SPACE4AI-D system JSON
  aisprint space4aid evaluate --system F --solution S the evaluator's verdict on a solution
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from compiler import api
from compiler.cli.output import Format, console, output_option
from compiler.console.results import Evaluated, Placed
from compiler.errors import UsageError


def space4aid(
    ctx: typer.Context,
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
    output: Format = output_option("text for people, json for machines, markdown, github."),
) -> None:
    """Place components on the continuum at the lowest cost that meets every QoS constraint.

    Examples:

      aisprint space4aid examples/mask_detection

      aisprint space4aid --system system.json --lambda 1.8 --mode exact -o json

      aisprint space4aid evaluate --system system.json --solution sol.json

    Exit status: 0 feasible, 1 infeasible or invalid input, 64 bad command line.
    """
    out = console(ctx, output)
    if mode not in ("fast", "exact", "heuristic"):
        raise UsageError(f"--mode must be fast, exact or heuristic, not {mode!r}")
    try:
        # deferred: numpy and PuLP load only when a placement runs (start-up time)
        from compiler.placement.performance import Conventions

        conventions = Conventions(faas_rate=faas_rate, transfer_bits=transfer_bits)
    except ValueError as exc:
        raise UsageError(f"--faas-rate: {exc}") from None

    if target == "evaluate":
        if system is None or solution is None:
            raise UsageError("evaluate needs --system FILE and --solution FILE")
        sys_, placement, evaluation = api.evaluate_solution_file(
            system, solution, arrival_rate=arrival_rate, conventions=conventions)
        out.show(Evaluated(str(system), str(solution), sys_.arrival_rate, evaluation))
        raise typer.Exit(0 if evaluation.feasible else 1)

    if (target is None) == (system is None):
        raise UsageError("give an application folder or --system FILE (one of them)")
    with out.status("solving…") as progress:
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
            out.warnings(outcome.warnings)
    result = outcome.result
    # deferred: numpy and PuLP load only when a placement runs (start-up time)
    from compiler.placement.interop import dumps_solution, solution_json
    from compiler.placement.maxload import max_load

    if with_max_load and result.feasible:
        outcome = replace(outcome, max_load=max_load(outcome.system, result.placement,
                                                     conventions))
    if write_solution is not None and result.feasible:
        api.write_atomically(write_solution, dumps_solution(
            solution_json(outcome.system, result.placement, result.evaluation)))
        outcome = replace(outcome, written=(*outcome.written, write_solution))
    out.show(Placed(outcome, source, mode))
    raise typer.Exit(0 if result.feasible else 1)


def register(app: typer.Typer) -> None:
    app.command("space4aid")(space4aid)
