import itertools
import re
from dataclasses import replace
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.placement.milp import solve_milp
from compiler.placement.performance import PYTHON_TOOL, Conventions, evaluate
from compiler.placement.system import Placement, System
from tests.placement.random_systems import brute_force, is_close, random_system


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6))
def test_milp_equals_brute_force_on_small_random_instances(seed):
    system = random_system(seed)
    truth = brute_force(system)
    result = solve_milp(system, time_limit=60)
    if truth is None:
        assert not result.feasible and result.status == "infeasible"
        assert result.explanation
    else:
        assert result.feasible and result.status == "optimal" and result.gap == 0.0
        assert is_close(result.cost, truth[1]), (result.cost, truth[1])


@pytest.mark.parametrize("conventions", [PYTHON_TOOL, Conventions(transfer_bits=True)])
def test_milp_follows_the_conventions(conventions):
    for seed in (3, 11, 29):
        system = random_system(seed)
        truth = brute_force(system, conventions)
        result = solve_milp(system, conventions, time_limit=60)
        assert (truth is None) == (not result.feasible)
        if truth:
            assert is_close(result.cost, truth[1])


def test_cbc_back_end_agrees_with_highs():
    system = random_system(5)
    highs = solve_milp(system, backend="highs")
    cbc = solve_milp(system, backend="cbc")
    assert highs.feasible == cbc.feasible
    if highs.feasible:
        assert is_close(highs.cost, cbc.cost)


def least_excess(system: System) -> float:
    """The smallest total excess over the time limits of any placement that breaks no other
    rule, by the evaluator, over every deployment, resource and replica count (small systems)."""
    per_component = []
    for comp in system.components:
        per_component.append([
            (dep.name, dict(zip([(comp.name, p.name) for p in dep.partitions], combo,
                                strict=True)))
            for dep in comp.deployments
            for combo in itertools.product(*[[o.resource for o in system.options_for(
                comp.name, p.name)] for p in dep.partitions])])
    best = float("inf")
    for picks in itertools.product(*per_component):
        deployments = {c.name: d for c, (d, _) in zip(system.components, picks, strict=True)}
        resources = {k: r for _, placed in picks for k, r in placed.items()}
        queue = sorted({r for r in resources.values() if not system.resource(r).is_faas})
        for counts in itertools.product(*[range(1, system.resource(r).number + 1)
                                          for r in queue]):
            ev = evaluate(system, Placement(deployments, resources,
                                            dict(zip(queue, counts, strict=True))))
            if {v.kind for v in ev.violations} <= {"local", "global"}:
                best = min(best, sum(v.excess for v in ev.violations))
    return best


# Found when this test stopped comparing the explanation with explain_infeasibility (which
# produced it) and compared it with every placement instead. Likely cause: the elastic model
# keeps the capacity cuts and the queue-factor cap derived from the limit it relaxes, so with an
# unreachable limit the component cannot sit on an edge/VM node (ignoring them in the elastic
# model fixes seeds 3, 5 and 11, not 7).
# seeds 0, 3 and 7 once went wrong: the elastic copy priced a missed limit twice through the
# capacity cuts (0: at least 0.9277 s said, 0.0935 s possible), left φ no value when a limit
# was below an option's demand (3: "no placement exists"), and with a 1/ε big-M let a placed
# partition take no time (7: "infeasible only by numerical tolerance")
@pytest.mark.parametrize("seed", [13, 0, 3, 7])
def test_infeasibility_names_the_limit_and_a_true_lower_bound_of_its_excess(seed):
    """c1 must answer in 1 ms, which no placement can: the explanation names c1's local
    limit, and its "over by at least" is at most what the best placement misses it by (the
    evaluator, every placement tried) and close to it."""
    impossible = replace(random_system(seed), local_constraints=MappingProxyType({"c1": 1e-3}))
    result = solve_milp(impossible)
    assert not result.feasible and result.status == "infeasible"
    least = least_excess(impossible)
    assert 0.01 < least < 10  # some placement breaks only the time limits
    (line,) = result.explanation
    stated = re.fullmatch(r"local limit of c1 cannot be met: over by at least (\S+) s", line)
    assert stated, result.explanation
    # a lower bound, and a close one (the tangents of the queue factor underestimate a little)
    assert least * 0.9 <= float(stated.group(1)) <= least * (1 + 1e-3)
