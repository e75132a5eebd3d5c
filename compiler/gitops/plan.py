"""A plan: what writing a newly compiled tree would change, as one frozen value.

``make_plan(current, desired)`` is pure: it compares two compiled trees (``{path: bytes}``) and
returns a ``Plan`` with

* the placement of every unit (component or partition) before and after — layer, resource,
  replicas, container — read from ``current_deployment/production_deployment.yaml``;
* the cost before and after (the manifests' ``placement.cost``);
* the QoS limits with the predicted response times on both sides (computed by the caller,
  which has the application and the evaluator; without them only the limits are known);
* every added, removed or modified file with a unified diff (binary files summarised);
* a label per change: ``restart`` when something that runs changes (code, images, TOSCA, FDL,
  Helm chart, SCONE policy, placement, replicas), ``metadata`` otherwise (monitoring and
  dashboards, QoS thresholds, the manifest, the base/optimal views that are not applied, or a
  change of formatting and comments only).

The console (``console.py``) renders a plan; nothing here prints or reads a clock.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import yaml

from compiler.layout import (
    APPLIED_DEPLOYMENT,
    BASE_DEPLOYMENT,
    COMPONENT_PARTITIONS,
    DESIGNS,
    MANIFEST,
    PRODUCTION,
    SPACE4AI_QOS,
    deployment,
)
from compiler.manifest import Manifest, sha256
from compiler.manifest import read as read_manifest

PLAN_SCHEMA = "https://aisprint-gitops.github.io/schemas/plan/v1.json"
MAX_DIFF_LINES = 400
RESTART, METADATA = "restart", "metadata"
RUNNING_PARTS = ("im/", "oscar/", "helm/", "scone/", PRODUCTION)


@dataclass(frozen=True)
class Side:
    """One of the two trees compared: where it came from."""

    kind: str  # compile | repo | folder | empty
    ref: str  # a path, a revision, "working tree"
    commit: str | None = None  # the git commit it was read from or compiled at
    manifest_sha256: str | None = None

    def where(self, path: str) -> str:
        """How a diagnostic names ``path`` of this tree."""
        return f"{self.ref}/{path}" if self.kind == "folder" else f"{self.ref}:{path}"


@dataclass(frozen=True)
class UnitPlacement:
    layer: int
    resource: str
    replicas: int | None  # None for FaaS
    container: str
    image: str = ""
    memory: float | None = None
    cores: float | None = None


@dataclass(frozen=True)
class PlacementChange:
    unit: str
    component: str
    before: UnitPlacement | None
    after: UnitPlacement | None

    @property
    def kind(self) -> str:
        b, a = self.before, self.after
        if b is None and a is None:
            return "unchanged"
        if b is None:
            return "added"
        if a is None:
            return "removed"
        if (b.layer, b.resource) != (a.layer, a.resource):
            return "moved"
        if b.replicas != a.replicas:
            return "scaled"
        if b != a:
            return "container"
        return "unchanged"

    @property
    def label(self) -> str | None:
        return None if self.kind == "unchanged" else RESTART


@dataclass(frozen=True)
class QosPath:
    name: str  # path1, path2 … (global) or the component (local)
    kind: str  # local | global
    components: tuple[str, ...]
    limit: float | None  # None: the constraint is gone on this side
    before: float | None = None
    after: float | None = None
    limit_before: float | None = None

    @property
    def status(self) -> str:
        if self.after is None or self.limit is None:
            return "unknown"
        return "over" if self.after > self.limit * (1 + 1e-9) else "ok"

    @property
    def was_over(self) -> bool:
        """The current placement misses the current limit."""
        limit = self.limit_before
        return self.before is not None and limit is not None and \
            self.before > limit * (1 + 1e-9)


@dataclass(frozen=True)
class ArtifactChange:
    path: str
    kind: str  # added | removed | modified
    label: str  # restart | metadata
    binary: bool
    size_before: int | None
    size_after: int | None
    sha_before: str | None
    sha_after: str | None
    diff: str  # unified diff ("" for binary files)
    diff_truncated: int = 0  # lines left out


@dataclass(frozen=True)
class Plan:
    current: Side
    desired: Side
    placement: tuple[PlacementChange, ...]
    cost_before: float | None
    cost_after: float | None
    qos: tuple[QosPath, ...]
    artifacts: tuple[ArtifactChange, ...]
    dag: tuple[tuple[str, str, float], ...]  # the desired DAG (over components)
    layer_names: tuple[tuple[int, str], ...] = field(default=())
    unchanged_files: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.artifacts)

    @property
    def restart_required(self) -> bool:
        return any(a.label == RESTART for a in self.artifacts) or any(
            p.label == RESTART for p in self.placement)

    def counts(self) -> dict[str, int]:
        kinds = [a.kind for a in self.artifacts]
        return {"added": kinds.count("added"), "removed": kinds.count("removed"),
                "modified": kinds.count("modified"),
                "restart": sum(a.label == RESTART for a in self.artifacts),
                "metadata": sum(a.label == METADATA for a in self.artifacts),
                "unchanged": self.unchanged_files}

    def moved(self) -> tuple[PlacementChange, ...]:
        return tuple(p for p in self.placement if p.kind != "unchanged")

    def to_json(self) -> dict:
        def unit(u: UnitPlacement | None):
            return None if u is None else asdict(u)

        return {
            "$schema": PLAN_SCHEMA,
            "current": asdict(self.current),
            "desired": asdict(self.desired),
            "has_changes": self.has_changes,
            "restart_required": self.restart_required,
            "summary": self.counts(),
            "cost": {"before": self.cost_before, "after": self.cost_after,
                     "delta": None if self.cost_before is None or self.cost_after is None
                     else round(self.cost_after - self.cost_before, 12)},
            "placement": [{"unit": p.unit, "component": p.component, "change": p.kind,
                           "label": p.label, "before": unit(p.before), "after": unit(p.after)}
                          for p in self.placement],
            "qos": [{"name": q.name, "kind": q.kind, "components": list(q.components),
                     "limit": q.limit, "limit_before": q.limit_before, "before": q.before,
                     "after": q.after, "status": q.status} for q in self.qos],
            "artifacts": [asdict(a) for a in self.artifacts],
            "dag": {"edges": [list(e) for e in self.dag]},
            "layers": {str(n): name for n, name in self.layer_names},
        }


# ----------------------------------------------------------------------------- reading trees


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster


@functools.lru_cache(maxsize=64)
def _yaml(data: bytes | None):
    """A parsed YAML document (cached: both sides and several readers share it; read-only)."""
    if data is None:
        return None
    try:
        return yaml.load(data, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None


def load_yaml(data: bytes | None):
    return _yaml(data)


def manifest_of(files: Mapping[str, bytes], where: str = MANIFEST) -> Manifest | None:
    """The tree's manifest (None: a tree without one); AIS959/AIS960 for a file that is not
    one (``where`` names it)."""
    data = files.get(MANIFEST)
    return None if data is None else _manifest(data, where)


@functools.lru_cache(maxsize=16)
def _manifest(data: bytes, where: str) -> Manifest:
    """Read once per plan (both the plan and the QoS rows read it; frozen, shared)."""
    return read_manifest(data, where)


def _cost(files: Mapping[str, bytes], side: Side) -> float | None:
    manifest = manifest_of(files, side.where(MANIFEST))
    return None if manifest is None else manifest.placement.cost


def placements(files: Mapping[str, bytes]) -> dict[str, tuple[str, UnitPlacement]]:
    """unit -> (component, placement), from the applied production_deployment.yaml."""
    doc = _yaml(files.get(f"{APPLIED_DEPLOYMENT}/{PRODUCTION}")) or {}
    system = doc.get("System") or {}
    replicas: dict[str, int] = {}
    for domain in (system.get("NetworkDomains") or {}).values():
        for layer in ((domain or {}).get("ComputationalLayers") or {}).values():
            for res in (layer.get("Resources") or {}).values():
                if "totalNodes" in res:
                    replicas[res["name"]] = int(res["totalNodes"])
    found = {}
    for _key, entry in sorted((system.get("Components") or {}).items()):
        for container_key, container in sorted((entry.get("Containers") or {}).items()):
            resource = container.get("selectedExecutionResource", "")
            image = container.get("image", "")
            unit = str(entry["name"])
            found[unit] = (unit.split("_partition")[0], UnitPlacement(
                int(entry.get("executionLayer", 0)), resource, replicas.get(resource),
                container_key, ",".join(image) if isinstance(image, list) else str(image),
                container.get("memorySize"), container.get("computingUnits")))
    return found


def layer_names(files: Mapping[str, bytes]) -> dict[int, str]:
    doc = _yaml(files.get(f"{APPLIED_DEPLOYMENT}/{PRODUCTION}")) or {}
    names = {}
    for domain in ((doc.get("System") or {}).get("NetworkDomains") or {}).values():
        for layer in ((domain or {}).get("ComputationalLayers") or {}).values():
            names[int(layer["number"])] = str(layer.get("name", ""))
    return names


def dag_of(files: Mapping[str, bytes]) -> tuple[tuple[str, str, float], ...]:
    doc = _yaml(files.get(f"{deployment(BASE_DEPLOYMENT)}/application_dag.yaml")) or \
        _yaml(files.get(f"{APPLIED_DEPLOYMENT}/application_dag.yaml")) or {}
    system = doc.get("System") or {}
    edges = tuple((str(a), str(b), float(p)) for a, b, p in system.get("dependencies") or ())
    if not edges and system.get("components"):
        return tuple((str(c), "", 1.0) for c in system["components"])  # lone nodes
    return edges


def limits_from_files(files: Mapping[str, bytes]) -> dict[tuple[str, tuple[str, ...]], float]:
    """QoS limits of the applied deployment (when no application is at hand to evaluate)."""
    doc = _yaml(files.get(f"{APPLIED_DEPLOYMENT}/{SPACE4AI_QOS}")) or {}
    system = doc.get("system") or {}
    out = {}
    for entry in (system.get("local_constraints") or {}).values():
        out[("local", (entry["component_name"],))] = float(entry["threshold"])
    for entry in (system.get("global_constraints") or {}).values():
        out[("global", tuple(entry["path_components"]))] = float(entry["threshold"])
    return out


# ----------------------------------------------------------------------------- labels


def _same_document(path: str, before: bytes, after: bytes) -> bool:
    """True when only formatting or comments differ (the parsed documents are equal)."""
    try:
        if path.endswith(".json"):
            return json.loads(before) == json.loads(after)
        if path.endswith((".yaml", ".yml")):
            return _yaml(before) == _yaml(after)
    except (ValueError, yaml.YAMLError):
        return False
    return False


def _same_code(before: bytes, after: bytes) -> bool:
    """Python sources that differ only in comments, docstrings and decorators (QoS
    annotations such as ``@exec_time(local_time_thr=...)`` are read by the tooling)."""
    import ast

    def skeleton(data: bytes) -> str:
        tree = ast.parse(data)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                node.decorator_list = []
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                    isinstance(getattr(body[0], "value", None), ast.Constant) and \
                    isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        return ast.dump(tree)

    try:
        return skeleton(before) == skeleton(after)
    except (SyntaxError, ValueError):
        return False


def label_for(path: str, before: bytes | None, after: bytes | None) -> str:
    """restart: something that runs changes; metadata: nothing running needs to restart."""
    if before is not None and after is not None:
        if _same_document(path, before, after):
            return METADATA
        if path.endswith(".py") and _same_code(before, after):
            return METADATA
        if path == f"{APPLIED_DEPLOYMENT}/{PRODUCTION}" and \
                placements({path: before}) == placements({path: after}):
            return METADATA  # descriptions, names: the placement itself is the same
    if path.endswith(".md"):
        return METADATA
    if path.startswith(DESIGNS + "/") and path != COMPONENT_PARTITIONS:
        return RESTART  # code, models, Dockerfiles: the images are rebuilt
    if path.startswith(APPLIED_DEPLOYMENT + "/"):
        rel = path[len(APPLIED_DEPLOYMENT) + 1:]
        if rel.startswith(RUNNING_PARTS):
            return RESTART
    return METADATA  # ams/, space4ai-d/ (QoS thresholds), base/optimal views, the manifest


# ----------------------------------------------------------------------------- diffs


def _text(data: bytes) -> str | None:
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unified_diff(path: str, before: bytes | None, after: bytes | None,
                 max_lines: int = MAX_DIFF_LINES) -> tuple[str, bool, int]:
    """(diff text, binary?, lines left out)."""
    old = _text(before) if before is not None else ""
    new = _text(after) if after is not None else ""
    if old is None or new is None:
        return "", True, 0
    lines = list(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{path}" if before is not None else "/dev/null",
        tofile=f"b/{path}" if after is not None else "/dev/null", n=3))
    lines = [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
             for line in lines]
    left_out = max(0, len(lines) - max_lines)
    return "".join(lines[:max_lines]), False, left_out


def digest(data: bytes | None) -> str | None:
    """The sha256 of a file's bytes, None for a file that is not there."""
    return None if data is None else sha256(data)


# ----------------------------------------------------------------------------- the plan


def make_plan(current: Mapping[str, bytes], desired: Mapping[str, bytes], *,
              current_side: Side, desired_side: Side,
              qos: tuple[QosPath, ...] | None = None,
              max_diff_lines: int = MAX_DIFF_LINES) -> Plan:
    """Compare two compiled trees. ``qos``: the caller's predictions (see ``qos_rows``)."""
    artifacts = []
    unchanged = 0
    for path in sorted(set(current) | set(desired)):
        before, after = current.get(path), desired.get(path)
        if before == after:
            unchanged += 1
            continue
        kind = "added" if before is None else "removed" if after is None else "modified"
        diff, binary, left_out = unified_diff(path, before, after, max_diff_lines)
        artifacts.append(ArtifactChange(
            path, kind, label_for(path, before, after), binary,
            None if before is None else len(before), None if after is None else len(after),
            digest(before), digest(after), diff, left_out))
    old_units, new_units = placements(current), placements(desired)
    changes = tuple(
        PlacementChange(unit, (new_units.get(unit) or old_units[unit])[0],
                        old_units.get(unit, (None, None))[1], new_units.get(unit, (None, None))[1])
        for unit in _unit_order(desired, old_units, new_units))
    if qos is None:
        old_limits, new_limits = limits_from_files(current), limits_from_files(desired)
        qos = qos_rows(old_limits, new_limits, {}, {})
    names = {**layer_names(current), **layer_names(desired)}
    return Plan(current_side, desired_side, changes,
                _cost(current, current_side), _cost(desired, desired_side),
                tuple(qos), tuple(artifacts), dag_of(desired) or dag_of(current),
                tuple(sorted(names.items())), unchanged)


def _unit_order(desired, old_units, new_units) -> list[str]:
    """Units in the DAG's order (desired first, then the removed ones)."""
    order: list[str] = []
    for a, b, _ in dag_of(desired):
        for name in (a, b):
            for unit in [*new_units, *old_units]:
                if name and (unit == name or unit.startswith(name + "_partition")) \
                        and unit not in order:
                    order.append(unit)
    order += sorted(u for u in {*new_units, *old_units} if u not in order)
    return order


def qos_rows(limits_before: Mapping[tuple[str, tuple[str, ...]], float],
             limits_after: Mapping[tuple[str, tuple[str, ...]], float],
             times_before: Mapping[tuple[str, tuple[str, ...]], float],
             times_after: Mapping[tuple[str, tuple[str, ...]], float]) -> tuple[QosPath, ...]:
    """One row per constraint (key: ("local", (component,)) or ("global", path))."""
    rows = []
    keys = list(limits_after) + [k for k in limits_before if k not in limits_after]
    n = 0
    for kind, comps in keys:
        if kind == "global":
            n += 1
        name = f"path{n}" if kind == "global" else comps[0]
        key = (kind, comps)
        rows.append(QosPath(name, kind, comps, limits_after.get(key),
                            _round(times_before.get(key)), _round(times_after.get(key)),
                            limits_before.get(key)))
    return tuple(sorted(rows, key=lambda q: (q.kind != "global", q.name)))


def _round(value: float | None) -> float | None:
    """Six significant digits: stable across platforms, plenty for seconds."""
    if value is None:
        return None
    return float(f"{value:.6g}")
