"""The pre-commit hooks (.pre-commit-hooks.yaml) run by the real `pre-commit` tool, as users run
them: `pre-commit try-repo` on this repository's committed HEAD, in an application's git
repository, with the hook environment installed by pre-commit itself (pip)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, copy_example
from tests.gitops.test_plan import tighten

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _try_repo(app: Path, ref: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([str(PRE_COMMIT), "try-repo", str(REPO), "--ref", ref,
                           "--all-files", "--verbose"], cwd=app, env=env,
                          capture_output=True, text=True, timeout=1200)


def _verdicts(output: str) -> dict[str, str]:
    return {m.group(1).strip(): m.group(2)
            for m in re.finditer(r"^(aisprint [^\n]*?)\.{2,}(Passed|Failed)", output, re.M)}


@pytest.mark.slow
@pytest.mark.integration
def test_the_hooks_run_with_pre_commit_try_repo(tmp_path):
    if not PRE_COMMIT.exists():
        pytest.fail("pre-commit is missing: install the dev extras (pip install -e '.[dev]')")
    if not (REPO / ".git").exists():
        pytest.skip("pre-commit try-repo needs this project as a git repository (a clone)")
    ref = _git(REPO, "rev-parse", "HEAD")  # what is committed, not others' work in progress
    app = tmp_path / "app"
    shutil.copytree(copy_example("mask_detection", tmp_path / "example", models=False), app)
    subprocess.run([sys.executable, "-m", "compiler.cli.main", "compile", str(app)],
                   check=True, capture_output=True)
    _git(tmp_path, "init", "-q", "-b", "main", str(app))
    _git(app, "add", "-A")
    _git(app, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "app")
    # a QoS change the committed aisprint/ tree does not have yet: the application is valid,
    # the tree is stale. One try-repo call shows both hooks: each call installs the hooks'
    # environment anew (about a minute), so the suite makes one.
    tighten(app, 4)
    done = _try_repo(app, ref, tmp_path / "pre-commit-home")
    assert done.returncode == 1, done.stdout + done.stderr
    assert _verdicts(done.stdout) == {"aisprint validate": "Passed",
                                      "aisprint compile --check": "Failed"}
    # compile --check's own verdict, not a hook that cannot start
    assert re.search(r"\d+ file\(s\) out of date in \. \(run `aisprint compile \.`\)",
                     done.stdout)
    assert "aisprint/deployments/current_deployment/production_deployment.yaml" in done.stdout
