"""Each case breaks the mask-detection example in one way and names the diagnostic it expects:
its code, its file, and its line (the line where the edit starts, plus an offset; None when the
exact line is the YAML parser's business). One case per schema error kind and per check."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compiler import api
from compiler.diagnostics import CODES, Severity

DAG = "common_config/application_dag.yaml"
RES = "common_config/candidate_resources.yaml"
DEP = "common_config/candidate_deployments.yaml"
PN = "common_config/physical_nodes.yaml"
ANN = "common_config/annotations.yaml"
S4 = "space4ai-d/SPACE4AI-D.yaml"
BLUR = "src/blurry-faces-onnx/main.py"
MASK = "src/mask-detector/main.py"
ALERT = "src/mask-alert/main.py"
PERF = "oscarp/performance_models.json"
SIZES = "oscarp/components_data_size.yaml"

EDGE_ONLY_ND3 = """    ND3:
      name: Internet uplink (edge to cloud)
      AccessDelay: 0.03
      Bandwidth: 2.5               # MB/s (20 Mbit/s uplink)
      subNetworkDomains: [ND1, ND2]"""
ISOLATED_LAYER = """    ND3:
      name: Lab network with no uplink
      AccessDelay: 0.001
      Bandwidth: 10
      ComputationalLayers:
        computationalLayer5:
          number: 5
          type: Virtual
          Resources:
            resource1:
              name: LabBox
              totalNodes: 1
              cost: 0.01
              memorySize: 2048
              processors: {processor1: {computingUnits: 2}}"""


@dataclass
class Case:
    id: str
    edits: list  # (file, old, new) | (file, None, content) to write | (file, None, None) to delete
    expect: list = field(default_factory=list)  # (code, file, line offset from the first edit | None)


CASES = [
    # --- files and YAML
    Case("yaml-syntax", [(DAG, "  name: mask_detection", "  name: [mask_detection")],
         [("AIS002", DAG, None)]),
    Case("duplicate-key", [(DAG, "  name: mask_detection", "  name: mask_detection\n  name: x")],
         [("AIS003", DAG, 1)]),
    Case("empty-file", [(S4, None, "# nothing yet\n")], [("AIS004", S4, None)]),
    Case("required-file-missing", [(RES, None, None)], [("AIS001", RES, None)]),
    Case("not-utf8", [(PN, None, b"\xff\xfe\x00garbage")], [("AIS005", PN, None)]),
    # --- the input boundary (compiler/load/files.py): regular UTF-8 files inside the app
    Case("input-symlink-outside", [("src/mask-alert/env.txt", None,
                                    lambda p: p.symlink_to("/proc/self/environ"))],
         [("AIS006", "src/mask-alert/env.txt", None)]),
    Case("input-fifo", [("src/mask-alert/pipe", None, lambda p: os.mkfifo(p))],
         [("AIS007", "src/mask-alert/pipe", None)]),
    Case("input-too-large", [(S4, None, "# padding\n" * 500_000)], [("AIS008", S4, None)]),
    Case("yaml-tag-cannot-convert", [(RES, "totalNodes: 3", "totalNodes: !!int abc")],
         [("AIS002", RES, 0)]),
    Case("oscarp-not-utf8", [(SIZES, None, b"mask-detector: 0.002\nmask-alert: 0.001 # \xff\n")],
         [("AIS005", SIZES, None)]),
    Case("oscarp-regressor-outside", [(PERF, '"demand": 0.85', '"demand": 0.85, '
                                              '"regressor_file": "../../outside.pickle"')],
         [("AIS006", PERF, 0)]),
    Case("source-bom-accepted", [(ALERT, None, lambda p: p.write_bytes(b"\xef\xbb\xbf"
                                                                      + p.read_bytes()))], []),
    # --- JSON Schema, one per error kind
    Case("schema-required", [(DAG, "  components: [blurry-faces-onnx, mask-detector, mask-alert]\n",
                              "")], [("AIS101", DAG, -2)]),
    Case("schema-unknown-key", [(RES, "totalNodes: 3", "totalNode: 3")], [("AIS102", RES, 0)]),
    Case("schema-type", [(DEP, "memorySize: 2048", "memorySize: lots")], [("AIS103", DEP, 0)]),
    Case("schema-type-yaml11-float", [(RES, "cost: 0.0000667", "cost: 7e-05")],
         [("AIS103", RES, 0)]),
    Case("schema-enum", [(RES, "type: Virtual", "type: Virtal")], [("AIS104", RES, 0)]),
    Case("schema-range", [(RES, "totalNodes: 3", "totalNodes: 0")], [("AIS105", RES, 0)]),
    Case("schema-pattern", [(DAG, "mask-detector, mask-alert]", 'mask-detector, "mask alert"]')],
         [("AIS106", DAG, 0)]),
    Case("schema-key-pattern", [(RES, "            resource1:", "            resource 1:")],
         [("AIS106", RES, 0)]),
    Case("schema-min-items", [(DEP, "candidateExecutionLayers: [1, 2]",
                               "candidateExecutionLayers: []")], [("AIS107", DEP, 0)]),
    Case("schema-max-items", [(DAG, "[blurry-faces-onnx, mask-detector, 1]",
                               "[blurry-faces-onnx, mask-detector, 1, 2]")], [("AIS107", DAG, 0)]),
    Case("schema-unique", [(DAG, "mask-detector, mask-alert]",
                            "mask-detector, mask-alert, mask-detector]")], [("AIS108", DAG, 0)]),
    Case("number-not-finite", [(RES, "AccessDelay: 0.03", "AccessDelay: .nan")],
         [("AIS109", RES, 0)]),
    Case("number-too-large", [(RES, "totalNodes: 3", "totalNodes: " + "9" * 400)],
         [("AIS110", RES, 0)]),
    # --- DAG
    Case("dag-cycle", [(DAG, "    - [mask-detector, mask-alert, 1]",
                        "    - [mask-detector, mask-alert, 1]\n    - [mask-alert, blurry-faces-onnx, 1]")],
         [("AIS201", DAG, 1)]),
    Case("dag-two-sources", [(DAG, "mask-detector, mask-alert]", "mask-detector, mask-alert, extra]"),
                             (DAG, "    - [mask-detector, mask-alert, 1]",
                              "    - [mask-detector, mask-alert, 1]\n    - [extra, mask-alert, 1]")],
         [("AIS202", DAG, 2), ("AIS302", DAG, 0)]),
    Case("dag-unknown-component", [(DAG, "[mask-detector, mask-alert, 1]",
                                    "[mask-detector, mask-alrt, 1]")], [("AIS203", DAG, 0)]),
    Case("dag-unconnected", [(DAG, "mask-detector, mask-alert]", "mask-detector, mask-alert, lonely]")],
         [("AIS204", DAG, 0)]),
    Case("dag-probability-range", [(DAG, "[mask-detector, mask-alert, 1]",
                                    "[mask-detector, mask-alert, 1.5]")], [("AIS205", DAG, 0)]),
    Case("dag-probability-sum", [(DAG, "    - [mask-detector, mask-alert, 1]",
                                  "    - [mask-detector, mask-alert, 1]\n    - [blurry-faces-onnx, mask-alert, 0.5]")],
         [("AIS206", DAG, -1)]),
    Case("dag-duplicate-edge", [(DAG, "    - [mask-detector, mask-alert, 1]",
                                 "    - [mask-detector, mask-alert, 1]\n    - [mask-detector, mask-alert, 0]")],
         [("AIS207", DAG, 1)]),
    # --- candidate deployments
    Case("deployment-unknown-component", [(DEP, "name: mask-alert", "name: mask-alarm")],
         [("AIS301", DEP, 0), ("AIS302", DAG, None)]),
    Case("container-unknown-resource", [(DEP, "[Lambda-1GB, VM-t3large]", "[Lambda-1G, VM-t3large]")],
         [("AIS303", DEP, 0)]),
    Case("container-resource-layer", [(DEP, "[Lambda-1GB, VM-t3large]", "[Lambda-1GB, EdgeNUC]")],
         [("AIS304", DEP, 0)]),
    Case("deployment-unknown-layer", [(DEP, "candidateExecutionLayers: [4, 3]",
                                       "candidateExecutionLayers: [4, 3, 9]")], [("AIS305", DEP, 0)]),
    Case("container-memory", [(DEP, "memorySize: 512", "memorySize: 20000")], [("AIS306", DEP, 0)]),
    Case("partition-name", [(DEP, "name: blurry-faces-onnx_partitionX_2",
                             "name: blurry-faces-onnx_partitionX_second")], [("AIS307", DEP, 0)]),
    Case("partition-chain", [(DEP, "name: blurry-faces-onnx_partitionX_2",
                              "name: blurry-faces-onnx_partitionX_3")], [("AIS308", DEP, None)]),
    Case("deployment-duplicate", [(DEP, "name: mask-alert", "name: mask-detector")],
         [("AIS309", DEP, None)]),
    Case("container-architecture", [(DEP, 'image: ""', "image: registry.example.org/blurry_base_amd64:1")],
         [("AIS310", DEP, 7)]),
    Case("container-hardware", [(DEP, "        trustedExecution: false\n        networkProtection: true",
                                 "        trustedExecution: true\n        networkProtection: true")],
         [("AIS311", DEP, 4)]),
    # --- resources and network
    Case("network-unknown-subdomain", [(RES, "subNetworkDomains: [ND1, ND2]",
                                        "subNetworkDomains: [ND1, ND9]")], [("AIS401", RES, 0)]),
    Case("layer-unreachable", [(RES, EDGE_ONLY_ND3, ISOLATED_LAYER)], [("AIS402", RES, 5)]),
    Case("dependency-no-network", [(RES, "subNetworkDomains: [ND1, ND2]", "subNetworkDomains: []"),
                                   (DEP, "candidateExecutionLayers: [3, 4, 2]",
                                    "candidateExecutionLayers: [3, 4]"),
                                   (DEP, "[VM-t3large, VM-c5xlarge, EdgeNUC]",
                                    "[VM-t3large, VM-c5xlarge]")],
         [("AIS403", DAG, None)]),
    Case("layer-duplicate-number", [(RES, "number: 4", "number: 3")], [("AIS404", RES, 0)]),
    Case("layer-key-number", [(RES, "computationalLayer4:", "computationalLayer7:")],
         [("AIS405", RES, 2)]),
    Case("network-subdomain-cycle", [(RES, "subNetworkDomains: []", "subNetworkDomains: [ND3]")],
         [("AIS406", RES, 0)]),
    Case("resource-duplicate-name", [(RES, "name: Lambda-1GB", "name: Lambda-4GB")],
         [("AIS410", RES, 0)]),
    Case("faas-incomplete", [(RES, "              idleTime: 600\n", "")], [("AIS411", RES, None)]),
    Case("node-incomplete", [(RES, "              totalNodes: 4\n", "")], [("AIS412", RES, None)]),
    # --- annotations and QoS
    Case("annotation-no-name", [(ALERT, '@component_name(name="mask-alert")\n', "")],
         [("AIS501", ALERT, None)]),
    Case("annotation-unknown", [(ALERT, "def main(args):", "@functools.cache\ndef main(args):")],
         [("AIS502", ALERT, 0)]),
    Case("annotation-no-call", [(MASK, '@exec_time(local_time_thr=10, global_time_thr=30, '
                                       'prev_components=["blurry-faces-onnx"])', "@exec_time")],
         [("AIS503", MASK, 0)]),
    Case("annotation-duplicate", [(ALERT, '@component_name(name="mask-alert")',
                                   '@component_name(name="mask-alert")\n@component_name(name="x")')],
         [("AIS504", ALERT, 1)]),
    Case("annotation-not-constant", [(MASK, "local_time_thr=10", "local_time_thr=LIMIT")],
         [("AIS505", MASK, 0)]),
    Case("annotation-positional", [(ALERT, '@component_name(name="mask-alert")',
                                    '@component_name("mask-alert")')],
         [("AIS506", ALERT, 0), ("AIS101", ALERT, 0)]),
    Case("source-no-main", [(ALERT, "def main(args):", "def run(args):")], [("AIS508", ALERT, None)]),
    Case("source-folder-without-main", [("src/helpers/utils.py", None, "X = 1\n")],
         [("AIS508", "src/helpers", None)]),
    Case("source-syntax", [(ALERT, "def main(args):", "def main(args:")], [("AIS509", ALERT, 0)]),
    Case("annotation-unknown-component", [(ALERT, 'name="mask-alert"', 'name="mask-alerts"')],
         [("AIS510", ALERT, 0), ("AIS511", DAG, None)]),
    Case("annotations-stale", [(ANN, None, "app/src/mask-alert/main.py:\n  component_name:\n"
                                           "    name: mask-alert\n")], [("AIS512", ANN, None)]),
    Case("annotation-duplicate-component", [(ALERT, 'name="mask-alert"', 'name="mask-detector"')],
         [("AIS513", MASK, None)]),
    Case("qos-global-without-path", [(MASK, ', prev_components=["blurry-faces-onnx"]', "")],
         [("AIS520", MASK, 0)]),
    Case("qos-path-not-in-dag", [(ALERT, 'prev_components=["blurry-faces-onnx", "mask-detector"]',
                                  'prev_components=["mask-detector", "blurry-faces-onnx"]')],
         [("AIS521", ALERT, 0)]),
    Case("qos-path-unannotated", [(BLUR, '"exec_time": {"local_time_thr": 20},\n', "")],
         [("AIS522", MASK, None)]),
    Case("qos-path-self", [(MASK, 'prev_components=["blurry-faces-onnx"]',
                            'prev_components=["mask-detector"]')], [("AIS523", MASK, 0)]),
    Case("onnx-missing", [(BLUR, '"onnx_file": "version-RFB-640.onnx"', '"onnx_file": "missing.onnx"')],
         [("AIS524", BLUR, 0)]),
    Case("annotation-misspelt", [(MASK, "@exec_time(local_time_thr=10", "@exec_tme(local_time_thr=10")],
         [("AIS514", MASK, 0)]),
    Case("annotation-path-outside", [(BLUR, '"onnx_file": "version-RFB-640.onnx"',
                                      '"onnx_file": "../../../outside.onnx"')],
         [("AIS525", BLUR, 0)]),
    Case("annotation-path-nul", [(BLUR, '"onnx_file": "version-RFB-640.onnx"',
                                  '"onnx_file": "model.onnx\\x00.txt"')],
         [("AIS525", BLUR, 0)]),
    Case("no-sources-at-all", [("src", None, shutil.rmtree)], [("AIS511", DAG, None)]),
    Case("alternative-unknown", [(DAG, "    - [mask-detector, mask-alert, 1]",
                                  "    - [mask-detector, mask-alert, 1]\n"
                                  "  alternative_components:\n    mask-alert: [mask-alert-lite]")],
         [("AIS312", DAG, 2)]),
    # --- secrets
    Case("secret-literal", [(PN, "access_key: ${RPI_MINIO_ACCESS_KEY}",
                             "access_key: AKIAIOSFODNN7EXAMPLE")], [("AIS602", PN, 0)]),
    Case("secret-private-key", [(PN, "          ssh_key: ${EDGE_NUC_SSH_KEY}",
                                 '          ssh_key: "-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n'
                                 '-----END RSA PRIVATE KEY-----"')], [("AIS602", PN, 0)]),
    Case("secret-password-anywhere", [(PN, "          name: oscar-rpi",
                                       "          name: oscar-rpi\n          password: hunter2")],
         [("AIS602", PN, 1)]),
    Case("secret-shape-in-endpoint", [(PN, "endpoint: https://minio.rpi.campus.example.org",
                                       "endpoint: https://admin:hunter22@minio.rpi.example.org")],
         [("AIS603", PN, 0)]),
    Case("secret-in-source", [("src/mask-alert/settings.py", None,
                               'TOKEN = "ghp_' + "a1B2c3D4e5" * 4 + '"\n')],
         [("AIS604", "src/mask-alert/settings.py", None)]),
    # --- SPACE4AI-D settings and physical nodes
    Case("space4aid-unknown-layer", [(S4, "computationalLayer2]", "computationalLayer9]")],
         [("AIS701", S4, 0)]),
    Case("space4aid-layer-kind", [(S4, "CloudResources: [computationalLayer3]",
                                   "CloudResources: [computationalLayer3, computationalLayer4]")],
         [("AIS702", S4, 0)]),
    Case("space4aid-layer-twice", [(S4, "CloudResources: [computationalLayer3]",
                                    "CloudResources: [computationalLayer3, computationalLayer1]")],
         [("AIS702", S4, 0)]),
    Case("physical-unknown-resource", [(PN, "name: EdgeNUC", "name: EdgeNUK")],
         [("AIS703", PN, 0), ("AIS704", RES, None)]),
    Case("physical-node-count", [(PN, '          - {private_ip: 192.168.10.4, ssh_user: ubuntu, '
                                      'ssh_key: "${EDGE_NUC_SSH_KEY}"}\n', "")],
         [("AIS705", PN, None)]),
]


def apply(app: Path, edits) -> dict[str, int]:
    """Apply the edits; return, per file, the line where its first edit starts."""
    first_line: dict[str, int] = {}
    for file, old, new in edits:
        path = app / file
        if callable(new):  # a symlink, a FIFO, a removed folder: what text cannot say
            path.parent.mkdir(parents=True, exist_ok=True)
            new(path)
            continue
        if old is None:
            if new is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(new if isinstance(new, bytes) else new.encode())
            continue
        text = path.read_text()
        assert old in text, f"case is stale: {old!r} not in {file}"
        first_line.setdefault(file, text[:text.index(old)].count("\n") + 1)
        path.write_text(text.replace(old, new, 1))
    return first_line


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_rejected_with_code_file_and_line(mask_app, case):
    assert api.validate(mask_app).valid, "the example itself must be valid"
    lines = apply(mask_app, case.edits)
    report = api.validate(mask_app)
    found = [(d.code, d.location.file if d.location else "", d.location.line if d.location else 0)
             for d in report.diagnostics]
    for code, file, offset in case.expect:
        expected_file = str(mask_app / file)
        matches = [f for f in found if f[0] == code and f[1] == expected_file]
        assert matches, f"expected {code} in {file}, got {found}"
        if offset is not None:
            line = lines[file] + offset
            assert line in [m[2] for m in matches], f"{code} not at line {line}: {matches}"
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    expected_severities = {CODES[code].severity for code, _, _ in case.expect}
    assert report.valid == (Severity.ERROR not in expected_severities and not errors)


def test_every_catalogued_check_is_exercised():
    covered = {code for case in CASES for code, _, _ in case.expect}
    # AIS100 is the fallback for schema keywords our schemas do not use; AIS8xx concern the
    # placement inputs and are tested in tests/placement/test_from_application.py
    # AIS601 needs the opt-in to literal secrets: tests/test_secrets.py
    assert {c for c in CODES if c < "AIS800"} - covered == {"AIS100", "AIS601"}
    assert len(CASES) >= 40
