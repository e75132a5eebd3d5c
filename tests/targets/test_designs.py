"""The design tree emitter on the hand-built context (tests/targets/context.py), given the
application's files by hand: what is copied where, the scripts OSCAR runs, the list of designs,
and the check that holds them together."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
import yaml

from targets import EMITTERS
from targets.check import CheckTools, CompiledTree
from targets.designs import EMITTER
from tests.targets.context import context
from tests.targets.golden import assert_golden

D = "aisprint/designs"
INPUTS = {
    "common_config/application_dag.yaml": b"System: {}\n",
    "src/camera/main.py": b"def main(args):\n    return 'camera'\n",
    "src/camera/lib/util.py": b"X = 1\n",
    "src/detector/main.py": b"def main(args):\n    return 'detector'\n",
    "src/detector/onnx/detector.onnx": b"\x08\x07model",
    "src/notifier/main.py": b"def main(args):\n    return 'notify'\n",
    "src/cameraman/main.py": b"not camera's\n",  # a prefix of camera's folder name
    # what `aisprint design` generated for the detector's cut 1
    f"{D}/detector/partition1_1/main.py": b"half 1\n",
    f"{D}/detector/partition1_1/onnx/partition1_1.onnx": b"\x08\x07h1",
    f"{D}/detector/partition1_2/main.py": b"half 2\n",
    # a cut the context does not list as designed: not part of the tree
    f"{D}/detector/partition2_1/main.py": b"stale\n",
}


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(replace(context(), inputs=INPUTS))


def test_every_design_holds_its_code_and_the_script_oscar_runs(emitted):
    assert sorted(emitted) == sorted([
        f"{D}/camera/base/lib/util.py", f"{D}/camera/base/main.py", f"{D}/camera/base/script.sh",
        f"{D}/component_partitions.yaml",
        f"{D}/detector/base/main.py", f"{D}/detector/base/onnx/detector.onnx",
        f"{D}/detector/base/script.sh",
        f"{D}/detector/partition1_1/main.py", f"{D}/detector/partition1_1/onnx/partition1_1.onnx",
        f"{D}/detector/partition1_1/script.sh",
        f"{D}/detector/partition1_2/main.py", f"{D}/detector/partition1_2/script.sh",
        f"{D}/notifier/base/main.py", f"{D}/notifier/base/script.sh"])
    assert emitted[f"{D}/camera/base/main.py"] == INPUTS["src/camera/main.py"]
    assert emitted[f"{D}/detector/partition1_1/onnx/partition1_1.onnx"] == b"\x08\x07h1"


def test_the_script_runs_the_units_main_on_the_file_oscar_hands_it(emitted):
    script = emitted[f"{D}/detector/partition1_2/script.sh"].decode()
    assert script.startswith("#!/bin/sh\n") and "set -e\n" in script
    assert "cd /opt/detector_partition1_2\n" in script
    assert script.endswith('exec python main.py "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR"\n')
    assert "cd /opt/camera\n" in emitted[f"{D}/camera/base/script.sh"].decode()


def test_component_partitions_lists_base_first_then_the_halves_in_dag_order(emitted):
    text = emitted[f"{D}/component_partitions.yaml"]
    assert yaml.safe_load(text) == {"components": {
        "camera": {"partitions": ["base"]},
        "detector": {"partitions": ["base", "partition1_1", "partition1_2"]},
        "notifier": {"partitions": ["base"]}}}
    assert text.startswith(b"components:\n  camera:\n")  # the DAG's order, not sorted


def test_the_same_context_gives_the_same_bytes(emitted):
    assert EMITTER.emit(replace(context(), inputs=dict(reversed(INPUTS.items())))) == emitted


def test_the_design_tree_is_registered_first(emitted):
    assert next(iter(EMITTERS)) == "designs" and EMITTERS["designs"] is EMITTER


def test_golden(emitted, request):
    assert_golden(request, "designs", emitted)


def check(files, tmp_path):
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return EMITTER.check(CompiledTree(files, tmp_path, CheckTools()))


def test_the_check_passes_the_tree_and_finds_what_breaks_it(emitted, tmp_path):
    assert check(emitted, tmp_path / "ok") == ()
    broken = {k: v for k, v in emitted.items() if k != f"{D}/detector/partition1_2/script.sh"}
    broken[f"{D}/camera/partition9_1/main.py"] = b"unlisted\n"
    found = check(broken, tmp_path / "broken")
    assert [(d.code, d.location.file) for d in found] == [
        ("AIS906", f"{D}/camera/partition9_1"), ("AIS906", f"{D}/detector/partition1_2")]
    assert "not listed" in found[0].message and "no script.sh" in found[1].message
    shutil.rmtree(tmp_path / "broken")
    garbled = {**emitted, f"{D}/component_partitions.yaml": b"- a list\n"}
    [problem] = check(garbled, tmp_path / "garbled")
    assert problem.location.file == f"{D}/component_partitions.yaml"
