"""A writer SIGKILLed at any moment leaves the old tree or the new one, never a mix.

A child process writes a large tree (its renames slowed down a little, so the kills land in
every phase: staging, git add, commit, ref update, the swap itself) and is killed after a
delay ranging from "at once" to "after it finished". After the next writer's recovery step,
the work tree and the branch are exactly the old tree and commit, or exactly the new ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.gitops import repo as gitrepo
from compiler.gitops import swap
from compiler.gitops.layout import OWNED
from compiler.gitops.message import compile_message
from tests.conftest import REPO
from tests.gitops.conftest import committed_files, git_run, tree_files

OLD = {"aisprint/manifest.json": b'{"v": 1}\n',
       "aisprint/designs/a/base/main.py": b"print('a')\n",
       "aisprint/deployments/base/x.yaml": b"x: 1\n"}

CHILD = r"""
import os, sys, time
from pathlib import Path
from compiler.gitops import repo as gitrepo, swap
from compiler.gitops.layout import OWNED
from compiler.gitops.message import compile_message
from tests.gitops.test_crash import new_tree

mode, target = sys.argv[1], Path(sys.argv[2])
real_rename = os.rename
def slow_rename(a, b):
    time.sleep(0.03)
    real_rename(a, b)
    time.sleep(0.03)
os.rename = slow_rename
tree = new_tree()
print("ready", flush=True)
if mode == "git":
    gitrepo.write(gitrepo.DeployTarget(target), tree, compile_message(None), durable=False)
else:
    swap.write_folder(target, tree, OWNED)
print("done", flush=True)
"""


def new_tree() -> dict[str, bytes]:
    files = {f"aisprint/designs/big/base/f{i:04d}.txt": (b"%d\n" % i) * 50 for i in range(600)}
    files["aisprint/manifest.json"] = b'{"v": 2}\n'
    files["aisprint/deployments/current_deployment/oscar/fdl.yaml"] = b"functions: {}\n"
    return files


def run_and_kill(mode: str, target: Path, delay: float | None) -> bool:
    """Start the child, kill it ``delay`` s after it is ready; True if it finished first."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(target)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    if delay is None:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        return True
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    return child.returncode == 0


def timed(mode: str, target: Path) -> float:
    start = time.perf_counter()
    run_and_kill(mode, target, None)
    return time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["git", "folder"])
def test_killed_writer_leaves_old_or_new(tmp_path, mode):
    new = new_tree()
    reference = tmp_path / "reference"
    if mode == "git":
        gitrepo.write(gitrepo.DeployTarget(reference), OLD, compile_message(None), create=True)
    else:
        swap.write_folder(reference, OLD, OWNED)
    full = timed(mode, reference)  # how long a whole write takes here, now
    fractions = (0.0, 0.25, 0.5, 0.7, 0.85, 0.95, 1.5)
    seen = set()
    for i, fraction in enumerate(fractions):
        target = tmp_path / f"t{i}"
        if mode == "git":
            old_commit = gitrepo.write(gitrepo.DeployTarget(target), OLD,
                                       compile_message(None), create=True).commit
        else:
            swap.write_folder(target, OLD, OWNED)
        run_and_kill(mode, target, fraction * full)
        if mode == "git":
            gitrepo.recover_path(target)
            on_disk, committed = tree_files(target), committed_files(target)
            head = git_run(target, "rev-parse", "HEAD")
            assert on_disk == committed, "the work tree differs from the branch head"
            assert git_run(target, "status", "--porcelain") == ""
            if head == old_commit:
                assert on_disk == OLD
                seen.add("old")
            else:
                assert on_disk == new and git_run(target, "rev-parse", "HEAD~1") == old_commit
                seen.add("new")
            assert not any((target / ".git" / "aisprint" / "write").glob("*"))
        else:
            swap.recover_folder(target)
            on_disk = tree_files(target)
            assert on_disk in (OLD, new), "a mix of the old and the new tree"
            seen.add("old" if on_disk == OLD else "new")
            assert not (target / ".aisprint-write").exists() or \
                not any((target / ".aisprint-write").iterdir())
    assert seen == {"old", "new"}  # the kills landed on both sides of the commit point
