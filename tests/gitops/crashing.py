"""Writers SIGKILLed at random moments, and the next writer that must recover.

Each trial copies a prepared deployment repository, starts a writer in a child process (its own
process group), sleeps a seeded random delay and kills the whole group with SIGKILL — the git
commands the writer runs die with it, as in a container that is killed. Then:

1. the repository, once recovered, holds exactly the old commit or the killed writer's new one
   (whose parent is the old), and its work tree is exactly that commit's tree;
2. the next writer succeeds, and afterwards the branch holds the new tree exactly once;
3. ``git fsck`` is clean, ``git status`` is empty, and nothing is left behind: no staging,
   no private index or its lock, no ``.git/index.lock``, ``HEAD.lock`` or ref lock, no
   ``tmp_obj_*`` of a killed git.

Three writers: ``writer`` (``compiler.gitops.repo.write`` of a prepared 400-file tree: every
kill lands inside the write), ``compile`` (``aisprint compile APP --repo R``) and
``reconcile`` (``aisprint reconcile R --once`` judging an embedded metrics store that says the
QoS is violated, so the cycle re-places and commits; no IM: nothing is applied).

``tests/gitops/test_crash.py`` runs a few dozen trials in CI; ``benchmarks/crash_trials.py``
runs hundreds and prints the table.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = {"GIT_AUTHOR_NAME": "Crash", "GIT_AUTHOR_EMAIL": "crash@example.org",
            "GIT_COMMITTER_NAME": "Crash", "GIT_COMMITTER_EMAIL": "crash@example.org"}
LEFTOVERS = (".git/aisprint/write", ".git/index.lock", ".git/HEAD.lock",
             ".git/refs/heads/main.lock")


@dataclass(frozen=True)
class Kill:
    """When to kill: ``delay`` seconds after the child started, or after it began writing
    (``from_write``: it printed ``writing`` as it entered ``compiler.gitops.repo.write``)."""

    delay: float
    from_write: bool


@dataclass(frozen=True)
class Trial:
    index: int
    kill: Kill
    killed: bool  # False: the writer had finished before the kill
    published: bool  # the killed writer's commit was the branch head after the kill
    recovered: str | None  # what the next writer's recovery step reported
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Scenario:
    """What a trial runs: ``argv`` in a copy of ``template``, then ``judge`` after the kill."""

    name: str
    template: Path  # the prepared repository (and anything else the trial needs) to copy
    argv: Callable[[Path], list[str]]
    before: Callable[[Path], None]  # per-trial set-up in the copy (metrics…)
    next_writer: Callable[[Path], None]  # must succeed after the kill
    expected: Callable[[Path], dict[str, bytes] | None]  # the new tree, if known up front
    whole_runs: bool = True  # also kill at moments of the whole run (not only the write)
    full: float = 0.0  # seconds a whole run takes here (calibrated)
    writing: float = 0.0  # seconds its write takes (calibrated)


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **IDENTITY})
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def owned_on_disk(repo: Path) -> dict[str, bytes]:
    from compiler.gitops.folder import compiled_files

    return compiled_files(repo)


def owned_at(repo: Path, rev: str) -> dict[str, bytes]:
    from compiler.gitops.repo import Reader

    return Reader(repo).read_tree(rev)


def child_env() -> dict[str, str]:
    return {**os.environ, **IDENTITY, "PYTHONPATH": str(ROOT), "AISPRINT_NO_PROGRESS": "1"}


# runs a command of the CLI, saying "writing" on stdout as it enters the one writer
CLI_CHILD = r"""
import sys
from compiler.gitops import repo as gitrepo
real = gitrepo.write
def write(*args, **kwargs):
    print("writing", flush=True)
    return real(*args, **kwargs)
gitrepo.write = write
from compiler.cli.main import main
sys.argv = ["aisprint", *sys.argv[1:]]
main()
"""


def kill_after(argv: list[str], kill: Kill | None, cwd: Path) -> tuple[bool, float, float]:
    """Run ``argv``; SIGKILL its process group at ``kill`` (None: let it finish). (killed,
    seconds until it said ``writing`` or None, seconds from then on) — killed is False when
    it finished first."""
    child = subprocess.Popen(argv, cwd=cwd, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True, text=True)
    start = time.perf_counter()
    writing = None
    if kill is None or kill.from_write:
        for line in child.stdout:  # up to the marker (or the end, if it never writes)
            if line.strip() == "writing":
                writing = time.perf_counter()
                break
    if kill is not None and (writing is not None or not kill.from_write):
        time.sleep(max(0.0, kill.delay - (time.perf_counter() - (writing or start))))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    _, err = child.communicate(timeout=600)
    end = time.perf_counter()
    if child.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the writer failed by itself ({child.returncode}): {err[-800:]}")
    return (child.returncode == -signal.SIGKILL,
            (writing or end) - start, end - (writing or end))


def repo_problems(repo: Path) -> list[str]:
    """What makes ``repo`` other than a clean repository whose work tree is its HEAD."""
    problems = []
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    if status:
        problems.append(f"git status: {status[:300]}")
    fsck = subprocess.run(["git", "-C", str(repo), "fsck", "--no-dangling", "--no-progress"],
                          capture_output=True, text=True)
    if fsck.returncode != 0 or fsck.stdout.strip():
        problems.append(f"git fsck: {(fsck.stdout + fsck.stderr).strip()[:300]}")
    if owned_on_disk(repo) != owned_at(repo, "HEAD"):
        problems.append("the work tree's compiled files differ from HEAD's")
    for rel in LEFTOVERS:
        if os.path.lexists(repo / rel):
            problems.append(f"left behind: {rel}")
    junk = [p.name for p in (repo / ".git" / "objects").glob("*/tmp_*")]
    if junk:
        problems.append(f"left behind: objects {junk[:3]}")
    return problems


def one_trial(scenario: Scenario, index: int, kill: Kill, work: Path, *,
              cleanup: bool = True) -> Trial:
    from compiler.gitops import repo as gitrepo

    trial = work / f"{scenario.name}-{index}"
    shutil.copytree(scenario.template, trial, symlinks=True)
    repo = trial / "deploy"
    old = git(repo, "rev-parse", "HEAD")
    scenario.before(trial)
    problems: list[str] = []
    try:
        killed = kill_after(scenario.argv(trial), kill, trial)[0]
    except RuntimeError as error:
        killed = False
        problems.append(str(error))
    head = git(repo, "rev-parse", "HEAD")
    published = head != old
    # 1. recovered, the repository is exactly the old commit or the new one
    try:
        recovered = gitrepo.recover_path(repo)
    except Exception as error:  # noqa: BLE001 - a recovery that fails is the finding
        recovered = None
        problems.append(f"recovery failed: {type(error).__name__}: {error}")
    head = git(repo, "rev-parse", "HEAD")
    if head != old and git(repo, "rev-parse", "HEAD~1") != old:
        problems.append(f"after the kill HEAD is {head[:12]}, neither the old commit nor a "
                        "child of it")
    expected = scenario.expected(trial)
    if expected is not None and head != old and owned_at(repo, head) != expected:
        problems.append("the killed writer's commit is not the new tree")
    problems += [f"after the kill: {p}" for p in repo_problems(repo)]
    # 2. the next writer succeeds, and the new tree is there once
    try:
        scenario.next_writer(trial)
    except Exception as error:  # noqa: BLE001 - any failure of the next writer is the finding
        problems.append(f"the next writer failed: {type(error).__name__}: {error}")
    else:
        count = git(repo, "rev-list", "--count", "HEAD")
        if count != "2" or git(repo, "rev-parse", "HEAD~1") != old:
            problems.append(f"{count} commits after the next writer (expected the old + one)")
        if expected is not None and owned_at(repo, "HEAD") != expected:
            problems.append("after the next writer HEAD is not the new tree")
        problems += [f"after the next writer: {p}" for p in repo_problems(repo)]
    if cleanup and not problems:
        shutil.rmtree(trial, ignore_errors=True)
    return Trial(index, kill, killed, published, recovered, tuple(problems))


def kills(scenario: Scenario, trials: int, seed: int) -> list[Kill]:
    """Seeded kill moments: every other one anywhere in the write (from its start to a little
    past its end), the others anywhere in the whole run (``whole_runs``) — a compile or a
    reconcile cycle spends most of its time before it writes."""
    rng = random.Random(seed)
    found = []
    for i in range(trials):
        if scenario.whole_runs and i % 2:
            found.append(Kill(scenario.full * rng.uniform(0.0, 1.05), False))
        else:
            found.append(Kill(scenario.writing * rng.uniform(0.0, 1.05), True))
    return found


def run_trials(scenario: Scenario, trials: int, seed: int, work: Path,
               progress: Callable[[Trial], None] | None = None, *,
               cleanup: bool = True) -> list[Trial]:
    """``trials`` seeded kills; ``cleanup``: remove each trial's folder once judged (a test's
    temporary folder is pytest's to remove)."""
    calibrate(scenario, work)
    done = []
    for index, kill in enumerate(kills(scenario, trials, seed)):
        trial = one_trial(scenario, index, kill, work, cleanup=cleanup)
        done.append(trial)
        if progress:
            progress(trial)
    return done


def calibrate(scenario: Scenario, work: Path) -> None:
    """How long one unkilled run and its write take here, now: the quickest of three (on a
    busy machine the slower runs would put many kills past the end)."""
    runs = []
    for i in range(3):
        trial = work / f"{scenario.name}-calibrate{i}"
        shutil.copytree(scenario.template, trial, symlinks=True)
        scenario.before(trial)
        _, before, writing = kill_after(scenario.argv(trial), None, trial)
        runs.append((before + writing, writing))
        shutil.rmtree(trial, ignore_errors=True)
    scenario.full = min(r[0] for r in runs)
    scenario.writing = min(r[1] for r in runs)


# ----------------------------------------------------------------------------- scenarios


def big_tree(files: int = 150) -> dict[str, bytes]:
    tree = {f"aisprint/designs/big/base/f{i:04d}.txt": (b"%d\n" % i) * 40 for i in range(files)}
    tree["aisprint/manifest.json"] = b'{"v": 2}\n'
    tree["aisprint/deployments/current_deployment/oscar/fdl.yaml"] = b"functions: {}\n"
    return tree


OLD_TREE = {"aisprint/manifest.json": b'{"v": 1}\n',
            "aisprint/designs/a/base/main.py": b"print('a')\n",
            "aisprint/deployments/base/x.yaml": b"x: 1\n"}

WRITER_CHILD = r"""
import sys
from pathlib import Path
from compiler.gitops import repo as gitrepo
from compiler.gitops.message import compile_message
from tests.gitops.crashing import big_tree
tree = big_tree()
print("writing", flush=True)
# durable=False: a SIGKILL loses no written page (only a power cut would), and it is quicker
gitrepo.write(gitrepo.DeploymentRepo(Path(sys.argv[1])), tree, compile_message(None),
              durable=False)
"""


def writer_scenario(base: Path) -> Scenario:
    """``repo.write`` of a 150-file tree over a 3-file one, timed from the child's start."""
    from compiler.gitops import repo as gitrepo
    from compiler.gitops.message import compile_message

    template = base / "writer-template"
    gitrepo.write(gitrepo.DeploymentRepo(template / "deploy"), OLD_TREE, compile_message(None),
                  create=True)
    new = big_tree()

    def next_writer(trial: Path) -> None:
        gitrepo.write(gitrepo.DeploymentRepo(trial / "deploy"), new, compile_message(None),
                      durable=False)

    return Scenario("writer", template,
                    lambda trial: [sys.executable, "-c", WRITER_CHILD, str(trial / "deploy")],
                    lambda trial: None, next_writer, lambda trial: new, whole_runs=False)


def _app(base: Path) -> Path:
    from tests.conftest import copy_example

    if not (base / "app" / "mask_detection").exists():
        copy_example("mask_detection", base / "app", models=False)
    return base / "app" / "mask_detection"


def compile_scenario(base: Path) -> Scenario:
    """``aisprint compile APP --repo R`` over a commit of an older compile (a manifest that
    differs, a deployment folder that is gone since)."""
    from compiler.compile import build
    from compiler.gitops import repo as gitrepo
    from compiler.gitops.message import compile_message

    app = _app(base)
    new = dict(build(app).artifacts)
    old = {**new, "aisprint/manifest.json": b'{"older": true}\n',
           "aisprint/deployments/retired/x.yaml": b"retired: true\n"}
    template = base / "compile-template"
    gitrepo.write(gitrepo.DeploymentRepo(template / "deploy"), old, compile_message(None),
                  create=True)

    def next_writer(trial: Path) -> None:
        from compiler.gitops.workflow import commit

        commit(app, repo=trial / "deploy")

    return Scenario("compile", template,
                    lambda trial: [sys.executable, "-c", CLI_CHILD, "compile", str(app),
                                   "--repo", str(trial / "deploy")],
                    lambda trial: None, next_writer, lambda trial: new)


def reconcile_scenario(base: Path) -> Scenario:
    """``aisprint reconcile R --once --app APP`` with an embedded metrics store in which the
    face detector takes 30 s a request: the cycle re-places and commits (no IM, no OSCAR)."""
    from compiler.compile import build
    from compiler.gitops import repo as gitrepo
    from compiler.gitops.message import compile_message
    from compiler.runtime.metrics import EmbeddedStore
    from compiler.runtime.reconcile import Settings, reconcile_once
    from compiler.runtime.triggers import Policy
    from tests.runtime.test_reconcile import slow_points

    app = _app(base)
    template = base / "reconcile-template"
    gitrepo.write(gitrepo.DeploymentRepo(template / "deploy"), build(app).artifacts,
                  compile_message(None), create=True)

    def before(trial: Path) -> None:
        store = trial / "state" / "metrics.sqlite"
        store.parent.mkdir(parents=True, exist_ok=True)
        EmbeddedStore(store).write_points(slow_points(time.time()))

    def next_writer(trial: Path) -> None:
        config = Settings(repo=trial / "deploy", app_dir=app, state_dir=trial / "state",
                          policy=Policy(window=0, cooldown=60), window=120)
        metrics = EmbeddedStore(trial / "state" / "metrics.sqlite")
        cycles = [reconcile_once(config, metrics=metrics) for _ in range(2)]
        failed = [c for c in cycles if c.status == "failed"]
        if failed:
            raise RuntimeError(f"a cycle failed: {failed[0].summary()}")
        if cycles[-1].status == "replaced":
            raise RuntimeError("the second cycle re-placed again")

    return Scenario("reconcile", template,
                    lambda trial: [sys.executable, "-c", CLI_CHILD, "reconcile",
                                   str(trial / "deploy"), "--once", "--app", str(app),
                                   "--state", str(trial / "state"), "--for", "0",
                                   "--cooldown", "60", "--window", "120"],
                    before, next_writer, lambda trial: None)


SCENARIOS = {"writer": writer_scenario, "compile": compile_scenario,
             "reconcile": reconcile_scenario}


def table(results: dict[str, list[Trial]]) -> str:
    rows = ["| writer | trials | killed before publish | killed after publish | finished "
            "first | recovery completed | recovery undid | recovered | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, trials in results.items():
        killed = [t for t in trials if t.killed]
        rows.append(
            f"| {name} | {len(trials)} | {sum(not t.published for t in killed)} | "
            f"{sum(t.published for t in killed)} | {len(trials) - len(killed)} | "
            f"{sum(t.recovered == 'forward' for t in trials)} | "
            f"{sum(t.recovered == 'back' for t in trials)} | "
            f"{sum(t.ok for t in trials)} | {sum(not t.ok for t in trials)} |")
    return "\n".join(rows)
