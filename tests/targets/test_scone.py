import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler.compile import build
from compiler.validate.schema import load_schema


@pytest.fixture(scope="module")
def sessions(prepared_examples):
    files = build(prepared_examples["mask_detection"]).artifacts
    return {p: yaml.safe_load(d) for p, d in files.items() if "/scone/" in p}


def test_only_units_that_ask_for_it_get_a_session(sessions):
    names = {p.rsplit("/", 1)[1] for p in sessions}
    assert names == {"mask-alert.yaml"}  # network and file-system shields, no enclave


def test_shields_without_an_enclave(sessions):
    doc = sessions["aisprint/deployments/base/scone/mask-alert.yaml"]
    Draft202012Validator(load_schema("scone_session")).validate(doc)
    assert doc["version"] == "0.3" and doc["name"] == "mask-detection/mask-alert"
    assert doc["security"]["attestation"]["mode"] == "none"
    service = doc["services"][0]
    assert service["fspf_key"] == "${FSPF_KEY_MASK_ALERT}"  # a reference, never a value
    assert {s["kind"] for s in doc["secrets"]} == {"x509", "private-key"}
