"""What an emitter's check is given and what it says: each target checks its own files with the
tools that consume them (``Emitter.check``), and ``compiler.verify`` runs every check.

A check reads the whole compiled tree, not only its own files, because consumers read files
by path relative to each other (an FDL's scripts live in the design tree). It never looks for
a tool itself: what it may run comes in ``CheckTools``, found by ``compiler.tools``; a tool
that is missing makes the check say so (AIS907) instead of passing quietly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.load.schema import load_schema


@dataclass(frozen=True)
class CheckTools:
    """The external tools and data the checks may use; None: not found, that check is skipped."""

    custom_types: Path | None = None  # IM's custom_types.yaml (tosca-parser, IM's translation)
    helm: Path | None = None  # the helm binary
    im_python: Path | None = None  # a python that imports IM (its own TOSCA translation)
    tosca_artifacts: Path | None = None  # a local copy of grycap/tosca's artifacts/ folder


@dataclass(frozen=True)
class CompiledTree:
    """Every emitted file (relative POSIX path -> bytes), also written under ``root``."""

    files: Mapping[str, bytes]
    root: Path
    tools: CheckTools

    def matching(self, wanted) -> list[tuple[str, bytes]]:
        """The files whose path satisfies ``wanted``, in path order."""
        return [(path, data) for path, data in sorted(self.files.items()) if wanted(path)]


def rejected(path: str, problem: str) -> Diagnostic:
    """AIS906: the consumer of ``path`` rejects it, saying ``problem``."""
    return diagnostic("AIS906", problem, "the compiler wrote a file its consumer cannot use: "
                      "report it with the application that produced it", Location(path))


def skipped(what: str, fix: str) -> Diagnostic:
    """AIS907: a check did not run (``what``), and how to make it run (``fix``)."""
    return diagnostic("AIS907", what, fix)


@cache
def _validator(schema: str):
    # deferred: jsonschema takes ~0.15 s to import and only checking needs it
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(schema))


def schema_errors(document, schema: str) -> list[str]:
    """Where (a JSON pointer) and how ``document`` breaks ``schemas/<schema>.schema.json``."""
    return [f"{'/'.join(map(str, error.absolute_path)) or '/'}: {error.message}"
            for error in _validator(schema).iter_errors(document)]


def schema_problems(path: str, data: bytes, schema: str) -> list[Diagnostic]:
    """``data`` (YAML, or JSON for a .json path) against ``schemas/<schema>.schema.json``."""
    try:
        document = json.loads(data) if path.endswith(".json") else yaml.safe_load(data)
    except (ValueError, yaml.YAMLError) as exc:
        return [rejected(path, f"cannot be parsed: {exc}")]
    return [rejected(path, error) for error in schema_errors(document, schema)]
