"""The manifest of a compiled tree (``aisprint/manifest.json``), as a typed, versioned value.

``aisprint compile`` writes it; ``aisprint plan``/``diff`` read the cost and the QoS
predictions back from it; ``plan`` reuses a tree whose recorded inputs match the application's;
the reconciler records its re-placements in it (``current``) and reads the load back.
Nobody else parses the file: every reader goes through ``read``, which accepts every shape the
tool ever wrote and returns the current one (an upgrade), or refuses what is no manifest of
ours with AIS959 (AIS960 for another version of the format) naming the file and the fix.

The format is ``schemas/manifest.schema.json`` (v1). What v1 files differ in, and how ``read``
takes them:

* written before the manifest recorded the load and the QoS predictions: ``placement.load``
  is None and ``placement.qos`` None (not recorded, which readers tell from "no limits");
* written by compile: no ``current``;
* rewritten by the reconciler: ``current`` records the re-placement's cost and load.

``to_bytes`` writes the same bytes compile always wrote: JSON, keys sorted, two-space indent.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import MANIFEST

VERSION = 1
SCHEMA = f"https://aisprint-gitops.github.io/schemas/manifest/v{VERSION}.json"
TOOL = "aisprint-gitops"
_SCHEMA_URL = re.compile(r"https://aisprint-gitops\.github\.io/schemas/manifest/v(\d{1,9})\.json")
_HEX = re.compile(r"[0-9a-f]{64}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """One file of the tree: its digest and size."""

    sha256: str
    size: int

    @classmethod
    def of(cls, data: bytes) -> FileRecord:
        return cls(sha256(data), len(data))


@dataclass(frozen=True)
class QosRecord:
    """A QoS limit of the application with the placement's predicted response time.

    ``name`` is path1, path2 … for global limits (annotation order), the component for local
    ones; ``predicted`` is None without performance models."""

    name: str
    kind: str  # "global" or "local"
    components: tuple[str, ...]
    limit: float
    predicted: float | None

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.kind, self.components


@dataclass(frozen=True)
class PlacementRecord:
    """How compile chose the optimal deployment, its cost and the load it was solved for.

    ``qos`` None: a manifest written before the predictions were recorded (``()`` is an
    application with no limits)."""

    method: str
    cost: float | None
    load: float | None = None
    qos: tuple[QosRecord, ...] | None = ()


@dataclass(frozen=True)
class CurrentRecord:
    """The reconciler's last re-placement of current_deployment: its cost and the measured
    load it was solved for (None: the application's expected load)."""

    cost: float
    load: float | None


@dataclass(frozen=True)
class Manifest:
    tool_version: str
    placement: PlacementRecord
    inputs: Mapping[str, str]  # input file (relative to the application) -> sha256
    files: Mapping[str, FileRecord]  # every file of the tree but the manifest
    current: CurrentRecord | None = None

    @classmethod
    def of(cls, artifacts: Mapping[str, bytes], inputs: Mapping[str, bytes], *,
           tool_version: str, placement: PlacementRecord) -> Manifest:
        """The manifest of ``artifacts`` compiled from ``inputs``."""
        return cls(tool_version, placement, inputs_of(inputs), files_of(artifacts))

    def with_files(self, artifacts: Mapping[str, bytes]) -> Manifest:
        return replace(self, files=files_of(artifacts))

    def replaced(self, artifacts: Mapping[str, bytes], cost: float,
                 load: float | None) -> Manifest:
        """This manifest for a tree whose current_deployment the reconciler re-placed."""
        return replace(self, files=files_of(artifacts), current=CurrentRecord(cost, load))

    @property
    def load(self) -> float | None:
        """The load the committed current_deployment was solved for: the last re-placement's,
        else the compile's (the application's expected throughput)."""
        load = (self.current.load if self.current else None) or self.placement.load
        return float(load) if load else None

    def to_document(self) -> dict:
        placement: dict = {"method": self.placement.method, "cost": self.placement.cost,
                           "load": self.placement.load}
        if self.placement.qos is not None:
            placement["qos"] = [
                {"name": q.name, "kind": q.kind, "components": list(q.components),
                 "limit": q.limit, "predicted": q.predicted} for q in self.placement.qos]
        doc = {
            "$schema": SCHEMA,
            "tool": {"name": TOOL, "version": self.tool_version},
            "placement": placement,
            "inputs": dict(sorted(self.inputs.items())),
            "files": {path: {"sha256": f.sha256, "size": f.size}
                      for path, f in sorted(self.files.items())},
        }
        if self.current is not None:
            doc["current"] = {"cost": self.current.cost, "load": self.current.load}
        return doc

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_document(), indent=2, sort_keys=True) + "\n").encode()


def inputs_of(inputs: Mapping[str, bytes]) -> dict[str, str]:
    """The manifest's ``inputs``: the sha256 of every input file the tree was compiled from."""
    return {path: sha256(data) for path, data in sorted(inputs.items())}


def files_of(artifacts: Mapping[str, bytes]) -> dict[str, FileRecord]:
    """The manifest's ``files``: every artifact but the manifest itself."""
    return {path: FileRecord.of(data) for path, data in sorted(artifacts.items())
            if path != MANIFEST}


# ------------------------------------------------------------------------------- reading


class _Wrong(Exception):
    """What is wrong with the document, at which key (turned into AIS959 by ``read``)."""


def read(data: bytes, where: str) -> Manifest:
    """The manifest in ``data`` (the file ``where``), upgraded to the current shape.

    Raises ``InvalidInput``: AIS959 when it is not a manifest of this tool (not JSON, a wrong
    shape), AIS960 when it is one of another version of the format."""
    try:
        doc = json.loads(data, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _invalid(where, f"it is not JSON ({_short(exc)})") from None
    if not isinstance(doc, dict):
        raise _invalid(where, "it is not a JSON object")
    schema = doc.get("$schema")
    found = _SCHEMA_URL.fullmatch(schema) if isinstance(schema, str) else None
    if found is None:
        raise _invalid(where, f"its $schema is {_show(schema)}, not {SCHEMA}"
                       if "$schema" in doc else "it has no $schema")
    if int(found[1]) != VERSION:
        newer = int(found[1]) > VERSION
        raise InvalidInput([diagnostic(
            "AIS960", f"{where} is a manifest of format v{found[1]}, which this aisprint-gitops "
            f"does not read (it reads v{VERSION})",
            "upgrade aisprint-gitops to the version that compiled the tree" if newer else
            "compile the tree again with this version (aisprint compile)",
            Location(where))])
    try:
        return _manifest(doc)
    except _Wrong as exc:
        raise _invalid(where, str(exc)) from None


def _invalid(where: str, problem: str) -> InvalidInput:
    return InvalidInput([diagnostic(
        "AIS959", f"{where} is not a manifest written by `aisprint compile`: {problem}",
        "restore the file from the repository's history, or delete it (a tree without a "
        "manifest is planned as one compiled before manifests existed) and compile again",
        Location(where))])


def _manifest(doc: dict) -> Manifest:
    _keys(doc, "", required=("$schema", "tool", "placement", "inputs", "files"),
          optional=("current",))
    tool = _object(doc["tool"], "tool")
    _keys(tool, "tool", required=("name", "version"))
    if tool["name"] != TOOL:
        raise _Wrong(f"tool.name is {_show(tool['name'])}, not {TOOL!r}")
    current = None
    if "current" in doc:
        record = _object(doc["current"], "current")
        _keys(record, "current", required=("cost", "load"))
        current = CurrentRecord(_number(record["cost"], "current.cost"),
                                _number(record["load"], "current.load", null=True))
    inputs = _object(doc["inputs"], "inputs")
    files = _object(doc["files"], "files")
    return Manifest(
        _text(tool["version"], "tool.version"),
        _placement(_object(doc["placement"], "placement")),
        {path: _digest(value, f"inputs[{path!r}]") for path, value in inputs.items()},
        {path: _file(value, f"files[{path!r}]") for path, value in files.items()},
        current)


def _placement(doc: dict) -> PlacementRecord:
    _keys(doc, "placement", required=("method", "cost"), optional=("load", "qos"))
    qos = None
    if "qos" in doc:
        if not isinstance(doc["qos"], list):
            raise _Wrong(f"placement.qos is {_show(doc['qos'])}, not a list")
        qos = tuple(_qos(row, f"placement.qos[{i}]") for i, row in enumerate(doc["qos"]))
    return PlacementRecord(_text(doc["method"], "placement.method"),
                           _number(doc["cost"], "placement.cost", null=True),
                           _number(doc.get("load"), "placement.load", null=True), qos)


def _qos(value, at: str) -> QosRecord:
    row = _object(value, at)
    _keys(row, at, required=("name", "kind", "components", "limit", "predicted"))
    if row["kind"] not in ("global", "local"):
        raise _Wrong(f"{at}.kind is {_show(row['kind'])}, not 'global' or 'local'")
    components = row["components"]
    if not isinstance(components, list) or not components:
        raise _Wrong(f"{at}.components is {_show(components)}, not a list of components")
    return QosRecord(_text(row["name"], f"{at}.name"), row["kind"],
                     tuple(_text(c, f"{at}.components") for c in components),
                     _number(row["limit"], f"{at}.limit"),
                     _number(row["predicted"], f"{at}.predicted", null=True))


def _file(value, at: str) -> FileRecord:
    record = _object(value, at)
    _keys(record, at, required=("sha256", "size"))
    size = record["size"]
    if type(size) is not int or size < 0:
        raise _Wrong(f"{at}.size is {_show(size)}, not a size in bytes")
    return FileRecord(_digest(record["sha256"], f"{at}.sha256"), size)


def _keys(doc: dict, at: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
          ) -> None:
    where = f"{at} " if at else ""
    missing = [key for key in required if key not in doc]
    if missing:
        raise _Wrong(f"{where}has no {', '.join(missing)}")
    unknown = sorted(str(key) for key in doc if key not in required + optional)
    if unknown:
        raise _Wrong(f"{where}has unknown keys {', '.join(unknown)}")


def _object(value, at: str) -> dict:
    if not isinstance(value, dict):
        raise _Wrong(f"{at} is {_show(value)}, not an object")
    return value


def _text(value, at: str) -> str:
    if not isinstance(value, str):
        raise _Wrong(f"{at} is {_show(value)}, not text")
    return value


def _digest(value, at: str) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise _Wrong(f"{at} is {_show(value)}, not a sha256 (64 lowercase hex digits)")
    return value


def _number(value, at: str, *, null: bool = False) -> float | None:
    if value is None and null:
        return None
    number = (type(value) is int and abs(value) <= 2**53) or \
        (type(value) is float and math.isfinite(value))
    if not number:
        raise _Wrong(f"{at} is {_show(value)}, not a number")
    return value  # as written: an upgrade rewrites a number in the same text


def _no_constant(name: str):
    raise ValueError(f"{name} is no JSON number")


def _show(value) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else \
        type(value).__name__.replace("dict", "an object").replace("list", "a list")
    return text if len(text) <= 40 else text[:37] + "..."


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]
