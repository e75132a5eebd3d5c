"""Nothing is written outside the output folder or the deployment repository.

A repository is a stranger's input: it may commit ``aisprint -> /somewhere``, a file where a
folder goes, or a prefix folder that is a symlink; a command line may say ``--prefix ../..``.
Every such write is refused before anything is written (exit 1), and the folder the symlink
points at is left exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import git
import pytest

from compiler.cli.main import app as cli
from compiler.cli.main import run
from compiler.errors import InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops import swap
from compiler.gitops.message import compile_message
from compiler.layout import OWNED, safe_prefix
from tests.gitops.conftest import committed_files, git_run, tree_files

OLD = {"aisprint/manifest.json": b'{"v": 1}\n',
       "aisprint/designs/a/base/main.py": b"print('a')\n",
       "aisprint/deployments/base/x.yaml": b"x: 1\n"}
NEW = {"aisprint/manifest.json": b'{"v": 2}\n',
       "aisprint/designs/b/base/main.py": b"print('b')\n"}


def code(caught) -> str:
    return caught.value.diagnostics[0].code


def snapshot(folder) -> dict[str, bytes]:
    """Every entry below ``folder`` (files by content, links by target), without following."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            found[rel] = os.readlink(path).encode() if os.path.islink(path) else \
                (Path(path).read_bytes() if os.path.isfile(path) else b"<dir>")
    return found


@pytest.fixture
def outside(tmp_path):
    """A folder outside every repository, with a file the writer must never touch."""
    folder = tmp_path / "outside"
    (folder / "designs").mkdir(parents=True)
    (folder / "designs" / "precious.txt").write_text("keep me\n")
    (folder / "manifest.json").write_text("not yours\n")
    return folder


def committed_repo(tmp_path, files: dict[str, bytes], links: dict[str, str]):
    """A repository whose main branch commits ``files`` and the symlinks ``links``."""
    path = tmp_path / "deploy"
    repo = git.Repo.init(path, initial_branch="main")
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    for rel, target in links.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path / rel)
    git_run(path, "add", "-A")
    git_run(path, "commit", "-qm", "a stranger's commit")
    return path, repo.head.commit.hexsha


def test_a_committed_aisprint_symlink_is_refused_and_nothing_is_written_there(
        tmp_path, outside):
    deploy, head = committed_repo(tmp_path, {"README.md": b"deploy\n"},
                                  {"aisprint": str(outside)})
    before = snapshot(outside)
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert code(caught) == "AIS952"
    message = caught.value.diagnostics[0]
    assert "aisprint" in message.message and "symlink" in message.message
    assert "git rm aisprint" in message.hint
    assert snapshot(outside) == before
    assert git_run(deploy, "rev-parse", "HEAD") == head
    assert not (deploy / ".git" / "aisprint" / "write").exists()


def test_the_same_symlink_on_a_branch_that_is_not_checked_out(tmp_path, outside):
    """Branch mode writes no work tree, but the commit it builds on is checked: git would
    silently turn the committed symlink into a folder."""
    deploy, head = committed_repo(tmp_path, {"README.md": b"deploy\n"},
                                  {"aisprint": str(outside)})
    git_run(deploy, "checkout", "-qb", "other")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy, branch="main"), NEW, compile_message(None))
    assert code(caught) == "AIS952" and head[:12] in caught.value.diagnostics[0].message
    assert git_run(deploy, "rev-parse", "main") == head


@pytest.mark.parametrize("link", ["aisprint/designs", "aisprint/manifest.json"])
def test_a_committed_symlink_at_an_owned_path(tmp_path, outside, link):
    files = {k: v for k, v in OLD.items() if not k.startswith(link)}
    target = outside / ("designs" if link.endswith("designs") else "manifest.json")
    deploy, head = committed_repo(tmp_path, files, {link: str(target)})
    before = snapshot(outside)
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert code(caught) == "AIS952" and link in caught.value.diagnostics[0].message
    assert snapshot(outside) == before and git_run(deploy, "rev-parse", "HEAD") == head


def test_an_untracked_symlink_in_the_work_tree(tmp_path, outside):
    deploy = tmp_path / "deploy"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), {"aisprint/manifest.json": b"{}\n"},
                          compile_message(None), create=True)
    git_run(deploy, "rm", "-rq", "aisprint")
    git_run(deploy, "commit", "-qm", "empty")
    os.symlink(outside, deploy / "aisprint")
    before = snapshot(outside)
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert code(caught) == "AIS952"
    assert snapshot(outside) == before
    assert git_run(deploy, "rev-list", "--count", "HEAD") == "2" and first.commit


def test_a_prefix_folder_that_is_a_symlink(tmp_path, outside):
    deploy, head = committed_repo(tmp_path, {"README.md": b"x\n"}, {"apps": str(outside)})
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy, prefix="apps/shop"), NEW,
                      compile_message(None))
    assert code(caught) == "AIS952" and "apps" in caught.value.diagnostics[0].message
    assert not (outside / "shop").exists() and git_run(deploy, "rev-parse", "HEAD") == head


def test_a_prefix_folder_that_is_a_file(tmp_path):
    deploy, head = committed_repo(tmp_path, {"apps": b"a file\n"}, {})
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy, prefix="apps/shop"), NEW,
                      compile_message(None))
    assert code(caught) == "AIS952" and "file" in caught.value.diagnostics[0].message
    assert (deploy / "apps").read_bytes() == b"a file\n"


@pytest.mark.parametrize("prefix", ["../x", "../../x", "apps/../../x", "/abs/olute",
                                    ".git/hooks", "a/.GIT"])
def test_a_prefix_outside_the_repository_is_refused(tmp_path, prefix):
    deploy = tmp_path / "deploy"
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy, prefix=prefix), NEW, compile_message(None))
    assert code(caught) == "AIS953"
    assert tree_files(deploy) == OLD and not (tmp_path / "x").exists()
    assert set(os.listdir(tmp_path)) == {"deploy"}


def test_prefix_normal_form():
    assert safe_prefix("apps//shop/") == "apps/shop"
    assert safe_prefix("./apps/./shop") == "apps/shop"
    assert safe_prefix("") == safe_prefix(".") == ""


def test_an_artifact_path_that_climbs_out_is_refused(tmp_path):
    deploy = tmp_path / "deploy"
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    for bad in ("aisprint/designs/../../../../escaped.txt", "/tmp/escaped.txt",
                "aisprint/designs//x"):
        with pytest.raises(InvalidInput) as caught:
            gitrepo.write(gitrepo.DeploymentRepo(deploy), {**NEW, bad: b"x"},
                          compile_message(None))
        assert code(caught) == "AIS952"
    assert not (tmp_path / "escaped.txt").exists() and tree_files(deploy) == OLD
    assert committed_files(deploy) == OLD


# ----------------------------------------------------------------------------- --out folder


def test_out_symlinked_aisprint_is_refused(tmp_path, outside):
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "aisprint")
    before = snapshot(outside)
    with pytest.raises(InvalidInput) as caught:
        swap.write_folder(out, NEW, OWNED)
    assert code(caught) == "AIS952"
    assert snapshot(outside) == before


@pytest.mark.parametrize("planted", [".aisprint-write", ".aisprint-write.lock"])
def test_out_planted_staging_or_lock_symlinks_are_refused(tmp_path, outside, planted):
    """A lock opened through a symlink would truncate its target; staging through one would
    write (and later delete) there."""
    out = tmp_path / "out"
    out.mkdir()
    target = outside / "manifest.json" if planted.endswith(".lock") else outside
    os.symlink(target, out / planted)
    before = snapshot(outside)
    with pytest.raises(InvalidInput) as caught:
        swap.write_folder(out, NEW, OWNED)
    assert code(caught) == "AIS952"
    assert snapshot(outside) == before


@pytest.mark.parametrize("planted", ["foreign root", "climbing owned path",
                                     "symlink in the staging"])
def test_a_planted_journal_moves_nothing_outside(tmp_path, outside, planted):
    """A pull request can commit out/.aisprint-write/journal.json: recovery must not take
    it for its own (it would move the paths it names into the staging, then delete them)."""
    out = tmp_path / "out"
    swap.write_folder(out, OLD, OWNED)
    work = out / swap.WORK
    work.mkdir()
    record = {"root": str(out), "owned": list(OWNED), "present": []}
    if planted == "foreign root":
        record = {"root": str(outside), "owned": ["designs", "manifest.json"], "present": []}
    elif planted == "climbing owned path":
        record["owned"] = ["../outside/designs"]
    else:
        (work / "old").symlink_to(outside)
    (work / "journal.json").write_text(__import__("json").dumps(record))
    before = snapshot(outside)
    swap.write_folder(out, NEW, OWNED)
    assert snapshot(outside) == before
    assert tree_files(out) == NEW and not os.path.lexists(work)


def test_out_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("mine\n")
    with pytest.raises(InvalidInput) as caught:
        swap.write_folder(tmp_path / "afile", NEW, OWNED)
    assert code(caught) == "AIS954"
    assert (tmp_path / "afile").read_text() == "mine\n"
    with pytest.raises(InvalidInput) as caught:
        swap.write_folder(tmp_path / "afile" / "below", NEW, OWNED)
    assert code(caught) == "AIS955" and "folder is needed" in caught.value.diagnostics[0].hint


def test_removal_never_follows_a_symlink(tmp_path, outside):
    before = snapshot(outside)
    link = tmp_path / "link"
    os.symlink(outside, link)
    swap.remove(link)
    assert not os.path.lexists(link) and snapshot(outside) == before
    folder = tmp_path / "folder"
    folder.mkdir()
    os.symlink(outside, folder / "inner")
    swap.remove(folder)
    assert not folder.exists() and snapshot(outside) == before


# ----------------------------------------------------------------------------- command line


@pytest.fixture
def app(tmp_path):
    from tests.conftest import copy_example

    return copy_example("mask_detection", tmp_path / "src", models=False)


def test_cli_compile_paths_are_exit_1_never_3(tmp_path, app, outside, capsys):
    (tmp_path / "afile").write_text("x\n")
    deploy, head = committed_repo(tmp_path, {"README.md": b"x\n"}, {"aisprint": str(outside)})
    before = snapshot(outside)
    cases = {
        "AIS952": ["compile", str(app), "--repo", str(deploy)],
        "AIS953": ["compile", str(app), "--repo", str(tmp_path / "new"), "--prefix", "../../x"],
        "AIS954": ["compile", str(app), "--out", str(tmp_path / "afile")],
    }
    for expected, argv in cases.items():
        assert run(cli, argv) == 1, argv
        out = capsys.readouterr()
        assert expected in out.out + out.err, (argv, out)
        assert "internal error" not in out.err
    assert snapshot(outside) == before and git_run(deploy, "rev-parse", "HEAD") == head
    assert not (tmp_path / "new").exists()  # the prefix is checked before the repository is made
    assert run(cli, ["compile", str(app), "--repo", str(tmp_path / "afile")]) == 1
    assert run(cli, ["plan", str(app), "--repo", str(deploy), "--prefix", "/etc"]) == 1
    assert "AIS953" in capsys.readouterr().out


def test_cli_option_paths_are_exit_1_or_64_never_3(tmp_path, app, capsys):
    """Bad paths and names on the command line of plan, compile, reconcile and up: a clear
    message, exit 1 (or 64 for a usage mistake), nothing created where they pointed."""
    (tmp_path / "afile").write_text("x\n")
    deploy = tmp_path / "deploy"
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    missing = tmp_path / "missing"
    cases = [
        (1, "AIS955", ["plan", str(app), "--save", str(tmp_path / "afile" / "plan.json")]),
        (1, "AIS954", ["plan", str(app), "--save", str(tmp_path)]),
        (1, "AIS958", ["plan", str(app), "--repo", str(deploy), "--branch", "bad..name"]),
        (1, "AIS958", ["compile", str(app), "--repo", str(deploy), "--branch", "a b"]),
        (1, "AIS949", ["compile", str(app), "--repo", str(deploy), "--plan",
                       str(tmp_path / "afile")]),
        (1, "AIS954", ["compile", str(app), "--repo", str(tmp_path / "afile")]),
        (1, "AIS941", ["reconcile", str(missing), "--once"]),
        (1, "AIS958", ["reconcile", str(deploy), "--once", "--branch", "-x"]),
        (64, "--app", ["reconcile", str(deploy), "--once", "--app", str(missing)]),
        (1, "AIS955", ["up", str(app), "--state", str(tmp_path / "afile"), "--no-reconcile"]),
    ]
    for exit_code, said, argv in cases:
        assert run(cli, argv) == exit_code, argv
        out = capsys.readouterr()
        assert said in out.out + out.err, (argv, out)
        assert "internal error" not in out.err, (argv, out.err)
    assert not missing.exists()
    assert tree_files(deploy) == OLD and git_run(deploy, "rev-list", "--count", "HEAD") == "1"
