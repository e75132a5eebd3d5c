"""A write that runs out of disk fails with exit 1 (AIS955/AIS957), removes its staging and
leaves the old commit and tree intact — on a real full filesystem.

The filesystem is a 4 MB tmpfs mounted for the test (root may mount one). Where mounting is
not permitted, the same scenarios run in a child process whose RLIMIT_FSIZE is 2 MB (its
writes of a bigger file fail with EFBIG, as they would on a full disk); the read-only and the
git-objects cases need the mount and skip without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.cli.main import app as cli
from compiler.cli.main import run
from compiler.errors import InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops import swap
from compiler.gitops.message import compile_message
from compiler.layout import OWNED
from tests.conftest import REPO
from tests.gitops.conftest import committed_files, git_run, tree_files

OLD = {"aisprint/manifest.json": b'{"v": 1}\n',
       "aisprint/designs/a/base/main.py": b"print('a')\n",
       "aisprint/deployments/base/x.yaml": b"x: 1\n"}
SMALL = {"aisprint/manifest.json": b'{"v": 3}\n',
         "aisprint/designs/c/base/main.py": b"print('c')\n"}


def too_big(megabytes: float) -> dict[str, bytes]:
    """A tree with one incompressible file of ``megabytes`` (git cannot shrink it either)."""
    return {"aisprint/manifest.json": b'{"v": 2}\n',
            "aisprint/designs/big/base/model.bin": os.urandom(int(megabytes * 2**20))}


def used(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def scenario_git(root: Path, megabytes: float = 6, own_disk: bool = True) -> str:
    """OLD committed on the small disk, then a write too big for it: exit-1 error, staging
    gone, old commit and tree intact, fsck clean; then a small write succeeds."""
    deploy = root / "deploy"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None),
                          create=True, durable=False)
    before = used(root)
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), too_big(megabytes), compile_message(None),
                      durable=False)
    found = caught.value.diagnostics[0]
    assert found.code in ("AIS955", "AIS957"), found
    assert "old tree is intact" in found.message or "nothing was published" in found.message
    assert not os.path.lexists(deploy / ".git" / "aisprint" / "write"), "staging left"
    assert git_run(deploy, "rev-parse", "HEAD") == first.commit
    assert tree_files(deploy) == OLD == committed_files(deploy)
    assert git_run(deploy, "status", "--porcelain") == ""
    subprocess.run(["git", "-C", str(deploy), "fsck", "--no-dangling"], check=True,
                   capture_output=True)
    if own_disk:  # (a shared filesystem's usage moves with everybody else's writes)
        assert used(root) - before < 512 * 1024, "the failed write left its bytes on the disk"
    assert not list((deploy / ".git" / "objects").rglob("tmp_*")), "git's partial objects left"
    again = gitrepo.write(gitrepo.DeploymentRepo(deploy), SMALL, compile_message(None),
                          durable=False)
    assert again.changed and tree_files(deploy) == SMALL == committed_files(deploy)
    return found.code


def scenario_folder(root: Path, megabytes: float = 6, own_disk: bool = True) -> str:
    """The same for a plain output folder (`compile --out`)."""
    out = root / "out"
    swap.write_folder(out, OLD, OWNED)
    with pytest.raises(InvalidInput) as caught:
        swap.write_folder(out, too_big(megabytes), OWNED)
    found = caught.value.diagnostics[0]
    assert found.code == "AIS955" and "old tree is intact" in found.message, found
    assert tree_files(out) == OLD
    assert not os.path.lexists(out / swap.WORK), "staging left"
    swap.write_folder(out, SMALL, OWNED)
    assert tree_files(out) == SMALL
    return found.code


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs, or None where this process may not mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                          capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


CHILD = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 2**20, 2 * 2**20))
from tests.gitops import test_full_disk as t
print(getattr(t, sys.argv[1])(Path(sys.argv[2]), 3, own_disk=False))
"""


def in_limited_child(scenario: str, root: Path) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(root)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("scenario", ["scenario_git", "scenario_folder"])
def test_a_full_disk_is_exit_1_and_leaves_the_old_tree(small_disk, tmp_path, scenario):
    if small_disk is not None:
        found = globals()[scenario](small_disk)
    else:  # the fallback the module doc describes: a child under RLIMIT_FSIZE
        found = in_limited_child(scenario, tmp_path)
    assert found in ("AIS955", "AIS957")


def test_git_objects_that_do_not_fit(small_disk):
    """The staging fits, the objects git writes for it do not: git fails (AIS957)."""
    if small_disk is None:
        pytest.skip("needs a small tmpfs (mount is not permitted here)")
    assert scenario_git(small_disk, megabytes=2.2) == "AIS957"


def test_a_read_only_filesystem(small_disk):
    if small_disk is None:
        pytest.skip("needs a small tmpfs (mount is not permitted here)")
    deploy, out = small_disk / "deploy", small_disk / "out"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    swap.write_folder(out, OLD, OWNED)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for write in (lambda: gitrepo.write(gitrepo.DeploymentRepo(deploy), SMALL,
                                            compile_message(None)),
                      lambda: swap.write_folder(out, SMALL, OWNED)):
            with pytest.raises(InvalidInput) as caught:
                write()
            found = caught.value.diagnostics[0]
            assert found.code == "AIS955" and "read-only" in found.hint, found
        assert git_run(deploy, "rev-parse", "HEAD") == first.commit
        assert tree_files(deploy) == OLD and tree_files(out) == OLD
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


def test_cli_compile_on_a_full_disk_is_exit_1(small_disk, tmp_path, capsys):
    """The command line says what happened and how to fix it, and never exit 3."""
    if small_disk is None:
        pytest.skip("needs a small tmpfs (mount is not permitted here)")
    from tests.conftest import copy_example

    app = copy_example("mask_detection", tmp_path / "src", models=False)
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:  # leave ~100 kB: less than the compiled tree
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    os.truncate(filler, max(0, os.path.getsize(filler) - 100 * 1024))
    for argv in (["compile", str(app), "--out", str(small_disk / "out")],
                 ["compile", str(app), "--repo", str(small_disk / "deploy")]):
        code = run(cli, argv)
        out = capsys.readouterr()
        assert code == 1, (argv, out)
        assert ("AIS955" in out.out or "AIS957" in out.out) and "internal" not in out.err
        assert "space" in out.out
    assert not os.path.lexists(small_disk / "out" / swap.WORK), "staging left"
    assert not os.path.lexists(small_disk / "deploy" / ".git" / "aisprint" / "write")
