"""Commit messages that say what changed and why, with machine-readable trailers.

    compile of 1a2b3c4d5e6f

    Placement: milp+heuristic, optimal; cost 0.0200094 (was 0.03)
    mask-detector: layer 4 -> 3 (Lambda-4GB -> VM-m5large)
    Files: 2 added, 0 removed, 5 modified (3 restart required)

    Aisprint-Source: 1a2b3c4d5e6f7a8b9c0d...
    Aisprint-Manifest: sha256 of aisprint/manifest.json
    Aisprint-Tool: aisprint-gitops 0.1.0

Subjects follow two shapes: ``compile of <source commit>`` for a compile, and
``reconcile: <why>`` (e.g. ``reconcile: path P1 over its limit, moved X to layer 3``) for the
reconciler. Trailers are ``Key: value`` lines in the last paragraph (git's convention), read
back with ``parse``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")


@dataclass(frozen=True)
class CommitMessage:
    subject: str
    body: tuple[str, ...] = ()
    trailers: tuple[tuple[str, str], ...] = field(default=())

    def render(self) -> str:
        parts = [self.subject.strip().splitlines()[0] if self.subject.strip() else "aisprint"]
        if self.body:
            parts.append("\n".join(line.rstrip() for line in self.body))
        if self.trailers:
            parts.append("\n".join(f"{key}: {value}" for key, value in self.trailers))
        return "\n\n".join(parts) + "\n"

    def trailer(self, key: str) -> str | None:
        return next((v for k, v in self.trailers if k.lower() == key.lower()), None)


def parse(text: str) -> CommitMessage:
    """Read a message written by ``render`` (or by hand) back: subject, body, trailers."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    if not paragraphs:
        return CommitMessage("")
    subject, rest = paragraphs[0].splitlines()[0], paragraphs[1:]
    trailers: tuple[tuple[str, str], ...] = ()
    if rest:
        lines = rest[-1].splitlines()
        matches = [TRAILER.match(line) for line in lines]
        if all(matches):
            trailers = tuple((m.group(1), m.group(2)) for m in matches)
            rest = rest[:-1]
    body = tuple(line for p in rest for line in (*p.splitlines(), ""))[:-1] if rest else ()
    return CommitMessage(subject, body, trailers)


def compile_message(source: str | None, *, summary: Iterable[str] = (),
                    trailers: Mapping[str, str] | None = None) -> CommitMessage:
    """``compile of <source commit>`` (``compile of a working tree`` when it is not committed)."""
    short = source[:12] if source else "a working tree"
    pairs = [("Aisprint-Source", source)] if source else []
    pairs += sorted((trailers or {}).items())
    return CommitMessage(f"compile of {short}", tuple(summary), tuple(pairs))


def reconcile_message(reasons: Iterable[str], moves: Iterable[str], *,
                      details: Iterable[str] = (),
                      trailers: Mapping[str, str] | None = None) -> CommitMessage:
    """``reconcile: path P1 over its limit, moved X to layer 3``."""
    what = ", ".join([*reasons, *moves]) or "re-placed"
    return CommitMessage(f"reconcile: {what}", tuple(details),
                         tuple(sorted((trailers or {}).items())))
