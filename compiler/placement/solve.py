"""One entry point for every placement mode.

* ``exact``: the MILP until the optimum is proven (or the time limit, with the gap);
* ``fast`` (default): a short heuristic run gives an incumbent, then the MILP improves on it
  within the time limit, stopping within 0.01 % of the optimum;
* ``heuristic``: only the anytime heuristic (inputs too large for the MILP).

Whatever the mode, the answer was checked by the evaluator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from compiler.placement.heuristics import solve_heuristic
from compiler.placement.milp import solve_milp
from compiler.placement.numbers import check_system
from compiler.placement.performance import DEFAULT, Conventions
from compiler.placement.result import SolveResult
from compiler.placement.system import System

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
