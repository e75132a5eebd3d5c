"""What profile writes: deterministic, merged into hand-written files, read by the placement."""

import json

import pytest

from compiler import api
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import system_from_application
from compiler.profile.fit import TimingSample, fit, save
from compiler.profile.learn import UnitReport
from compiler.profile.measure import RunRow
from compiler.profile.outputs import (
    dumps_json,
    merge_data_sizes,
    merge_performance_models,
    runtime_dataframe,
)
from compiler.profile.plan import Configuration
from compiler.profile.units import ProfiledUnit


def report(name="mask-detector", demands=None):
    unit = ProfiledUnit(name, name, "base", None, ("VM-t3large",))
    return UnitReport(unit, (Configuration(1, 1),), (RunRow(1, 1, 0.5, 1, 1, 1),), 2, None,
                      True, 0.01, demands or {"VM-t3large": (2.0, 0.25)}, 0.3)


def test_performance_models_are_merged_not_clobbered_and_written_in_one_style():
    existing = {"mask-detector": {"mask-detector": {
        "VM-t3large": {"model": "QTcloud", "demand": 0.16},
        "Lambda-4GB": {"model": "PACSLTK", "demandWarm": 0.14, "demandCold": 2.6}}}}
    regressors = {"mask-detector": "oscarp/p/mask-detector/results/Models/best.joblib"}
    merged = merge_performance_models(existing, [report()], regressors)
    assert existing["mask-detector"]["mask-detector"]["VM-t3large"]["model"] == "QTcloud"
    # sorted keys, two spaces, a final newline; the FaaS entry kept, the VM entry replaced
    assert dumps_json(merged) == """\
{
  "mask-detector": {
    "mask-detector": {
      "Lambda-4GB": {
        "demandCold": 2.6,
        "demandWarm": 0.14,
        "model": "PACSLTK"
      },
      "VM-t3large": {
        "cores": 2.0,
        "demand": 0.25,
        "meanTime": 0.3,
        "model": "CoreBasedPredictor",
        "regressor_file": "oscarp/p/mask-detector/results/Models/best.joblib"
      }
    }
  }
}
"""


def test_data_sizes_keep_comments_and_other_units():
    old = "# MB each unit sends on\nzeta: 1.5\nalpha: 0.2\n"
    new = merge_data_sizes(old, {"alpha": 0.0123456789, "beta": 2})
    assert new == "# MB each unit sends on\nalpha: 0.0123457\nbeta: 2.0\nzeta: 1.5\n"
    assert merge_data_sizes(new, {"alpha": 0.0123456789, "beta": 2}) == new


def test_runtime_dataframe_has_the_oscarp_columns_in_a_stable_order():
    rows = [RunRow(2, 1, 0.25, 1, 1, 1), RunRow(1, 2, 0.125, 2, 2, 2), RunRow(1, 1, 0.5, 1, 1, 1)]
    assert runtime_dataframe(rows) == (
        "runs,configurations,runtime,actual_parallelism,target_parallelism,cores\n"
        "Run #1,Configuration #1,0.500000,1,1,1\n"
        "Run #2,Configuration #1,0.250000,1,1,1\n"
        "Run #1,Configuration #2,0.125000,2,2,2\n")


def test_the_placement_evaluates_a_learnt_model_at_each_resources_cores(mask_app):
    model = fit([TimingSample(c, 1, r, 0.02 + 0.2 / c) for c in (1, 2, 4) for r in (1, 2, 3)])
    folder = mask_app / "oscarp" / "learnt"
    save(model, folder)
    path = mask_app / "oscarp" / "performance_models.json"
    models = json.loads(path.read_text())
    learnt = {"model": "CoreBasedPredictor", "regressor_file": "oscarp/learnt/best.joblib"}
    models["mask-detector"]["mask-detector"]["VM-t3large"] = dict(learnt)  # 2 cores
    models["mask-detector"]["mask-detector"]["VM-c5xlarge"] = dict(learnt)  # 4 cores
    path.write_text(json.dumps(models))

    def demands():
        report = api.validate(mask_app)
        performance, _ = load_performance(mask_app)
        mapped = system_from_application(report.application, performance)
        assert not {w.code for w in mapped.warnings} & {"AIS801", "AIS803"}
        return {o.resource: o.demand
                for o in mapped.system.options_for("mask-detector", "mask-detector")}

    first = demands()
    assert first["VM-t3large"] == pytest.approx(0.02 + 0.2 / 2, rel=0.03)
    assert first["VM-c5xlarge"] == pytest.approx(0.02 + 0.2 / 4, rel=0.03)
    assert first["EdgeNUC"] == 0.07  # the hand-written constant is untouched
    resources = mask_app / "common_config" / "candidate_resources.yaml"
    text = resources.read_text()
    resources.write_text(text.replace("name: Xeon Platinum 8259CL, type: CascadeLake, "
                                      "architecture: amd64, computingUnits: 2",
                                      "name: Xeon Platinum 8259CL, type: CascadeLake, "
                                      "architecture: amd64, computingUnits: 1"))
    assert demands()["VM-t3large"] == pytest.approx(0.02 + 0.2 / 1, rel=0.03)


def test_without_its_onnx_file_a_learnt_model_falls_back_to_its_demand(mask_app):
    path = mask_app / "oscarp" / "performance_models.json"
    models = json.loads(path.read_text())
    models["mask-detector"]["mask-detector"]["VM-t3large"] = {
        "model": "CoreBasedPredictor", "regressor_file": "missing.joblib", "demand": 0.5}
    path.write_text(json.dumps(models))
    report = api.validate(mask_app)
    performance, _ = load_performance(mask_app)
    system = system_from_application(report.application, performance).system
    assert {o.resource: o.demand for o in system.options_for(
        "mask-detector", "mask-detector")}["VM-t3large"] == 0.5
