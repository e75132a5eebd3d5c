"""Helm charts: helm lint and template, then kubernetes-validate --strict on every manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

import targets
from compiler.compile import build
from targets.helm import EMITTER, chart_problems
from tests.targets.context import context
from tests.targets.golden import assert_golden


@pytest.fixture(scope="module")
def charts(prepared_examples, tmp_path_factory):
    root = tmp_path_factory.mktemp("charts")
    out = {}
    for name, app in prepared_examples.items():
        for rel, data in build(app).artifacts.items():
            if "/helm/" in rel:
                (root / name / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / name / rel).write_bytes(data)
        out[name] = root / name / "aisprint" / "deployments"
    return out


@pytest.mark.integration
def test_every_chart_lints_renders_and_validates(charts, helm):
    found = list(charts["mask_detection"].glob("*/helm/*/Chart.yaml")) + \
        list(charts["smart_city"].glob("*/helm/*/Chart.yaml"))
    assert len(found) == 6  # base, optimal, current for both examples
    for chart in found:
        assert chart_problems(chart.parent, helm) == [], chart


@pytest.mark.integration
def test_a_broken_chart_is_rejected(charts, helm, tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(next(charts["mask_detection"].glob("base/helm/*")), chart)
    values = yaml.safe_load((chart / "values.yaml").read_text())
    first = next(iter(values["components"].values()))
    first["replicas"] = "two"
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    assert chart_problems(chart, helm)
    first["replicas"] = 1
    first["resources"]["limits"]["cpu"] = {"lots": True}
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    assert chart_problems(chart, helm)


def test_values_carry_the_placement(charts):
    values = yaml.safe_load((next(charts["smart_city"].glob(
        "optimal_deployment/helm/*/values.yaml"))).read_text())
    plate = values["components"]["plate-reader"]
    assert plate["nodeSelector"]["aisprint.eu/resource"] == "vm-sgx"
    assert plate["resources"]["limits"]["sgx.intel.com/enclave"] == 1
    assert plate["resources"]["requests"] == {"cpu": "2000m", "memory": "4096Mi"}
    assert all(not name.startswith("alert") for name in values["components"])  # FaaS: no pod


# ----------------------------------------------------------------------------- on the hand-built
# context (tests/targets/context.py), no pipeline

CHART = "aisprint/deployments/{}/helm/road-watch/"
PLACED = ("base", "optimal_deployment", "current_deployment")


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(context())


def chart_values(emitted, deployment: str) -> dict:
    return yaml.safe_load(emitted[CHART.format(deployment) + "values.yaml"])


def test_one_chart_per_placed_deployment(emitted):
    assert sorted(emitted) == sorted(
        CHART.format(d) + name for d in PLACED
        for name in ("Chart.yaml", "values.yaml", "values.schema.json",
                     *(f"templates/{t}" for t in ("_helpers.tpl", "configmap.yaml",
                                                  "deployment.yaml", "service.yaml",
                                                  "hpa.yaml"))))
    chart = yaml.safe_load(emitted[CHART.format("base") + "Chart.yaml"])
    assert chart["name"] == "road-watch"
    assert chart["description"] == "Road_Watch on Kubernetes, as placed by aisprint"


def test_the_templates_are_the_packaged_ones(emitted):
    source = Path(targets.__file__).parent / "helm_chart" / "templates"
    copies = {p: d for p, d in emitted.items() if "/templates/" in p}
    assert len(copies) == 3 * 5  # five templates in each placed deployment's chart
    for path, data in copies.items():
        assert data == (source / path.rsplit("/", 1)[1]).read_bytes(), path


def test_components_off_lambda_with_their_sizes_and_placement(emitted):
    base = chart_values(emitted, "base")
    assert base["application"] == "road-watch"
    assert base["monitoring"] == {"host": "road-watch-telegraf", "port": "8094"}
    assert list(base["components"]) == ["camera", "detector"]  # notifier is on Lambda
    camera = base["components"]["camera"]
    assert camera["image"] == "camera_base_arm64:latest"
    assert camera["workingDir"] == "/opt/camera"
    assert camera["replicas"] == 1 and camera["maxReplicas"] == 2  # EdgeBox: 2 nodes
    assert camera["resources"] == {"requests": {"cpu": "1500m", "memory": "1024Mi"},
                                   "limits": {"cpu": "1500m", "memory": "1024Mi"}}
    assert camera["nodeSelector"] == {"kubernetes.io/arch": "arm64", "aisprint.eu/layer": "1",
                                      "aisprint.eu/resource": "edgebox"}
    assert camera["env"] == {"COMPONENT_NAME": "camera", "RESOURCE_ID": "EdgeBox",
                             "COMPUTING_UNITS": "1.5"}
    detector = base["components"]["detector"]
    assert detector["image"] == "registry.example.org/detector:1.0"
    assert detector["maxReplicas"] == 3  # VM-sgx: 3 nodes by the base rule
    # an SGX machine, but the container does not ask for an enclave
    assert detector["resources"]["limits"] == {"cpu": "2000m", "memory": "4096Mi"}


def test_partitions_are_components_and_an_enclave_is_requested(emitted):
    optimal = chart_values(emitted, "optimal_deployment")
    assert list(optimal["components"]) == ["camera", "detector-partition1-1",
                                           "detector-partition1-2"]
    part2 = optimal["components"]["detector-partition1-2"]
    assert part2["maxReplicas"] == 2  # the placement's 2 VMs
    assert part2["resources"]["limits"] == {"cpu": "2000m", "memory": "3072Mi",
                                            "sgx.intel.com/enclave": 1}
    assert part2["nodeSelector"]["aisprint.eu/layer"] == "2"
    assert part2["env"]["COMPONENT_NAME"] == "detector_partition1_2"


def test_values_meet_their_schema(emitted):
    for deployment in PLACED:
        schema = json.loads(emitted[CHART.format(deployment) + "values.schema.json"])
        Draft7Validator.check_schema(schema)
        assert list(Draft7Validator(schema).iter_errors(chart_values(emitted, deployment))) == []


@pytest.mark.integration
def test_the_chart_lints_renders_and_validates(emitted, helm, tmp_path):
    for path, data in emitted.items():
        if path.startswith(CHART.format("optimal_deployment")):
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(data)
    assert chart_problems(tmp_path / CHART.format("optimal_deployment"), helm) == []


def test_golden(emitted, request):
    # the templates are copies of targets/helm_chart (checked above), not repeated here
    assert_golden(request, "helm", {p: d for p, d in emitted.items() if "/templates/" not in p})


def test_deterministic(emitted):
    assert EMITTER.emit(context()) == emitted
