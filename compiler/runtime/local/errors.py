"""The one error of the local backend, and how its modules raise it."""

from __future__ import annotations

from pathlib import Path

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput


class LocalError(InvalidInput):
    """The local backend cannot run what it was given, or cannot start."""


def local_error(code: str, message: str, hint: str = "", file: str | Path = "") -> LocalError:
    return LocalError([diagnostic(code, message, hint, Location(str(file)) if file else None)])
