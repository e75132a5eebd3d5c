"""The shape of the code: rules about names and imports that a review would otherwise catch."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("compiler", "targets")
sys.path.insert(0, str(REPO / "benchmarks"))

import architecture  # noqa: E402  (benchmarks/architecture.py: the import graph, by ast)


def top_level_classes(root: Path) -> dict[str, list[str]]:
    """Every class defined at the top of a module under ``root``'s packages, by name: where."""
    found: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), filename=str(path))
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    found[node.name].append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def shared_names(root: Path) -> dict[str, list[str]]:
    return {name: where for name, where in sorted(top_level_classes(root).items())
            if len(where) > 1}


def test_class_names_are_unique():
    """A class name means one thing: two modules defining the same name (the model's Resource
    and the solver's, say) make every reader check which one an import brings in. Private
    classes count too: a traceback or a profile names them without their module."""
    shared = shared_names(REPO)
    assert not shared, "class names defined more than once:\n" + "\n".join(
        f"  {name}: {', '.join(where)}" for name, where in shared.items())


def test_the_class_name_check_finds_a_shared_name(tmp_path):
    # the same walk on a small tree: one shared name (public and private alike), one unique
    (tmp_path / "compiler" / "placement").mkdir(parents=True)
    (tmp_path / "targets").mkdir()
    (tmp_path / "compiler" / "model.py").write_text("class Resource:\n    pass\n\n\nclass _B:\n"
                                                    "    pass\n")
    (tmp_path / "compiler" / "placement" / "system.py").write_text(
        "def f():\n    class Local:\n        pass\n\n\nclass Resource:\n    pass\n")
    (tmp_path / "targets" / "x.py").write_text("class _B:\n    pass\n\n\nclass Local:\n    pass\n")
    assert shared_names(tmp_path) == {
        "Resource": ["compiler/model.py:1", "compiler/placement/system.py:6"],
        "_B": ["compiler/model.py:5", "targets/x.py:1"],
    }


# ----------------------------------------------------------------------------- imports
# An import inside a function counts: one that dodges a cycle is still a cycle in the design.


def test_no_module_imports_itself_back():
    assert architecture.cycles(architecture.import_graph()) == []


def test_rooms_import_one_way():
    """compiler/<room>/ and targets/ form no cycle either (e.g. load <-> validate)."""
    edges = architecture.package_edges(architecture.import_graph())
    assert architecture.cycles(edges) == []


def test_the_library_api_is_a_facade_only_the_cli_uses():
    importers = sorted({edge.source for edge in architecture.import_graph()
                        if edge.target == "compiler.api"
                        and not edge.source.startswith("compiler.cli")})
    assert importers == []
    tree = ast.parse((REPO / "compiler" / "api.py").read_text(encoding="utf-8"))
    code = [node for node in tree.body if not isinstance(node, (
        ast.Import, ast.ImportFrom, ast.Expr, ast.Assign))
        and getattr(node, "name", "") != "__getattr__"]  # the lazy re-export (PEP 562)
    assert code == [], "compiler/api.py only re-exports"
    from compiler import api
    for name in api.__all__:  # every re-export names a real thing
        assert getattr(api, name) is not None


def test_a_deferred_import_says_why():
    """An import inside a function is allowed where start-up time needs it (`aisprint --help`
    must not load onnx, pulp or scikit-learn), with a comment on its line or the one above."""
    modules = architecture.project_modules()
    silent = sorted(f"{modules[e.source].relative_to(REPO)}:{e.line}"
                    for e in architecture.import_graph() if e.local and not e.commented)
    assert silent == []


def test_the_cycle_finder_finds_cycles():
    edge = architecture.Import
    found = architecture.cycles([edge("a", "b", 1, False, False), edge("b", "c", 1, True, False),
                                 edge("c", "a", 1, False, False), edge("c", "d", 1, False, False)])
    assert found == [["a", "b", "c"]]


def test_every_check_of_validation_is_registered():
    """The checks live in one module per subject; each must be imported to register itself
    (a module of checks left out of compiler/validate/__init__.py would silently not run)."""
    from compiler.validate.registry import CHECKS

    declared = set()
    for path in sorted((REPO / "compiler" / "validate").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", "") == "check"
                    for d in node.decorator_list):
                declared.add(f"compiler.validate.{path.stem}.{node.name}")
    registered = {f"{fn.__module__}.{fn.__name__}" for _, fn in CHECKS}
    assert len(declared) >= 19 and registered == declared


# The rooms in layers, lowest first (README's Layout says the same): a room imports only from
# lower layers, so the pipeline's direction is a fact of the code, not only of its order.
LAYERS = (
    ("compiler.diagnostics", "compiler.errors"),
    ("compiler.layout", "compiler.write", "compiler.secrets"),
    ("compiler.model", "compiler.manifest", "compiler.tools"),
    ("compiler.load",),
    ("compiler.validate", "compiler.placement", "compiler.scaffold"),
    ("compiler.design", "compiler.profile"),
    ("compiler.workspace", "targets"),
    ("compiler.compile", "compiler.verify"),
    ("compiler.gitops",),
    ("compiler.runtime", "compiler.console"),
    ("compiler.api",),
    ("compiler.cli",),
)


def test_rooms_import_only_from_lower_layers():
    rank = {room: i for i, layer in enumerate(LAYERS) for room in layer}
    edges = architecture.package_edges(architecture.import_graph())
    rooms = {room for e in edges for room in (e.source, e.target)} - {"compiler.sdk"}
    assert rooms <= set(rank), f"rooms without a layer: {sorted(rooms - set(rank))}"
    upward = sorted({f"{e.source} -> {e.target}" for e in edges
                     if e.source in rank and e.target in rank and rank[e.target] >= rank[e.source]})
    assert upward == []
