"""The one writer: commits, removals, modes, lock and compare-and-swap, push, hand edits."""

from __future__ import annotations

import threading

import git
import pytest

from compiler.errors import InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops.lock import WriteLock
from compiler.gitops.message import CommitMessage, compile_message, parse, reconcile_message
from tests.gitops.conftest import committed_files, git_run, tree_files

OLD = {"aisprint/manifest.json": b'{"v": 1}\n',
       "aisprint/designs/a/base/main.py": b"print('a')\n",
       "aisprint/deployments/base/x.yaml": b"x: 1\n",
       "aisprint/deployments/current_deployment/oscar/fdl.yaml": b"functions: {}\n"}
NEW = {"aisprint/manifest.json": b'{"v": 2}\n',
       "aisprint/designs/b/base/main.py": b"print('b')\n",
       "aisprint/deployments/current_deployment/oscar/fdl.yaml": b"functions: {b: 1}\n"}


def code(error: InvalidInput) -> str:
    return error.diagnostics[0].code


def test_first_write_creates_the_repository_and_commits(tmp_path):
    target = gitrepo.DeploymentRepo(tmp_path / "deploy")
    result = gitrepo.write(target, OLD, compile_message("a" * 40), create=True)
    assert result.changed and result.previous is None and result.branch == "main"
    assert tree_files(tmp_path / "deploy") == OLD
    assert committed_files(tmp_path / "deploy") == OLD
    assert git_run(tmp_path / "deploy", "status", "--porcelain") == ""


def test_second_write_removes_unlisted_files_and_keeps_the_rest(tmp_path):
    deploy = tmp_path / "deploy"
    target = gitrepo.DeploymentRepo(deploy)
    gitrepo.write(target, OLD, compile_message("a" * 40), create=True)
    (deploy / "README.md").write_text("kept\n")
    (deploy / "aisprint" / "logs").mkdir()
    (deploy / "aisprint" / "logs" / "run.log").write_text("kept\n")
    git_run(deploy, "add", "README.md", "aisprint/logs")
    git_run(deploy, "commit", "-qm", "by hand")
    result = gitrepo.write(target, NEW, compile_message("b" * 40, summary=["why"]))
    assert result.changed
    on_disk = tree_files(deploy)
    assert {k: v for k, v in on_disk.items() if not k.startswith("aisprint/logs")} == NEW
    assert "aisprint/logs/run.log" in on_disk and (deploy / "README.md").read_text() == "kept\n"
    committed = committed_files(deploy)
    assert committed["README.md"] == b"kept\n" and "aisprint/deployments/base/x.yaml" not in \
        committed
    assert git_run(deploy, "status", "--porcelain") == ""


def test_unchanged_tree_makes_no_commit(tmp_path):
    target = gitrepo.DeploymentRepo(tmp_path / "deploy")
    first = gitrepo.write(target, OLD, compile_message(None), create=True)
    again = gitrepo.write(target, OLD, compile_message(None))
    assert not again.changed and again.previous == first.commit
    assert git_run(tmp_path / "deploy", "rev-list", "--count", "HEAD") == "1"


def test_message_and_identity(tmp_path):
    target = gitrepo.DeploymentRepo(tmp_path / "deploy")
    message = compile_message("c" * 40, summary=["mask-detector: moved, layer 4 -> layer 3"],
                              trailers={"Aisprint-Manifest": "d" * 64})
    gitrepo.write(target, OLD, message, create=True,
                  author=gitrepo.Identity.parse("Deploy Bot <bot@example.org>"),
                  committer=gitrepo.Identity("CI", "ci@example.org"))
    head = git.Repo(tmp_path / "deploy").head.commit
    assert (head.author.name, head.author.email) == ("Deploy Bot", "bot@example.org")
    assert (head.committer.name, head.committer.email) == ("CI", "ci@example.org")
    read = parse(head.message)
    assert read.subject == f"compile of {'c' * 12}"
    assert read.trailer("Aisprint-Source") == "c" * 40
    assert read.trailer("aisprint-manifest") == "d" * 64
    assert read.body == ("mask-detector: moved, layer 4 -> layer 3",)


def test_reconcile_message_says_why():
    message = reconcile_message(["path P1 over its limit"], ["moved X to layer 3"],
                                details=["P1: 3.2 s > 3 s"], trailers={"Aisprint-Event": "e1"})
    assert message.subject == "reconcile: path P1 over its limit, moved X to layer 3"
    assert parse(message.render()) == message


def test_bad_identity_is_a_diagnostic():
    with pytest.raises(InvalidInput) as caught:
        gitrepo.Identity.parse("nobody")
    assert code(caught.value) == "AIS951"


def test_not_a_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "file").write_text("x")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(tmp_path / "plain"), OLD, compile_message(None))
    assert code(caught.value) == "AIS941"


def test_hand_edits_in_the_compiled_tree_are_refused(tmp_path):
    deploy = tmp_path / "deploy"
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    (deploy / "aisprint" / "deployments" / "base" / "x.yaml").write_text("x: 2\n")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert code(caught.value) == "AIS945"
    assert "aisprint/deployments/base/x.yaml" in caught.value.diagnostics[0].message


def test_expected_head_is_compared_and_swapped(tmp_path):
    deploy = tmp_path / "deploy"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None),
                  expected_head=first.commit)
    with pytest.raises(InvalidInput) as caught:  # planned against the first head: stale
        gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None),
                      expected_head=first.commit)
    assert code(caught.value) == "AIS943"
    assert tree_files(deploy) == NEW


def test_a_held_lock_fails_at_once_with_the_holder(tmp_path):
    deploy = tmp_path / "deploy"
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    with WriteLock(deploy / ".git" / "aisprint" / "lock", "test"), \
            pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert code(caught.value) == "AIS942" and "pid" in caught.value.diagnostics[0].message
    assert tree_files(deploy) == OLD
    assert not (deploy / ".git" / "aisprint" / "lock").exists()  # released and removed


def test_concurrent_writers_one_wins(tmp_path):
    deploy = tmp_path / "deploy"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    big = {f"aisprint/designs/c/base/f{i}.txt": (b"%d\n" % i) * 200 for i in range(400)}
    trees = [{**NEW, **big}, {**NEW, **big, "aisprint/manifest.json": b'{"v": 3}\n'}]
    outcomes: list[object] = [None, None]
    barrier = threading.Barrier(2)

    def writer(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = gitrepo.write(gitrepo.DeploymentRepo(deploy), trees[i],
                                        compile_message(None), expected_head=first.commit)
        except InvalidInput as error:
            outcomes[i] = code(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [o for o in outcomes if isinstance(o, gitrepo.WriteResult)]
    losses = [o for o in outcomes if isinstance(o, str)]
    assert len(wins) == 1 and len(losses) == 1 and losses[0] in ("AIS942", "AIS943")
    winner = outcomes.index(wins[0])
    assert committed_files(deploy) == trees[winner] == tree_files(deploy)
    assert git_run(deploy, "rev-list", "--count", "HEAD") == "2"


def test_branch_mode_leaves_the_work_tree_alone(tmp_path):
    app = tmp_path / "app"
    repo = git.Repo.init(app, initial_branch="main")
    (app / "README.md").write_text("app\n")
    repo.index.add(["README.md"])
    repo.index.commit("app")
    result = gitrepo.write(gitrepo.DeploymentRepo(app, branch="deploy"), OLD,
                           compile_message(repo.head.commit.hexsha))
    assert result.branch == "deploy" and result.previous is None
    assert committed_files(app, "deploy") == OLD
    assert not (app / "aisprint").exists() and repo.active_branch.name == "main"
    gitrepo.write(gitrepo.DeploymentRepo(app, branch="deploy"), NEW, compile_message(None))
    assert committed_files(app, "deploy") == NEW
    assert git_run(app, "status", "--porcelain") == ""


def test_directory_mode_writes_under_the_prefix(tmp_path):
    app = tmp_path / "app"
    repo = git.Repo.init(app, initial_branch="main")
    (app / "apps" / "shop").mkdir(parents=True)
    (app / "apps" / "shop" / "dag.yaml").write_text("a: 1\n")
    repo.index.add(["apps/shop/dag.yaml"])
    repo.index.commit("app")
    gitrepo.write(gitrepo.DeploymentRepo(app, prefix="apps/shop"), OLD, compile_message(None))
    gitrepo.write(gitrepo.DeploymentRepo(app, prefix="apps/shop"), NEW, compile_message(None))
    committed = committed_files(app)
    assert committed == {"apps/shop/dag.yaml": b"a: 1\n",
                         **{f"apps/shop/{k}": v for k, v in NEW.items()}}
    assert tree_files(app / "apps" / "shop") == NEW
    assert git_run(app, "status", "--porcelain") == ""


def test_push_and_a_force_pushed_remote(tmp_path, bare_remote):
    deploy = tmp_path / "deploy"
    gitrepo.open_repo(deploy, create=True).create_remote("origin", str(bare_remote))
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None),
                          push_to="origin")
    assert first.pushed == "origin"
    assert git_run(bare_remote, "rev-parse", "main") == first.commit
    # someone force-pushes another history to the remote
    other = tmp_path / "other"
    git.Repo.clone_from(str(bare_remote), other)
    (other / "hand.txt").write_text("hand\n")
    git_run(other, "add", "hand.txt")
    git_run(other, "commit", "-qm", "rewrite", "--amend")
    git_run(other, "push", "-q", "--force", "origin", "main")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None), push_to="origin")
    assert code(caught.value) == "AIS947"
    assert git_run(bare_remote, "rev-parse", "main") != git_run(deploy, "rev-parse", "HEAD")


def test_commit_message_render_has_a_single_line_subject():
    assert CommitMessage("a\nb").render() == "a\n"
