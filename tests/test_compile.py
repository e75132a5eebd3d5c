"""`aisprint compile`: deterministic, complete, checked, and faithful to the placement."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler import api
from compiler.compile import MANIFEST, build, stale_files, write_tree
from compiler.load.oscarp import load_performance
from compiler.placement.from_application import system_from_application
from compiler.placement.production import placement_from_production
from compiler.validate.schema import load_schema
from tests.cli.test_cli import aisprint


@pytest.fixture(scope="module")
def compiled(prepared_examples):
    return {name: build(app) for name, app in prepared_examples.items()}


def test_compiling_twice_gives_identical_bytes(prepared_examples, compiled):
    for name, app in prepared_examples.items():
        assert build(app).artifacts == compiled[name].artifacts


def test_manifest_lists_every_file_with_its_hash(compiled):
    for result in compiled.values():
        manifest = json.loads(result.artifacts[MANIFEST])
        Draft202012Validator(load_schema("manifest")).validate(manifest)
        listed = set(manifest["files"])
        assert listed == set(result.artifacts) - {MANIFEST}
        for path, entry in manifest["files"].items():
            assert hashlib.sha256(result.artifacts[path]).hexdigest() == entry["sha256"]
        assert "common_config/application_dag.yaml" in manifest["inputs"]


def test_seed_tree_is_produced(compiled):
    files = compiled["mask_detection"].artifacts
    for path in ("aisprint/designs/component_partitions.yaml",
                 "aisprint/designs/mask-detector/base/main.py",
                 "aisprint/deployments/base/application_dag.yaml",
                 "aisprint/deployments/optimal_deployment/production_deployment.yaml",
                 "aisprint/deployments/current_deployment/production_deployment.yaml",
                 "aisprint/deployments/optimal_deployment/space4ai-d/qos_constraints.yaml",
                 "aisprint/deployments/multi_cluster_qos_constraints.yaml"):
        assert path in files, path
    assert any(p.startswith("aisprint/deployments/base/ams/qos_constraints_L") for p in files)


def test_production_deployment_reads_back_as_the_same_placement(prepared_examples, compiled):
    from compiler.placement.solve import solve

    for name, app_dir in prepared_examples.items():
        report = api.validate(app_dir)
        performance, _ = load_performance(app_dir)
        # compile offers partitioned deployments only once their code is designed
        mapped = system_from_application(report.application, performance,
                                         partitions=lambda component, cut: False)
        expected = solve(mapped.system).placement
        text = compiled[name].artifacts[
            "aisprint/deployments/optimal_deployment/production_deployment.yaml"]
        assert placement_from_production(mapped, yaml.safe_load(text)) == expected


def test_partitioned_local_limit_becomes_a_global_limit_over_the_partitions(
        prepared_examples):
    from compiler.compile import units_from_placement
    from compiler.design.deployments import expand
    from compiler.placement.solve import solve

    app_dir = prepared_examples["smart_city"]
    app = api.validate(app_dir).application
    performance, _ = load_performance(app_dir)
    mapped = system_from_application(app, performance)  # partitions allowed
    placement = solve(mapped.system).placement
    assert placement.deployments["person-detector"] == "partition1"
    view = expand(app, "optimal_deployment", units_from_placement(app, mapped, placement))
    chain = ("person-detector_partition1_1", "person-detector_partition1_2")
    assert ("person-detector_partition1_1", "person-detector_partition1_2", 1.0) in \
        view.dependencies
    locals_ = [c for c in view.constraints if c.kind == "local"]
    assert all(c.units[0] != "person-detector" for c in locals_)
    assert any(c.kind == "global" and c.units == chain and c.threshold == 5
               for c in view.constraints)
    # the global limit of person-detector spans the expanded path, partitions included
    assert any(c.kind == "global" and c.units == ("camera-ingest", "frame-sampler", *chain)
               for c in view.constraints)


def test_without_performance_models_the_base_rule_places(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    (app / "oscarp" / "performance_models.json").unlink()
    result = build(app)
    assert result.placement.startswith("base rule")
    production = yaml.safe_load(result.artifacts[
        "aisprint/deployments/optimal_deployment/production_deployment.yaml"])
    blurry = production["System"]["Components"]["component1"]
    assert blurry["executionLayer"] == 1
    assert blurry["Containers"]["container1"]["selectedExecutionResource"] == "RaspPi4"


def test_write_swaps_owned_trees_and_check_sees_staleness(prepared_examples, compiled,
                                                         tmp_path):
    out = tmp_path / "out"
    (out / "aisprint" / "deployments" / "leftover").mkdir(parents=True)
    (out / "aisprint" / "deployments" / "leftover" / "old.yaml").write_text("x: 1\n")
    (out / "aisprint" / "logs").mkdir()
    (out / "aisprint" / "logs" / "keep.txt").write_text("mine\n")
    artifacts = compiled["mask_detection"].artifacts
    write_tree(out, artifacts)
    assert not (out / "aisprint/deployments/leftover").exists()  # not in the manifest: gone
    assert (out / "aisprint/logs/keep.txt").read_text() == "mine\n"  # not ours: kept
    assert stale_files(out, artifacts) == []
    (out / "aisprint/deployments/base/application_dag.yaml").write_text("changed\n")
    assert stale_files(out, artifacts) == ["aisprint/deployments/base/application_dag.yaml"]
    assert not list(out.glob(".aisprint-compile-*"))  # no staging left behind


def test_cli_compile_check_and_timings(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    done = aisprint("compile", str(app), "--out", str(tmp_path / "o"), "--timings")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| placement |" in done.stderr and "| total |" in done.stderr
    assert aisprint("compile", str(app), "--out", str(tmp_path / "o"), "--check").returncode == 0
    source = app / "src" / "mask-alert" / "main.py"
    source.write_text(source.read_text().replace("local_time_thr=2,", "local_time_thr=3,"))
    stale = aisprint("compile", str(app), "--out", str(tmp_path / "o"), "--check")
    assert stale.returncode == 1 and "out of date" in stale.stdout


def test_invalid_application_writes_nothing(mask_app, tmp_path):
    dag = mask_app / "common_config" / "application_dag.yaml"
    dag.write_text(dag.read_text().replace("mask-alert, 1]", "mask-alert, 9]"))
    done = aisprint("compile", str(mask_app), "--out", str(tmp_path / "o"))
    assert done.returncode == 1 and "AIS205" in done.stdout
    assert not (tmp_path / "o").exists()
