"""The deployment folders on the hand-built context (tests/targets/context.py): each
deployment's application_dag.yaml, and production_deployment.yaml for the placed ones."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler.load.schema import load_schema
from targets.deployment_folders import EMITTER
from tests.targets import context as ctx
from tests.targets.golden import assert_golden

D = "aisprint/deployments/"
PRODUCTION = D + "{}/production_deployment.yaml"


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(ctx.context())


def production(emitted, deployment: str = "optimal_deployment") -> dict:
    return yaml.safe_load(emitted[PRODUCTION.format(deployment)])["System"]


def test_a_dag_per_deployment_and_a_production_file_per_placed_one(emitted):
    assert sorted(emitted) == sorted(
        [f"{D}{d}/application_dag.yaml" for d in ("base", "optimal_deployment",
                                                  "current_deployment", "deployment1")]
        + [PRODUCTION.format(d) for d in ("optimal_deployment", "current_deployment")])


def test_base_keeps_the_dag_as_written(emitted):
    assert emitted[D + "base/application_dag.yaml"] == ctx.DAG_TEXT  # comment included


def test_a_partitioned_component_becomes_its_chain(emitted):
    assert yaml.safe_load(emitted[D + "optimal_deployment/application_dag.yaml"]) == {
        "System": {"name": "Road_Watch",
                   "components": ["camera", "detector_partition1_1", "detector_partition1_2",
                                  "notifier"],
                   "dependencies": [["detector_partition1_1", "detector_partition1_2", 1.0],
                                    ["camera", "detector_partition1_1", 1.0],
                                    ["detector_partition1_2", "notifier", 0.4]]}}
    assert yaml.safe_load(emitted[D + "deployment1/application_dag.yaml"])["System"][
        "components"] == ["camera", "detector", "notifier"]


def test_production_lists_each_unit_where_it_runs(emitted):
    system = production(emitted)
    # partition keys carry the cut: component2_partitionX_1 -> component2_partition1_1
    assert {key: (c["name"], c["executionLayer"], *(
        (k, v["selectedExecutionResource"]) for k, v in c["Containers"].items()))
        for key, c in system["Components"].items()} == {
        "component1": ("camera", 1, ("container1", "EdgeBox")),
        "component2_partition1_1": ("detector_partition1_1", 1, ("container1", "EdgeBox")),
        "component2_partition1_2": ("detector_partition1_2", 2, ("container1", "VM-sgx")),
        "component3": ("notifier", 3, ("container1", "Lambda-2GB"))}
    part2 = system["Components"]["component2_partition1_2"]["Containers"]["container1"]
    assert (part2["memorySize"], part2["computingUnits"], part2["trustedExecution"]) == \
        (3072, 2, True)
    assert system["DeploymentName"] == "optimal_deployment" and system["Feasible"] is True
    assert production(emitted, "current_deployment")["DeploymentName"] == "current_deployment"


def test_the_network_keeps_the_chosen_resources_with_the_placement_s_node_counts(emitted):
    domains = production(emitted)["NetworkDomains"]
    assert list(domains) == ["ND1", "ND2", "ND3"]
    assert domains["ND3"] == ctx.CANDIDATE_RESOURCES["System"]["NetworkDomains"]["ND3"]
    vm = domains["ND2"]["ComputationalLayers"]["computationalLayer2"]["Resources"]["resource1"]
    assert (vm["name"], vm["totalNodes"]) == ("VM-sgx", 2)  # 3 in candidate_resources
    edge = domains["ND1"]["ComputationalLayers"]["computationalLayer1"]["Resources"]
    assert edge["resource1"]["totalNodes"] == 2
    faas = domains["ND2"]["ComputationalLayers"]["computationalLayer3"]["Resources"]
    assert "totalNodes" not in faas["resource1"]  # Lambda has no nodes
    assert ctx.CANDIDATE_RESOURCES["System"]["NetworkDomains"]["ND2"]["ComputationalLayers"][
        "computationalLayer2"]["Resources"]["resource1"]["totalNodes"] == 3  # not modified


def test_an_infeasible_placement_says_so():
    files = EMITTER.emit(ctx.context(feasible=False))
    assert yaml.safe_load(files[PRODUCTION.format("optimal_deployment")])["System"][
        "Feasible"] is False


def test_unused_layers_are_pruned():
    edge_only = replace(ctx.OPTIMAL, units=(ctx.CAMERA_U,), dependencies=(), constraints=())
    files = EMITTER.emit(replace(ctx.context(), deployments=(edge_only,), candidates=()))
    domains = yaml.safe_load(files[PRODUCTION.format("optimal_deployment")])["System"][
        "NetworkDomains"]
    assert list(domains) == ["ND1", "ND3"]  # ND2 held only layers 2 and 3


def test_files_meet_their_schemas(emitted):
    for path, data in emitted.items():
        name = "production_deployment" if path.endswith("production_deployment.yaml") \
            else "application_dag"
        errors = Draft202012Validator(load_schema(name)).iter_errors(yaml.safe_load(data))
        assert list(errors) == [], path


def test_golden(emitted, request):
    assert_golden(request, "deployments", emitted)


def test_deterministic(emitted):
    assert EMITTER.emit(ctx.context()) == emitted
