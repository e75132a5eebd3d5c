"""Real git repositories in a temporary folder (system git + GitPython)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git
import pytest

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org"}


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch):
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)


def git_run(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def tree_files(root: Path, below: str = "aisprint") -> dict[str, bytes]:
    """Every file under ``root/below`` by path relative to ``root``."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted((root / below).rglob("*")) if p.is_file()}


def committed_files(repo: Path, rev: str = "HEAD") -> dict[str, bytes]:
    r = git.Repo(repo)
    commit = r.commit(rev)
    return {b.path: b.data_stream.read() for b in commit.tree.traverse() if b.type == "blob"}


@pytest.fixture
def bare_remote(tmp_path) -> Path:
    path = tmp_path / "remote.git"
    git.Repo.init(path, bare=True, initial_branch="main")
    return path
