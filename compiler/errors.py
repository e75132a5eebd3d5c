"""The one exception root, and the few kinds the CLI maps to exit codes.

The core never calls ``sys.exit``: it raises one of these, and ``compiler.cli.main`` is the
single place that turns them into exit codes (0 ok, 1 invalid input, 2 changes, 3 internal,
64 usage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic


class AisprintError(Exception):
    """Root of every error this tool raises on purpose (exit code 1 unless said otherwise)."""

    exit_code = 1


class InvalidInput(AisprintError):
    """The user's input is wrong; ``diagnostics`` say where, what, and how to fix it."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "invalid input"
        super().__init__(first)


class UsageError(AisprintError):
    """The command line itself is wrong (unknown option, missing argument)."""

    exit_code = 64
