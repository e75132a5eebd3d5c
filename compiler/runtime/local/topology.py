"""What the local backend runs, read from a compiled tree: the values (``Storage``,
``Service``, ``Topology``), the pure rules of OSCAR's semantics (sessions, parallelism, the DAG's
branch choice) and ``load_topology`` / ``topology_fingerprint`` (files only, no side effects)."""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.layout import BASE_DESIGN, CURRENT_DEPLOYMENT
from compiler.layout import design as design_folder
from compiler.runtime.local.errors import local_error
from compiler.runtime.metrics import QoSPath, load_qos

DEFAULT_DEPLOYMENT = CURRENT_DEPLOYMENT
FAAS_FUNCTION = "tosca.nodes.aisprint.FaaS.Function"
SESSION_RE = re.compile(
    r"^aisprint-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")


# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Storage:
    """One input or output of a service: a folder under ``buckets/`` and OSCAR's filters."""

    path: str  # <bucket>/<folder>, as in the FDL
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()

    def accepts(self, name: str) -> bool:
        bare = SESSION_RE.sub("", name).lstrip("-")
        return ((not self.prefixes or any(n.startswith(p) for p in self.prefixes
                                           for n in (name, bare)))
                and (not self.suffixes or any(name.endswith(s) for s in self.suffixes)))


@dataclass(frozen=True)
class Service:
    name: str  # the OSCAR service / function name
    unit: str  # COMPONENT_NAME: the unit of the DAG (component or partition)
    design_dir: Path
    inputs: tuple[Storage, ...]
    outputs: tuple[Storage, ...]
    env: tuple[tuple[str, str], ...]
    cores: float
    source: str  # the artifact it was read from


@dataclass(frozen=True)
class Topology:
    repo: Path
    deployment: str
    services: tuple[Service, ...]
    edges: tuple[tuple[str, str, float], ...]  # units, from application_dag.yaml
    qos: tuple[QoSPath, ...]

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def by_unit(self, unit: str) -> Service | None:
        return next((s for s in self.services if s.unit == unit), None)

    def entry_services(self) -> tuple[Service, ...]:
        """Services no other unit feeds (the DAG's sources): where new requests go."""
        fed = {b for _, b, _ in self.edges}
        return tuple(s for s in self.services if s.unit not in fed)

    def producers_of(self, path: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if any(o.path == path for o in s.outputs))



# --------------------------------------------------------------------------- pure helpers

def session_of(name: str) -> str:
    match = SESSION_RE.match(Path(name).name)
    return match.group(1).lower() if match else ""


def with_session(name: str, session: str) -> str:
    """``name`` carrying ``session`` as the seed names files: ``aisprint-<uuid>-<name>``."""
    return name if session_of(name) == session else f"aisprint-{session}-{name}"


def parallelism(service: Service, cpus: int | None = None, cap: int | None = None) -> int:
    """Runs of one service at once: its cores rounded up, at most the CPUs, at most ``cap``."""
    n = max(1, math.ceil(service.cores - 1e-9)) if service.cores > 0 else 1
    n = min(n, max(1, cpus if cpus is not None else (os.cpu_count() or 1)))
    return max(1, min(n, cap) if cap else n)


def _fraction(*parts: str) -> float:
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def chosen_successors(unit: str, session: str, edges: Sequence[tuple[str, str, float]]
                      ) -> frozenset[str]:
    """The successors of ``unit`` one request (session) goes on to, the DAG's probabilities
    honoured deterministically: p >= 1 always; the p < 1 edges are one exclusive choice by
    the session's hash (when they sum to less than 1, the rest is "none of them")."""
    out = [(b, p) for a, b, p in edges if a == unit]
    chosen = {b for b, p in out if p >= 1}
    choice = sorted((b, p) for b, p in out if p < 1)
    if choice:
        u, acc = _fraction(session, unit), 0.0
        for b, p in choice:
            acc += max(p, 0.0)
            if u < acc:
                chosen.add(b)
                break
    return frozenset(chosen)


def _storage(items: Any, where: str) -> tuple[Storage, ...]:
    result = []
    for item in items or ():
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str) \
                or not item["path"].strip("/"):
            raise local_error("AIS968", f"a storage entry has no path: {item!r}",
                              "every input/output is {storage_provider, path: <bucket>/<folder>}",
                              where)
        path = "/".join(p for p in item["path"].split("/") if p)
        if ".." in path.split("/"):
            raise local_error("AIS968", f"a storage path leaves its bucket: {item['path']!r}", "",
                              where)
        result.append(Storage(path, tuple(str(v) for v in item.get("prefix") or ()),
                              tuple(str(v) for v in item.get("suffix") or ())))
    return tuple(result)


def _env(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("variables", raw.get("Variables", raw))
    return {str(k): str(v) for k, v in (inner or {}).items()
            if not isinstance(v, Mapping)}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise local_error("AIS968", f"cannot read {path.name}: {exc}", "compile the application "
                          "again (aisprint compile APP --out DIR)", path) from None


def aisprint_root(repo: Path) -> Path:
    repo = Path(repo)
    return repo if repo.name == "aisprint" and (repo / "deployments").is_dir() \
        else repo / "aisprint"


def _design_for(root: Path, unit: str) -> Path:
    match = re.match(r"^(.*)_(partition\d+_\d+)$", unit)
    component, design_name = (match.group(1), match.group(2)) if match else (unit, BASE_DESIGN)
    return root.parent / design_folder(component, design_name)  # root: the aisprint/ folder


def load_topology(repo: Path, deployment: str = DEFAULT_DEPLOYMENT) -> Topology:
    """Read what the local backend runs from a compiled tree (files only, no side effects)."""
    root = aisprint_root(Path(repo))
    folder = root / "deployments" / deployment
    if not folder.is_dir():
        known = sorted(p.name for p in (root / "deployments").glob("*") if p.is_dir()) \
            if (root / "deployments").is_dir() else []
        raise local_error("AIS968", f"no deployment {deployment!r} in {root}",
                          f"known deployments: {', '.join(known) or 'none'} — compile the "
                          "application first: aisprint compile APP --out DIR", folder)
    services: dict[str, Service] = {}

    def add(props: Mapping, source: Path, design_dir: Path | None) -> None:
        name = str(props.get("name") or "")
        if not name:
            raise local_error("AIS968", "a service has no name", "", source)
        env = _env(props.get("environment", props.get("env_variables")))
        unit = env.get("COMPONENT_NAME", name)
        design = design_dir or _design_for(root, unit)
        if not (design / "main.py").is_file():
            raise local_error("AIS968", f"service {name!r}: no main.py in {design}",
                              "the compiled tree is incomplete: compile the application again",
                              source)
        try:
            cores = float(env.get("COMPUTING_UNITS") or props.get("cpu") or 1)
        except (TypeError, ValueError):
            cores = 1.0
        inputs = _storage(props.get("input"), str(source))
        if not inputs:
            raise local_error("AIS968", f"service {name!r} has no input", "", source)
        services.setdefault(name, Service(
            name, unit, design.resolve(), inputs, _storage(props.get("output"), str(source)),
            tuple(sorted(env.items())), cores, str(source.relative_to(root.parent))))

    fdl = folder / "oscar" / "fdl.yaml"
    if fdl.is_file():
        data = _read_yaml(fdl) or {}
        for entry in ((data.get("functions") or {}).get("oscar") or []) \
                if isinstance(data, Mapping) else []:
            for props in (entry or {}).values():
                script = props.get("script") if isinstance(props, Mapping) else None
                if not isinstance(props, Mapping):
                    raise local_error("AIS968", "an FDL entry is not a service mapping", "", fdl)
                design = (fdl.parent / script).resolve().parent if isinstance(script, str) \
                    and not script.startswith("/") else None
                add(props, fdl, design)
    for template in sorted((folder / "im").glob("*.yaml")):
        data = _read_yaml(template) or {}
        nodes = ((data.get("topology_template") or {}).get("node_templates") or {}) \
            if isinstance(data, Mapping) else {}
        for node in nodes.values():
            if isinstance(node, Mapping) and node.get("type") == FAAS_FUNCTION:
                add(node.get("properties") or {}, template, None)
    if not services:
        raise local_error("AIS968", f"deployment {deployment!r} has no service to run",
                          "it needs oscar/fdl.yaml or im/*.yaml with FaaS.Function nodes", folder)
    dag = _read_yaml(folder / "application_dag.yaml") if (
        folder / "application_dag.yaml").is_file() else {}
    edges = []
    for dep in ((dag or {}).get("System") or {}).get("dependencies") or []:
        if isinstance(dep, Sequence) and len(dep) >= 2:
            edges.append((str(dep[0]), str(dep[1]), float(dep[2]) if len(dep) > 2 else 1.0))
    qos = load_qos(folder).paths if (folder / "ams").is_dir() else ()
    return Topology(Path(repo), deployment, tuple(sorted(services.values(),
                                                         key=lambda s: s.name)),
                    tuple(edges), qos)


def topology_fingerprint(repo: Path, deployment: str = DEFAULT_DEPLOYMENT) -> str:
    """A hash of the files a topology is read from (and of its designs' entry points)."""
    root = aisprint_root(Path(repo))
    folder = root / "deployments" / deployment
    digest = hashlib.sha256()
    files = sorted([*folder.glob("oscar/*.yaml"), *folder.glob("im/*.yaml"),
                    *folder.glob("application_dag.yaml"), *root.glob("designs/*/*/main.py")])
    for path in files:
        try:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()
