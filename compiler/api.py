"""The library API: what every command does, callable without a shell.

The CLI, the GitHub Action and the reconciler call these functions (never a subprocess); each
returns a value or raises an ``AisprintError`` subclass, which the CLI maps to an exit code.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Severity, diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.validate import ValidationReport, validate_application


def validate(app_dir: str | os.PathLike[str] = ".", *,
             warnings_as_errors: bool = False) -> ValidationReport:
    """Validate an application folder. Never raises for bad input: read ``report.valid``."""
    report = validate_application(app_dir)
    if warnings_as_errors and report.warnings:
        promoted = tuple(
            Diagnostic(d.code, Severity.ERROR, d.message, d.hint, d.location, d.related)
            if d.severity is Severity.WARNING else d for d in report.diagnostics)
        report = ValidationReport(report.app_dir, promoted, report.loaded)
    return report


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    from compiler.load.annotations import annotations_yaml

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
        write_atomically(target, text)
    return DesignResult(target, tuple(a.component for a in loaded.annotations), old != text,
                        tuple(d for d in report.diagnostics
                              if d.severity is not Severity.ERROR and d.code != "AIS512"))


def new_application(name: str, parent: str | os.PathLike[str] = ".") -> Path:
    """Scaffold a complete application folder that validates unchanged."""
    from compiler.scaffold import scaffold

    target = Path(parent) / name
    if target.exists():
        raise AisprintError(
            f"{target} already exists: choose another name or remove it first "
            "(new-application never overwrites files)")
    return scaffold(name, target)
