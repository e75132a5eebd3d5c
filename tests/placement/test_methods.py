"""SPACE4AI-D.yaml's Methods, Seed and VerboseLevel reach the solver, or say what runs instead."""

from __future__ import annotations

import pytest

from compiler import compile as compile_module
from compiler.compile import build, place_application
from compiler.diagnostics import Severity
from compiler.load.common_config import build_space4aid
from compiler.load.methods import SolverOptions, method_diagnostics, solver_options
from compiler.load.yamlpos import parse_yaml
from compiler.placement.heuristics import solve_heuristic
from compiler.validate import validate
from tests.conftest import copy_example
from tests.placement.random_systems import random_system

SPACE4AID = "space4ai-d/SPACE4AI-D.yaml"


def settings(text: str):
    doc, problems = parse_yaml(text, SPACE4AID)
    assert not problems
    return build_space4aid(doc)


def codes(text: str) -> list[str]:
    return [d.code for d in method_diagnostics(settings(text))]


GUIDE = """\
Methods:
  method1: {name: RandomGreedy, iterations: 7, duration: 0}
  method2: {name: LocalSearch, startingPointNumber: 2, iterations: 4, duration: 30}
  method3: {name: BS, upperBoundLambda: 5, epsilon: 0.001}
Seed: 11
VerboseLevel: 1
"""


# ----------------------------------------------------------------------------- options


def test_each_setting_becomes_a_solver_option():
    options = solver_options(settings(GUIDE))
    assert options == SolverOptions(seed=11, iterations=7, elite=2, local_steps=4,
                                    duration=30.0, progress=True, max_load=(5.0, 0.001))
    assert options.heuristic() == {"iterations": 7, "elite": 2, "local_steps": 4}
    assert codes(GUIDE) == []  # everything in it runs as named


def test_random_greedy_iterations_set_the_constructions_and_a_seed_repeats_the_answer():
    system = random_system(0, components=4)
    for iterations in (3, 40):
        options = solver_options(settings(GUIDE.replace("iterations: 7",
                                                        f"iterations: {iterations}")))
        assert options.heuristic()["iterations"] == iterations
        runs = [solve_heuristic(system, seed=options.seed, **options.heuristic())
                for _ in range(2)]
        assert runs[0].feasible
        assert runs[0].placement == runs[1].placement and runs[0].cost == runs[1].cost


def test_zero_iterations_leave_the_solver_its_own_budget():
    # SPACE4AI-D then runs by duration; here the heuristic keeps its default count
    options = solver_options(settings(GUIDE.replace("iterations: 7", "iterations: 0")))
    assert "iterations" not in options.heuristic()


def test_duration_bounds_the_time_limit():
    options = solver_options(settings(GUIDE))  # 0 + 30 s granted
    assert options.time_limit(None, 8.0) == 30.0
    assert options.time_limit(5.0, 8.0) == 5.0  # --time-limit wins
    short = solver_options(settings(GUIDE.replace("duration: 30", "duration: 1")))
    assert short.time_limit(None, 8.0) == 8.0  # never below the mode's own limit
    assert SolverOptions().time_limit(None, 8.0) is None  # the solver's default


def test_a_file_grants_at_most_ten_minutes():
    # the file comes with a pull request: its plan must not hold CI for days
    text = GUIDE.replace("duration: 0}", "duration: 500000}")
    assert solver_options(settings(text)).time_limit(None, 8.0) == 600.0
    (found,) = method_diagnostics(settings(text))
    assert found.code == "AIS812" and "add up to 500030 s" in found.message
    assert found.location.line == 3  # method2, the method that ends the run


def test_seed_and_verbose_level():
    options = solver_options(settings(GUIDE.replace("VerboseLevel: 1", "VerboseLevel: 0")))
    assert options.seed_or(1) == 11 and options.seed_or(4) == 4
    assert options.progress is False
    assert solver_options(None) == SolverOptions() and list(method_diagnostics(None)) == []


# ----------------------------------------------------------------------------- diagnostics


@pytest.mark.parametrize("name, unused", [("TabuSearch", "tabuSize"),
                                          ("SimulatedAnnealing", "temperature"),
                                          ("GeneticAlgorithm", "crossoverRate")])
def test_a_method_run_as_another_says_so(name, unused):
    text = GUIDE.replace("{name: LocalSearch,", f"{{name: {name}, specialParameters: "
                         f"{{{unused}: 1}},")
    (found,) = method_diagnostics(settings(text))
    assert found.code == "AIS808" and found.severity is Severity.WARNING
    assert f"method2: {name} runs as the MILP-backed search" in found.message
    assert f"its {unused} is not used" in found.message
    assert (found.location.file, found.location.line) == (SPACE4AID, 3)
    # and it still sets the search's starts and steps
    assert solver_options(settings(text)).heuristic() == {"iterations": 7, "elite": 2,
                                                           "local_steps": 4}


def test_unused_parameters_repeated_methods_and_verbose_levels():
    assert codes(GUIDE.replace("duration: 0}", "duration: 0, startingPointNumber: 3}")) \
        == ["AIS809"]
    assert codes(GUIDE.replace("epsilon: 0.001}", "epsilon: 0.001, iterations: 2}")) \
        == ["AIS809"]
    repeated = GUIDE.replace("Seed:", "  method4: {name: TabuSearch, iterations: 3}\nSeed:")
    (found,) = method_diagnostics(settings(repeated))
    assert found.code == "AIS810" and "method2 (LocalSearch) already is" in found.message
    assert solver_options(settings(repeated)).local_steps == 4  # the first one runs
    (found,) = method_diagnostics(settings(GUIDE.replace("VerboseLevel: 1", "VerboseLevel: 3")))
    assert (found.code, found.severity, found.location.line) == ("AIS811", Severity.INFO, 6)


# ----------------------------------------------------------------------------- end to end


@pytest.fixture
def tabu_app(tmp_path):
    app = copy_example("mask_detection", tmp_path, models=False)
    (app / SPACE4AID).write_text(
        "EdgeResources: [computationalLayer1, computationalLayer2]\n"
        "CloudResources: [computationalLayer3]\n"
        "Methods:\n"
        "  method1: {name: RandomGreedy, iterations: 50, duration: 0}\n"
        "  method2: {name: TabuSearch, startingPointNumber: 2, iterations: 5, duration: 30,\n"
        "            specialParameters: {tabuSize: 20}}\n"
        "Seed: 9\nVerboseLevel: 0\nTime: 1\n")
    return app


def test_validate_and_compile_give_the_same_warning_with_its_line(tabu_app):
    report = validate(tabu_app)
    assert report.valid
    (warning,) = [d for d in report.diagnostics if d.code == "AIS808"]
    assert warning.location.file.endswith(SPACE4AID) and warning.location.line == 5
    compiled = build(tabu_app, max_deployments=1, targets=("deployments",))
    assert [d for d in compiled.warnings if d.code == "AIS808"] == [warning]


def test_the_solver_gets_the_file_s_seed_time_limit_and_progress(tabu_app, monkeypatch):
    calls = []
    real = compile_module.solve

    def recording(system, **options):  # the real solver, its keywords recorded
        calls.append(options)
        return real(system, **options)

    monkeypatch.setattr(compile_module, "solve", recording)
    outcome = place_application(tabu_app, write=False, progress=print)
    assert outcome.result.feasible
    assert "AIS808" in {d.code for d in outcome.warnings}
    (call,) = calls
    assert (call["seed"], call["time_limit"], call["progress"]) == (9, 30.0, None)
    # RandomGreedy's 50 constructions, TabuSearch's 2 starting points and 5 steps
    assert call["heuristic"] == {"iterations": 50, "elite": 2, "local_steps": 5}


def test_heuristic_mode_runs_the_budgets_it_is_given(monkeypatch):
    from compiler.placement import solve as solve_module

    seen = []
    real = solve_module.solve_heuristic

    def recording(system, conventions, **options):
        seen.append(options)
        return real(system, conventions, **options)

    monkeypatch.setattr(solve_module, "solve_heuristic", recording)
    system = random_system(3)
    budgets = {"iterations": 7, "elite": 2, "local_steps": 3}
    first = solve_module.solve(system, mode="heuristic", seed=4, heuristic=budgets)
    again = solve_module.solve(system, mode="heuristic", seed=4, heuristic=budgets)
    assert [{k: o[k] for k in budgets} for o in seen] == [budgets, budgets]
    assert first.placement == again.placement


def test_an_unknown_method_is_rejected(tabu_app):
    path = tabu_app / SPACE4AID
    path.write_text(path.read_text().replace("TabuSearch", "HillClimbing"))
    report = validate(tabu_app)
    assert not report.valid
    assert [(d.code, d.location.line) for d in report.diagnostics if d.code == "AIS104"] \
        == [("AIS104", 5)]
