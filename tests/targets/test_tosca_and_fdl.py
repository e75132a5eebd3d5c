"""TOSCA and OSCAR FDL emitters, checked by tosca-parser and oscar-python."""

from __future__ import annotations

import re

import pytest
import yaml

from compiler.compile import build
from compiler.verify import check_artifacts
from targets.check import CheckTools
from targets.tosca_check import tosca_parser_problems
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def artifacts(prepared_examples):
    return {name: dict(build(app).artifacts) for name, app in prepared_examples.items()}


@pytest.fixture(scope="module")
def custom_types():
    return shared_path("tosca-types", "custom_types.yaml")


@pytest.mark.integration
def test_every_emitted_file_passes_its_consumer(artifacts, custom_types, im_python, helm):
    """tosca-parser and IM's own TOSCA→RADL translation, oscar-python, helm, the schemas."""
    tools = CheckTools(custom_types=custom_types, helm=helm, im_python=im_python)
    for name, files in artifacts.items():
        report = check_artifacts(files, tools)
        assert report.rejected == (), (name, report.rejected[:3])
        assert report.skipped == ()
        assert any("/im/" in p for p in files) and any(p.endswith("fdl.yaml") for p in files)


def test_tosca_parser_really_rejects_broken_templates(artifacts, custom_types):
    path = next(p for p in artifacts["mask_detection"] if p.endswith("layer3.yaml"))
    template = yaml.safe_load(artifacts["mask_detection"][path])
    service = next(k for k in template["topology_template"]["node_templates"]
                   if k.startswith("oscar_service"))
    template["topology_template"]["node_templates"][service]["properties"]["expose_service"] = {}
    assert any("UnknownFieldError" in p for p in tosca_parser_problems(yaml.safe_dump(template),
                                                                       custom_types))


def test_one_cluster_per_layer_sized_from_the_placement(artifacts):
    files = artifacts["mask_detection"]
    production = yaml.safe_load(files[
        "aisprint/deployments/base/oscar/fdl.yaml"])["functions"]["oscar"]
    assert [next(iter(e)) for e in production] == ["mask-detection-layer1",
                                                   "mask-detection-layer3"]
    vm = yaml.safe_load(files["aisprint/deployments/base/im/mask-detection-layer3.yaml"])
    nodes = vm["topology_template"]["node_templates"]
    wn = nodes["wn"]["capabilities"]
    assert wn["host"]["properties"]["instance_type"] == "t3.large"
    assert wn["scalable"]["properties"]["count"] == 4  # base rule: totalNodes of VM-t3large
    assert nodes["oscar_service_mask-detector"]["requirements"] == [{"host": "oscar"}]
    rpi = yaml.safe_load(files["aisprint/deployments/base/im/mask-detection-layer1.yaml"])
    rpi_nodes = rpi["topology_template"]["node_templates"]
    assert list(rpi_nodes) == ["oscar_service_blurry-faces-onnx"]  # existing cluster
    assert "requirements" not in rpi_nodes["oscar_service_blurry-faces-onnx"]
    faas = yaml.safe_load(files["aisprint/deployments/base/im/mask-detection-layer4.yaml"])
    assert list(faas["topology_template"]["node_templates"]) == ["lambda_function_mask-alert"]


def test_storage_wiring_follows_the_dag(artifacts):
    fdl = yaml.safe_load(artifacts["mask_detection"]["aisprint/deployments/base/oscar/fdl.yaml"])
    services = {next(iter(e.values()))["name"]: next(iter(e.values()))
                for e in fdl["functions"]["oscar"]}
    blurry, mask = services["blurry-faces-onnx"], services["mask-detector"]
    assert blurry["output"] == [{"storage_provider": "minio.mask-detection-layer3",
                                 "path": "blurry-faces-onnx/output"}]
    assert mask["input"] == [{"storage_provider": "minio", "path": "blurry-faces-onnx/output"}]
    assert "mask-detection-layer3" in blurry["storage_providers"]["minio"]


def test_no_secret_values_and_no_randomness(artifacts):
    seen = set()
    for files in artifacts.values():
        for path, data in files.items():
            if "/im/" in path or path.endswith("fdl.yaml"):
                text = data.decode()
                for key, value in re.findall(
                        r"(password|secret_key|admin_token|token):[ \t]*(\S+)", text):
                    assert value.startswith("${") or value.startswith("{"), (path, key, value)
                    seen.add(key)
                assert "oscar-cluster-" not in text  # TOSCARIZER's random names
    # MinIO keys (FDL, TOSCA storage providers) and SSH keys (smart_city's machines) were seen
    assert seen == {"secret_key", "token"}


def test_sgx_and_shields_reach_the_function_nodes(artifacts):
    files = artifacts["smart_city"]
    plate = [yaml.safe_load(d) for p, d in files.items()
             if p.startswith("aisprint/deployments/optimal_deployment/im/")]
    props = [n["properties"] for t in plate
             for k, n in t["topology_template"]["node_templates"].items()
             if k.endswith("plate-reader")]
    assert props and props[0]["enable_sgx"] is True


def test_schema_checks_catch_broken_outputs(artifacts):
    files = dict(artifacts["mask_detection"])
    production = "aisprint/deployments/optimal_deployment/production_deployment.yaml"
    files[production] = files[production].replace(b"executionLayer: 1",
                                                  b"executionLayer: first")
    qos = "aisprint/deployments/base/ams/qos_constraints_L1.yaml"
    files[qos] = files[qos].replace(b"threshold: 20", b"threshold: -20")
    report = check_artifacts(files, CheckTools())
    assert {d.location.file for d in report.rejected} == {production, qos}
    assert all(d.code == "AIS906" for d in report.rejected)


def test_serverless_units_exchange_data_through_s3(artifacts):
    template = yaml.safe_load(artifacts["mask_detection"][
        "aisprint/deployments/optimal_deployment/im/mask-detection-layer4.yaml"])
    nodes = template["topology_template"]["node_templates"]
    alert = nodes["lambda_function_mask-alert"]["properties"]
    assert alert["input"] == [{"storage_provider": "s3",
                               "path": "aisprint-mask-detection/mask-detector/output"}]


def test_machines_to_provision_are_reached_over_ssh_with_key_references(artifacts):
    template = yaml.safe_load(artifacts["smart_city"][
        "aisprint/deployments/optimal_deployment/im/smart-city-layer2.yaml"])
    nodes = template["topology_template"]["node_templates"]
    assert {f"wn_{i}" for i in (1, 2, 3)} <= set(nodes)  # one per worker in physical_nodes
    credential = nodes["front"]["capabilities"]["os"]["properties"]["credential"]
    assert credential == {"user": "ops", "token_type": "private_key",
                          "token": "${DISTRICT_SSH_KEY}"}
    assert nodes["front_pub_port"]["properties"]["ip_address"] == "198.51.100.20"
    assert nodes["wn_node_2"]["requirements"] == [{"host": "wn_2"}]
