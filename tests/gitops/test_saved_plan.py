"""Saved plans (``aisprint plan --save``, ``compile --plan``) and the manifests a plan reads:
typed values, versioned, every refusal a located diagnostic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.errors import InvalidInput
from compiler.gitops import workflow
from compiler.gitops.plan import PLAN_SCHEMA, Side, make_plan
from compiler.gitops.workflow import SavedPlan, load_plan, save_plan
from compiler.layout import MANIFEST
from tests.cli.test_cli import aisprint
from tests.gitops.test_console import synthetic_plan, synthetic_trees

HEAD = "1" * 40


def saved_file(tmp_path, **changes) -> str:
    """The synthetic plan as `plan --save` writes it, with ``changes`` made to its JSON."""
    path = tmp_path / "plan.json"
    save_plan(synthetic_plan(), path)
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))
    return str(path)


def test_a_saved_plan_reads_back_as_the_head_and_manifest_it_was_made_for(tmp_path):
    plan = synthetic_plan()
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert json.loads(path.read_text())["$schema"] == PLAN_SCHEMA  # the file is the plan
    assert load_plan(path) == SavedPlan(plan.current.commit, plan.desired.manifest_sha256, 1)
    # an empty branch and a tree without a manifest are saved as null, and read as None
    empty = make_plan({}, {}, current_side=Side("empty", "deploy:main"),
                      desired_side=Side("compile", "working tree"))
    save_plan(empty, path)
    assert load_plan(path) == SavedPlan(None, None)


@pytest.mark.parametrize("text,problem", [
    ("{}", "its $schema is not"),
    ("not json", "Expecting value"),
    ("[]", "its $schema is not"),
    ('{"$schema": "https://example.org/plan/v1.json"}', "its $schema is not"),
    (json.dumps({"$schema": PLAN_SCHEMA.replace("v1", "v" + "9" * 5000)}), "its $schema is not"),
])
def test_a_file_that_is_not_a_plan_is_ais949(tmp_path, text, problem):
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load_plan(path)
    [found] = caught.value.diagnostics
    assert found.code == "AIS949" and problem in found.message
    assert str(found.location) == str(path) and "--save plan.json" in found.hint


def test_a_plan_missing_what_commit_checks_is_ais949_saying_where(tmp_path):
    path = saved_file(tmp_path)
    doc = json.loads(Path(path).read_text())
    del doc["desired"]["manifest_sha256"]
    Path(path).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput) as caught:
        load_plan(path)
    [found] = caught.value.diagnostics
    assert found.code == "AIS949" and "desired" in found.message \
        and "manifest_sha256" in found.message


def test_a_missing_file_is_ais949(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        load_plan(tmp_path / "nowhere.json")
    assert caught.value.diagnostics[0].code == "AIS949"


@pytest.mark.parametrize("version,word", [(2, "a newer"), (0, "an older")])
def test_a_plan_of_another_format_version_is_ais961_saying_which(tmp_path, version, word):
    path = saved_file(tmp_path, **{"$schema": PLAN_SCHEMA.replace("v1", f"v{version}")})
    with pytest.raises(InvalidInput) as caught:
        load_plan(path)
    [found] = caught.value.diagnostics
    assert found.code == "AIS961"
    assert f"format v{version}, written by {word} aisprint-gitops" in found.message
    assert "reads v1" in found.message and "aisprint plan" in found.hint


def test_compile_refuses_a_newer_plan_before_writing_anything(mask_app, tmp_path):
    path = saved_file(tmp_path, **{"$schema": PLAN_SCHEMA.replace("v1", "v7")})
    deploy = tmp_path / "deploy"
    done = aisprint("compile", str(mask_app), "--repo", str(deploy), "--plan", path)
    assert done.returncode == 1 and "AIS961" in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and not deploy.exists()


# ------------------------------------------------------------------------ manifests in a plan


def test_the_plans_costs_come_from_the_typed_manifests():
    plan = synthetic_plan()
    assert (plan.cost_before, plan.cost_after) == (2.0, 3.5)
    current, desired = synthetic_trees()
    del current[MANIFEST]  # a tree compiled before manifests existed: no cost, no error
    plan = make_plan(current, desired, current_side=Side("folder", "out"),
                     desired_side=Side("compile", "working tree"))
    assert (plan.cost_before, plan.cost_after) == (None, 3.5)


def test_a_broken_manifest_in_the_current_tree_is_ais959_naming_it():
    current, desired = synthetic_trees()
    current[MANIFEST] = b'{"placement": {"cost": 2.0}}'
    with pytest.raises(InvalidInput) as caught:
        make_plan(current, desired, current_side=Side("folder", "out"),
                  desired_side=Side("compile", "working tree"))
    [found] = caught.value.diagnostics
    assert found.code == "AIS959" and str(found.location) == f"out/{MANIFEST}"
    repo = Side("repo", "deploy:main", HEAD)
    assert repo.where(MANIFEST) == f"deploy:main:{MANIFEST}"


def test_plan_against_a_folder_with_a_broken_manifest_exits_1_naming_it(mask_app, tmp_path):
    out = tmp_path / "out"
    assert aisprint("compile", str(mask_app), "--out", str(out)).returncode == 0
    (out / MANIFEST).write_text('{"$schema": "https://aisprint-gitops.github.io/schemas/'
                                'manifest/v1.json", "files": []}')
    done = aisprint("plan", str(mask_app), "--against", str(out))
    assert done.returncode == 1 and "AIS959" in done.stdout, done.stdout + done.stderr
    assert f"{out}/{MANIFEST}" in done.stdout and "Traceback" not in done.stderr
    # deleting it, as the hint says, plans the folder as one compiled before manifests
    (out / MANIFEST).unlink()
    again = aisprint("plan", str(mask_app), "--against", str(out), "--detailed-exitcode")
    assert again.returncode == 2, again.stdout + again.stderr


def test_a_reused_tree_needs_a_readable_manifest_of_this_version(tmp_path):
    current, _ = synthetic_trees()
    assert workflow._up_to_date({**current, MANIFEST: b"garbage"}, None) is False
    assert workflow._up_to_date({k: v for k, v in current.items() if k != MANIFEST},
                                None) is False
