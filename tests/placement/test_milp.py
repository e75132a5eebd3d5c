import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.placement.milp import explain_infeasibility, solve_milp
from compiler.placement.performance import PYTHON_TOOL, Conventions
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


def test_infeasibility_is_explained_with_the_limit_and_amount():
    from dataclasses import replace
    from types import MappingProxyType

    system = random_system(7)
    impossible = replace(system, local_constraints=MappingProxyType({"c1": 1e-3}))
    result = solve_milp(impossible)
    assert not result.feasible and result.status == "infeasible"
    assert any("local limit of c1" in line and "over by at least" in line
               for line in result.explanation), result.explanation
    assert explain_infeasibility(impossible) == result.explanation
