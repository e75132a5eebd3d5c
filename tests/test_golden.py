"""Golden trees: what the emitters write for each example, byte for byte.

Regenerate after an intended change with:  python -m pytest tests/test_golden.py --update-golden
(then review the diff in git)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.compile import build
from tests.targets.golden import compare_tree

GOLDEN = Path(__file__).parent / "golden"
EMITTED = "aisprint/deployments/"  # the emitters' output (designs and manifest carry models)
DEPLOYMENTS = 12  # all of mask_detection's design space; the first of smart_city's 4607


@pytest.mark.parametrize("example", ["mask_detection", "smart_city"])
def test_emitted_files_match_the_golden_tree(example, prepared_examples, request):
    built = build(prepared_examples[example], max_deployments=DEPLOYMENTS)
    artifacts = {p[len(EMITTED):]: d for p, d in built.artifacts.items() if p.startswith(EMITTED)}
    compare_tree(request, GOLDEN / example, artifacts,
                 f"python -m pytest {__file__} --update-golden")
