"""Models corrected by measurements: a component measured slower than predicted gets its
demands scaled by measured / predicted, and a re-placement made from the corrected model meets
the limit the measure missed."""

from __future__ import annotations

import functools
import math

import pytest

from compiler.placement.calibrate import calibrated, scaled
from compiler.placement.performance import evaluate
from compiler.placement.replan import replan
from compiler.placement.solve import solve
from compiler.placement.system import Tier
from tests.placement.random_systems import random_system


@functools.lru_cache(maxsize=1)
def _all_pairs():
    pairs = []
    for seed in range(60):
        system = random_system(seed)
        solved = solve(system, mode="exact")
        if solved.feasible:
            pairs.append((system, solved.placement))
    return pairs


def _pairs(count: int = 12):
    found = _all_pairs()
    assert len(found) >= count
    return found[:count]


@pytest.mark.parametrize("slowdown", [1.5, 4.0])
def test_demands_scale_by_measured_over_predicted(slowdown):
    checked = 0
    for system, running in _pairs():
        predicted = evaluate(system, running).component_times
        for component, seconds in sorted(predicted.items()):
            fixed, factors = calibrated(system, running, {component: seconds * slowdown})
            assert factors == {component: pytest.approx(slowdown)}
            for key, options in system.options.items():
                for before, after in zip(options, fixed.options[key], strict=True):
                    factor = slowdown if key[0] == component else 1.0
                    assert after.demand == pytest.approx(before.demand * factor)
                    assert after.demand_cold == pytest.approx(before.demand_cold * factor)
            tiers = {system.resource(r).tier for c, _, _, r in running.assignments(system)
                     if c == component}
            after = evaluate(fixed, running).component_times[component]
            if tiers <= {Tier.EDGE, Tier.CLOUD} and math.isfinite(after):
                # a node's queue grows faster than its demand: at least the measured time
                single = all(len(d.partitions) == 1 for c in system.components
                             if c.name == component for d in c.deployments)
                if single:
                    assert after >= seconds * slowdown * (1 - 1e-9)
            checked += 1
    assert checked >= 20


def test_a_component_not_slower_than_predicted_keeps_its_model():
    system, running = _pairs(1)[0]
    predicted = evaluate(system, running).component_times
    component = min(predicted)
    fixed, factors = calibrated(system, running, {component: predicted[component] * 0.5,
                                                  "no-such-component": 9.0})
    assert factors == {} and fixed == system


def test_scaling_multiplies_every_demand_of_one_component_only():
    system = random_system(3)
    doubled = scaled(system, "c1", 2.0)
    for key, options in system.options.items():
        for before, after in zip(options, doubled.options[key], strict=True):
            factor = 2.0 if key[0] == "c1" else 1.0
            assert after.demand == pytest.approx(before.demand * factor)
            assert after.demand_warm == pytest.approx(before.demand_warm * factor)
            assert after.demand_cold == pytest.approx(before.demand_cold * factor)


def test_re_placing_from_the_calibrated_model_meets_the_limit_the_measure_missed():
    replaced = 0
    for system, running in _pairs(20):
        for component, limit in system.local_constraints.items():
            if component not in running.deployments:
                continue
            fixed, _ = calibrated(system, running, {component: limit * 1.3})
            result = replan(fixed, running, mode="exact")
            if result is None:
                continue
            verdict = evaluate(fixed, result.placement)
            assert verdict.feasible and result.changed
            assert verdict.component_times[component] <= limit * (1 + 1e-6)
            replaced += 1
    assert replaced >= 3
