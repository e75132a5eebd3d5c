"""`aisprint compile`: deterministic, complete, checked, and faithful to the placement."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler import api
from compiler.compile import build
from compiler.gitops.folder import stale_files, write_tree
from compiler.layout import MANIFEST
from compiler.load.oscarp import load_performance
from compiler.load.schema import load_schema
from compiler.placement.from_application import system_from_application
from compiler.placement.production import placement_from_production
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
                                         cuts=lambda component: ())
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
    view = expand(app, "optimal_deployment", units_from_placement(mapped, placement))
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


def test_design_space_follows_the_seed_enumeration(compiled, prepared_examples):
    """§1.8: base is the first layer combination of the all-base choice; deployment1..N
    follow in enumeration order, each with its rewritten DAG and QoS files."""
    from compiler.design.deployments import base_units, count_deployments, enumerate_deployments

    app = api.validate(prepared_examples["mask_detection"]).application
    space = list(enumerate_deployments(app, {}))
    assert len(space) == count_deployments(app, {}) == 2 * 3 * 2  # layers per component
    assert [(u.name, u.layer) for u in space[0]] == \
        [(u.name, u.layer) for u in base_units(app)]
    # the last component's layers vary fastest, as itertools.product does in the seed
    assert [u.layer for u in space[1]] == [1, 3, 3]
    files = compiled["mask_detection"].artifacts
    for i in range(1, len(space)):
        dag = yaml.safe_load(files[f"aisprint/deployments/deployment{i}/application_dag.yaml"])
        assert dag["System"]["components"] == [u.name for u in space[i]]
        assert f"aisprint/deployments/deployment{i}/space4ai-d/qos_constraints.yaml" in files
        assert not any(p.startswith(f"aisprint/deployments/deployment{i}/im/") for p in files)
    assert f"aisprint/deployments/deployment{len(space)}/application_dag.yaml" not in files
    multi = yaml.safe_load(files["aisprint/deployments/multi_cluster_qos_constraints.yaml"])
    assert {"base", "deployment11", "optimal_deployment"} <= set(multi["System"]["Deployments"])


def test_a_large_design_space_is_truncated_with_a_warning(prepared_examples):
    result = build(prepared_examples["smart_city"], max_deployments=3, targets=("deployments",))
    assert "aisprint/deployments/deployment3/application_dag.yaml" in result.artifacts
    assert "aisprint/deployments/deployment4/application_dag.yaml" not in result.artifacts
    (warning,) = [w for w in result.warnings if w.code == "AIS805"]
    assert "4607 deployments besides base" in warning.message


def _tiny_half(part: int) -> bytes:
    """A one-node ONNX model whose input is a 1x1000 float boundary (4 kB)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], f"half{part}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1000])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1000])])
    return helper.make_model(graph, producer_name="test").SerializeToString()


def _fake_partition_design(app_dir, component="blurry-faces-onnx", cut=1):
    """What `aisprint design` leaves for one cut: two halves with their own entry points."""
    for part in (1, 2):
        folder = app_dir / "aisprint" / "designs" / component / f"partition{cut}_{part}"
        (folder / "onnx").mkdir(parents=True)
        (folder / "main.py").write_text(f"# half {part} of cut {cut}\n")
        (folder / "onnx" / f"partition{cut}_{part}.onnx").write_bytes(_tiny_half(part))


def test_generated_partitions_become_designs_deployments_and_images(mask_app):
    _fake_partition_design(mask_app)
    result = build(mask_app)
    files = result.artifacts
    designs = yaml.safe_load(files["aisprint/designs/component_partitions.yaml"])
    assert designs["components"]["blurry-faces-onnx"]["partitions"] == [
        "base", "partition1_1", "partition1_2"]
    folder = "aisprint/designs/blurry-faces-onnx/partition1_2"
    assert files[f"{folder}/onnx/partition1_2.onnx"] == _tiny_half(2)
    assert b"/opt/blurry-faces-onnx_partition1_2" in files[f"{folder}/script.sh"]
    assert b"WORKDIR /opt/blurry-faces-onnx_partition1_2" in files[f"{folder}/Dockerfile"]
    # 12 all-base deployments + 2 (X_1 layers) x 1 (X_2) x 3 x 2 partitioned ones, minus base
    partitioned = [p for p in files if p.endswith("/application_dag.yaml") and
                   b"blurry-faces-onnx_partition1_1" in files[p]]
    assert len(partitioned) == 12 and "aisprint/deployments/deployment23/application_dag.yaml" \
        in files
    # compiling into the application folder itself is stable: what compile adds beside the
    # generated halves is not read back as input
    write_tree(mask_app, files)
    again = build(mask_app).artifacts
    assert again == files


def test_lambda_capable_units_get_a_lambda_image(compiled):
    files = compiled["mask_detection"].artifacts
    folder = "aisprint/designs/mask-alert/base"  # may run on Lambda-1GB
    aws = files[f"{folder}/Dockerfile.aws"].decode()
    assert "WORKDIR /var/task" in aws and "faas-supervisor" in aws and "telegraf" in aws
    assert files[f"{folder}/start.sh"].startswith(b"#!/bin/sh")
    assert b"udp://:8094" in files[f"{folder}/telegraf-lambda.conf"]
    assert "aisprint/designs/blurry-faces-onnx/base/Dockerfile.aws" not in files  # edge only


def test_early_exits_add_a_bypass_edge_and_weight_the_chain(mask_app):
    main = mask_app / "src" / "blurry-faces-onnx" / "main.py"
    main.write_text(main.read_text().replace(
        '"partitionable_model": {"onnx_file": "version-RFB-640.onnx"}',
        '"partitionable_model": {"onnx_file": "version-RFB-640.onnx"},\n'
        '             "early_exits_model": {"onnx_file": "version-RFB-640.onnx",\n'
        '                                   "condition_function": "confident",\n'
        '                                   "transition_probabilities": [0.75]}'))
    _fake_partition_design(mask_app)
    files = build(mask_app, targets=("deployments",)).artifacts
    dags = [yaml.safe_load(data)["System"] for path, data in files.items()
            if path.endswith("/application_dag.yaml") and b"partition1_1" in data]
    assert dags
    for dag in dags:
        assert ["blurry-faces-onnx_partition1_1", "blurry-faces-onnx_partition1_2", 0.75] in \
            dag["dependencies"]
        assert ["blurry-faces-onnx_partition1_1", "mask-detector", 0.25] in dag["dependencies"]
        assert ["blurry-faces-onnx_partition1_2", "mask-detector", 1] in dag["dependencies"]
    app = api.validate(mask_app).application
    performance, _ = load_performance(mask_app)
    system = system_from_application(app, performance, cuts=lambda c: ("1",)).system
    first = system.components[0].deployment("partition1").partitions[0]
    assert first.early_exit == pytest.approx(0.25)


def test_boundary_sizes_of_generated_cuts_feed_the_placement_unless_measured(mask_app):
    from compiler.design.component_partitions import boundary_sizes
    from compiler.workspace import Workspace

    _fake_partition_design(mask_app)
    assert Workspace.from_folder(mask_app).cuts == {"blurry-faces-onnx": ("1",)}
    assert boundary_sizes(mask_app) == {"blurry-faces-onnx_partition1_1": 0.004}
    sizes = mask_app / "oscarp" / "components_data_size.yaml"
    measured = yaml.safe_load(sizes.read_text())
    assert measured["blurry-faces-onnx_partition1_1"] == 1.2

    def sent_by_half_1() -> float:  # what the placement prices the cut's transfer at
        system = Workspace.from_folder(mask_app).problem().system
        half1 = system.components[0].deployment("partition1").partitions[0]
        return half1.data_to("blurry-faces-onnx_partition1_2")

    assert sent_by_half_1() == 1.2  # the file's measured value wins
    del measured["blurry-faces-onnx_partition1_1"]
    sizes.write_text(yaml.safe_dump(measured))
    assert sent_by_half_1() == 0.004  # now the design's 1x1000 floats (4 kB)
    result = build(mask_app)
    production = yaml.safe_load(result.artifacts[
        "aisprint/deployments/optimal_deployment/production_deployment.yaml"])
    assert result.cost is not None and production["System"]["Components"]
