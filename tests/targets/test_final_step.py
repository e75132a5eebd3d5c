"""The registry's final step, the manifest (targets/manifest.py), and ``emit_tree`` that runs
the registry then it, on the hand-built context: digests computed here with hashlib, the
placement record as given, what ``targets`` selects and what it cannot leave out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from compiler import __version__
from compiler.layout import MANIFEST
from compiler.manifest import PlacementRecord, QosRecord, read
from targets import EMITTERS, FINAL, emit_tree
from targets.check import CheckTools, CompiledTree
from tests.targets.context import context
from tests.targets.golden import assert_golden
from tests.targets.test_designs import INPUTS

PLACED = PlacementRecord("milp, optimal", 1.25, 2.0,
                         (QosRecord("path1", "global", ("camera", "detector", "notifier"),
                                    6.0, 4.5),))


@pytest.fixture(scope="module")
def tree():
    return emit_tree(replace(context(), inputs=INPUTS, placement=PLACED))


def test_the_manifest_lists_every_other_file_by_its_sha256_and_size(tree):
    doc = json.loads(tree[MANIFEST])
    assert doc["files"] == {path: {"sha256": hashlib.sha256(data).hexdigest(),
                                   "size": len(data)}
                            for path, data in tree.items() if path != MANIFEST}
    assert doc["inputs"] == {path: hashlib.sha256(data).hexdigest()
                             for path, data in INPUTS.items()}
    assert doc["placement"] == {"method": "milp, optimal", "cost": 1.25, "load": 2.0, "qos": [
        {"name": "path1", "kind": "global", "components": ["camera", "detector", "notifier"],
         "limit": 6.0, "predicted": 4.5}]}
    assert doc["tool"] == {"name": "aisprint-gitops", "version": __version__}
    assert read(tree[MANIFEST], "m").placement == PLACED


def test_the_tree_holds_every_registered_emitters_files_and_is_sorted(tree):
    for name, emitter in EMITTERS.items():
        written = emitter.emit(replace(context(), inputs=INPUTS, placement=PLACED))
        assert all(tree[path] == data for path, data in written.items()), name
    assert list(tree) == sorted(tree)
    assert set(tree) == {MANIFEST} | {path for emitter in EMITTERS.values() for path in
                                      emitter.emit(replace(context(), inputs=INPUTS))}


def test_a_selection_of_targets_keeps_the_design_tree_and_the_manifest(tree):
    docker = emit_tree(replace(context(), inputs=INPUTS, placement=PLACED), ("docker",))
    assert "aisprint/designs/camera/base/script.sh" in docker  # the images are built from it
    assert any(p.endswith("/Dockerfile") for p in docker)
    assert not any(p.startswith("aisprint/deployments/") for p in docker)
    assert set(json.loads(docker[MANIFEST])["files"]) == set(docker) - {MANIFEST}


def test_without_a_placement_record_there_is_no_manifest():
    assert MANIFEST not in emit_tree(context())  # the reconciler re-emitting one deployment


def test_two_emitters_writing_one_path_differently_is_a_bug_said_so(monkeypatch):
    class Clash:
        name = "clash"

        def emit(self, _context):
            return {"aisprint/designs/camera/base/script.sh": b"#!/bin/sh\nexit 1\n"}

    monkeypatch.setitem(EMITTERS, "clash", Clash())
    with pytest.raises(RuntimeError, match="two emitters write different"):
        emit_tree(context())


def test_the_manifest_check_holds_it_to_its_schema(tree, tmp_path):
    ok = CompiledTree(tree, tmp_path, CheckTools())
    assert FINAL.check(ok) == ()
    doc = json.loads(tree[MANIFEST])
    doc["files"]["x"] = {"sha256": "not a digest", "size": 1}
    broken = CompiledTree({**tree, MANIFEST: json.dumps(doc).encode()}, tmp_path, CheckTools())
    [found] = FINAL.check(broken)
    assert found.code == "AIS906" and found.location.file == MANIFEST


SMALL_TREE = {"aisprint/designs/camera/base/script.sh": b"#!/bin/sh\nexec python main.py\n",
              "aisprint/deployments/base/application_dag.yaml": b"System: {}\n"}


def test_golden_over_a_small_fixed_tree(request):
    """The manifest's bytes (key order, layout, final newline) over two files that do not
    change with the other emitters."""
    written = FINAL.emit_over(replace(context(), inputs=INPUTS, placement=PLACED), SMALL_TREE)
    assert list(written) == [MANIFEST]
    assert_golden(request, "manifest", written)


def test_the_same_bytes_whatever_order_the_artifacts_and_inputs_come_in():
    ordered = FINAL.emit_over(replace(context(), inputs=INPUTS, placement=PLACED), SMALL_TREE)
    shuffled = FINAL.emit_over(
        replace(context(), inputs=dict(reversed(INPUTS.items())), placement=PLACED),
        dict(reversed(SMALL_TREE.items())))
    assert shuffled == ordered
