"""How much load a placement sustains, and the cheapest placement for a given load.

``max_load`` is SPACE4AI-D's binary search ("BS"): with the placement fixed, re-evaluate it at
growing arrival rates Λ (loads, utilisations and FaaS times all change with Λ) and bisect
between the largest feasible and the smallest infeasible rate until they are ``epsilon``
apart. ``at_most_replicas=True`` first raises every edge/VM resource to its most replicas, as
SPACE4AI-R does before it asks how far a deployment can stretch.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import AisprintError
from compiler.placement.performance import DEFAULT, Conventions, Evaluation, evaluate
from compiler.placement.system import Placement, System


@dataclass(frozen=True)
class MaxLoad:
    arrival_rate: float  # the largest Λ found feasible
    evaluation: Evaluation  # the placement evaluated at that Λ
    infeasible_above: float | None  # the smallest Λ found infeasible (None: upper bound held)
    probes: int
    binding: tuple[str, ...]  # what breaks just above the limit


def max_load(system: System, placement: Placement, conventions: Conventions = DEFAULT, *,
             upper: float | None = None, epsilon: float = 1e-5,
             at_most_replicas: bool = False) -> MaxLoad:
    if at_most_replicas:
        placement = Placement(placement.deployments, placement.resources,
                              {r: system.resource(r).number for r in placement.replicas})
    low = system.arrival_rate
    low_eval = evaluate(system, placement, conventions)
    probes = 1
    if not low_eval.feasible:
        raise AisprintError(
            f"the placement is not feasible at the design load Λ = {low:g}: "
            + "; ".join(v.message for v in low_eval.violations[:3]))
    if upper is not None and upper <= low:
        return MaxLoad(low, low_eval, None, probes, ())  # nothing above the design load to try
    high = upper if upper is not None else max(2 * low, low + 1.0)
    high_eval = evaluate(system.with_arrival_rate(high), placement, conventions)
    probes += 1
    # without an upper bound, double until the placement breaks (a placement on FaaS alone
    # may never saturate: stop at a huge rate and say so)
    while high_eval.feasible and upper is None and high < 1e9:
        low, low_eval = high, high_eval
        high *= 2
        high_eval = evaluate(system.with_arrival_rate(high), placement, conventions)
        probes += 1
    if high_eval.feasible:
        return MaxLoad(high, high_eval, None, probes, ())
    while high - low > epsilon:
        middle = (low + high) / 2
        if not low < middle < high:  # an epsilon finer than the floats here: as close as it gets
            break
        middle_eval = evaluate(system.with_arrival_rate(middle), placement, conventions)
        probes += 1
        if middle_eval.feasible:
            low, low_eval = middle, middle_eval
        else:
            high, high_eval = middle, middle_eval
    return MaxLoad(low, low_eval, high, probes,
                   tuple(v.message for v in high_eval.violations))
