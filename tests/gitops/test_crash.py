"""A writer SIGKILLed at any moment leaves the old tree or the new one, never a mix, and the
next writer always completes: nothing a killed writer leaves needs a human.

``test_killed_writer_leaves_old_or_new``: a child writes a large tree with its renames slowed
down a little, so the kills land in every phase (staging, git add, commit, ref update, the swap
itself), after delays from "at once" to "after it finished". ``test_random_kills`` kills the
writer's whole process group (its git commands die with it) at seeded random moments, 30 times
(``benchmarks/crash_trials.py`` runs hundreds, also of ``compile --repo`` and ``reconcile``).
The other tests plant, one by one, what a killed writer can leave behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.errors import InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops import swap
from compiler.gitops.message import compile_message
from compiler.layout import OWNED
from tests.conftest import REPO
from tests.gitops import crashing
from tests.gitops.conftest import committed_files, git_run, tree_files

OLD = {"aisprint/manifest.json": b'{"v": 1}\n',
       "aisprint/designs/a/base/main.py": b"print('a')\n",
       "aisprint/deployments/base/x.yaml": b"x: 1\n"}

CHILD = r"""
import os, sys, time
from pathlib import Path
from compiler.gitops import repo as gitrepo, swap
from compiler.layout import OWNED
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
    gitrepo.write(gitrepo.DeploymentRepo(target), tree, compile_message(None), durable=False)
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
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    if delay is None:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        return True
    time.sleep(delay)
    os.killpg(child.pid, signal.SIGKILL)  # the git commands it runs die with it
    child.wait(timeout=30)
    # the child's own children (git, a fork not yet exec'ed) may die a moment after it; until
    # the whole group is gone one of them can still hold the write lock
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
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
        gitrepo.write(gitrepo.DeploymentRepo(reference), OLD, compile_message(None), create=True)
    else:
        swap.write_folder(reference, OLD, OWNED)
    full = timed(mode, reference)  # how long a whole write takes here, now
    fractions = (0.0, 0.25, 0.5, 0.7, 0.85, 0.95, 1.5)
    seen = set()
    for i, fraction in enumerate(fractions):
        target = tmp_path / f"t{i}"
        if mode == "git":
            old_commit = gitrepo.write(gitrepo.DeploymentRepo(target), OLD,
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


TRIALS = int(os.environ.get("AISPRINT_CRASH_TRIALS", "30"))


@pytest.mark.slow
def test_random_kills(tmp_path):
    """Seeded random SIGKILLs of the writer's process group: after each, the repository is
    the old commit or the new one, work tree and fsck clean, nothing left behind, and the
    next writer succeeds (``tests/gitops/crashing.py``)."""
    scenario = crashing.writer_scenario(tmp_path)
    trials = crashing.run_trials(scenario, TRIALS, seed=14, work=tmp_path, cleanup=False)
    failed = [t for t in trials if not t.ok]
    assert not failed, "\n".join(f"{t.kill}: {t.problems}" for t in failed)
    killed = [t for t in trials if t.killed]
    assert any(not t.published for t in killed), "no kill landed before the commit point"
    assert len(killed) >= TRIALS // 2, crashing.table({"writer": trials})


# ----------------------------------------------------------------------------- leftovers


@pytest.fixture
def deployed(tmp_path):
    deploy = tmp_path / "deploy"
    first = gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None), create=True)
    return deploy, first.commit


NEW = {"aisprint/manifest.json": b'{"v": 3}\n', "aisprint/designs/n/base/main.py": b"n\n"}


def assert_clean(deploy, tree):
    assert tree_files(deploy) == tree == committed_files(deploy)
    assert git_run(deploy, "status", "--porcelain") == ""
    for rel in crashing.LEFTOVERS:
        assert not os.path.lexists(deploy / rel), rel


def test_the_private_index_lock_of_a_killed_read_tree(deployed):
    """The finding of issue #14: a kill during the private index's read-tree left
    .git/aisprint/write/index.lock, and every later write failed."""
    deploy, old = deployed
    work = deploy / ".git" / "aisprint" / "write"
    (work / "new" / "aisprint").mkdir(parents=True)
    (work / "index.lock").write_bytes(b"DIRC half")
    (work / "index").write_bytes(b"DIRC")
    (work / "objects" / "ab").mkdir(parents=True)
    (work / "objects" / "ab" / "tmp_obj_x").write_bytes(b"half an object")
    result = gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert result.recovered == "back" and git_run(deploy, "rev-parse", "HEAD~1") == old
    assert_clean(deploy, NEW)


def test_git_ref_locks_of_a_killed_update_ref(deployed):
    """Killed inside `git update-ref`: the journal names the commit; the ref's lock holding
    that commit and HEAD.lock holding nothing are this writer's; the ref never moved."""
    deploy, old = deployed
    orphan = git_run(deploy, "commit-tree", git_run(deploy, "rev-parse", "HEAD^{tree}"),
                     "-p", old, "-m", "never published")
    work = deploy / ".git" / "aisprint" / "write"
    work.mkdir(parents=True)
    swap.write_journal(work, {"commit": orphan, "branch": "main", "root": str(deploy),
                              "owned": list(OWNED), "present": [], "prefix": ""})
    (deploy / ".git" / "refs" / "heads" / "main.lock").write_text(orphan + "\n")
    head_lock = deploy / ".git" / "HEAD.lock"
    head_lock.write_bytes(b"")
    os.utime(head_lock, (time.time() - 5, time.time() - 5))  # git holds it for milliseconds
    result = gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert result.recovered == "back" and git_run(deploy, "rev-parse", "HEAD~1") == old
    assert_clean(deploy, NEW)


def test_a_lock_of_another_git_process_is_never_taken(deployed):
    """A ref lock with someone else's commit stays, and the write says who is in the way."""
    deploy, old = deployed
    work = deploy / ".git" / "aisprint" / "write"
    work.mkdir(parents=True)
    swap.write_journal(work, {"commit": "1" * 40, "branch": "main", "root": None})
    lock = deploy / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("2" * 40 + "\n")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert caught.value.diagnostics[0].code == "AIS957"
    assert "main.lock" in caught.value.diagnostics[0].message
    assert lock.read_text() == "2" * 40 + "\n" and tree_files(deploy) == OLD
    assert git_run(deploy, "rev-parse", "HEAD") == old
    assert not (work / "new").exists()  # the failed write removed its staging
    lock.unlink()
    gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert_clean(deploy, NEW)


def test_the_users_index_lock_only_when_it_is_ours(deployed):
    """The user's .git/index.lock is removed only when it is the writer's own: taken as a
    hard link of its token, as a kill inside the index update leaves it."""
    deploy, old = deployed
    foreign = deploy / ".git" / "index.lock"
    foreign.write_bytes(b"another git's")
    with pytest.raises(InvalidInput) as caught:
        gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert caught.value.diagnostics[0].code == "AIS957"
    assert "index.lock" in caught.value.diagnostics[0].message
    assert foreign.read_bytes() == b"another git's"  # never touched
    assert committed_files(deploy) == NEW == tree_files(deploy)  # published, index behind
    foreign.unlink()  # that git process is done
    again = gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None))
    assert again.recovered == "forward" and not again.changed
    assert_clean(deploy, NEW)
    # a kill while the writer held the lock: the lock is its token's inode
    work = deploy / ".git" / "aisprint" / "write"
    work.mkdir(parents=True)
    token = work / gitrepo.INDEX_TOKEN
    token.write_bytes(b"")
    os.link(token, foreign)
    gitrepo.write(gitrepo.DeploymentRepo(deploy), OLD, compile_message(None))
    assert not foreign.exists()
    assert_clean(deploy, OLD)


@pytest.mark.parametrize("stage", ["during-init", "after-rename"])
def test_a_writer_killed_while_creating_the_repository(tmp_path, stage):
    """`compile --repo NEW`: a kill inside `git init` leaves only the init's staging folder
    (the .git is made aside and renamed in), which the next writer clears before it starts."""
    deploy = tmp_path / "deploy"
    staging = deploy / gitrepo.INIT_STAGING
    if stage == "during-init":
        (staging / ".git" / "refs").mkdir(parents=True)
        (staging / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # half a repository
    else:
        gitrepo.open_repo(deploy, create=True)
        staging.mkdir()
    result = gitrepo.write(gitrepo.DeploymentRepo(deploy), NEW, compile_message(None), create=True)
    assert result.commit and not staging.exists()
    assert_clean(deploy, NEW)
