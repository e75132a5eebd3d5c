"""Small golden trees, one per emitter, of what it writes for the hand-built context
(tests/targets/context.py), under ``tests/golden/emitters/<emitter>/`` with the leading
``aisprint/`` dropped.

Regenerate after an intended change with the option tests/test_golden.py uses:
    python -m pytest tests/targets --update-golden
then review the diff in git."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "emitters"
PREFIX = "aisprint/"


def compare_tree(request: pytest.FixtureRequest, root: Path, files: Mapping[str, bytes],
                 update: str) -> None:
    """``files`` (relative paths) equal the tree under ``root`` byte for byte; with
    ``--update-golden`` the tree is first rewritten from them. ``update`` says how."""
    if request.config.getoption("--update-golden"):
        shutil.rmtree(root, ignore_errors=True)
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
    expected = {p.relative_to(root).as_posix(): p.read_bytes()
                for p in root.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(expected), f"files added or removed ({update})"
    changed = sorted(rel for rel in files if files[rel] != expected[rel])
    assert not changed, f"changed: {changed[:5]} ({update})"


def assert_golden(request: pytest.FixtureRequest, emitter: str,
                  files: Mapping[str, bytes]) -> None:
    """``files`` (paths under aisprint/) equal the golden tree of ``emitter``, byte for byte."""
    assert files and all(p.startswith(PREFIX) for p in files), sorted(files)[:3]
    compare_tree(request, GOLDEN / emitter, {p[len(PREFIX):]: d for p, d in files.items()},
                 f"tests/golden/emitters/{emitter}: python -m pytest tests/targets "
                 "--update-golden")
