"""The reconciler's side of the manifest: a re-placement records itself in ``current`` (the
same bytes the reconciler always wrote), and the load it plans around is read back typed."""

from __future__ import annotations

import hashlib
import json

import pytest

from compiler.errors import InvalidInput
from compiler.layout import MANIFEST
from compiler.manifest import CurrentRecord, read
from compiler.runtime.reconcile import _manifest_for, planned_load
from tests.test_manifest import COMPILED, schema_accepts

NEW = {"aisprint/deployments/current_deployment/production_deployment.yaml": b"System: {}\n",
       "aisprint/deployments/current_deployment_2026-12-02-10-00-00-000000/x.yaml": b"x\n"}


def test_a_replacement_keeps_the_compile_record_lists_the_new_files_and_adds_current():
    written = _manifest_for({**NEW, MANIFEST: b"stale"}, {MANIFEST: COMPILED.encode()},
                            0.0125, 1.75)
    # what the reconciler wrote before the manifest was typed: the old document, new files,
    # a current record, dumped sorted with two-space indent
    doc = json.loads(COMPILED)
    doc["files"] = {path: {"sha256": hashlib.sha256(data).hexdigest(),
                           "size": len(data)} for path, data in sorted(NEW.items())}
    doc["current"] = {"cost": 0.0125, "load": 1.75}
    assert written == (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    assert schema_accepts(doc)
    # a second re-placement replaces the record
    again = read(_manifest_for(NEW, {MANIFEST: written}, 0.5, None), "m")
    assert again.current == CurrentRecord(0.5, None) and again.placement.load == 1.0


def test_a_tree_without_a_manifest_gets_a_valid_one_recording_the_replacement():
    written = _manifest_for(NEW, {}, 0.25, 2.0)
    doc = json.loads(written)
    assert schema_accepts(doc)
    manifest = read(written, "m")
    assert manifest.current == CurrentRecord(0.25, 2.0) and set(manifest.files) == set(NEW)
    assert manifest.placement.cost is None and manifest.inputs == {}


def test_the_planned_load_is_the_last_replacements_else_the_compiles():
    assert planned_load({MANIFEST: COMPILED.encode()}) == 1.0
    assert planned_load({MANIFEST: _manifest_for(NEW, {MANIFEST: COMPILED.encode()},
                                                 0.1, 1.75)}) == 1.75
    assert planned_load({}) is None


def test_a_broken_committed_manifest_is_ais959_not_a_traceback():
    with pytest.raises(InvalidInput) as caught:
        planned_load({MANIFEST: b'{"current": {"load": 2}}'})
    assert caught.value.diagnostics[0].code == "AIS959"
