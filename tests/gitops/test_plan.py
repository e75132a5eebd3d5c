"""`aisprint plan` / `diff`: real compiles, real repositories, the exit-code contract."""

from __future__ import annotations

import json
import re
import shutil

import git
import pytest
from jsonschema import Draft202012Validator

from compiler.errors import InvalidInput
from compiler.gitops import workflow as deploy
from compiler.gitops.summary import plan_json
from compiler.load.schema import load_schema
from tests.cli.test_cli import aisprint
from tests.gitops.conftest import git_run

BLURRY = "src/blurry-faces-onnx/main.py"


def tighten(app, limit: int = 5) -> None:
    """blurry-faces-onnx's local limit 20 s -> ``limit`` s: the Raspberry Pi needs a replica."""
    main = app / BLURRY
    main.write_text(re.sub(r'"local_time_thr": \d+', f'"local_time_thr": {limit}',
                           main.read_text()))


def schema_errors(doc: dict) -> list[str]:
    return [e.message for e in Draft202012Validator(load_schema("plan")).iter_errors(doc)]


def test_first_plan_adds_everything_and_matches_the_schema(mask_app, tmp_path):
    git.Repo.init(tmp_path / "deploy", initial_branch="main")
    done = aisprint("plan", str(mask_app), "--repo", str(tmp_path / "deploy"), "-o", "json",
                    "--detailed-exitcode")
    assert done.returncode == 2, done.stderr
    doc = json.loads(done.stdout)
    assert schema_errors(doc) == []
    assert doc["current"]["kind"] == "empty" and doc["has_changes"]
    assert doc["summary"]["removed"] == doc["summary"]["modified"] == 0
    assert {p["change"] for p in doc["placement"]} == {"added"}
    assert doc["cost"]["before"] is None and doc["cost"]["after"] > 0
    assert all(q["status"] == "ok" and q["after"] is not None for q in doc["qos"])


def test_after_compile_the_plan_is_empty_exit_0_and_deterministic(mask_app, tmp_path):
    deploy_repo = tmp_path / "deploy"
    done = aisprint("compile", str(mask_app), "--repo", str(deploy_repo))
    assert done.returncode == 0, done.stderr
    assert git.Repo(deploy_repo).head.commit.message.startswith("compile of ")
    runs = [aisprint("plan", str(mask_app), "--repo", str(deploy_repo), "-o", "markdown",
                     "--detailed-exitcode") for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0]
    assert runs[0].stdout == runs[1].stdout and "no changes" in runs[0].stdout
    again = aisprint("compile", str(mask_app), "--repo", str(deploy_repo))
    assert "nothing to commit" in again.stdout
    assert git_run(deploy_repo, "rev-list", "--count", "HEAD") == "1"


def test_a_tighter_limit_scales_the_edge_and_labels_the_changes(mask_app, tmp_path):
    deploy.commit(mask_app, repo=tmp_path / "deploy")
    tighten(mask_app)
    plan = deploy.plan(mask_app, repo=tmp_path / "deploy")
    assert plan.has_changes and plan.restart_required
    unit = next(p for p in plan.placement if p.unit == "blurry-faces-onnx")
    assert unit.kind == "scaled" and (unit.before.replicas, unit.after.replicas) == (1, 2)
    assert plan.cost_after > plan.cost_before
    labels = {a.path: a.label for a in plan.artifacts}
    assert labels[f"aisprint/designs/blurry-faces-onnx/base/{BLURRY.split('/')[-1]}"] == \
        "metadata"  # only the annotation changed
    current = "aisprint/deployments/current_deployment/"
    assert labels[current + "production_deployment.yaml"] == "restart"
    assert labels[current + "space4ai-d/qos_constraints.yaml"] == "metadata"
    assert labels["aisprint/manifest.json"] == "metadata"
    row = next(q for q in plan.qos if q.name == "blurry-faces-onnx")
    assert (row.limit_before, row.limit, row.status) == (20.0, 5.0, "ok")
    assert row.after < 5 < row.before
    assert schema_errors(json.loads(plan_json(plan))) == []


def test_a_comment_only_change_needs_no_restart(mask_app, tmp_path):
    deploy.commit(mask_app, repo=tmp_path / "deploy")
    main = mask_app / BLURRY
    main.write_text("# a comment\n" + main.read_text())
    plan = deploy.plan(mask_app, repo=tmp_path / "deploy")
    labels = {a.path: a.label for a in plan.artifacts}
    assert labels["aisprint/designs/blurry-faces-onnx/base/main.py"] == "metadata"
    assert labels["aisprint/manifest.json"] == "metadata"
    if not plan.moved():  # (the placement is the same optimum)
        assert set(labels) == {"aisprint/designs/blurry-faces-onnx/base/main.py",
                               "aisprint/manifest.json"}
        assert not plan.restart_required


def test_stale_plan_is_refused_and_a_fresh_one_is_written(mask_app, tmp_path):
    deploy_repo = tmp_path / "deploy"
    deploy.commit(mask_app, repo=deploy_repo)
    tighten(mask_app)
    saved = tmp_path / "plan.json"
    done = aisprint("plan", str(mask_app), "--repo", str(deploy_repo), "--save", str(saved),
                    "--detailed-exitcode", "--no-diff")
    assert done.returncode == 2, done.stderr
    # someone changes the deployment repository by hand between plan and apply
    (deploy_repo / "README.md").write_text("hand-made\n")
    git_run(deploy_repo, "add", "README.md")
    git_run(deploy_repo, "commit", "-qm", "by hand")
    stale = aisprint("compile", str(mask_app), "--repo", str(deploy_repo), "--plan", str(saved))
    assert stale.returncode == 1 and "AIS944" in stale.stdout, stale.stdout + stale.stderr
    assert git_run(deploy_repo, "log", "-1", "--format=%s") == "by hand"
    # plan again, review, write exactly that plan
    assert aisprint("plan", str(mask_app), "--repo", str(deploy_repo), "--save",
                    str(saved)).returncode == 0
    written = aisprint("compile", str(mask_app), "--repo", str(deploy_repo), "--plan",
                       str(saved), "--author", "Bot <bot@example.org>")
    assert written.returncode == 0, written.stdout + written.stderr
    head = git.Repo(deploy_repo).head.commit
    assert head.author.email == "bot@example.org" and "blurry-faces-onnx: scaled" in head.message
    assert (deploy_repo / "README.md").read_text() == "hand-made\n"
    # the application changes after the plan: the plan no longer says what would be written
    assert aisprint("plan", str(mask_app), "--repo", str(deploy_repo), "--save",
                    str(saved)).returncode == 0
    tighten(mask_app, 4)
    mismatch = aisprint("compile", str(mask_app), "--repo", str(deploy_repo), "--plan",
                        str(saved))
    assert mismatch.returncode == 1 and "AIS948" in mismatch.stdout


def test_diff_between_two_revisions(mask_app, tmp_path):
    deploy_repo = tmp_path / "deploy"
    deploy.commit(mask_app, repo=deploy_repo)
    tighten(mask_app)
    deploy.commit(mask_app, repo=deploy_repo)
    done = aisprint("diff", "HEAD~1", "HEAD", "--repo", str(deploy_repo), "-o", "json",
                    "--detailed-exitcode")
    assert done.returncode == 2, done.stderr
    doc = json.loads(done.stdout)
    assert schema_errors(doc) == []
    assert [p["change"] for p in doc["placement"] if p["unit"] == "blurry-faces-onnx"] == \
        ["scaled"]
    assert next(q for q in doc["qos"] if q["name"] == "blurry-faces-onnx")["before"] > 5
    same = aisprint("diff", "HEAD", "HEAD", "--repo", str(deploy_repo), "--detailed-exitcode")
    assert same.returncode == 0 and "no changes" in same.stdout
    bad = aisprint("diff", "nope", "HEAD", "--repo", str(deploy_repo))
    assert bad.returncode == 1 and "AIS946" in bad.stdout


def test_errors_exit_1_with_a_diagnostic(mask_app, tmp_path):
    (tmp_path / "plain").mkdir()
    done = aisprint("plan", str(mask_app), "--repo", str(tmp_path / "plain"),
                    "--detailed-exitcode")
    assert done.returncode == 1 and "AIS941" in done.stdout and "Traceback" not in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(InvalidInput) as caught:
        deploy.load_plan(broken)
    assert caught.value.diagnostics[0].code == "AIS949"


@pytest.mark.slow
def test_pull_request_flow_with_a_bare_remote(mask_app, tmp_path, bare_remote):
    """main and a feature branch as a pull request; plan the PR; merge; compile; force-push."""
    work = tmp_path / "work"
    shutil.copytree(mask_app, work / "app")
    repo = git.Repo.init(work, initial_branch="main")
    repo.git.add("-A")
    repo.index.commit("application")
    repo.create_remote("origin", str(bare_remote)).push("main")
    repo.git.checkout("-b", "feature")
    tighten(work / "app")
    repo.git.commit("-qam", "tighter limit")
    repo.git.push("-q", "origin", "feature")
    # CI on the pull request: a fresh clone, the PR head against its base
    clone = tmp_path / "clone"
    git.Repo.clone_from(str(bare_remote), clone, branch="feature")
    done = aisprint("plan", str(clone / "app"), "--against", "origin/main", "-o", "markdown",
                    "--detailed-exitcode", "--comments-dir", str(tmp_path / "comments"))
    assert done.returncode == 2, done.stderr
    assert "blurry-faces-onnx" in done.stdout and "scaled" in done.stdout
    comments = sorted((tmp_path / "comments").glob("comment-*.md"))
    assert comments and all(len(c.read_text()) <= 65_535 for c in comments)
    # merge, then the push to main compiles into the deployment repository
    repo.git.checkout("main")
    repo.git.merge("-q", "--no-ff", "feature", "-m", "merge feature")
    repo.git.push("-q", "origin", "main")
    deploy_repo = tmp_path / "deploy"
    result, _ = deploy.commit(work / "app", repo=deploy_repo)
    message = git.Repo(deploy_repo).head.commit.message
    assert f"Aisprint-Source: {repo.head.commit.hexsha}" in message
    assert result.changed
    assert deploy.plan(work / "app", repo=deploy_repo).has_changes is False
    # the PR branch is force-pushed back to main's first commit: the plan follows the branch
    repo.git.push("-q", "--force", "origin", "main~1:refs/heads/feature")
    git.Repo(clone).git.fetch("-q", "--force", "origin",
                              "+refs/heads/*:refs/remotes/origin/*")
    back = deploy.plan(clone / "app", rev="origin/feature", against="origin/main")
    assert back.desired.commit == git_run(bare_remote, "rev-parse", "feature")
    unit = next(p for p in back.placement if p.unit == "blurry-faces-onnx")
    assert unit.kind == "scaled" and (unit.before.replicas, unit.after.replicas) == (2, 1)


def test_an_up_to_date_tree_is_not_compiled_again(mask_app, tmp_path, monkeypatch):
    deploy.commit(mask_app, repo=tmp_path / "deploy")

    def no_compile(*args, **kwargs):
        raise AssertionError("compiled although the manifest matches the inputs")

    monkeypatch.setattr(deploy, "build", no_compile)
    assert not deploy.plan(mask_app, repo=tmp_path / "deploy").has_changes
    with pytest.raises(AssertionError):
        deploy.plan(mask_app, repo=tmp_path / "deploy", recompile=True)
    tighten(mask_app)  # an input changed: the fast path must not apply
    with pytest.raises(AssertionError):
        deploy.plan(mask_app, repo=tmp_path / "deploy")
