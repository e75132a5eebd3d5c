"""One Workspace, one problem: every verb that places an application builds the same
placement problem for it, and a git revision is read from git's objects."""

from __future__ import annotations

import subprocess

import pytest

from compiler.compile import build, place_application
from compiler.gitops import workflow
from compiler.runtime.reconcile import replace_current
from compiler.workspace import Workspace
from tests.test_compile import _fake_partition_design

BOUNDARY = "blurry-faces-onnx_partition1_1"  # what half 1 of the generated cut sends on


def transfer(system) -> tuple[float, ...]:
    """MB the first half of the cut sends on, in a placement problem."""
    component = next(c for c in system.components if c.name == "blurry-faces-onnx")
    half = component.deployment("partition1").partitions[0]
    assert half.name == BOUNDARY
    return half.data_sizes


@pytest.fixture
def problems(monkeypatch):
    """Every placement problem built during a test, by whoever built it."""
    built = []
    original = Workspace.problem

    def recording(self, **options):
        mapped = original(self, **options)
        built.append(mapped.system)
        return mapped

    monkeypatch.setattr(Workspace, "problem", recording)
    return built


def test_space4aid_compile_plan_and_reconcile_solve_the_same_problem(mask_app, problems):
    _fake_partition_design(mask_app)
    sizes = mask_app / "oscarp" / "components_data_size.yaml"  # no measured size of the cut
    sizes.write_text("".join(line + "\n" for line in sizes.read_text().splitlines()
                             if not line.startswith(BOUNDARY)))
    placed = place_application(mask_app, write=False)
    artifacts = build(mask_app).artifacts
    workflow.predictions(mask_app, (workflow.Tree(artifacts, None),))
    replace_current(mask_app, artifacts, load=None, measured_components={}, now=0.0,
                    mode="fast", tolerance=0.0)
    assert len(problems) == 4  # space4aid, compile, plan's predictions, the reconciler
    first = problems[0]
    assert all(system == first for system in problems[1:])
    assert placed.system == first
    # the cut's partitioned deployment is offered to all, and its transfer is priced at the
    # size of half 2's inputs (4 kB), not 0 MB as the reconciler once did
    assert transfer(first) == (pytest.approx(0.004),)


def test_a_measured_transfer_size_wins_over_the_designed_one_for_every_verb(mask_app):
    _fake_partition_design(mask_app)
    sizes = mask_app / "oscarp" / "components_data_size.yaml"
    sizes.write_text(sizes.read_text().replace(f"{BOUNDARY}: 1.2", f"{BOUNDARY}: 2.5"))
    workspace = Workspace.from_folder(mask_app)
    assert workspace.boundary_sizes == {BOUNDARY: pytest.approx(0.004)}
    assert transfer(workspace.problem().system) == (2.5,)


def _git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def committed_app(mask_app):
    """mask_app in a git repository of its own, committed once."""
    _git(mask_app, "init", "-q", "-b", "main")
    _git(mask_app, "add", "-A")
    _git(mask_app, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "app")
    return mask_app


def test_a_revision_is_read_from_git_objects_not_the_work_tree(committed_app, tmp_path):
    dag = committed_app / "common_config" / "application_dag.yaml"
    committed = dag.read_bytes()
    dag.write_bytes(committed + b"# edited after the commit\n")
    at_head = Workspace.from_revision(committed_app, "HEAD")
    assert at_head.revision == _git(committed_app, "rev-parse", "HEAD")
    assert at_head.inputs["common_config/application_dag.yaml"] == committed
    assert Workspace.from_folder(committed_app).inputs[
        "common_config/application_dag.yaml"] != committed
    # the same bytes as compiling a checkout of that commit
    checkout = tmp_path / "checkout"
    _git(committed_app, "worktree", "add", "-q", str(checkout), "HEAD")
    assert build(at_head).artifacts == build(checkout).artifacts


def test_a_revision_follows_links_inside_the_application_only(committed_app):
    src = committed_app / "src" / "mask-alert"
    (src / "inside.py").symlink_to("main.py")
    (src / "outside.txt").symlink_to("/etc/hostname")
    _git(committed_app, "add", "-A")
    _git(committed_app, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "l")
    workspace = Workspace.from_revision(committed_app, "HEAD")
    inputs = workspace.inputs
    assert inputs["src/mask-alert/inside.py"] == inputs["src/mask-alert/main.py"]
    assert "src/mask-alert/outside.txt" not in inputs
    refused = [d for d in workspace.report.diagnostics if d.code == "AIS006"]
    assert len(refused) == 1 and "outside.txt" in refused[0].message


def test_a_revision_that_is_no_commit_says_so(committed_app):
    from compiler.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        Workspace.from_revision(committed_app, "no-such-branch")
    assert [d.code for d in error.value.diagnostics] == ["AIS946"]


def test_a_revision_is_validated_on_its_own_files_not_the_work_tree(committed_app):
    """Every check reads the files as read once: a credential added to the work tree after
    the commit is the work tree's problem, not the revision's (and the other way round)."""
    import secrets

    key = "AKIA" + secrets.token_hex(8).upper()  # the shape of an AWS access key id
    (committed_app / "src" / "mask-alert" / "notes.txt").write_text(f"key = {key}\n")
    in_work_tree = [d.code for d in Workspace.from_folder(committed_app).report.diagnostics]
    at_head = [d.code for d in Workspace.from_revision(committed_app, "HEAD").report.diagnostics]
    assert "AIS604" in in_work_tree and "AIS604" not in at_head
