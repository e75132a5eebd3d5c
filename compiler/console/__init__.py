"""One console for every verb: diagnostics, notes and results, in four formats.

The CLI makes one ``Console`` per run (``compiler.cli.main.run``); a verb sets its format
from its ``--output``/``--no-color`` options and then only calls the console:

- ``diagnostics(found, subject=...)``: a validation report on stdout (what `validate` prints,
  and what every verb prints when its input is invalid);
- ``warnings(found)``: warnings beside a result (stderr, or annotations in the github format);
- ``note(text)``: progress and notes for people, on stderr, so stdout stays machine-readable;
- ``failure(text)``: why a run failed when it is not a finding in a file (stderr; an
  ``::error::`` annotation too in the github format);
- ``show(view)``: the verb's result on stdout. A view is a small frozen value holding a
  library result (a ``Plan``, a ``CompileResult``, a ``PlacementOutcome``, a reconcile
  ``Cycle`` …) that knows its text, its JSON document and its markdown (``View``);
- ``status(what)``: a spinner on a terminal, nothing in CI or for machines.

Formats: ``text`` for people (colour only on a terminal, never with NO_COLOR or in CI),
``markdown`` (pull requests, job summaries), ``json`` (machines; one document per result) and
``github`` (workflow commands: diagnostics become annotations on the pull request's files, a
result is plain text in the job's log). The library never prints: it returns values, and the
renderers here are pure functions of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import IO, TYPE_CHECKING, ClassVar

from compiler.console.diagnostics import render_diagnostics, render_warnings, workflow_error

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    github = "github"


def use_colour(stream: IO[str] | None = None, no_color: bool = False) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or
    in CI (logs keep escape codes as noise)."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("CI"):
        return False
    stream = sys.stdout if stream is None else stream
    return hasattr(stream, "isatty") and stream.isatty()


class View:
    """A result as the console shows it. Subclasses are frozen dataclasses holding library
    values; they render, they never compute or print.

    ``text`` is for people (``colour`` only when the console may paint); ``to_json`` is the
    machine document (its keys are a contract: tests and the GitHub Action read them);
    ``markdown`` defaults to the text in a code block. A ``talk`` view's text is a report on
    what the verb wrote (the files are the result): it goes to stderr, and stdout stays empty.
    """

    talk: ClassVar[bool] = False
    json_indent: ClassVar[int | None] = 2
    json_sort_keys: ClassVar[bool] = True

    def text(self, colour: bool = False) -> str:
        raise NotImplementedError

    def to_json(self) -> object:
        raise NotImplementedError

    def markdown(self) -> str:
        body = self.text().rstrip("\n")
        fence = "````" if "```" in body else "```"
        return f"{fence}text\n{body}\n{fence}\n"

    def json_text(self) -> str:
        return json.dumps(self.to_json(), indent=self.json_indent,
                          sort_keys=self.json_sort_keys) + "\n"


class Console:
    """Where a run's output goes and in which format. ``out`` and ``err`` default to the
    process's current streams, looked up at each write (tests swap them)."""

    def __init__(self, format: Format = Format.text, *, no_color: bool = False,
                 out: IO[str] | None = None, err: IO[str] | None = None):
        self.format = Format(format)
        self.no_color = no_color
        self._out, self._err = out, err

    def configure(self, format: Format | str | None = None, *,
                  no_color: bool | None = None) -> Console:
        """Take a verb's --output/--no-color (the options are the verb's, the console is the
        run's: an error after this point is rendered in the verb's format)."""
        if format is not None:
            self.format = Format(format)
        if no_color is not None:
            self.no_color = no_color
        return self

    # ------------------------------------------------------------------ streams

    @property
    def out(self) -> IO[str]:
        return self._out or sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._err or sys.stderr

    @property
    def colour(self) -> bool:
        """Whether text on stdout may be painted."""
        return self.format is Format.text and use_colour(self.out, self.no_color)

    @property
    def interactive(self) -> bool:
        """Whether spinners and bars may animate stderr: a terminal, text, not CI."""
        return self.format is Format.text and use_colour(self.err, self.no_color)

    def write(self, text: str) -> None:
        """Text that is already the result (a schema, a YAML document), as it is."""
        self.out.write(text)
        self.out.flush()

    # ------------------------------------------------------------------ what verbs call

    def render(self, view: View) -> str:
        if self.format is Format.json:
            return view.json_text()
        if self.format is Format.markdown:
            return view.markdown()
        text = view.text(colour=self.colour)
        return text if text.endswith("\n") or not text else text + "\n"

    def show(self, view: View) -> None:
        if view.talk and self.format in (Format.text, Format.github):
            colour = self.format is Format.text and use_colour(self.err, self.no_color)
            self.err.write(view.text(colour=colour))
            self.err.flush()
            return
        self.write(self.render(view))

    def diagnostics(self, found: Sequence[Diagnostic], *, subject: str = "") -> None:
        """A report of findings (with the verdict line) on stdout, in the console's format."""
        self.write(render_diagnostics(found, self.format.value, subject=subject,
                                      colour=self.colour))

    def warnings(self, found: Sequence[Diagnostic]) -> None:
        """Warnings beside a result: stderr for people and machines alike (stdout holds the
        result), workflow annotations on stdout in the github format."""
        if not found:
            return
        if self.format is Format.github:
            self.write(render_warnings(found, github=True))
        else:
            self.err.write(render_warnings(found))
            self.err.flush()

    def failure(self, message: str) -> None:
        """Why a run failed, when it is not a finding in a file (a git, network or internal
        error): stderr, and in the github format an ``::error::`` annotation on stdout too,
        so the job's summary shows it."""
        print(message, file=self.err, flush=True)
        if self.format is Format.github:
            self.write(workflow_error(message))

    def note(self, message: str) -> None:
        """Progress and notes for people: stderr, so stdout stays machine-readable."""
        print(message, file=self.err, flush=True)

    @contextlib.contextmanager
    def status(self, what: str) -> Iterator[Callable[[str], None] | None]:
        """A spinner saying ``what`` on a terminal; yields a function that updates the line
        with news (``what … news``), or None when nothing animates."""
        if not self.interactive:
            yield None
            return
        # deferred: rich is slow to import and only a terminal needs it
        from rich.console import Console as RichConsole

        with RichConsole(file=self.err).status(what) as spinner:
            yield lambda news: spinner.update(f"{what} {news}")

    def rich_err(self):
        """A rich console on stderr, for the bars of long work (design, profile)."""
        # deferred: rich is slow to import and only a terminal needs it
        from rich.console import Console as RichConsole

        return RichConsole(file=self.err)
