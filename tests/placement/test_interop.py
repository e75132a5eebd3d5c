"""Every interop file round-trips: system JSON, solution JSON, production_deployment.yaml."""

import glob
import json
from dataclasses import replace

import pytest
import yaml

from compiler import api
from compiler.compile import units_from_placement
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import system_from_application
from compiler.placement.interop import placement_from_solution, solution_json, system_json
from compiler.placement.production import placement_from_production, production_document
from compiler.placement.solve import solve
from compiler.placement.system_file import load_system, system_from_json
from targets.deployment_folders import production_rows, replicas_of
from tests.conftest import SHARED
from tests.placement.random_systems import random_system

INSTANCES = sorted(glob.glob(str(SHARED / "benchmarks/space4ai/instances/*/*/*.json"))
                   + glob.glob(str(SHARED / "benchmarks/space4ai/instances/RunningExample/*.json")))


@pytest.mark.skipif(not INSTANCES, reason="needs ../shared/benchmarks")
def test_all_published_system_files_round_trip():
    assert len(INSTANCES) == 83  # 80 instances and 3 running-example scenarios
    for path in INSTANCES:
        system = load_system(path)
        again = system_from_json(json.loads(json.dumps(system_json(system))), file=path)
        assert replace(again, name=system.name) == system, path


def test_two_source_systems_load_and_both_sources_get_lambda():
    if not INSTANCES:
        pytest.skip("needs ../shared/benchmarks")
    system = load_system(SHARED / "benchmarks/space4ai/instances/Light/5-components/"
                         "system_description2.json", arrival_rate=1.8)
    assert set(system.sources) == {"c1", "c2"}
    assert system.component_rates["c1"] == system.component_rates["c2"] == 1.8


def test_solution_json_round_trips():
    for seed in range(6):
        system = random_system(seed)
        result = solve(system, mode="exact")
        if not result.feasible:
            continue
        data = json.loads(json.dumps(solution_json(system, result.placement, result.evaluation)))
        assert placement_from_solution(system, data) == result.placement
        assert data["total_cost"] == pytest.approx(result.cost)
        assert data["feasible"] is True


def test_production_deployment_round_trips(prepared_examples):
    for name, app_dir in prepared_examples.items():
        report = api.validate(app_dir)
        performance, _ = load_performance(app_dir)
        mapped = system_from_application(report.application, performance)
        result = solve(mapped.system)
        assert result.feasible, name
        units = units_from_placement(mapped, result.placement)
        doc = production_document(
            production_rows(units),
            candidate_resources=report.loaded.documents["candidate_resources"].data,
            replicas=replicas_of(units), feasible=True)
        text = yaml.safe_dump(doc, sort_keys=False)
        back = placement_from_production(mapped, yaml.safe_load(text))
        assert back == result.placement
        for entry in doc["System"]["Components"].values():
            (container,) = entry["Containers"].values()
            assert container["selectedExecutionResource"]
            assert isinstance(entry["executionLayer"], int)
