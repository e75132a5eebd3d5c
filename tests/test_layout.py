"""compiler/layout.py is the one place a compiled tree's paths are spelled: the paths it gives
(the AI-SPRINT seed's tree, which deployed repositories and their tools rely on), and a walk of
compiler/ and targets/ that finds any other module spelling one again."""

from __future__ import annotations

import ast
from pathlib import Path

from compiler import layout

REPO = Path(__file__).resolve().parents[1]
# spelled in layout.py only (docstrings, comments and the code catalogue's prose aside)
SPELLED = ("aisprint/designs", "aisprint/deployments", "aisprint/manifest.json",
           "production_deployment.yaml", "qos_constraints_L", "space4ai-d/qos_constraints.yaml")
NAMES = ("optimal_deployment", "current_deployment")


def test_the_paths_are_the_seeds_tree():
    assert layout.design("detector", layout.partition_design(1, 2)) == \
        "aisprint/designs/detector/partition1_2"
    assert layout.design("camera") == "aisprint/designs/camera/base"
    assert [layout.deployment(name) for name in (layout.BASE_DEPLOYMENT,
                                                 layout.OPTIMAL_DEPLOYMENT,
                                                 layout.CURRENT_DEPLOYMENT)] == [
        "aisprint/deployments/base", "aisprint/deployments/optimal_deployment",
        "aisprint/deployments/current_deployment"]
    assert layout.APPLIED_DEPLOYMENT == "aisprint/deployments/current_deployment"
    assert f"{layout.APPLIED_DEPLOYMENT}/{layout.qos_file(3)}" == \
        "aisprint/deployments/current_deployment/ams/qos_constraints_L3.yaml"
    assert layout.COMPONENT_PARTITIONS == "aisprint/designs/component_partitions.yaml"
    assert layout.OWNED == ("aisprint/designs", "aisprint/deployments", "aisprint/manifest.json")
    assert all(layout.is_owned(p) for p in layout.OWNED)
    assert not layout.is_owned("aisprint/logs/x") and not layout.is_owned("aisprint/designsx")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            found.add(id(node.body[0].value))
    return found


def spelled_paths(root: Path) -> list[str]:
    """Every string constant of compiler/ and targets/ (docstrings aside) that spells a path
    of the compiled tree, but in compiler/layout.py and the diagnostics' catalogue."""
    found = []
    for package in ("compiler", "targets"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in ("compiler/layout.py", "compiler/diagnostics.py"):
                continue
            tree = ast.parse(path.read_bytes(), filename=rel)
            skip = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and id(node) not in skip:
                    text = node.value
                    if any(p in text for p in SPELLED) or text.startswith(NAMES):
                        found.append(f"{rel}:{node.lineno}: {text[:60]!r}")
    return sorted(found)


def test_no_module_but_layout_spells_a_compiled_tree_path():
    assert spelled_paths(REPO) == []


def test_the_walk_finds_a_spelled_path(tmp_path):
    (tmp_path / "compiler").mkdir()
    (tmp_path / "targets").mkdir()
    (tmp_path / "compiler" / "layout.py").write_text('A = "aisprint/designs"\n')
    (tmp_path / "targets" / "x.py").write_text(
        '"""Writes aisprint/deployments/<d>/x.yaml."""\n\n'
        'PATH = f"aisprint/deployments/{name}/x.yaml"\n'
        'NAME = "optimal_deployment"\nOTHER = "base"\n')
    assert [line.split(": ")[0] for line in spelled_paths(tmp_path)] == \
        ["targets/x.py:3", "targets/x.py:4"]
