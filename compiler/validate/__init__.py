"""Validation: JSON Schemas first, then the cross-file checks, as one report."""

from __future__ import annotations

import os
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, Severity, has_errors, sort_key
from compiler.load.application import LoadedApplication, load_application
from compiler.model import Application

# each module of checks registers its own with @check when imported
from compiler.validate import (  # noqa: F401
    code_annotations,
    credentials,
    dag,
    deployments,
    inputs,
    resources,
)
from compiler.validate.registry import run_checks


@dataclass(frozen=True)
class ValidationReport:
    app_dir: str
    diagnostics: tuple[Diagnostic, ...]
    loaded: LoadedApplication

    @property
    def valid(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def application(self) -> Application | None:
        return self.loaded.application if self.valid else None

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)


def validate_application(app_dir: str | os.PathLike[str]) -> ValidationReport:
    """Load an application folder and check it; never raises on bad input."""
    loaded = load_application(app_dir)
    found = list(loaded.diagnostics) + run_checks(loaded)
    unique = sorted(dict.fromkeys(found), key=sort_key)
    return ValidationReport(loaded.app_dir, tuple(unique), loaded)


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
