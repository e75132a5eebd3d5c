"""The placement never divides by zero, overflows or crashes the solver on numbers within
their ranges (#14); outside them it names the value (AIS806).

The property test draws every number of a system from its range, ends included and spread on
a log scale (a cost of 1e4 beside a demand of 1e-6 s is where floating point and HiGHS get into
trouble), and runs every solver on it."""

from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType

import pulp
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler.errors import InvalidInput
from compiler.load.schema import load_schema, number_schema
from compiler.placement import numbers as N
from compiler.placement.faas import faas_response_time
from compiler.placement.milp import _MilpBuilder, _run, _solver, solve_milp
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
    ResourceType,
    System,
    Tier,
)
from tests.placement.random_systems import random_system

# ------------------------------------------------------------------ the schemas agree

RESOURCE = ("System", "NetworkDomains", "N", "ComputationalLayers", "computationalLayer1",
            "Resources", "resource1")
UNIT = ("c", "u", "r")
SAME_RANGE = [
    ("candidate_resources", ("System", "NetworkDomains", "N", "AccessDelay"), N.ACCESS_DELAY),
    ("candidate_resources", ("System", "NetworkDomains", "N", "Bandwidth"), N.BANDWIDTH),
    ("candidate_resources", RESOURCE + ("totalNodes",), N.REPLICAS),
    ("candidate_resources", RESOURCE + ("cost",), N.RESOURCE_COST),
    ("candidate_resources", RESOURCE + ("memorySize",), N.RESOURCE_MEMORY),
    ("candidate_resources", RESOURCE + ("idleTime",), N.IDLE_TIME),
    ("candidate_resources", RESOURCE + ("transitionCost",), N.TRANSITION_COST),
    ("candidate_resources", RESOURCE + ("processors", "p", "computingUnits"), N.RESOURCE_CORES),
    ("candidate_deployments", ("Components", "c", "Containers", "k", "memorySize"),
     N.OPTION_MEMORY),
    ("performance_models", UNIT + ("demand",), N.DEMAND),
    ("performance_models", UNIT + ("demandWarm",), N.FAAS_DEMAND),
    ("performance_models", UNIT + ("demandCold",), N.FAAS_DEMAND),
    ("components_data_size", ("c",), N.DATA_SIZE),
    ("annotations", ("k", "exec_time", "local_time_thr"), N.TIME_LIMIT),
    ("annotations", ("k", "exec_time", "global_time_thr"), N.TIME_LIMIT),
    ("annotations", ("k", "expected_throughput", "rate"), N.ARRIVAL_RATE),
    ("space4ai_d", ("Time",), N.TIME_HORIZON),
    ("space4ai_system", ("Lambda",), N.ARRIVAL_RATE),
    ("space4ai_system", ("Time",), N.TIME_HORIZON),
    ("space4ai_system", ("NetworkTechnology", "n", "AccessDelay"), N.ACCESS_DELAY),
    ("space4ai_system", ("NetworkTechnology", "n", "Bandwidth"), N.BANDWIDTH),
    ("space4ai_system", ("EdgeResources", "L", "R", "number"), N.REPLICAS),
    ("space4ai_system", ("CloudResources", "L", "R", "cost"), N.RESOURCE_COST),
    ("space4ai_system", ("CloudResources", "L", "R", "memory"), N.RESOURCE_MEMORY),
    ("space4ai_system", ("CloudResources", "L", "R", "n_cores"), N.RESOURCE_CORES),
    ("space4ai_system", ("FaaSResources", "L", "R", "idle_time_before_kill"), N.IDLE_TIME),
    ("space4ai_system", ("FaaSResources", "L", "transition_cost"), N.TRANSITION_COST),
    ("space4ai_system", ("CompatibilityMatrix", "c", "h", 0, "memory"), N.OPTION_MEMORY),
    ("space4ai_system", ("Performance", "c", "h", "r", "demand"), N.DEMAND),
    ("space4ai_system", ("Performance", "c", "h", "r", "demandWarm"), N.FAAS_DEMAND),
    ("space4ai_system", ("Performance", "c", "h", "r", "demandCold"), N.FAAS_DEMAND),
    ("space4ai_system", ("Components", "c", "s", "h", "data_size", 0), N.DATA_SIZE),
    ("space4ai_system", ("Components", "c", "s", "h", "early_exit_probability"),
     N.PROBABILITY),
    ("space4ai_system", ("LocalConstraints", "c", "local_res_time"), N.TIME_LIMIT),
    ("space4ai_system", ("GlobalConstraints", "p", "global_res_time"), N.TIME_LIMIT),
]


@pytest.mark.parametrize(("schema", "path", "rng"), SAME_RANGE,
                         ids=[f"{s}:{p[-1] if isinstance(p[-1], str) else p[-2]}"
                              for s, p, _ in SAME_RANGE])
def test_what_a_schema_accepts_the_placement_computes_with(schema, path, rng):
    node = number_schema(load_schema(schema), path)
    assert node, f"no number schema at {path}"
    low = node.get("exclusiveMinimum", node.get("minimum"))
    high = node.get("maximum")
    assert low is not None and high is not None, node
    assert high == rng.high, "the schema's maximum is the placement's"
    assert low >= rng.low
    if low == rng.low:  # the same bound: open in the placement only if open in the schema
        assert rng.open_low <= ("exclusiveMinimum" in node)


# ------------------------------------------------------------------ outside the ranges


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: replace(s, arrival_rate=math.nan), "the arrival rate Λ is nan"),
    (lambda s: replace(s, arrival_rate=-1.0), "the arrival rate Λ is -1; the placement needs "
                                              "0 <= x <= 1e+06"),
    (lambda s: replace(s, time=math.inf), "the time horizon T is inf"),
    (lambda s: replace(s, domains=(replace(s.domains[0], bandwidth=0.0),) + s.domains[1:]),
     "the bandwidth of N1 is 0; the placement needs 1e-06 <= x <= 1e+07"),
    (lambda s: replace(s, resources=(replace(s.resources[0], cost=1e300),) + s.resources[1:]),
     "the cost of E1 is 1e+300; the placement needs 0 <= x <= 10000"),
    (lambda s: replace(s, resources=(replace(s.resources[0], number=10**400),)
                       + s.resources[1:]),
     "the number of E1 nodes is an integer of hundreds of digits"),
    (lambda s: replace(s, local_constraints=MappingProxyType({"c1": 0.0})),
     "the response-time limit of c1 is 0"),
])
def test_numbers_outside_their_range_are_named_before_any_solver_runs(change, expected):
    system = change(random_system(3))
    for mode in ("exact", "heuristic", "fast"):
        with pytest.raises(InvalidInput) as caught:
            solve(system, mode=mode, time_limit=5)
        assert [d.code for d in caught.value.diagnostics] == ["AIS806"]
        assert expected in caught.value.diagnostics[0].message
    with pytest.raises(InvalidInput):
        solve_milp(system, time_limit=5)


def test_a_faas_option_with_zero_warm_time_is_refused():
    system = random_system(5)
    (key, options), = [(k, v) for k, v in system.options.items()
                       if any(o.resource == "F1" for o in v)][:1]
    broken = tuple(replace(o, demand_warm=0.0) if o.resource == "F1" else o for o in options)
    system = replace(system, options=MappingProxyType({**system.options, key: broken}))
    with pytest.raises(InvalidInput) as caught:
        solve(system, mode="fast", time_limit=5)
    assert "the warm time of" in caught.value.diagnostics[0].message


@pytest.mark.parametrize(("rate", "warm", "cold", "idle"), [
    (1.0, 0.0, 1.0, 600.0), (1.0, 1.0, 0.0, 600.0), (1.0, 1.0, 2.0, 0.0),
    (1e-300, 1e-6, 1e-6, 1e-3), (0.0, 1.0, 2.0, 600.0), (1e6, 1e6, 1e-6, 1e6),
    (1e-300, 5e-324, 5e-324, 5e-324), (math.nan, 1.0, 2.0, 600.0),
])
def test_faas_model_has_no_division_by_zero_and_stays_between_warm_and_cold(rate, warm, cold,
                                                                             idle):
    value = faas_response_time(rate, warm, cold, idle)
    assert math.isfinite(value)
    assert min(warm, cold) <= value <= max(warm, cold)


def test_a_model_highs_cannot_read_is_reported_not_indexed():
    """HiGHS refuses a matrix value past 1e15 and PuLP then raises IndexError reading the
    empty answer (the issue's `cost: 1.0e+300`, which reached the cutoff row): _run says so."""
    problem = pulp.LpProblem("broken", pulp.LpMinimize)
    x = problem.add_variable("x", 0, 1, pulp.LpBinary)
    y = problem.add_variable("y", 0, 1, pulp.LpBinary)
    cap = problem.add_variable("cap", None, None, pulp.LpContinuous)
    problem += y
    problem += 1e300 * x + y <= cap, "cutoff"
    problem += x + y >= 1, "one"
    trouble = _run(problem, _solver("highs", 5.0, None), "highs")
    assert trouble is not None and "IndexError" in trouble


# ------------------------------------------------------------------ inside the ranges


def _value(draw, rng: N.Range):
    """An end of the range, or a point spread on a log scale between them."""
    low = rng.low if rng.low > 0 else 1e-9
    if rng is N.PROBABILITY:
        inner = st.floats(0, 1)
    else:
        inner = st.floats(math.log10(low), math.log10(rng.high)).map(lambda e: 10 ** e)
    ends = [rng.high] + ([] if rng.open_low else [rng.low])
    value = draw(st.one_of(st.sampled_from(ends), inner))
    value = min(max(value, rng.low), rng.high)
    return value if rng.holds(value) else rng.high


def _system(draw) -> System:
    v = lambda rng: _value(draw, rng)  # noqa: E731 - a short alias keeps the table readable
    nodes = lambda: draw(st.sampled_from([1, 2, 3, N.NODES]))  # noqa: E731
    resources = (
        ResourceType("E1", Tier.EDGE, "L1", v(N.RESOURCE_COST), v(N.RESOURCE_MEMORY),
                 number=nodes(), cores=v(N.RESOURCE_CORES)),
        ResourceType("V1", Tier.CLOUD, "L2", v(N.RESOURCE_COST), v(N.RESOURCE_MEMORY),
                 number=nodes()),
        ResourceType("F1", Tier.FAAS, "L3", v(N.RESOURCE_COST), v(N.RESOURCE_MEMORY),
                 idle_time=v(N.IDLE_TIME)),
        ResourceType("F2", Tier.FAAS, "L3", v(N.RESOURCE_COST), v(N.RESOURCE_MEMORY),
                 idle_time=v(N.IDLE_TIME)),
    )
    layers = (Layer("L1", Tier.EDGE, ("E1",)), Layer("L2", Tier.CLOUD, ("V1",)),
              Layer("L3", Tier.FAAS, ("F1", "F2"), v(N.TRANSITION_COST)))
    domains = (Domain("N1", frozenset({"L1", "L2", "L3"}), v(N.ACCESS_DELAY),
                             v(N.BANDWIDTH)),
               Domain("N2", frozenset({"L2", "L3"}), v(N.ACCESS_DELAY), v(N.BANDWIDTH)))
    options, components = {}, []
    for name, following in (("c1", ("c2",)), ("c2", ())):
        base = Partition(name, 0.0, following, tuple(v(N.DATA_SIZE) for _ in following))
        first = Partition(f"{name}a", v(N.PROBABILITY), (f"{name}b",), (v(N.DATA_SIZE),))
        second = Partition(f"{name}b", 0.0, following, tuple(v(N.DATA_SIZE) for _ in following))
        components.append(Component(name, (Deployment("base", (base,)),
                                           Deployment("split", (first, second)))))
        for part in (base, first, second):
            options[(name, part.name)] = tuple(
                Option(r.name, v(N.OPTION_MEMORY), "PACSLTK", demand_warm=v(N.FAAS_DEMAND),
                       demand_cold=v(N.FAAS_DEMAND)) if r.is_faas else
                Option(r.name, v(N.OPTION_MEMORY), "QTedge", demand=v(N.DEMAND))
                for r in resources if draw(st.booleans()) or r.name == "V1")
    return System("ranges", tuple(components), (("c1", "c2", v(N.PROBABILITY)),), resources,
                  layers, domains, MappingProxyType(options),
                  MappingProxyType({"c1": v(N.TIME_LIMIT)}),
                  (PathConstraint("p1", ("c1", "c2"), v(N.TIME_LIMIT)),),
                  arrival_rate=v(N.ARRIVAL_RATE), time=v(N.TIME_HORIZON))


@settings(max_examples=40, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # shrinking MILPs takes minutes
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_numbers_within_their_ranges_never_crash_a_solver(data):
    system = _system(data.draw)
    assert N.number_problems(system) == []
    exact = solve(system, mode="exact", time_limit=20)
    heuristic = solve(system, mode="heuristic", time_limit=2)
    assert exact.status in ("optimal", "feasible", "infeasible", "unknown")
    for result in (exact, heuristic):
        if result.feasible:
            check = evaluate(system, result.placement)
            assert check.feasible and math.isfinite(check.cost) and check.cost >= 0
    if heuristic.feasible and exact.status == "optimal":
        # HiGHS's tolerance (1e-6) applies in the scaled objective's units (milp.LARGEST_COST)
        scale = _MilpBuilder(system, DEFAULT).cost_scale
        assert exact.cost <= heuristic.cost * (1 + 1e-6) + 1e-6 * scale
    if exact.status == "infeasible":
        assert not heuristic.feasible


# ------------------------------------------------------------------ aisprint space4aid --system

SYSTEM_PROBES = [
    ("Lambda", "NaN", "AIS109", "0 < x <= 1000000"),
    ("cost", "Infinity", "AIS109", "0 <= x <= 10000"),
    ("cost", "1e300", "AIS110", "0 <= x <= 10000"),
    ("number", "9" * 400, "AIS110", "1 <= x <= 1000"),
    ("Bandwidth", "0", "AIS105", "1e-06 <= x <= 10000000"),
    ("demandWarm", "0", "AIS105", "1e-06 <= x <= 1000000"),
]


@pytest.mark.parametrize(("key", "value", "code", "valid"), SYSTEM_PROBES,
                         ids=[f"{k}={v[:8]}" for k, v, _, _ in SYSTEM_PROBES])
def test_system_json_numbers_are_refused_at_their_line(tmp_path, monkeypatch, key, value, code,
                                                       valid):
    """The SPACE4AI-D system JSON (json.loads reads NaN, Infinity and 1e300 as numbers)."""
    import contextlib
    import io
    import json
    import re

    from compiler.cli.main import app as cli
    from compiler.cli.main import run
    from compiler.placement.interop import system_json

    monkeypatch.delenv("AISPRINT_DEBUG", raising=False)
    text = json.dumps(system_json(random_system(1)), indent=2)
    match = re.search(rf'"{key}": [^,\n]+', text)
    line = text[:match.start()].count("\n") + 1
    path = tmp_path / "system.json"
    path.write_text(text[:match.start()] + f'"{key}": {value}' + text[match.end():])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = run(cli, ["space4aid", "--system", str(path)])
    assert status == 1, out.getvalue()
    assert f"{path}:{line}:" in out.getvalue() and f"error {code}" in out.getvalue()
    assert f"valid range: {valid}" in out.getvalue()


def test_an_arrival_rate_from_the_command_line_is_checked_too(tmp_path, monkeypatch):
    """-L, or a load measured by the reconciler (which may be 0: nothing flows)."""
    import contextlib
    import io
    import json

    from compiler.cli.main import app as cli
    from compiler.cli.main import run
    from compiler.placement.interop import system_json

    monkeypatch.delenv("AISPRINT_DEBUG", raising=False)
    path = tmp_path / "system.json"
    path.write_text(json.dumps(system_json(random_system(1))))
    for rate in ("nan", "inf", "-1", "1e7"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = run(cli, ["space4aid", "--system", str(path), "-L", rate])
        assert status == 1, out.getvalue()
        assert "AIS806" in out.getvalue() and "0 <= x <= 1e+06" in out.getvalue()


def test_a_search_stopped_without_any_answer_says_why():
    result = solve_milp(random_system(2), time_limit=0.01)
    assert result.status == "unknown" and not result.feasible
    assert "no placement" in result.explanation[0] and "--time-limit" in result.explanation[0]


def test_max_load_with_an_epsilon_finer_than_the_floats_ends():
    """SPACE4AI-D.yaml's epsilon may be 1e-300 (> 0): the bisection stops at adjacent floats."""
    from compiler.placement.maxload import max_load

    system = random_system(4)
    result = solve(system, mode="heuristic", time_limit=2)
    assert result.feasible
    found = max_load(system, result.placement, upper=1e6, epsilon=1e-300)
    assert found.arrival_rate >= system.arrival_rate
    assert found.probes < 2000
