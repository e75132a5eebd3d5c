"""One entry point for every placement mode.

* ``exact``: the MILP until the optimum is proven (or the time limit, with the gap), started
  from the feasibility-first construction so that the limit never leaves it empty-handed;
* ``fast`` (default): a short heuristic run (the construction, random greedy, local search)
  gives an incumbent, then the MILP improves on it within the time limit, stopping within
  0.01 % of the optimum; when the MILP finds nothing better, the incumbent is the answer
  (``feasible``, with the MILP's bound and gap when it has one);
* ``heuristic``: only the anytime heuristic (inputs too large for the MILP).

Whatever the mode, the answer was checked by the evaluator. No placement (``unknown``) only
when nothing feasible was found in the whole time limit; the explanation then says which
limits the closest placement found misses (and, when it can say so in a moment, which ones the
MILP's elastic copy cannot meet).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.placement.construct import construct, unmet
from compiler.placement.heuristics import shrink_replicas, solve_heuristic
from compiler.placement.interop import placement_from_solution
from compiler.placement.maxload import MaxLoad
from compiler.placement.milp import explain_infeasibility, solve_milp
from compiler.placement.numbers import check_system
from compiler.placement.performance import DEFAULT, Conventions, evaluate
from compiler.placement.result import SolveResult
from compiler.placement.system import System
from compiler.placement.system_file import load_system

MODES = ("fast", "exact", "heuristic")
DEFAULT_TIME_LIMIT = {"fast": 8.0, "exact": 600.0, "heuristic": 10.0}


def solve(system: System, *, mode: str = "fast", conventions: Conventions = DEFAULT,
          time_limit: float | None = None, seed: int = 1, backend: str = "highs",
          progress: Callable[[str], None] | None = None,
          heuristic: Mapping[str, int] | None = None) -> SolveResult:
    """``heuristic``: budgets of the heuristic mode's search (``solve_heuristic``'s
    iterations, elite, local_steps), as SPACE4AI-D.yaml's RandomGreedy/LocalSearch set them;
    fast mode keeps its short warm start whatever they say (the MILP does the real work)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    limit = DEFAULT_TIME_LIMIT[mode] if time_limit is None else time_limit
    check_system(system)  # AIS806 rather than a ZeroDivisionError deep in a model
    start = time.perf_counter()
    if mode == "heuristic":
        return _explained(solve_heuristic(system, conventions, seed=seed, time_limit=limit,
                                          progress=progress, **(heuristic or {})),
                          system, conventions, backend, limit)
    if mode == "exact":
        # an incumbent before the proof starts: the answer at the limit if the proof is long
        built = construct(system, conventions, time_limit=limit / 4)
        warm = None
        if built is not None and built.feasible:
            warm = shrink_replicas(system, built.placement, conventions)[0]
        remaining = max(0.1, limit - (time.perf_counter() - start))
        result = solve_milp(system, conventions, time_limit=remaining, backend=backend,
                            incumbent=warm, progress=progress)
        result = _timed(result, time.perf_counter() - start, result.method)
        return _explained(result, system, conventions, backend, limit,
                          lambda: unmet(built, result.seconds))
    # a quick incumbent only: the MILP does the real work, and proves it
    warm = solve_heuristic(system, conventions, seed=seed, iterations=20 + 3 * len(
        system.components), local_steps=5, elite=1, kicks=0, time_limit=min(0.5, limit / 8),
        progress=progress)
    remaining = max(0.1, limit - (time.perf_counter() - start))
    exact = solve_milp(system, conventions, time_limit=remaining, backend=backend,
                       incumbent=warm.placement if warm.feasible else None, gap=1e-4,
                       progress=progress)
    seconds = time.perf_counter() - start
    if exact.feasible or not warm.feasible:
        result = _timed(exact, seconds, "milp+heuristic" if warm.feasible else "milp")
        return _explained(result, system, conventions, backend, limit,
                          lambda: warm.explanation)
    return _timed(warm, seconds, "heuristic")


def _timed(result: SolveResult, seconds: float, method: str) -> SolveResult:
    return replace(result, seconds=seconds, method=method)


def _explained(result: SolveResult, system: System, conventions: Conventions, backend: str,
               limit: float, closest: Callable[[], tuple[str, ...]] = tuple) -> SolveResult:
    """An empty-handed result also says what the closest placement found misses
    (``closest``) and which limits the MILP's elastic copy cannot meet, when it can tell
    within a short budget (a tenth of the limit, 0.2 to 1 s): the answer stays within the
    time limit's spirit."""
    if result.placement is not None or result.status != "unknown":
        return result
    result = replace(result, explanation=result.explanation + tuple(closest()))
    budget = min(1.0, max(0.2, limit / 10))
    start = time.perf_counter()
    try:
        lines = explain_infeasibility(system, conventions, backend=backend, time_limit=budget)
    except InvalidInput:
        lines = ()
    # a copy that needs no slack only says the time ran out, which the result says already
    useful = tuple(line for line in lines if "cannot be met" in line)
    return replace(result, seconds=result.seconds + time.perf_counter() - start,
                   explanation=result.explanation + useful)


# ------------------------------------------------------------ SPACE4AI-D's own files


@dataclass(frozen=True)
class PlacementOutcome:
    """A solved placement with where it came from and what was written."""

    system: System
    result: SolveResult
    written: tuple[Path, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    max_load: MaxLoad | None = None


def solve_system_file(system_file: str | os.PathLike[str], *, arrival_rate: float | None = None,
                      mode: str = "fast", time_limit: float | None = None, seed: int = 1,
                      conventions=None, progress=None) -> PlacementOutcome:
    """Solve a SPACE4AI-D system JSON file."""
    system = load_system(system_file, arrival_rate=arrival_rate)
    result = solve(system, mode=mode, time_limit=time_limit, seed=seed,
                   conventions=conventions or DEFAULT, progress=progress)
    return PlacementOutcome(system, result)


def evaluate_solution_file(system_file: str | os.PathLike[str],
                           solution_file: str | os.PathLike[str], *,
                           arrival_rate: float | None = None, conventions=None):
    """The evaluator's verdict on a SPACE4AI-D solution JSON for a system JSON."""
    try:
        data = json.loads(Path(solution_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AisprintError(f"cannot read the solution {solution_file}: {exc}") from None
    if arrival_rate is None and isinstance(data, dict) and "Lambda" in data:
        arrival_rate = float(data["Lambda"])
    system = load_system(system_file, arrival_rate=arrival_rate)
    placement = placement_from_solution(system, data)
    return system, placement, evaluate(system, placement, conventions or DEFAULT)
