"""Cross-file checks, what JSON Schema cannot see: the registry, and helpers the checks share.

Each check is a small function registered with ``@check(<parts it needs>)``; it runs only when
those parts of the application loaded cleanly, so a broken file does not hide every other
finding (nor crash a check). A check yields diagnostics and never raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from compiler.diagnostics import Diagnostic
from compiler.load.application import LoadedApplication
from compiler.model import Dag

Check = Callable[[LoadedApplication], Iterable[Diagnostic]]
CHECKS: list[tuple[tuple[str, ...], Check]] = []


def check(*needs: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS.append((needs, fn))
        return fn

    return register


def run_checks(loaded: LoadedApplication) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for needs, fn in CHECKS:
        if all(getattr(loaded, part) is not None for part in needs):
            out.extend(fn(loaded))
    return out


def suggest(name: str, known: Iterable[str]) -> str:
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "known: " + ", ".join(known) if known else ""


def known_components(dag: Dag) -> set[str]:
    names = set(dag.components)
    for alternatives in dag.alternative_components.values():
        names.update(alternatives)
    return names
