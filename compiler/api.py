"""The library API: what every command does, callable without a shell.

The CLI, the GitHub Action and the reconciler's cron job call these functions (never a
subprocess); each returns a value or raises an ``AisprintError`` subclass, which the CLI maps
to an exit code. This module only re-exports: each function lives in the room of the pipeline
that does the work, and nothing inside ``compiler`` or ``targets`` imports this module.

The names are loaded when first used (PEP 562): `aisprint --help` and `aisprint validate` must
not pay for numpy, PuLP and the emitters that only placing and compiling need.
"""

from importlib import import_module

EXPORTS = {
    "DesignResult": "compiler.design.steps",
    "PlacementOutcome": "compiler.placement.solve",
    "SolvedApplication": "compiler.compile",
    "ValidationReport": "compiler.validate",
    "build": "compiler.compile",
    "commit_deployment": "compiler.gitops.workflow:commit",
    "design_annotations": "compiler.design.steps",
    "design_partitions": "compiler.design.steps",
    "diff": "compiler.gitops.workflow",
    "evaluate_solution_file": "compiler.placement.solve",
    "new_application": "compiler.scaffold",
    "place_application": "compiler.compile",
    "plan": "compiler.gitops.workflow",
    "solve_application": "compiler.compile",
    "solve_system_file": "compiler.placement.solve",
    "validate": "compiler.validate",
    "write_atomically": "compiler.write",
}
__all__ = sorted(EXPORTS)


def __getattr__(name: str):
    if name not in EXPORTS:
        raise AttributeError(f"module 'compiler.api' has no attribute {name!r}")
    module, _, attribute = EXPORTS[name].partition(":")
    return getattr(import_module(module), attribute or name)
