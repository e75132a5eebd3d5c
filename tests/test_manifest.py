"""The manifest (compiler/manifest.py): the bytes compile writes, every older shape read and
upgraded, and a located AIS959/AIS960 for what is no manifest of ours — checked against the
manifest's JSON Schema, so the hand-written reader and the published format agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from compiler.errors import InvalidInput
from compiler.layout import MANIFEST
from compiler.manifest import (
    SCHEMA,
    CurrentRecord,
    FileRecord,
    Manifest,
    PlacementRecord,
    QosRecord,
    read,
)

MANIFEST_SCHEMA = Draft202012Validator(json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "manifest.schema.json").read_text()))
A, B, C = "a" * 64, "b" * 64, "c" * 64
# What `aisprint compile` wrote for a two-file tree (the text as written, not rebuilt here)
COMPILED = """{
  "$schema": "https://aisprint-gitops.github.io/schemas/manifest/v1.json",
  "files": {
    "aisprint/deployments/base/production_deployment.yaml": {
      "sha256": "<B>",
      "size": 120
    },
    "aisprint/designs/component_partitions.yaml": {
      "sha256": "<C>",
      "size": 0
    }
  },
  "inputs": {
    "common_config/application_dag.yaml": "<A>"
  },
  "placement": {
    "cost": 0.020009404800000002,
    "load": 1.0,
    "method": "milp+heuristic, optimal",
    "qos": [
      {
        "components": [
          "blurry-faces-onnx",
          "mask-detector"
        ],
        "kind": "global",
        "limit": 30.0,
        "name": "path1",
        "predicted": 5.89759
      },
      {
        "components": [
          "mask-alert"
        ],
        "kind": "local",
        "limit": 2.0,
        "name": "mask-alert",
        "predicted": null
      }
    ]
  },
  "tool": {
    "name": "aisprint-gitops",
    "version": "0.1.0"
  }
}
""".replace("<A>", A).replace("<B>", B).replace("<C>", C)


def schema_accepts(doc) -> bool:
    return not list(MANIFEST_SCHEMA.iter_errors(doc))


def test_a_compiled_manifest_reads_into_its_records_and_writes_the_same_bytes():
    manifest = read(COMPILED.encode(), "deploy/aisprint/manifest.json")
    assert manifest.tool_version == "0.1.0"
    assert manifest.placement == PlacementRecord(
        "milp+heuristic, optimal", 0.020009404800000002, 1.0,
        (QosRecord("path1", "global", ("blurry-faces-onnx", "mask-detector"), 30.0, 5.89759),
         QosRecord("mask-alert", "local", ("mask-alert",), 2.0, None)))
    assert manifest.inputs == {"common_config/application_dag.yaml": A}
    assert manifest.files["aisprint/designs/component_partitions.yaml"] == FileRecord(C, 0)
    assert manifest.current is None and manifest.load == 1.0
    assert manifest.to_bytes() == COMPILED.encode()


def test_of_lists_every_artifact_but_the_manifest_with_digest_and_size():
    artifacts = {"aisprint/designs/x/base/main.py": b"abc", MANIFEST: b"old",
                 "aisprint/deployments/base/a.yaml": b""}
    made = Manifest.of(artifacts, {"common_config/application_dag.yaml": b""},
                       tool_version="9", placement=PlacementRecord("base rule", None, 2.5))
    doc = json.loads(made.to_bytes())
    assert schema_accepts(doc)
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of b""
    assert doc["files"] == {
        "aisprint/deployments/base/a.yaml": {"sha256": empty, "size": 0},
        "aisprint/designs/x/base/main.py": {
            "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "size": 3}}
    assert doc["inputs"] == {"common_config/application_dag.yaml": empty}
    assert doc["placement"] == {"method": "base rule", "cost": None, "load": 2.5, "qos": []}
    assert doc["tool"] == {"name": "aisprint-gitops", "version": "9"}
    assert read(made.to_bytes(), "x") == made


def test_an_older_manifest_without_load_and_qos_is_upgraded():
    doc = json.loads(COMPILED)
    del doc["placement"]["load"], doc["placement"]["qos"]
    assert schema_accepts(doc)
    manifest = read(json.dumps(doc).encode(), "old.json")
    assert manifest.placement.qos is None  # not recorded: plan falls back to the application
    assert manifest.placement.load is None and manifest.load is None
    upgraded = json.loads(manifest.to_bytes())
    assert "qos" not in upgraded["placement"] and upgraded["placement"]["load"] is None
    assert schema_accepts(upgraded)


def test_the_reconcilers_current_record_is_read_and_kept():
    doc = json.loads(COMPILED)
    doc["current"] = {"cost": 0.5, "load": 1.7}
    assert schema_accepts(doc)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    manifest = read(text.encode(), "m")
    assert manifest.current == CurrentRecord(0.5, 1.7)
    assert manifest.load == 1.7  # the re-placement's load wins over the compile's
    assert manifest.to_bytes() == text.encode()
    doc["current"]["load"] = None  # re-placed at the expected load
    assert read(json.dumps(doc).encode(), "m").load == 1.0


def test_a_replacement_lists_the_new_files_and_records_cost_and_load():
    compiled = read(COMPILED.encode(), "m")
    replaced = compiled.replaced({"aisprint/deployments/current_deployment/x": b"xy",
                                  MANIFEST: b"ignored"}, 0.25, 3.0)
    assert replaced.files == {"aisprint/deployments/current_deployment/x": FileRecord.of(b"xy")}
    assert replaced.current == CurrentRecord(0.25, 3.0)
    assert (replaced.placement, replaced.inputs, replaced.tool_version) == \
        (compiled.placement, compiled.inputs, compiled.tool_version)
    assert schema_accepts(json.loads(replaced.to_bytes()))


def _mutations():
    """(name, mutate(doc)) pairs; each makes a document that is no v1 manifest."""
    def setter(*path, value):
        def mutate(doc):
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return mutate

    def deleter(*path):
        def mutate(doc):
            target = doc
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
        return mutate

    return [
        ("no files", deleter("files")),
        ("no tool", deleter("tool")),
        ("no placement.method", deleter("placement", "method")),
        ("unknown key", setter("extra", value=1)),
        ("unknown placement key", setter("placement", "where", value="x")),
        ("tool of another name", setter("tool", "name", value="someone-else")),
        ("version not text", setter("tool", "version", value=1)),
        ("cost as text", setter("placement", "cost", value="cheap")),
        ("cost as boolean", setter("placement", "cost", value=True)),
        ("qos not a list", setter("placement", "qos", value={})),
        ("qos kind", setter("placement", "qos", 0, "kind", value="path")),
        ("qos no components", setter("placement", "qos", 0, "components", value=[])),
        ("qos limit null", setter("placement", "qos", 0, "limit", value=None)),
        ("short digest", setter("inputs", "common_config/application_dag.yaml", value="ab")),
        ("upper-case digest", setter("files", "aisprint/designs/component_partitions.yaml",
                                     "sha256", value="A" * 64)),
        ("negative size", setter("files", "aisprint/designs/component_partitions.yaml",
                                 "size", value=-1)),
        ("fractional size", setter("files", "aisprint/designs/component_partitions.yaml",
                                   "size", value=1.5)),
        ("file not an object", setter("files", "aisprint/designs/component_partitions.yaml",
                                      value=C)),
        ("current without load", setter("current", value={"cost": 1.0})),
        ("current cost null", setter("current", value={"cost": None, "load": 1.0})),
        ("current with more", setter("current", value={"cost": 1.0, "load": 1.0, "at": 3})),
        ("no $schema", deleter("$schema")),
    ]


@pytest.mark.parametrize("name,mutate", _mutations(), ids=[m[0] for m in _mutations()])
def test_what_the_schema_refuses_is_ais959_naming_the_file_and_the_fix(name, mutate):
    doc = json.loads(COMPILED)
    mutate(doc)
    assert not schema_accepts(doc), f"{name}: the mutation is still a valid manifest"
    with pytest.raises(InvalidInput) as caught:
        read(json.dumps(doc).encode(), "deploy:main:aisprint/manifest.json")
    [found] = caught.value.diagnostics
    assert found.code == "AIS959"
    assert found.message.startswith("deploy:main:aisprint/manifest.json is not a manifest")
    assert str(found.location) == "deploy:main:aisprint/manifest.json"
    assert "delete it" in found.hint and "compile again" in found.hint


@pytest.mark.parametrize("data,problem", [
    (b"", "not JSON"), (b"\xff\xfe{}", "not JSON"), (b"[1, 2]", "not a JSON object"),
    (b'{"placement": {"cost": NaN}}', "not JSON"), (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b'{"$schema": "https://example.com/manifest/v1.json"}', "its $schema is"),
    (b"1" * 5000, "not JSON"),
    (b'{"$schema": "https://aisprint-gitops.github.io/schemas/manifest/v' + b"9" * 5000
     + b'.json"}', "its $schema is"),  # a version no int() should be asked to read
])
def test_what_is_not_even_a_manifest_document_is_ais959(data, problem):
    with pytest.raises(InvalidInput) as caught:
        read(data, "out/aisprint/manifest.json")
    [found] = caught.value.diagnostics
    assert found.code == "AIS959" and problem in found.message


def test_a_non_finite_or_huge_number_is_refused():
    for value in (float("inf"), 10**400):
        doc = json.loads(COMPILED)
        doc["placement"]["cost"] = value
        with pytest.raises(InvalidInput) as caught:
            read(json.dumps(doc).encode(), "m")
        assert caught.value.diagnostics[0].code == "AIS959"


@pytest.mark.parametrize("version,fix", [(2, "upgrade aisprint-gitops"),
                                          (0, "compile the tree again")])
def test_another_version_of_the_format_is_ais960_saying_which(version, fix):
    doc = json.loads(COMPILED)
    doc["$schema"] = SCHEMA.replace("v1.json", f"v{version}.json")
    with pytest.raises(InvalidInput) as caught:
        read(json.dumps(doc).encode(), "m.json")
    [found] = caught.value.diagnostics
    assert found.code == "AIS960" and f"format v{version}" in found.message
    assert "reads v1" in found.message and fix in found.hint
