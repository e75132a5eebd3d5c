"""Golden trees: what the emitters write for each example, byte for byte.

Regenerate after an intended change with:  python -m pytest tests/test_golden.py --update-golden
(then review the diff in git)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.compile import build

GOLDEN = Path(__file__).parent / "golden"
EMITTED = "aisprint/deployments/"  # the emitters' output (designs and manifest carry models)
DEPLOYMENTS = 12  # all of mask_detection's design space; the first of smart_city's 4607


@pytest.mark.parametrize("example", ["mask_detection", "smart_city"])
def test_emitted_files_match_the_golden_tree(example, prepared_examples, request):
    built = build(prepared_examples[example], max_deployments=DEPLOYMENTS)
    artifacts = {p[len(EMITTED):]: d for p, d in built.artifacts.items() if p.startswith(EMITTED)}
    root = GOLDEN / example
    if request.config.getoption("--update-golden"):
        shutil.rmtree(root, ignore_errors=True)
        for rel, data in artifacts.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
    expected = {p.relative_to(root).as_posix(): p.read_bytes()
                for p in root.rglob("*") if p.is_file()}
    assert sorted(artifacts) == sorted(expected), "files added or removed: --update-golden?"
    changed = [rel for rel in artifacts if artifacts[rel] != expected[rel]]
    assert not changed, f"changed: {changed[:5]} (python -m pytest {__file__} --update-golden)"
