"""The two steps of ``aisprint design``, as the library runs them.

1. ``design_annotations`` writes common_config/annotations.yaml from the annotations in
   src/ (the original tool's first step);
2. ``design_partitions`` cuts the ONNX model of every ``partitionable_model`` component and
   writes the halves as designs (``compiler.design.component_partitions``).
Both refuse an application that does not validate, and write nothing then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from compiler.design import onnx_cut
from compiler.design.component_partitions import partition_application
from compiler.diagnostics import Diagnostic, Severity, diagnostic
from compiler.errors import InvalidInput
from compiler.load.annotations import annotations_yaml
from compiler.validate import validate
from compiler.write import write_atomically


@dataclass(frozen=True)
class DesignResult:
    annotations_file: Path
    components: tuple[str, ...]
    changed: bool
    warnings: tuple[Diagnostic, ...]


def design_annotations(app_dir: str | os.PathLike[str]) -> DesignResult:
    """First step of ``aisprint design``: write common_config/annotations.yaml from src/.

    The application must validate (warnings allowed), as the original tool validates the
    annotations before it goes on; nothing is written otherwise.
    """
    report = validate(app_dir)
    # A stale annotations.yaml is exactly what this step repairs: not a reason to stop.
    blocking = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    if blocking:
        raise InvalidInput(report.diagnostics)
    loaded = report.loaded
    if not loaded.source_documents:
        raise InvalidInput([diagnostic(
            "AIS001", f"{os.path.join(loaded.app_dir, 'src')} has no component sources",
            "put each component in src/<component>/main.py with its annotations on def main")])
    text = annotations_yaml(loaded.annotations)
    target = Path(loaded.app_dir) / "common_config" / "annotations.yaml"
    old = target.read_text(encoding="utf-8") if target.is_file() else None
    if old != text:
        write_atomically(target, text, inside=Path(loaded.app_dir))
    return DesignResult(target, tuple(a.component for a in loaded.annotations), old != text,
                        tuple(d for d in report.diagnostics
                              if d.severity is not Severity.ERROR and d.code != "AIS512"))


def design_partitions(app_dir: str | os.PathLike[str], *, max_boundary_tensors: int | None = None,
                      enabled: bool = True, progress=None):
    """Second step of ``aisprint design``: cut the ONNX model of every ``partitionable_model``
    component and write ``aisprint/designs/<c>/partition<i>_<n>/`` and
    component_partitions.yaml (``compiler.design.component_partitions``). Run after
    ``design_annotations``; raises InvalidInput (AIS901–AIS904) for models it cannot cut."""
    report = validate(app_dir)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    loaded = report.loaded
    return partition_application(
        loaded.app_dir, loaded.annotations, order=report.application.dag.components,
        max_boundary_tensors=max_boundary_tensors or onnx_cut.DEFAULT_MAX_BOUNDARY,
        enabled=enabled, progress=progress)
