"""The shape of the code: import cycles, function-local imports and the largest modules.

    python benchmarks/architecture.py [--top 15] [--show-local]

Reads compiler/ and targets/ with `ast` (nothing is imported) and prints three tables:
- strongly connected groups of modules that import each other (a cycle), counting every
  import, module-level or inside a function, since a function-local import that dodges a
  cycle is still a cycle in the design;
- function-local imports of the project's own modules, and how many carry a comment
  saying why (start-up time);
- the largest modules by lines.
The same graph is what tests/test_architecture.py asserts on.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("compiler", "targets")


@dataclass(frozen=True)
class Import:
    source: str          # importing module, dotted
    target: str          # imported project module, dotted
    line: int
    local: bool          # inside a function body
    commented: bool      # a comment on the line or the line above says why


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "templates" in path.parts:
                continue  # application scaffolds, not part of the compiler
            found[module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to (a module, or the package holding a name)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    is_package = path.name == "__init__.py"
    local_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    local_lines.add(inner.lineno)
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    type_checking.add(inner.lineno)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in type_checking:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        # a comment on the line, or above the block of imports this one belongs to
        row = node.lineno - 1
        commented = "#" in lines[row]
        while not commented and row > 0 and lines[row - 1].strip().startswith(
                ("from ", "import ", "#")):
            row -= 1
            commented = lines[row].strip().startswith("#")
        for name in names:
            target = _resolve(name, modules)
            if target and target != module:
                found.append(Import(module, target, node.lineno, node.lineno in local_lines,
                                    commented))
    return found


def import_graph() -> list[Import]:
    modules = project_modules()
    edges = []
    for module, path in modules.items():
        edges.extend(imports_of(module, path, modules))
    return edges


def cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        # A package's __init__ importing its own submodules is how re-exports work, and a
        # submodule importing a sibling through the package is not a cycle in design.
        if edge.target.startswith(edge.source + ".") or edge.source.startswith(edge.target + "."):
            continue
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def package_of(module: str) -> str:
    """The room a module lives in: compiler.<room> (or compiler.<module>), targets."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "compiler" else parts[0]


def package_edges(edges: list[Import]) -> list[Import]:
    """The same graph between rooms (compiler.load, compiler.placement, targets, ...)."""
    rooms = []
    for edge in edges:
        source, target = package_of(edge.source), package_of(edge.target)
        if source != target and source != "compiler" and target != "compiler":
            rooms.append(Import(source, target, edge.line, edge.local, edge.commented))
    return rooms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--show-local", action="store_true",
                        help="list every function-local import of a project module")
    args = parser.parse_args()
    modules = project_modules()
    edges = import_graph()
    groups = cycles(edges)
    local = [edge for edge in edges if edge.local]
    local_sites = {(e.source, e.line) for e in local}
    commented_sites = {(e.source, e.line) for e in local if e.commented}
    all_sites = {(e.source, e.line) for e in edges}
    print(f"modules: {len(modules)}; import statements of project modules: {len(all_sites)}")
    print(f"\nimport cycles: {len(groups)}\n")
    for group in groups:
        print(f"- {len(group)} modules: " + ", ".join(group))
    room_groups = cycles(package_edges(edges))
    print(f"\nimport cycles between rooms (packages under compiler/, and targets): "
          f"{len(room_groups)}\n")
    for group in room_groups:
        print(f"- {len(group)} rooms: " + ", ".join(group))
    print(f"\nfunction-local imports of project modules: {len(local_sites)} "
          f"({len(local_sites) * 100 // max(1, len(all_sites))} % of all), "
          f"{len(commented_sites)} with a comment saying why\n")
    if args.show_local:
        for source, line in sorted(local_sites):
            mark = "" if (source, line) in commented_sites else "  (no comment)"
            print(f"  {modules[source].relative_to(REPO)}:{line}{mark}")
    sizes = sorted(((len(p.read_text(encoding="utf-8").splitlines()), m)
                    for m, p in modules.items()), reverse=True)
    print(f"largest modules (lines), top {args.top}:\n")
    print("| module | lines |")
    print("|---|---|")
    for lines, module in sizes[:args.top]:
        print(f"| {module} | {lines} |")
    total = sum(lines for lines, _ in sizes)
    print(f"\ntotal: {total} lines in {len(sizes)} modules")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
