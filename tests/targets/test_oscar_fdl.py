"""The OSCAR FDL emitter on the hand-built context (tests/targets/context.py): the services of
the OSCAR clusters of each placed deployment, Lambda units left to IM."""

from __future__ import annotations

import pytest
import yaml

from targets.oscar_fdl import EMITTER, fdl_problems
from tests.targets.context import context
from tests.targets.golden import assert_golden

FDL = "aisprint/deployments/{}/oscar/fdl.yaml"


@pytest.fixture(scope="module")
def files():
    return EMITTER.emit(context())


def services(files, deployment: str) -> list[tuple[str, dict]]:
    return [next(iter(entry.items()))
            for entry in yaml.safe_load(files[FDL.format(deployment)])["functions"]["oscar"]]


def test_one_file_per_placed_deployment(files):
    assert sorted(files) == sorted(FDL.format(d) for d in ("base", "optimal_deployment",
                                                           "current_deployment"))


def test_every_unit_off_lambda_is_a_service_of_its_layer_cluster(files):
    # notifier runs on Lambda (layer 3) in both: IM's TOSCA deploys it, not the FDL
    assert [(cluster, s["name"]) for cluster, s in services(files, "base")] == [
        ("road-watch-layer1", "camera"), ("road-watch-layer2", "detector")]
    assert [(cluster, s["name"]) for cluster, s in services(files, "optimal_deployment")] == [
        ("road-watch-layer1", "camera"), ("road-watch-layer1", "detector-partition1-1"),
        ("road-watch-layer2", "detector-partition1-2")]


def test_a_service_carries_its_container_and_the_design_s_script(files):
    by_name = {s["name"]: s for _, s in services(files, "optimal_deployment")}
    part2 = by_name["detector-partition1-2"]
    assert part2["image"] == "detector_partition1_2_amd64:latest"
    assert part2["memory"] == "3072Mi" and part2["cpu"] == "2"  # cpu as text
    assert part2["script"] == "../../../designs/detector/partition1_2/script.sh"
    assert part2["enable_sgx"] is True
    assert part2["environment"]["variables"]["RESOURCE_ID"] == "VM-sgx"
    camera = by_name["camera"]
    assert camera["cpu"] == "1.5" and camera["script"] == "../../../designs/camera/base/script.sh"
    assert "enable_sgx" not in camera and "storage_providers" not in camera
    base = {s["name"]: s for _, s in services(files, "base")}
    assert base["detector"]["image"] == "registry.example.org/detector:1.0"


def test_storage_wiring_to_the_next_cluster_and_to_lambda(files):
    by_name = {s["name"]: s for _, s in services(files, "optimal_deployment")}
    assert by_name["detector-partition1-1"]["output"] == [{
        "storage_provider": "minio.road-watch-layer2", "path": "detector_partition1_1/output"}]
    assert by_name["detector-partition1-2"]["input"] == [{
        "storage_provider": "minio", "path": "detector_partition1_1/output"}]
    assert by_name["detector-partition1-2"]["storage_providers"]["s3"] == {
        "road-watch-layer3": {"access_key": "${AWS_ACCESS_KEY_ID}",
                              "secret_key": "${AWS_SECRET_ACCESS_KEY}",
                              "region": "eu-west-1"}}


def test_oscar_python_loads_every_cluster_s_services(files, tmp_path):
    scripts = {f"aisprint/designs/{c}/{d}/script.sh" for c, d in (
        ("camera", "base"), ("detector", "base"), ("detector", "partition1_1"),
        ("detector", "partition1_2"))}
    for rel in scripts:  # what the design tree holds beside the code
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("#!/bin/sh\nexec python main.py\n")
    for deployment in ("base", "optimal_deployment"):
        path = tmp_path / FDL.format(deployment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[FDL.format(deployment)])
        assert fdl_problems(path) == []


def test_golden(files, request):
    assert_golden(request, "oscar_fdl", files)


def test_deterministic(files):
    assert EMITTER.emit(context()) == files
