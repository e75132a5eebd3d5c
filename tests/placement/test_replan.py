"""Re-placement at run time: keep what runs when it still serves the load cheapest, otherwise
the new optimum with running resources reused where that is as cheap."""

from __future__ import annotations

from dataclasses import replace

import pytest

from compiler.placement.performance import evaluate
from compiler.placement.replan import replan
from compiler.placement.solve import solve
from tests.placement.random_systems import brute_force, is_close, random_system


def _feasible_pair(seed: int):
    """A random system whose optimum at its own load exists, and the same at 1.6x the load."""
    system = random_system(seed)
    solved = solve(system, mode="exact")
    if not solved.feasible:
        return None
    heavier = replace(system, arrival_rate=system.arrival_rate * 1.6)
    return system, solved.placement, heavier


def test_nothing_moves_when_the_load_did_not_change():
    checked = 0
    for seed in range(40):
        found = _feasible_pair(seed)
        if found is None:
            continue
        system, running, _ = found
        result = replan(system, running, mode="exact")
        assert result.kept and not result.changed and result.placement == running
        checked += 1
    assert checked >= 10


def test_a_heavier_load_gets_an_optimal_feasible_placement_that_reuses_what_runs():
    moved = 0
    for seed in range(12):
        found = _feasible_pair(seed)
        if found is None:
            continue
        _, running, heavier = found
        result = replan(heavier, running, mode="exact")
        best = brute_force(heavier)
        if best is None:
            assert result is None
            continue
        verdict = evaluate(heavier, result.placement)
        assert verdict.feasible  # the evaluator's verdict, not the solver's
        assert is_close(verdict.cost, best[1])  # as cheap as the optimum
        for component in result.reused:
            assert result.placement.deployments[component] == running.deployments[component]
        moved_units = {(m.component, m.unit) for m in result.moves}
        for (component, unit), resource in result.placement.resources.items():
            if (component, unit) not in moved_units:
                assert running.resources.get((component, unit)) == resource
        if result.changed:
            moved += 1
    assert moved >= 2  # the scenario does exercise re-placement


def test_a_tolerance_trades_a_little_cost_for_fewer_moves():
    compared = 0
    for seed in range(30):
        found = _feasible_pair(seed)
        if found is None:
            continue
        _, running, heavier = found
        strict = replan(heavier, running, mode="exact")
        lenient = replan(heavier, running, mode="exact", tolerance=0.5)
        if strict is None:
            continue
        assert len(lenient.moves) <= len(strict.moves)
        assert lenient.evaluation.cost <= strict.optimum_cost * 1.5 + 1e-9
        compared += 1
    assert compared >= 5


def test_no_placement_at_an_impossible_load():
    for seed in range(40):
        found = _feasible_pair(seed)
        if found is None:
            continue
        system, running, _ = found
        impossible = replace(system, arrival_rate=system.arrival_rate * 50)
        if brute_force(impossible) is None:
            assert replan(impossible, running, mode="exact") is None
            return
    pytest.fail("no seed gave an impossible load")


@pytest.mark.parametrize("seed", [3])
def test_moves_name_what_changed(seed):
    for s in range(seed, seed + 60):
        found = _feasible_pair(s)
        if found is None:
            continue
        _, running, heavier = found
        result = replan(heavier, running, mode="exact")
        if result is not None and result.moves:
            for move in result.moves:
                assert running.resources.get((move.component, move.unit), "") == move.before
                assert result.placement.resources.get((move.component, move.unit), "") == \
                    move.after
            return
    pytest.fail("no seed produced a move")
