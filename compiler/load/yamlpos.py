"""YAML with source positions.

``parse_yaml`` turns text into plain Python values (dict, list, str, int, float, bool, None)
and remembers, for every value, the line and column it came from, keyed by its path inside the
document (a tuple of keys and indices). Validation then reports ``file:line:col`` for any value
it rejects, and the model keeps the position of everything it holds.

It is built on PyYAML's composer (the C one when available: fast) so no YAML is executed; only
the plain tags are accepted (null, bool, int, float, str, timestamp, binary on values; seq and
map on collections), and a tagged value its text does not fit (``!!int abc``) is an error.
Duplicate keys, which PyYAML silently lets the last one win, are reported (AIS003).
Timestamps stay text (``2023-01-01`` is a string, not a ``date``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.load import files

try:  # the libyaml composer is ~10x faster; fall back to pure Python where it is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[Any, ...]

_STD = "tag:yaml.org,2002:"
_CONSTRUCT = SafeConstructor()
# Scalars may carry these tags (explicitly or resolved); collections only the plain ones
_SCALAR_TAGS = frozenset(_STD + t for t in ("null", "bool", "int", "float"))
_COLLECTION_TAGS = frozenset((_STD + "seq", _STD + "map"))
_MAX_NODES = 200_000  # guards against alias bombs ("billion laughs")


def pointer(path: Path_) -> str:
    """JSON pointer (RFC 6901) of a path tuple."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass(frozen=True)
class YamlDocument:
    """One parsed file: its data plus where every value (and every mapping key) starts."""

    file: str
    data: Any
    value_positions: Mapping[Path_, tuple[int, int]] = field(repr=False, compare=False)
    key_positions: Mapping[Path_, tuple[int, int]] = field(repr=False, compare=False)

    def loc(self, path: Path_ = (), *, key: bool = False) -> Location:
        """Where the value at ``path`` (or its key) starts, else its nearest existing parent."""
        path = tuple(path)
        if key and path in self.key_positions:
            line, col = self.key_positions[path]
            return Location(self.file, line, col, pointer(path))
        probe = path
        while probe not in self.value_positions and probe:
            probe = probe[:-1]
        line, col = self.value_positions.get(probe, (1, 1))
        return Location(self.file, line, col, pointer(path))

    def get(self, path: Path_, default: Any = None) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0
        self.active: set[int] = set()

    def _pos(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _fail(self, node: yaml.Node, message: str, hint: str) -> None:
        line, col = self._pos(node)
        raise _Abort(diagnostic("AIS002", message, hint, Location(self.file, line, col)))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            self._fail(node, "the document expands to too many values (alias bomb?)",
                       "write the values out instead of nesting aliases")
        if id(node) in self.active:
            self._fail(node, "an alias refers to the node that contains it",
                       "recursive YAML structures are not allowed; remove the alias")
        self.values.setdefault(path, self._pos(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if node.tag not in _COLLECTION_TAGS:  # `!!set`, `!!omap`, `!python/...` on a collection
            self._unsupported(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        out: dict = {}
        merged: dict = {}  # keys from `<<: *alias`; explicit keys win, whatever the order
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                value = self.build(value_node, path)
                for source in value if isinstance(value, list) else [value]:
                    if isinstance(source, dict):
                        for k, v in source.items():
                            merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(key_node, "a mapping key must be a plain value, not a list or mapping",
                           "use a text or number as the key")
            key = self._scalar(key_node)
            if isinstance(key, float):  # 1.0 and 1 would collide; keep floats as written
                key = key_node.value
            here = path + (key,)
            if key in out:
                first = self.keys.get(here)
                line, col = self._pos(key_node)
                self.diagnostics.append(diagnostic(
                    "AIS003",
                    f"key '{key}' appears twice in the same mapping; the second value would "
                    "silently replace the first",
                    "remove or rename one of the two entries",
                    Location(self.file, line, col, pointer(here)),
                    [Location(self.file, *first)] if first else [],
                ))
            self.keys[here] = self._pos(key_node)
            out[key] = self.build(value_node, here)
        return {**merged, **out} if merged else out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STD + "str":
            return node.value
        if tag not in _SCALAR_TAGS and tag not in (_STD + "timestamp", _STD + "binary"):
            self._unsupported(node)
        try:
            value = _CONSTRUCT.yaml_constructors[tag](_CONSTRUCT, node)
            # timestamps and binary stay text, but must be valid: files are copied into the
            # compiled tree as written, and every YAML reader downstream converts them
            return node.value if tag in (_STD + "timestamp", _STD + "binary") else value
        except (ValueError, TypeError, KeyError, OverflowError, AttributeError, yaml.YAMLError):
            # an explicit tag the text does not fit: `!!int abc`, `!!bool maybe`
            kind = tag.removeprefix(_STD)
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            self._fail(node, f"{shown!r} cannot be read as a YAML {kind}",
                       f"write a valid {kind}, or remove the !!{kind} tag in front of it")
        return None  # pragma: no cover - _fail raises

    def _unsupported(self, node: yaml.Node) -> None:
        self._fail(node, f"unsupported YAML tag {node.tag!r}",
                   "remove the tag; only plain YAML values (text, numbers, booleans, lists, "
                   "mappings) are accepted")


class _Abort(Exception):
    def __init__(self, diag: Diagnostic):
        self.diag = diag


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse ``text``; on a syntax error return ``(None, [diagnostic])``, never raise."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return None, [diagnostic(
            "AIS002", f"YAML syntax error: {problem}{context}",
            "check indentation, colons after keys, and quotes around values that contain ': ' "
            "or start with a special character", Location(file, line, col))]
    except yaml.YAMLError as exc:
        return None, [diagnostic("AIS002", f"YAML syntax error: {exc}",
                                 "fix the YAML syntax", Location(file, 1, 1))]
    if root is None:
        return None, [diagnostic("AIS004", "the file is empty",
                                 "fill it in; `aisprint new-application` writes an example of "
                                 "every file", Location(file, 1, 1))]
    builder = _Builder(file)
    try:
        data = builder.build(root, ())
    except _Abort as abort:
        return None, [abort.diag]
    except RecursionError:
        return None, [diagnostic("AIS002", "the document is nested too deeply",
                                 "flatten the structure", Location(file, 1, 1))]
    return YamlDocument(file, data, builder.values, builder.keys), builder.diagnostics


def read_yaml(root, rel: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """A YAML (or JSON) file of the application folder ``root``, read through the input
    boundary (``compiler.load.files``) and parsed."""
    text, problem = files.read_text(root, rel)
    if text is None:
        return None, [problem]
    return parse_yaml(text, files.display(root, rel))
