"""Diagnostics in the console's four formats.

Text, JSON and GitHub workflow commands are ``compiler.diagnostics``' own renderers (they
stay beside the codes they describe); markdown is added here, for job summaries and pull
request comments: a verdict line, then one table row per finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.diagnostics import (
    Diagnostic,
    Severity,
    count,
    render_github,
    render_json,
    render_text,
)

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
