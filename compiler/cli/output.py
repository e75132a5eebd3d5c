"""The verbs' side of the console: their shared options, and the run's one ``Console``.

Every verb takes ``ctx`` and calls ``console(ctx, output, no_color)``: the console made once
by ``compiler.cli.main.run`` (with the process's streams), set to the verb's format. Results
go to stdout through ``Console.show``, notes to stderr through ``Console.note``; an error
raised after that is rendered by ``run`` in the same format.
"""

from __future__ import annotations

import inspect

import typer

from compiler.console import Console, Format

__all__ = ["NO_COLOR", "Console", "Format", "console", "output_option", "reflow", "reflow_help"]

NO_COLOR = typer.Option(False, "--no-color", help="Plain text even on a terminal.")


def output_option(help: str = "text for people; markdown for pull requests; json for "
                              "machines; github for workflow annotations.") -> Format:
    return typer.Option(Format.text, "--output", "-o", help=help)


def console(ctx: typer.Context | None, output: Format | str | None = None, *,
            no_color: bool | None = None) -> Console:
    """The run's console, set to the verb's options (made here when the verb runs outside
    ``run``, e.g. in Typer's test runner)."""
    root = ctx.find_root() if ctx is not None else None
    if root is None:
        return Console(output or Format.text, no_color=bool(no_color))
    if not isinstance(root.obj, Console):
        root.obj = Console()
    return root.obj.configure(output, no_color=no_color)


def reflow(doc: str) -> str:
    """A docstring as help text: prose lines joined, so the terminal's width wraps them
    (Typer's rich help keeps a docstring's line breaks); indented lines (examples) and list
    items ("- ", "* ") keep their own line."""
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
