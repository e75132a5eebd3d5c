"""The TOSCA target's check: tosca-parser and IM's own TOSCA→RADL translation (in IM's venv) on
every template the compiler emits, and the one rewrite of the custom types' import."""

from __future__ import annotations

import pytest
import yaml

from compiler.compile import build
from targets.check import CheckTools, CompiledTree
from targets.tosca import EMITTER
from targets.tosca_check import CUSTOM_TYPES_URL, localise_imports, translate
from tests.conftest import EXAMPLES, shared_path

TEMPLATE = "aisprint/deployments/base/im/x.yaml"


@pytest.fixture(scope="module")
def custom_types():
    return shared_path("tosca-types", "custom_types.yaml")


@pytest.fixture(scope="module")
def toscas():
    out = {}
    for name in ("mask_detection", "smart_city"):
        for rel, data in build(EXAMPLES / name).artifacts.items():
            if "/im/" in rel and rel.endswith(".yaml"):
                out[f"{name}/{rel}"] = data
    return out


def check(files: dict[str, bytes], tools: CheckTools, tmp_path) -> tuple:
    return EMITTER.check(CompiledTree(files, tmp_path, tools))


@pytest.mark.integration
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


@pytest.mark.integration
def test_im_rejects_what_tosca_parser_lets_through(im_python, custom_types, toscas, tmp_path):
    name = next(n for n in toscas if n.endswith("mask-detection-layer1.yaml"))
    bad = toscas[name].replace(b"memory: 2048Mi", b"memory: lots")
    assert bad != toscas[name]
    found = check({TEMPLATE: bad}, CheckTools(custom_types=custom_types, im_python=im_python),
                  tmp_path)
    assert [d.code for d in found] == ["AIS906"]
    assert found[0].location.file == TEMPLATE
    assert found[0].message.startswith("IM's TOSCA translation: ")
    found = check({TEMPLATE: toscas[name]}, CheckTools(custom_types=custom_types), tmp_path)
    assert [d.code for d in found] == ["AIS907"]  # IM's half skipped, and said so
    assert "IM" in found[0].message and "AISPRINT_IM_PYTHON" in found[0].hint


def test_tosca_parser_rejects_an_unknown_property(custom_types, toscas, tmp_path):
    name = next(n for n in toscas if n.endswith("mask-detection-layer1.yaml"))
    template = yaml.safe_load(toscas[name])
    node = next(iter(template["topology_template"]["node_templates"].values()))
    node["properties"]["no_such_property"] = 1
    found = check({TEMPLATE: yaml.safe_dump(template).encode()},
                  CheckTools(custom_types=custom_types), tmp_path)
    rejected = [d for d in found if d.code == "AIS906"]
    assert rejected and all(d.location.file == TEMPLATE for d in rejected)
    assert any("no_such_property" in d.message for d in rejected)


def test_no_custom_types_skips_the_check_and_says_how_to_enable_it(toscas, tmp_path):
    name = next(iter(toscas))
    found = check({TEMPLATE: toscas[name]}, CheckTools(), tmp_path)
    assert [d.code for d in found] == ["AIS907"]
    assert "--tosca-types" in found[0].hint and "AISPRINT_TOSCA_TYPES" in found[0].hint
    assert check({"aisprint/deployments/base/oscar/fdl.yaml": b"x"}, CheckTools(),
                 tmp_path) == ()  # no template: nothing to skip


def test_not_yaml_is_a_rejection_not_a_crash(custom_types, tmp_path):
    found = check({TEMPLATE: b"a: [b\n"}, CheckTools(custom_types=custom_types), tmp_path)
    assert [d.code for d in found] == ["AIS906", "AIS907"] and "not YAML" in found[0].message


def test_localise_imports_rewrites_only_the_custom_types_url(tmp_path):
    types = tmp_path / "custom_types.yaml"
    text = yaml.safe_dump({"tosca_definitions_version": "tosca_simple_yaml_1_0",
                           "imports": [{"grycap": CUSTOM_TYPES_URL},
                                       {"other": "https://example.org/t.yaml"}, "plain.yaml"],
                           "topology_template": {"node_templates": {}}}, sort_keys=False)
    local = yaml.safe_load(localise_imports(text, types))
    assert local["imports"] == [{"grycap": str(types)}, {"other": "https://example.org/t.yaml"},
                                "plain.yaml"]
    assert list(local) == ["tosca_definitions_version", "imports", "topology_template"]
    assert localise_imports("- a list\n", types) == "- a list\n"  # its consumer rejects it


@pytest.mark.integration
def test_an_im_that_does_not_finish_is_a_failed_translation_not_a_crash(im_python, custom_types,
                                                                       toscas):
    name = next(iter(toscas))
    (result,) = translate({name: toscas[name]}, python=im_python, custom_types=custom_types,
                          timeout=0.01).values()
    assert not result.ok and "did not finish within 0.01 s" in result.error
