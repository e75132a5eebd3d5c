"""One entry point for every placement mode.

* ``exact``: the MILP until the optimum is proven (or the time limit, with the gap);
* ``fast`` (default): a short heuristic run gives an incumbent, then the MILP improves on it
  within the time limit, stopping within 0.01 % of the optimum;
* ``heuristic``: only the anytime heuristic (inputs too large for the MILP).

Whatever the mode, the answer was checked by the evaluator.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.errors import AisprintError
from compiler.placement.heuristics import solve_heuristic
from compiler.placement.interop import placement_from_solution
from compiler.placement.maxload import MaxLoad
from compiler.placement.milp import solve_milp
from compiler.placement.numbers import check_system
from compiler.placement.performance import DEFAULT, Conventions, evaluate
from compiler.placement.result import SolveResult
from compiler.placement.system import System
from compiler.placement.system_file import load_system

MODES = ("fast", "exact", "heuristic")
DEFAULT_TIME_LIMIT = {"fast": 8.0, "exact": 600.0, "heuristic": 10.0}


def solve(system: System, *, mode: str = "fast", conventions: Conventions = DEFAULT,
          time_limit: float | None = None, seed: int = 1, backend: str = "highs",
          progress: Callable[[str], None] | None = None) -> SolveResult:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    limit = DEFAULT_TIME_LIMIT[mode] if time_limit is None else time_limit
    check_system(system)  # AIS806 rather than a ZeroDivisionError deep in a model
    start = time.perf_counter()
    if mode == "exact":
        return solve_milp(system, conventions, time_limit=limit, backend=backend,
                          progress=progress)
    if mode == "heuristic":
        return solve_heuristic(system, conventions, seed=seed, time_limit=limit,
                               progress=progress)
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
        return _timed(exact, seconds, "milp+heuristic" if warm.feasible else "milp")
    return _timed(warm, seconds, "heuristic")


def _timed(result: SolveResult, seconds: float, method: str) -> SolveResult:
    from dataclasses import replace

    return replace(result, seconds=seconds, method=method)


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
