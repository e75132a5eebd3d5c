"""SPACE4AI-D.yaml's ``Methods``, ``Seed`` and ``VerboseLevel`` as this solver's options.

SPACE4AI-D runs method1 (RandomGreedy: random constructions), then one heuristic from the
``startingPointNumber`` best of them (method2: LocalSearch, TabuSearch, SimulatedAnnealing or
GeneticAlgorithm), each for whichever of ``iterations``/``duration`` takes longer, then BS (the
largest load the answer sustains). Here the same file sets:

* RandomGreedy ``iterations`` -> the heuristic's random-greedy constructions;
* ``startingPointNumber`` -> how many of the best constructions local search descends from;
* LocalSearch ``iterations`` -> the improving steps of each descent;
* TabuSearch, SimulatedAnnealing, GeneticAlgorithm -> the same local search (iterated, with
  random kicks) and, outside ``--mode heuristic``, the MILP, which proves the optimum none of
  them can beat: a warning (AIS808) says so;
* ``duration`` (summed over the methods that run) -> the time limit: never below what the file
  grants (SPACE4AI-D runs a method at least that long; this solver stops sooner only when the
  optimum is proven or the iterations are spent), up to ``MAX_FILE_SECONDS`` (AIS812). An
  explicit ``--time-limit`` wins;
* ``Seed`` -> the heuristic's seed, unless one was given; ``VerboseLevel`` 0 -> no live
  progress line;
* BS / BinarySearch ``upperBoundLambda``, ``epsilon`` -> the max-load bisection.

Pure: settings in, options and diagnostics out. Validation reports the diagnostics (so
``aisprint validate``, ``compile`` and ``space4aid`` show the same ones); the one place that
solves an application (``compiler.compile.solve_application``) reads the options.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.model import Method, Space4aiDSettings

CONSTRUCTION = "RandomGreedy"
IMPROVERS = ("LocalSearch", "TabuSearch", "SimulatedAnnealing", "GeneticAlgorithm")
BISECTION = ("BS", "BinarySearch")
# the most seconds a file may grant: the file comes with a pull request, whose plan must not
# hold CI for hours; longer runs are asked for on the command line (--time-limit)
MAX_FILE_SECONDS = 600.0

# what replaces each method this solver does not run as named, and the mechanism it lacks
_MAPPED = {
    "TabuSearch": "random kicks instead of a tabu list",
    "SimulatedAnnealing": "random kicks instead of a cooling schedule",
    "GeneticAlgorithm": "random kicks instead of crossover and mutation",
}
_USED = {  # the parameters each kind of method reads
    "construction": {"iterations", "duration"},
    "improver": {"iterations", "duration", "startingPointNumber"},
    "bisection": {"upperBoundLambda", "epsilon"},
}


@dataclass(frozen=True)
class SolverOptions:
    """What SPACE4AI-D.yaml asks of the solver; ``None`` where the file says nothing."""

    seed: int | None = None
    iterations: int | None = None  # random-greedy constructions
    elite: int | None = None  # starts local search descends from (startingPointNumber)
    local_steps: int | None = None  # improving steps of each descent
    duration: float = 0.0  # seconds the file grants the methods that run
    progress: bool = True  # VerboseLevel 0 hides the live progress line
    max_load: tuple[float | None, float] | None = None  # BS: (upperBoundLambda, epsilon)

    def heuristic(self) -> dict[str, int]:
        """The budgets of ``solve_heuristic`` the file sets (its keywords)."""
        budgets = {"iterations": self.iterations, "elite": self.elite,
                   "local_steps": self.local_steps}
        return {name: value for name, value in budgets.items() if value is not None}

    def time_limit(self, given: float | None, default: float) -> float | None:
        """The solver's time limit: ``given`` (``--time-limit``) when there is one, else the
        mode's ``default`` raised to the seconds the file grants."""
        if given is not None or not self.duration:
            return given
        return max(default, self.duration)

    def seed_or(self, given: int) -> int:
        """The file's Seed unless a seed other than the default 1 was given."""
        return self.seed if self.seed is not None and given == 1 else given


def _kind(method: Method) -> str:
    if method.name == CONSTRUCTION:
        return "construction"
    return "bisection" if method.name in BISECTION else "improver"


def _chosen(settings: Space4aiDSettings) -> tuple[dict[str, Method], list[Method]]:
    """The first method of each kind (the one that runs), and the later ones."""
    first: dict[str, Method] = {}
    repeated: list[Method] = []
    for method in settings.methods:
        if _kind(method) in first:
            repeated.append(method)
        else:
            first[_kind(method)] = method
    return first, repeated


def _count(method: Method | None, name: str) -> int | None:
    """A positive whole-number parameter, or None (absent or 0: SPACE4AI-D then runs by
    duration, and here the solver's own budget applies)."""
    value = method.parameters.get(name) if method is not None else None
    return int(value) if isinstance(value, int) and value > 0 else None


def _granted(*methods: Method | None) -> float:
    """Seconds the methods that run are granted (SPACE4AI-D runs them one after the other)."""
    return sum(float(m.parameters.get("duration") or 0) for m in methods if m is not None)


def solver_options(settings: Space4aiDSettings | None) -> SolverOptions:
    if settings is None:
        return SolverOptions()
    first, _ = _chosen(settings)
    construction, improver = first.get("construction"), first.get("improver")
    bisection = first.get("bisection")
    duration = min(MAX_FILE_SECONDS, _granted(construction, improver))
    max_load = None
    if bisection is not None:
        max_load = (float(bisection.parameters.get("upperBoundLambda", 0)) or None,
                    float(bisection.parameters.get("epsilon", 1e-5)))
    return SolverOptions(
        seed=settings.seed, iterations=_count(construction, "iterations"),
        elite=_count(improver, "startingPointNumber"),
        local_steps=_count(improver, "iterations"), duration=duration,
        progress=settings.verbose_level != 0, max_load=max_load)


def method_diagnostics(settings: Space4aiDSettings | None) -> Iterator[Diagnostic]:
    """AIS808-AIS812: what in SPACE4AI-D.yaml does not run as written, and what runs instead."""
    if settings is None:
        return
    first, repeated = _chosen(settings)
    for method in settings.methods:
        if method in repeated:
            continue  # AIS810 below: it does not run at all
        where = method.loc()
        if method.name in _MAPPED:
            special = sorted(method.parameters.get("specialParameters") or {})
            unused = f"; its {', '.join(special)} {'is' if len(special) == 1 else 'are'} " \
                "not used" if special else ""
            yield diagnostic(
                "AIS808", f"{method.key}: {method.name} runs as the MILP-backed search in the "
                "default and exact modes (its optimum, proven when the time allows, is at "
                f"least as good as any {method.name} finds) and, in --mode heuristic, as local "
                "search from the startingPointNumber best random-greedy starts with "
                f"{_MAPPED[method.name]}{unused}",
                "write `name: LocalSearch` to say what runs (and drop specialParameters)",
                where)
        extra = sorted(set(method.parameters) - _USED[_kind(method)]
                       - ({"specialParameters"} if method.name in _MAPPED else set()))
        if extra:
            yield diagnostic(
                "AIS809", f"{method.key}: {method.name} does not use "
                f"{', '.join(extra)}: {'it has' if len(extra) == 1 else 'they have'} no effect",
                f"{method.name} reads {', '.join(sorted(_USED[_kind(method)]))}; remove the "
                "others", where)
    for method in repeated:
        runs = first[_kind(method)]
        yield diagnostic(
            "AIS810", f"{method.key}: {method.name} does not run: {runs.key} ({runs.name}) "
            "already is the " + {"construction": "construction", "improver":
                                 "improvement heuristic", "bisection": "max-load bisection"}[
                                     _kind(method)] + ", and only one of each runs",
            f"remove {method.key}, or put it in place of {runs.key}", method.loc())
    granted = _granted(first.get("construction"), first.get("improver"))
    if granted > MAX_FILE_SECONDS:
        yield diagnostic(
            "AIS812", f"the methods' durations add up to {granted:g} s; SPACE4AI-D.yaml can "
            f"grant the solver at most {MAX_FILE_SECONDS:g} s, so it stops there",
            "lower the durations, or pass --time-limit SECONDS for a longer run",
            (first.get("improver") or first["construction"]).loc())
    if settings.verbose_level is not None and settings.verbose_level > 1:
        yield diagnostic(
            "AIS811", f"VerboseLevel {settings.verbose_level} shows the same live progress "
            "line as 1: the solver has one level of detail (0 hides it)",
            "write VerboseLevel: 1 (or 0)", settings.loc("verbose_level"))
