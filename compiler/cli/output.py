"""Terminal conventions shared by the verbs: machine output on stdout, talk on stderr."""

from __future__ import annotations

import os
import sys
from enum import StrEnum

from compiler.diagnostics import render_github, render_json, render_text


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def use_colour(stream=sys.stdout, no_color: bool = False) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("CI"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def say(message: str) -> None:
    """Progress and notes for people: stderr, so stdout stays machine-readable."""
    print(message, file=sys.stderr)


def render(diagnostics, fmt: OutputFormat, *, subject: str, no_color: bool = False) -> str:
    if fmt is OutputFormat.json:
        return render_json(diagnostics, subject=subject)
    if fmt is OutputFormat.github:
        return render_github(diagnostics, subject=subject)
    return render_text(diagnostics, colour=use_colour(sys.stdout, no_color), subject=subject)


def reflow(doc: str) -> str:
    """A docstring as help text: prose lines joined, so the terminal's width wraps them
    (Typer's rich help keeps a docstring's line breaks); indented lines (examples) and list
    items ("- ", "* ") keep their own line."""
    import inspect

    lines: list[str] = []
    for line in inspect.cleandoc(doc).split("\n"):
        if lines and lines[-1] and line and not line.startswith((" ", "\t", "- ", "* ")) \
                and not lines[-1].startswith((" ", "\t")):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines)


def reflow_help(typer_app) -> None:
    """Reflow the docstring of every command of ``typer_app`` (and of its sub-apps)."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        reflow_help(group.typer_instance)
