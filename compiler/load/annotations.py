"""AI-SPRINT annotations, read statically from component sources and from annotations.yaml.

Sources are parsed with ``ast``; user code is never imported or run (a pull request's code is
untrusted). The rules follow the original design tool (one top-level ``def main`` whose
decorators are the annotations; keyword arguments only; the all-in-one ``@annotation({...})``
form), but where it silently dropped what it could not read, this reports a diagnostic.

``annotations_yaml`` writes ``common_config/annotations.yaml`` exactly as ``aisprint design``
does: keys are ``<application dir as given>/src/<folder>/main.py``, everything sorted, block style.
"""

from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Iterable
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.load import files
from compiler.load.yamlpos import YamlDocument
from compiler.model import ANNOTATION_NAMES, ComponentAnnotations, freeze, thaw

_ALL_IN_ONE = "annotation"


def source_key(app_dir: str, folder: str) -> str:
    """The annotations.yaml key of a component, built as the original tool builds it."""
    return os.path.join(app_dir, "src", folder, "main.py")


def folder_of_key(key: str) -> str:
    parts = key.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def near_miss(name: str) -> str | None:
    """The annotation ``name`` is probably a misspelling of (``exec_tme`` -> ``exec_time``)."""
    lowered = name.lower()
    if lowered in ANNOTATION_NAMES and lowered != name:
        return lowered
    close = difflib.get_close_matches(lowered, ANNOTATION_NAMES, n=1, cutoff=0.8)
    return close[0] if close else None


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _SourceReader:
    """Collects values, their ast positions and diagnostics for one main.py."""

    def __init__(self, file: str):
        self.file = file
        self.values: dict[str, dict[str, Any]] = {}
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.keys: dict[tuple, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []

    def at(self, node: ast.AST) -> Location:
        return Location(self.file, node.lineno, node.col_offset + 1)

    def pos(self, node: ast.AST) -> tuple[int, int]:
        return node.lineno, node.col_offset + 1

    def literal(self, node: ast.expr, what: str) -> tuple[bool, Any]:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            self.diagnostics.append(diagnostic(
                "AIS505",
                f"{what} is not a literal value, so it cannot be read without running the code",
                "write the value itself (a number, text, True/False or a list of those), "
                "not a variable, call or expression", self.at(node)))
            return False, None
        if isinstance(value, tuple):
            value = list(value)
        return True, value

    def record(self, annotation: str, args: dict[str, tuple[Any, ast.expr]],
               where: ast.AST) -> None:
        if annotation in self.values:
            self.diagnostics.append(diagnostic(
                "AIS504", f"@{annotation} appears more than once on main()",
                "keep a single @" + annotation + "(...) and merge its arguments", self.at(where)))
            return
        self.values[annotation] = {}
        self.positions[(annotation,)] = self.pos(where)
        self.keys[(annotation,)] = self.pos(where)
        for kw, (value, node) in args.items():
            self.values[annotation][kw] = value
            self.positions[(annotation, kw)] = self.pos(node)
            self.keys[(annotation, kw)] = self.pos(node)
            if isinstance(value, list) and isinstance(node, (ast.List, ast.Tuple)):
                for i, item in enumerate(node.elts):
                    self.positions[(annotation, kw, i)] = self.pos(item)

    def keywords(self, call: ast.Call, annotation: str) -> dict[str, tuple[Any, ast.expr]]:
        args: dict[str, tuple[Any, ast.expr]] = {}
        for pos_arg in call.args:
            self.diagnostics.append(diagnostic(
                "AIS506", f"@{annotation} has a positional argument, which is ignored",
                f"name it, e.g. @{annotation}(name=...); see the annotation table in the README",
                self.at(pos_arg)))
        for kw in call.keywords:
            if kw.arg is None:
                self.diagnostics.append(diagnostic(
                    "AIS505", f"@{annotation} uses **kwargs, which cannot be read statically",
                    "write each argument out as name=value", self.at(kw.value)))
                continue
            ok, value = self.literal(kw.value, f"argument '{kw.arg}' of @{annotation}")
            if ok:
                args[kw.arg] = (value, kw.value)
        return args

    def all_in_one(self, call: ast.Call) -> None:
        """``@annotation({'exec_time': {'local_time_thr': 20}, ...})``."""
        if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Dict):
            self.diagnostics.append(diagnostic(
                "AIS506", "@annotation takes exactly one positional dictionary",
                "write @annotation({'component_name': {'name': 'x'}, 'exec_time': {...}})",
                self.at(call)))
            return
        outer = call.args[0]
        for key_node, value_node in zip(outer.keys, outer.values, strict=True):
            if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
                self.diagnostics.append(diagnostic(
                    "AIS505", "keys of @annotation({...}) must be annotation names in quotes",
                    "e.g. 'exec_time'", self.at(key_node or value_node)))
                continue
            name = key_node.value
            meant = near_miss(name)
            if name not in ANNOTATION_NAMES and meant and meant != _ALL_IN_ONE:
                self.diagnostics.append(diagnostic(
                    "AIS514", f"'{name}' in @annotation({{...}}) is not an AI-SPRINT "
                    f"annotation: did you mean '{meant}'?", f"write '{meant}'; a misspelt "
                    "annotation would be silently ignored", self.at(key_node)))
                continue
            if name not in ANNOTATION_NAMES or name == _ALL_IN_ONE:
                self.diagnostics.append(diagnostic(
                    "AIS502", f"'{name}' in @annotation({{...}}) is not an AI-SPRINT annotation",
                    "known annotations: " + ", ".join(n for n in ANNOTATION_NAMES
                                                      if n != _ALL_IN_ONE), self.at(key_node)))
                continue
            if not isinstance(value_node, ast.Dict):
                self.diagnostics.append(diagnostic(
                    "AIS505", f"the value of '{name}' must be a dictionary of its arguments",
                    f"e.g. '{name}': {{...}}", self.at(value_node)))
                continue
            args: dict[str, tuple[Any, ast.expr]] = {}
            for k, v in zip(value_node.keys, value_node.values, strict=True):
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    self.diagnostics.append(diagnostic(
                        "AIS505", f"argument names of '{name}' must be text in quotes",
                        "e.g. 'local_time_thr': 20", self.at(k or v)))
                    continue
                ok, value = self.literal(v, f"argument '{k.value}' of '{name}'")
                if ok:
                    args[k.value] = (value, v)
            self.record(name, args, key_node)


def read_source(root: files.Root, rel: str, *, key: str, folder: str
                ) -> tuple[ComponentAnnotations | None, YamlDocument | None, list[Diagnostic]]:
    """Annotations of one ``main.py`` (``rel``, inside the application folder ``root``).

    Returns the annotations (None when main() cannot be found), a document view of them for
    the schema check (same shape as one entry of annotations.yaml, positions in the .py file),
    and diagnostics.
    """
    file = files.display(root, rel)
    text, problem = files.read_text(root, rel)
    if text is None:
        return None, None, [problem]
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        return None, None, [diagnostic(
            "AIS509", f"{file} is not valid Python: {exc.msg}",
            "fix the syntax error; annotations are read from the parsed source",
            Location(file, exc.lineno or 1, exc.offset or 1))]
    mains = [n for n in tree.body
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "main"]
    if len(mains) != 1:
        problem = "has no top-level `def main`" if not mains else "defines `main` more than once"
        where = Location(file, mains[1].lineno, mains[1].col_offset + 1) if mains[1:] \
            else Location(file, 1, 1)
        return None, None, [diagnostic(
            "AIS508", f"{file} {problem}",
            "the component's entry point is one top-level function `def main(...)` whose "
            "decorators are the AI-SPRINT annotations", where)]
    main = mains[0]
    reader = _SourceReader(file)
    decorators = main.decorator_list
    names = [_decorator_name(d.func if isinstance(d, ast.Call) else d) for d in decorators]
    if _ALL_IN_ONE in names and len([n for n in names if n in ANNOTATION_NAMES]) > 1:
        first = decorators[names.index(_ALL_IN_ONE)]
        reader.diagnostics.append(diagnostic(
            "AIS504", "@annotation({...}) is used together with separate annotations",
            "use either the dictionary form or separate decorators, not both (the original "
            "tool silently ignores the separate ones)", reader.at(first)))
    for node, name in zip(decorators, names, strict=True):
        meant = near_miss(name) if name and name not in ANNOTATION_NAMES else None
        if meant:
            reader.diagnostics.append(diagnostic(
                "AIS514", f"decorator @{ast.unparse(node)} on main() is not an AI-SPRINT "
                f"annotation: did you mean @{meant}?", f"write @{meant}(...); a misspelt "
                "annotation would be silently ignored, and its constraint with it",
                reader.at(node)))
            continue
        if name not in ANNOTATION_NAMES:
            reader.diagnostics.append(diagnostic(
                "AIS502", f"decorator @{ast.unparse(node)} on main() is not an AI-SPRINT "
                "annotation", "move other decorators to a helper function; the original tool "
                "rejects main() with foreign decorators", reader.at(node)))
            continue
        if not isinstance(node, ast.Call):
            reader.diagnostics.append(diagnostic(
                "AIS503", f"@{name} is used without parentheses",
                f"write @{name}(...) with its keyword arguments", reader.at(node)))
            continue
        if name == _ALL_IN_ONE:
            reader.all_in_one(node)
        else:
            reader.record(name, reader.keywords(node, name), node)

    def_pos = (main.lineno, main.col_offset + 1)
    values = reader.values
    if "component_name" not in values:
        reader.diagnostics.append(diagnostic(
            "AIS501", f"main() in {file} has no component_name annotation",
            f"add @component_name(name='{folder}') above def main", Location(file, *def_pos)))
    positions = {(key,): def_pos, (): def_pos}
    positions.update({(key, *p): v for p, v in reader.positions.items()})
    key_positions = {(key, *p): v for p, v in reader.keys.items()}
    doc = YamlDocument(file, {key: values}, positions, key_positions)
    annotations = _component(doc, key, folder)
    return annotations, doc, reader.diagnostics


def _component(doc: YamlDocument, key: str, folder: str) -> ComponentAnnotations:
    values = doc.data[key]
    locations = {"": doc.loc((key,))}
    for name, args in values.items():
        locations[name] = doc.loc((key, name), key=True)
        if isinstance(args, dict):
            for arg, value in args.items():
                locations[f"{name}.{arg}"] = doc.loc((key, name, arg))
                if isinstance(value, list):
                    for i in range(len(value)):
                        locations[f"{name}.{arg}.{i}"] = doc.loc((key, name, arg, i))
    return ComponentAnnotations(key, folder, freeze(values), locations=locations)


def from_annotations_yaml(doc: YamlDocument) -> tuple[ComponentAnnotations, ...]:
    """The components of a schema-valid annotations.yaml document."""
    return tuple(_component(doc, key, folder_of_key(key)) for key in doc.data)


def annotations_yaml(annotations: Iterable[ComponentAnnotations]) -> str:
    """The text of common_config/annotations.yaml, as ``aisprint design`` writes it."""
    data = {a.source: thaw(a.values) for a in annotations}
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True)


def discover_sources(app: files.Root) -> list[str]:
    """Component folders under src/ (sorted, hidden ones and caches skipped; a symlink that
    leads out of the application is no folder: the input scan reports it)."""
    return [name for name in files.folders(app, "src") if not name.startswith((".", "__"))]
