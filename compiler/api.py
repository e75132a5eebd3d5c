"""The library API: what every command does, callable without a shell.

The CLI, the GitHub Action and the reconciler's cron job call these functions (never a
subprocess); each returns a value or raises an ``AisprintError`` subclass, which the CLI maps
to an exit code. This module only re-exports: each function lives in the room of the pipeline
that does the work, and nothing inside ``compiler`` or ``targets`` imports this module.
"""

from compiler.compile import (
    PlacementOutcome,
    SolvedApplication,
    build,
    place_application,
    solve_application,
)
from compiler.design.steps import DesignResult, design_annotations, design_partitions
from compiler.gitops.workflow import commit as commit_deployment
from compiler.gitops.workflow import diff, plan
from compiler.placement.solve import evaluate_solution_file, solve_system_file
from compiler.scaffold import new_application
from compiler.validate import ValidationReport, validate
from compiler.write import write_atomically

__all__ = [
    "DesignResult",
    "PlacementOutcome",
    "SolvedApplication",
    "ValidationReport",
    "build",
    "commit_deployment",
    "design_annotations",
    "design_partitions",
    "diff",
    "evaluate_solution_file",
    "new_application",
    "place_application",
    "plan",
    "solve_application",
    "solve_system_file",
    "validate",
    "write_atomically",
]
