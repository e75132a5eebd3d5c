"""An application's YAML as a placement problem, and the AIS8xx diagnostics."""

import json
import shutil

import pytest

from compiler import api
from compiler.errors import InvalidInput
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import system_from_application
from compiler.placement.system import Tier


def mapped(app_dir):
    report = api.validate(app_dir)
    performance, diags = load_performance(app_dir)
    return system_from_application(report.application, performance)


def test_mask_detection_as_a_system(prepared_examples):
    result = mapped(prepared_examples["mask_detection"])
    system = result.system
    assert [c.name for c in system.components] == ["blurry-faces-onnx", "mask-detector",
                                                     "mask-alert"]
    blurry = system.component("blurry-faces-onnx")
    assert [d.name for d in blurry.deployments] == ["base", "partition1"]
    assert [p.name for p in blurry.deployment("partition1").partitions] == [
        "blurry-faces-onnx_partition1_1", "blurry-faces-onnx_partition1_2"]
    tiers = {lay.name: lay.tier for lay in system.layers}
    assert tiers == {"computationalLayer1": Tier.EDGE, "computationalLayer2": Tier.EDGE,
                     "computationalLayer3": Tier.CLOUD, "computationalLayer4": Tier.FAAS}
    assert system.arrival_rate == 1  # expected_throughput of the source
    assert dict(system.local_constraints) == {"blurry-faces-onnx": 20, "mask-detector": 10,
                                              "mask-alert": 2}
    uplink = next(d for d in system.domains if d.name == "ND3")
    assert uplink.layers == {f"computationalLayer{n}" for n in (1, 2, 3, 4)}
    # the container that lists Lambda-4GB is container2
    assert result.containers[("mask-detector", "mask-detector", "Lambda-4GB")] == "container2"
    first = blurry.deployment("partition1").partitions[0]
    assert first.data_sizes == (1.2,)


def test_space4aid_writes_the_optimal_deployment(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["smart_city"], app, symlinks=True)
    outcome = api.place_application(str(app))
    assert outcome.result.feasible and outcome.result.status == "optimal"
    target = app / "aisprint" / "deployments" / "optimal_deployment"
    assert (target / "production_deployment.yaml").is_file()
    solution = json.loads((target / "space4ai-d" / "solution.json").read_text())
    assert solution["feasible"] and solution["total_cost"] == pytest.approx(
        outcome.result.cost)
    first = (target / "production_deployment.yaml").read_bytes()
    api.place_application(str(app))
    assert (target / "production_deployment.yaml").read_bytes() == first  # deterministic


def test_missing_performance_data_is_a_clear_error(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    (app / "oscarp" / "performance_models.json").unlink()
    with pytest.raises(InvalidInput) as caught:
        api.place_application(str(app))
    assert caught.value.diagnostics[0].code == "AIS802"
    assert "performance_models.json" in caught.value.diagnostics[0].hint


def test_partial_and_unsupported_models_warn_and_unplaceable_components_fail(
        prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    path = app / "oscarp" / "performance_models.json"
    models = json.loads(path.read_text())
    del models["mask-detector"]["mask-detector"]["EdgeNUC"]
    models["mask-detector"]["mask-detector"]["VM-t3large"] = {
        "model": "CoreBasedPredictor", "regressor_file": "x.pickle"}
    path.write_text(json.dumps(models))
    codes = {d.code for d in mapped(app).warnings}
    assert codes == {"AIS801", "AIS803"}
    models["mask-alert"]["mask-alert"] = {}
    path.write_text(json.dumps(models))
    with pytest.raises(InvalidInput) as caught:
        mapped(app)
    assert "AIS802" in {d.code for d in caught.value.diagnostics}


def test_no_feasible_placement_explains_why(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    source = app / "src" / "mask-alert" / "main.py"
    source.write_text(source.read_text().replace("local_time_thr=2,", "local_time_thr=0.001,"))
    with pytest.raises(InvalidInput) as caught:
        api.place_application(str(app))
    diag = caught.value.diagnostics[0]
    assert diag.code == "AIS804"
    assert "local limit of mask-alert cannot be met" in diag.message
