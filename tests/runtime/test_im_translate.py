"""IM's own TOSCA→RADL translation (in IM's venv) on every template the compiler emits."""

from __future__ import annotations

import pytest
import yaml

from compiler.compile import build
from compiler.runtime.im.translate import translate
from compiler.verify import verify_artifacts
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def toscas():
    out = {}
    for name in ("mask_detection", "smart_city"):
        for rel, data in build(EXAMPLES / name).artifacts.items():
            if "/im/" in rel and rel.endswith(".yaml"):
                out[f"{name}/{rel}"] = data
    return out


def test_im_translates_every_emitted_template(toscas, im_python, custom_types):
    results = translate(toscas, python=im_python, custom_types=custom_types)
    assert sorted(results) == sorted(toscas)
    assert {n: r.error for n, r in results.items() if not r.ok} == {}
    for name, result in results.items():
        nodes = yaml.safe_load(toscas[name])["topology_template"]["node_templates"]
        functions = sorted(n for n, v in nodes.items()
                           if v["type"] == "tosca.nodes.aisprint.FaaS.Function")
        if "oscar" in nodes:  # a whole cluster: VMs to create, services as recipes on it
            assert "front" in result.systems
            assert {f"oscar_{f}" for f in functions} <= set(result.configures)  # IM names them
            assert result.placeholders  # the Ansible recipes IM would download
        else:  # services / functions only: one RADL system deployed per function
            assert list(result.systems) == functions
            assert result.deploys == tuple((f, 1) for f in functions)


def test_im_rejects_what_tosca_parser_lets_through(im_python, custom_types, toscas):
    name = next(n for n in toscas if n.endswith("mask-detection-layer1.yaml"))
    bad = toscas[name].replace(b"memory: 2048Mi", b"memory: lots")
    assert bad != toscas[name]
    problems, _ = verify_artifacts({"aisprint/deployments/base/im/x.yaml": bad},
                                   custom_types=custom_types, im_python=im_python)
    assert [p for p in problems if "IM's TOSCA translation" in p[1]]
    problems, notes = verify_artifacts({"aisprint/deployments/base/im/x.yaml": toscas[name]},
                                       custom_types=custom_types, im_python=None)
    assert problems == [] and any("not checked" in n and "IM" in n for n in notes)
