"""An application loaded once: what every verb starts from.

A ``Workspace`` holds the application's input files as read (from a folder, or from a git
revision without exporting it), the validation report over them, the partitions `aisprint
design` generated (the cuts, and what half 1 of each sends on), and the performance models.
``space4aid``, ``compile``, ``plan`` and the reconciler build their placement problem from it
through one method, ``problem``, so they solve the same problem for the same application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from compiler.design.component_partitions import boundary_sizes
from compiler.diagnostics import Diagnostic
from compiler.errors import InvalidInput
from compiler.load import files
from compiler.load.application import PARTITION_FILE, read_inputs
from compiler.load.oscarp import PerformanceData
from compiler.load.revision import read_revision
from compiler.model import Application
from compiler.placement.from_application import ApplicationSystem, system_from_application
from compiler.validate import ValidationReport, validate_application


@dataclass(frozen=True)
class Workspace:
    source: files.Snapshot  # every input file, by relative path, as read once
    revision: str | None = None  # the commit it was read from (None: a folder's work tree)

    @classmethod
    def from_folder(cls, app_dir: str | os.PathLike[str]) -> Workspace:
        if not Path(app_dir).is_dir():  # validation says so, with the fix
            workspace = cls(files.Snapshot(os.fspath(app_dir), {}))
            workspace.__dict__["report"] = validate_application(app_dir)
            return workspace
        return cls(read_inputs(app_dir))

    @classmethod
    def from_revision(cls, app_dir: str | os.PathLike[str], rev: str) -> Workspace:
        """The application as committed at ``rev`` of the repository ``app_dir`` is in,
        read from git's objects (nothing is exported); shown under ``app_dir``'s name."""
        tree, sha = read_revision(app_dir, rev)
        return cls(read_inputs(tree), sha)

    # ------------------------------------------------------------------------- what it holds

    @property
    def root(self) -> str:
        return self.source.root

    @property
    def inputs(self) -> Mapping[str, bytes]:
        return self.source.files

    @cached_property
    def report(self) -> ValidationReport:
        """Schemas and cross-file checks over the files as read (computed when first asked:
        a plan whose deployment tree is up to date needs only the inputs' hashes)."""
        return validate_application(self.source)

    @property
    def valid(self) -> bool:
        return self.report.valid

    @property
    def application(self) -> Application:
        """The validated application; ``InvalidInput`` with every diagnostic otherwise."""
        if not self.report.valid:
            raise InvalidInput(self.report.diagnostics)
        return self.report.application

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.report.warnings

    @property
    def performance(self) -> PerformanceData | None:
        return self.report.loaded.performance

    @cached_property
    def cuts(self) -> dict[str, tuple[str, ...]]:
        """The cuts whose two halves `aisprint design` generated, per component (in order)."""
        return designed_cuts(self.inputs)

    @cached_property
    def boundary_sizes(self) -> dict[str, float]:
        """MB that half 1 of each generated cut sends on, read from the designed ONNX."""
        if not self.cuts:
            return {}
        return boundary_sizes(self.source)

    # ----------------------------------------------------------------------- the one problem

    def problem(self, *, arrival_rate: float | None = None) -> ApplicationSystem:
        """The placement problem of this application (AIS802 without performance models).

        Every verb builds it here: the designed cuts are the only partitioned deployments
        offered, and a cut's transfer is priced at what its first half sends on (a size
        measured by `aisprint profile` in oscarp/components_data_size.yaml wins)."""
        performance = self.performance
        if performance is not None and self.cuts:
            performance = replace(performance, data_sizes={**self.boundary_sizes,
                                                           **performance.data_sizes})
        cuts = self.cuts
        return system_from_application(self.application, performance,
                                       arrival_rate=arrival_rate,
                                       cuts=lambda component: cuts.get(component, ()))


def designed_cuts(inputs: Mapping[str, bytes]) -> dict[str, tuple[str, ...]]:
    """The cuts whose two halves `aisprint design` generated, per component (in cut order)."""
    parts: dict[tuple[str, str], set[int]] = {}
    for rel in inputs:
        match = PARTITION_FILE.match(rel)
        if match and match["rel"] == "main.py":
            parts.setdefault((match["component"], match["cut"]), set()).add(int(match["part"]))
    cuts: dict[str, list[str]] = {}
    for (component, cut), found in sorted(parts.items(), key=lambda kv: (kv[0][0],
                                                                         int(kv[0][1]))):
        if found >= {1, 2}:
            cuts.setdefault(component, []).append(cut)
    return {component: tuple(found) for component, found in cuts.items()}
