"""The feasibility-first construction, and the modes that start from it (issue #16 item 1)."""

import math
import random
from types import MappingProxyType

import pytest

from compiler.placement.construct import construct, violation_score
from compiler.placement.faas import faas_response_time
from compiler.placement.heuristics import _Search, solve_heuristic
from compiler.placement.milp import solve_milp
from compiler.placement.performance import DEFAULT, evaluate
from compiler.placement.solve import solve
from compiler.placement.system import (
    Component,
    Deployment,
    Domain,
    Layer,
    Option,
    Partition,
    PathConstraint,
    Placement,
    ResourceType,
    System,
    Tier,
)
from tests.placement.random_systems import random_system

IDLE = 600.0


def tight_chain(n: int = 14, *, slack: float = 1.04, seed: int = 5) -> System:
    """A chain of ``n`` components where only the fastest options meet the limits.

    Every component may run on a fast shared VM type (two replicas, so it saturates when
    everyone piles on), a slow VM type of the same layer, or three FaaS configurations of which
    one is fast. Each component's local limit is ``slack`` times its fastest FaaS time, and a
    path limit covers the whole chain: a random pick of one option in five per component
    misses it."""
    rng = random.Random(seed)
    resources = (
        ResourceType("VMfast", Tier.CLOUD, "vm", 2.0, 8192, number=2),
        ResourceType("VMslow", Tier.CLOUD, "vm", 0.5, 8192, number=3),
        ResourceType("Ffast", Tier.FAAS, "faas", 0.5, 4096, idle_time=IDLE),
        ResourceType("Fmid", Tier.FAAS, "faas", 0.2, 4096, idle_time=IDLE),
        ResourceType("Fslow", Tier.FAAS, "faas", 0.1, 4096, idle_time=IDLE),
    )
    layers = (Layer("vm", Tier.CLOUD, ("VMfast", "VMslow")),
              Layer("faas", Tier.FAAS, ("Ffast", "Fmid", "Fslow")))
    domains = (Domain("net", frozenset({"vm", "faas"}), 0.001, 1000.0),)
    names = [f"c{i}" for i in range(1, n + 1)]
    edges = tuple((a, b, 1.0) for a, b in zip(names, names[1:], strict=False))
    components, options, local = [], {}, {}
    rate = 1.0
    for i, name in enumerate(names):
        following = (names[i + 1],) if i + 1 < n else ()
        part = Partition("h1", 0.0, following, tuple(1.0 for _ in following))
        components.append(Component(name, (Deployment("s1", (part,)),)))
        warm = rng.uniform(0.2, 0.3)
        opts = (Option("VMfast", 512, "QTcloud", demand=warm * 0.6),
                Option("VMslow", 512, "QTcloud", demand=warm * 3),
                Option("Ffast", 512, "PACSLTK", demand_warm=warm, demand_cold=warm + 0.3),
                Option("Fmid", 512, "PACSLTK", demand_warm=warm * 2, demand_cold=warm * 2 + 1),
                Option("Fslow", 512, "PACSLTK", demand_warm=warm * 4,
                       demand_cold=warm * 4 + 2))
        options[(name, "h1")] = opts
        local[name] = slack * faas_response_time(rate, warm, warm + 0.3, IDLE)
    whole = PathConstraint("all", tuple(names), sum(local.values()) + 0.001 * n)
    return System("tight", tuple(components), edges, resources, layers, domains,
                  MappingProxyType(options), MappingProxyType(local), (whole,),
                  arrival_rate=rate, time=1.0)


def random_greedy_finds(system: System, draws: int = 300) -> bool:
    search = _Search(system, DEFAULT, random.Random(1), math.inf)
    for _ in range(draws):
        candidate = search.random_placement()
        if candidate is not None and search.shrink(candidate)[1].feasible:
            return True
    return False


def test_construction_is_feasible_where_random_greedy_finds_nothing():
    system = tight_chain()
    assert not random_greedy_finds(system)
    built = construct(system)
    assert built.feasible
    again = evaluate(system, built.placement)
    assert again.feasible and violation_score(system, again) == 0
    # the shared fast VM type takes only what it can serve within the limits
    on_fast_vm = [k for k, r in built.placement.resources.items() if r == "VMfast"]
    assert 0 < len(on_fast_vm) < len(system.components)


def test_repair_fixes_a_violated_start_along_the_offending_component():
    system = tight_chain()
    slow = Placement({c.name: "s1" for c in system.components},
                     {(c.name, "h1"): "Fslow" for c in system.components}, {})
    assert violation_score(system, evaluate(system, slow)) > 0
    built = construct(system, start=slow)
    assert built.feasible and built.repairs > 0
    assert evaluate(system, built.placement).feasible


def test_heuristic_reaches_feasibility_and_keeps_it():
    system = tight_chain()
    result = solve_heuristic(system, seed=1, iterations=50, local_steps=10, kicks=1)
    assert result.status == "feasible"
    assert evaluate(system, result.placement).feasible


def test_fast_mode_returns_the_incumbent_when_the_milp_has_no_time():
    system = tight_chain(24)
    alone = solve_milp(system, time_limit=0.001)
    assert alone.placement is None and alone.status == "unknown"  # no time to find one
    result = solve(system, mode="fast", time_limit=0.001)
    # the construction's incumbent (which the MILP may still prove optimal in its 0.1 s)
    assert result.status in ("feasible", "optimal") and result.placement is not None
    again = evaluate(system, result.placement)
    assert again.feasible and again.cost == pytest.approx(result.cost, rel=1e-12)


def test_exact_mode_falls_back_to_the_construction_at_its_limit():
    system = tight_chain(24)
    result = solve(system, mode="exact", time_limit=0.001)
    assert result.status in ("feasible", "optimal") and result.placement is not None
    assert evaluate(system, result.placement).feasible


@pytest.mark.parametrize("seed", [2, 7, 13])
def test_the_heuristic_never_ends_dearer_than_its_cheapest_start(seed):
    """Without descent steps the answer is the cheapest start (construction or random
    greedy); the descent only ever improves on it."""
    system = random_system(seed, components=5)
    starts = solve_heuristic(system, seed=seed, iterations=40, local_steps=0, kicks=0)
    full = solve_heuristic(system, seed=seed, iterations=40)
    assert starts.feasible == full.feasible
    if starts.feasible:
        assert full.cost <= starts.cost + 1e-12
        assert evaluate(system, full.placement).feasible


def test_same_seed_same_answer():
    system = tight_chain(20)
    a, b = construct(system), construct(system)
    assert a.placement == b.placement and a.evaluation.cost == b.evaluation.cost
    first = solve(system, mode="heuristic", seed=4, time_limit=30)
    second = solve(system, mode="heuristic", seed=4, time_limit=30)
    assert first.placement == second.placement and first.cost == second.cost


def test_nothing_feasible_says_which_limits_are_missed():
    system = tight_chain(6, slack=0.5)  # every limit below the fastest option's time
    result = solve(system, mode="heuristic", time_limit=2)
    assert result.status == "unknown" and result.placement is None
    text = " ".join(result.explanation)
    assert "closest one found misses" in text and "over its limit" in text
