"""The SCONE emitter on the hand-built context (tests/targets/context.py): a CAS session for each
unit that asks for an enclave or a shield, by its container or its @security annotation."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler.load.schema import load_schema
from targets.scone import EMITTER
from tests.targets.context import context
from tests.targets.golden import assert_golden

S = "aisprint/deployments/{}/scone/{}.yaml"


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(context())


def session(emitted, deployment: str, unit: str) -> dict:
    return yaml.safe_load(emitted[S.format(deployment, unit)])


def test_only_units_that_ask_for_it_get_a_session(emitted):
    # camera: @security filesystemShield; notifier: network and file-system shields;
    # detector_partition1_2: trustedExecution; the base detector asks for nothing
    assert sorted(emitted) == sorted(
        [S.format("base", u) for u in ("camera", "notifier")]
        + [S.format(d, u) for d in ("optimal_deployment", "current_deployment")
           for u in ("camera", "detector-partition1-2", "notifier")])


def test_every_session_meets_the_session_schema(emitted):
    validator = Draft202012Validator(load_schema("scone_session"))
    for path, data in emitted.items():
        doc = yaml.safe_load(data)
        assert list(validator.iter_errors(doc)) == [], path
        assert doc["version"] == "0.3" and doc["predecessor"] is None


def test_an_enclave_is_attested_in_hardware(emitted):
    doc = session(emitted, "optimal_deployment", "detector-partition1-2")
    assert doc["name"] == "road-watch/detector-partition1-2"
    assert doc["security"]["attestation"]["mode"] == "hardware"
    (service,) = doc["services"]
    assert service["mrenclaves"] == ["${MRENCLAVE_DETECTOR_PARTITION1_2}"]
    assert service["command"] == "python3 /opt/detector_partition1_2/main.py"
    assert service["environment"] == {"COMPONENT_NAME": "detector_partition1_2",
                                      "SCONE_MODE": "hw"}
    assert "fspf_path" not in service and "secrets" not in doc


def test_a_file_system_shield_from_the_annotation(emitted):
    doc = session(emitted, "base", "camera")
    assert doc["security"]["attestation"]["mode"] == "none"
    (service,) = doc["services"]
    assert service["environment"]["SCONE_MODE"] == "sim"
    assert (service["fspf_path"], service["fspf_key"], service["fspf_tag"]) == (
        "/opt/camera/fspf.pb", "${FSPF_KEY_CAMERA}", "${FSPF_TAG_CAMERA}")
    assert "secrets" not in doc and doc["images"] == [{"name": "camera-image"}]


def test_a_network_shield_gets_a_certificate_made_by_cas(emitted):
    doc = session(emitted, "base", "notifier")
    assert doc["secrets"] == [{"name": "notifier-key", "kind": "private-key"},
                              {"name": "notifier-cert", "kind": "x509",
                               "private_key": "notifier-key"}]
    assert doc["images"] == [{"name": "notifier-image", "injection_files": [
        {"path": "/opt/notifier/tls/cert.pem", "content": "$$SCONE::notifier-cert.crt$$"},
        {"path": "/opt/notifier/tls/key.pem", "content": "$$SCONE::notifier-key$$"}]}]
    environment = doc["services"][0]["environment"]
    assert environment["TLS_CERT_FILE"] == "/opt/notifier/tls/cert.pem"
    assert environment["TLS_KEY_FILE"] == "/opt/notifier/tls/key.pem"


def test_golden(emitted, request):
    assert_golden(request, "scone", emitted)


def test_deterministic(emitted):
    assert EMITTER.emit(context()) == emitted
