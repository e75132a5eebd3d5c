import pytest

from compiler.errors import AisprintError
from compiler.placement.maxload import max_load
from compiler.placement.performance import evaluate
from compiler.placement.solve import solve
from tests.placement.random_systems import random_system


def feasible_case():
    for seed in range(50):
        system = random_system(seed)
        result = solve(system, mode="exact")
        if result.feasible:
            return system, result.placement
    raise AssertionError("no feasible random system")


def test_bisection_brackets_the_largest_sustainable_load():
    system, placement = feasible_case()
    found = max_load(system, placement, epsilon=1e-6)
    assert found.arrival_rate >= system.arrival_rate
    assert evaluate(system.with_arrival_rate(found.arrival_rate), placement).feasible
    if found.infeasible_above is not None:
        assert found.infeasible_above - found.arrival_rate <= 1e-6
        assert not evaluate(system.with_arrival_rate(found.infeasible_above), placement).feasible
        assert found.binding


def test_more_replicas_never_sustain_less():
    system, placement = feasible_case()
    plain = max_load(system, placement)
    widest = max_load(system, placement, at_most_replicas=True)
    assert widest.arrival_rate >= plain.arrival_rate - 1e-5


def test_infeasible_at_the_design_load_is_an_error():
    for seed in range(50):
        system = random_system(seed)
        result = solve(system, mode="exact")
        if result.feasible:
            found = max_load(system, result.placement)
            if found.infeasible_above is not None:
                break
    placement = result.placement
    with pytest.raises(AisprintError, match="not feasible at the design load"):
        max_load(system.with_arrival_rate(found.infeasible_above * 1.5), placement)


def test_cheapest_for_a_load_costs_at_least_as_much_for_more_load():
    system, _ = feasible_case()
    low = solve(system, mode="exact")
    high = solve(system.with_arrival_rate(system.arrival_rate * 1.3), mode="exact")
    if high.feasible:
        assert high.cost >= low.cost - 1e-9
