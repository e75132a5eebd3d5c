"""Every emitted file through the tools that consume it (``aisprint compile --check``, tests).

Each target checks its own files (``Emitter.check``): tosca-parser and IM's own translation for
TOSCA, oscar-python for OSCAR FDL, helm and kubernetes-validate for charts, the JSON Schemas of
``schemas/`` for the rest. This runs every check of the registry over one copy of the tree in
a temporary folder, its final step's (the manifest against its schema) included. The tools
come in ``CheckTools`` (``compiler.tools`` finds them); a check whose tool is missing says so
(AIS907).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from compiler.diagnostics import Diagnostic, Severity
from compiler.tools import find_custom_types, find_helm, find_im_python, find_tosca_artifacts
from targets import EMITTERS, FINAL, Emitter, FinalEmitter
from targets.check import CheckTools, CompiledTree, rejected


@dataclass(frozen=True)
class CheckReport:
    """What the consumers said: the checks that could not run (AIS907, in the registry's
    order) and the files they reject (AIS906, in path order)."""

    skipped: tuple[Diagnostic, ...]
    rejected: tuple[Diagnostic, ...]


def find_check_tools(tosca_types: str | os.PathLike[str] | None = None) -> CheckTools:
    """Every tool the checks can use, found as ``compiler.tools`` says (AIS908 when an option
    or variable names nothing usable)."""
    return CheckTools(custom_types=find_custom_types(tosca_types), helm=find_helm(),
                      im_python=find_im_python(), tosca_artifacts=find_tosca_artifacts())


def check_artifacts(artifacts: Mapping[str, bytes], tools: CheckTools,
                    emitters: Iterable[Emitter | FinalEmitter] | None = None) -> CheckReport:
    """Every emitter's check (all of the registry unless ``emitters`` says) on ``artifacts``,
    a compiled tree."""
    found: list[Diagnostic] = []
    inside: dict[str, bytes] = {}
    for rel, data in artifacts.items():
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or not parts:
            found.append(rejected(rel, "the path leaves the compiled tree"))
        else:
            inside[rel] = data
    with tempfile.TemporaryDirectory(prefix="aisprint-check-") as tmp:
        root = Path(tmp)
        for rel, data in inside.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        tree = CompiledTree(inside, root, tools)
        for emitter in (*EMITTERS.values(), FINAL) if emitters is None else emitters:
            found += emitter.check(tree)
    return CheckReport(tuple(d for d in found if d.severity is Severity.INFO),
                       tuple(sorted((d for d in found if d.severity is not Severity.INFO),
                                    key=lambda d: d.location.file if d.location else "")))
