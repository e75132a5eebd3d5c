"""The TOSCA emitter on the hand-built context (tests/targets/context.py): one IM template per
layer a placed deployment uses, each expected value read off the context by hand."""

from __future__ import annotations

import pytest
import yaml

from targets.tosca import EMITTER
from targets.tosca_check import tosca_parser_problems
from tests.conftest import shared_path
from tests.targets.context import context
from tests.targets.golden import assert_golden

IM = "aisprint/deployments/{}/im/road-watch-layer{}.yaml"


@pytest.fixture(scope="module")
def files():
    return EMITTER.emit(context())


def nodes(files, deployment: str, layer: int) -> dict:
    return yaml.safe_load(files[IM.format(deployment, layer)])["topology_template"][
        "node_templates"]


def test_one_template_per_layer_of_each_placed_deployment(files):
    # every view uses layers 1, 2 and 3; candidates (deployment1) get no templates
    assert sorted(files) == sorted(IM.format(d, n)
                                   for d in ("base", "optimal_deployment", "current_deployment")
                                   for n in (1, 2, 3))


def test_machines_to_provision_are_reached_over_ssh(files):
    edge = nodes(files, "optimal_deployment", 1)
    assert set(edge) == {
        "front", "my_block_storage", "lrms_front_end", "oscar", "pub_network", "priv_network",
        "front_pub_port", "front_priv_port", "wn_1", "wn_node_1", "wn_1_priv_port",
        "oscar_service_camera", "oscar_service_detector-partition1-1"}
    ssh = {"user": "edge", "token_type": "private_key", "token": "${EDGE_SSH_KEY}"}
    assert edge["front"]["capabilities"]["os"]["properties"]["credential"] == ssh
    assert edge["wn_1"]["capabilities"]["os"]["properties"]["credential"] == ssh
    assert edge["front_pub_port"]["properties"]["ip_address"] == "192.0.2.10"
    assert edge["front_priv_port"]["properties"]["ip_address"] == "10.0.0.1"
    assert edge["wn_1_priv_port"]["properties"]["ip_address"] == "10.0.0.2"
    assert edge["wn_node_1"]["requirements"] == [{"host": "wn_1"}]
    worker = edge["wn_1"]["capabilities"]
    assert worker["scalable"]["properties"]["count"] == 1  # one node per listed machine
    assert worker["host"]["properties"] == {"num_cpus": 4, "mem_size": "4096 MB"}


def test_vm_workers_are_sized_from_the_resource_and_counted_from_the_placement(files):
    for deployment, count in (("base", 3), ("optimal_deployment", 2)):
        worker = nodes(files, deployment, 2)["wn"]["capabilities"]
        assert worker["scalable"]["properties"]["count"] == count
        assert worker["host"]["properties"] == {
            "num_cpus": 2, "mem_size": "8192 MB", "disk_size": "40 GB",
            "instance_type": "m5.large", "sgx": True}
        assert worker["os"]["properties"] == {"type": "linux", "distribution": "ubuntu",
                                              "version": "22.04", "image": "ami-0abc"}


def test_services_run_on_oscar_and_lambda_functions_stand_alone(files):
    vm = nodes(files, "optimal_deployment", 2)
    service = vm["oscar_service_detector-partition1-2"]
    assert service["type"] == "tosca.nodes.aisprint.FaaS.Function"
    assert service["requirements"] == [{"host": "oscar"}]
    faas = nodes(files, "optimal_deployment", 3)
    assert list(faas) == ["lambda_function_notifier"]  # no cluster for a Lambda layer
    assert "requirements" not in faas["lambda_function_notifier"]
    template = yaml.safe_load(files[IM.format("optimal_deployment", 3)])
    assert "inputs" not in template["topology_template"]


def test_function_properties_come_from_the_container_and_resource(files):
    camera = nodes(files, "optimal_deployment", 1)["oscar_service_camera"]["properties"]
    assert camera["name"] == "camera"
    assert camera["image"] == "camera_base_arm64:latest"  # no image given; EdgeBox is arm64
    assert camera["memory"] == "1024Mi" and camera["cpu"] == 1.5
    assert camera["env_variables"] == {
        "COMPONENT_NAME": "camera", "MONIT_HOST": "road-watch-telegraf", "MONIT_PORT": "8094",
        "COMPUTING_UNITS": "1.5", "KCI": "https://minio.road-watch-layer1.im.grycap.net",
        "RESOURCE_ID": "EdgeBox"}
    detector = nodes(files, "base", 2)["oscar_service_detector"]["properties"]
    assert detector["image"] == "registry.example.org/detector:1.0"  # the image as given
    part2 = nodes(files, "optimal_deployment", 2)["oscar_service_detector-partition1-2"]
    assert part2["properties"]["enable_sgx"] is True  # trustedExecution
    assert part2["properties"]["image"] == "detector_partition1_2_amd64:latest"
    notifier = nodes(files, "optimal_deployment", 3)["lambda_function_notifier"]["properties"]
    assert notifier["env_variables"]["KCI"] == "AWS Lambda"
    assert notifier["memory"] == "2048Mi"


def test_storage_follows_the_dag_across_layers(files):
    edge = nodes(files, "optimal_deployment", 1)
    camera = edge["oscar_service_camera"]["properties"]
    # camera's successor (partition 1) is on its own layer: the local MinIO
    assert camera["input"] == [{"storage_provider": "minio", "path": "camera/input"}]
    assert camera["output"] == [{"storage_provider": "minio", "path": "camera/output"}]
    part1 = edge["oscar_service_detector-partition1-1"]["properties"]
    assert part1["input"] == [{"storage_provider": "minio", "path": "camera/output"}]
    assert part1["output"] == [{"storage_provider": "minio.road-watch-layer2",
                                "path": "detector_partition1_1/output"}]
    assert part1["storage_providers"] == {"minio": {"road-watch-layer2": {
        "endpoint": "https://minio.road-watch-layer2.im.grycap.net", "access_key": "minio",
        "secret_key": "${MINIO_SECRET_KEY_ROAD_WATCH_LAYER2}", "region": "us-east-1"}}}


def test_a_lambda_successor_is_reached_through_s3_in_its_own_region(files):
    part2 = nodes(files, "optimal_deployment", 2)["oscar_service_detector-partition1-2"]
    assert part2["properties"]["output"] == [{
        "storage_provider": "s3.road-watch-layer3",
        "path": "aisprint-road-watch/detector_partition1_2/output"}]
    # the VM has no region; the bucket is where Lambda-2GB runs
    assert part2["properties"]["storage_providers"] == {"s3": {"road-watch-layer3": {
        "access_key": "${AWS_ACCESS_KEY_ID}", "secret_key": "${AWS_SECRET_ACCESS_KEY}",
        "region": "eu-west-1"}}}
    notifier = nodes(files, "optimal_deployment", 3)["lambda_function_notifier"]["properties"]
    assert notifier["input"] == [{"storage_provider": "s3",
                                  "path": "aisprint-road-watch/detector_partition1_2/output"}]
    assert notifier["output"] == [{"storage_provider": "s3",
                                   "path": "aisprint-road-watch/notifier/output"}]


def test_cluster_secrets_are_references(files):
    template = yaml.safe_load(files[IM.format("base", 2)])
    inputs = template["topology_template"]["inputs"]
    assert inputs["cluster_name"]["default"] == "road-watch-layer2"
    assert {k: v["default"] for k, v in inputs.items() if "secret" in v.get("description", "")
            } == {"admin_token": "${KUBE_ADMIN_TOKEN_ROAD_WATCH_LAYER2}",
                  "oscar_password": "${OSCAR_PASSWORD_ROAD_WATCH_LAYER2}",
                  "minio_password": "${MINIO_SECRET_KEY_ROAD_WATCH_LAYER2}"}


def test_tosca_parser_accepts_every_template(files):
    custom_types = shared_path("tosca-types", "custom_types.yaml")
    for path in ("base", "optimal_deployment"):
        for layer in (1, 2, 3):
            assert tosca_parser_problems(files[IM.format(path, layer)], custom_types) == []


def test_golden(files, request):
    assert_golden(request, "tosca", files)


def test_deterministic(files):
    assert EMITTER.emit(context()) == files
