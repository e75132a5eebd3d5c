"""Helm charts: helm lint and template, then kubernetes-validate --strict on every manifest."""

from __future__ import annotations

import shutil

import pytest
import yaml

from compiler.compile import build
from compiler.verify import verify_helm_chart


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
        assert verify_helm_chart(chart.parent, helm) == [], chart


@pytest.mark.integration
def test_a_broken_chart_is_rejected(charts, helm, tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(next(charts["mask_detection"].glob("base/helm/*")), chart)
    values = yaml.safe_load((chart / "values.yaml").read_text())
    first = next(iter(values["components"].values()))
    first["replicas"] = "two"
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    assert verify_helm_chart(chart, helm)
    first["replicas"] = 1
    first["resources"]["limits"]["cpu"] = {"lots": True}
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    assert verify_helm_chart(chart, helm)


def test_values_carry_the_placement(charts):
    values = yaml.safe_load((next(charts["smart_city"].glob(
        "optimal_deployment/helm/*/values.yaml"))).read_text())
    plate = values["components"]["plate-reader"]
    assert plate["nodeSelector"]["aisprint.eu/resource"] == "vm-sgx"
    assert plate["resources"]["limits"]["sgx.intel.com/enclave"] == 1
    assert plate["resources"]["requests"] == {"cpu": "2000m", "memory": "4096Mi"}
    assert all(not name.startswith("alert") for name in values["components"])  # FaaS: no pod
