"""Diagnostics in the console's four formats.

Text (with the offending source line, read through the input boundary and scrubbed of
secrets), JSON, GitHub workflow commands, and markdown for job summaries and pull request
comments: a verdict line, then one table row per finding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from compiler.diagnostics import (
    DIAGNOSTICS_SCHEMA_VERSION,
    Diagnostic,
    Location,
    Severity,
    count,
    has_errors,
)
from compiler.load.files import source_lines
from compiler.secrets import scrub

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
_MARK = {Severity.ERROR: "❌ error", Severity.WARNING: "⚠️ warning", Severity.INFO: "ℹ️ note"}


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell: no row break, no column break, no HTML."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\r", " ").replace("\n", "<br>"))


def verdict(found: Sequence[Diagnostic], subject: str = "") -> str:
    n = count(found)
    what = f" in {subject}" if subject else ""
    if n["errors"]:
        return f"✗ {n['errors']} error(s), {n['warnings']} warning(s){what}"
    if n["warnings"]:
        return f"✓ valid{what}, with {n['warnings']} warning(s)"
    return f"✓ valid{what}"


def render_markdown(found: Sequence[Diagnostic], *, subject: str = "") -> str:
    lines = [f"### {_cell(verdict(found, subject))}"]
    if found:
        lines += ["", "| | code | where | what is wrong | how to fix it |", "|---|---|---|---|---|"]
        for d in found:
            where = f"`{_cell(str(d.location))}`" if d.location else ""
            lines.append(f"| {_MARK[d.severity]} | {d.code} | {where} | {_cell(d.message)} | "
                         f"{_cell(d.hint)} |")
    return "\n".join(lines) + "\n"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _source_line(loc: Location, cache: dict[str, list[str] | None]) -> str | None:
    if not loc.line:
        return None
    if loc.file not in cache:
        # through the input boundary: a diagnostic may name a pipe, a device or a symlink
        # that leads out of the application, whose content must not be read (nor printed)
        cache[loc.file] = source_lines(loc.file)
    lines = cache[loc.file]
    if lines is None or loc.line > len(lines):
        return None
    return scrub(lines[loc.line - 1])  # the line may hold the very secret reported


def render_text(
    diagnostics: Sequence[Diagnostic], *, colour: bool = False, subject: str = ""
) -> str:
    """Human text, compiler style: ``file:line:col: error AIS203: message``, the line, a
    caret, the hint."""
    out: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for d in diagnostics:
        where = f"{d.location}: " if d.location else ""
        label = _paint(f"{d.severity.value} {d.code}", _COLOURS[d.severity], colour)
        out.append(f"{_paint(where, '1', colour)}{label}: {d.message}")
        line = _source_line(d.location, cache) if d.location else None
        if line is not None:
            gutter = f"{d.location.line:>5} | "
            out.append(gutter + line)
            caret = " " * (len(gutter) - 2) + "| " + " " * max(d.location.col - 1, 0) + "^"
            out.append(_paint(caret, _COLOURS[d.severity], colour))
        if d.hint:
            out.append(f"  {_paint('hint', '36', colour)}: {d.hint}")
        for r in d.related:
            out.append(f"  see: {r}")
    n = count(diagnostics)
    what = f" in {subject}" if subject else ""
    if n["errors"]:
        tail = f"✗ {n['errors']} error(s), {n['warnings']} warning(s){what}"
        out.append(_paint(tail, "31;1", colour))
    elif n["warnings"]:
        out.append(_paint(f"✓ valid{what}, with {n['warnings']} warning(s)", "33;1", colour))
    else:
        out.append(_paint(f"✓ valid{what}", "32;1", colour))
    return "\n".join(out) + "\n"


def render_json(diagnostics: Sequence[Diagnostic], *, subject: str = "") -> str:
    doc = {
        "schema_version": DIAGNOSTICS_SCHEMA_VERSION,
        "subject": subject,
        "valid": not has_errors(diagnostics),
        "summary": count(diagnostics),
        "diagnostics": [d.to_json() for d in diagnostics],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_property(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], *, subject: str = "") -> str:
    """GitHub workflow commands (``::error file=…,line=…::msg``): annotations on the PR diff."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for d in diagnostics:
        props = []
        if d.location:
            props.append(f"file={_gh_escape_property(d.location.file)}")
            if d.location.line:
                props.append(f"line={d.location.line}")
                props.append(f"col={d.location.col}")
        props.append(f"title={_gh_escape_property(f'{d.code} {d.title}')}")
        body = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        out.append(f"::{level[d.severity]} {','.join(props)}::{_gh_escape_data(body)}")
    n = count(diagnostics)
    out.append(f"{subject or 'application'}: {n['errors']} error(s), {n['warnings']} warning(s)")
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "github": render_github}


def render_diagnostics(found: Sequence[Diagnostic], fmt: str, *, subject: str = "",
                       colour: bool = False) -> str:
    """``found`` as a whole report in ``fmt`` (text, markdown, json or github)."""
    if fmt == "json":
        return render_json(found, subject=subject)
    if fmt == "github":
        return render_github(found, subject=subject)
    if fmt == "markdown":
        return render_markdown(found, subject=subject)
    return render_text(found, colour=colour, subject=subject)


def workflow_error(message: str) -> str:
    """``message`` as a GitHub workflow ``::error::`` command (one line, whatever it holds)."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error::{escaped}\n"


def render_warnings(found: Sequence[Diagnostic], *, github: bool = False) -> str:
    """Warnings beside a result, one line each (no verdict: the result says how it went)."""
    if github:
        return "".join(render_github([d], subject="").splitlines(keepends=True)[0]
                       for d in found)
    lines = []
    for d in found:
        where = f"{d.location}: " if d.location else ""
        lines.append(f"{d.severity.value} {d.code}: {where}{d.message}\n")
        if d.hint:
            lines.append(f"  hint: {d.hint}\n")
    return "".join(lines)
