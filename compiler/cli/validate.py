"""`aisprint validate`: schemas and cross-file checks, rendered for people, machines or GitHub."""

from __future__ import annotations

import typer

from compiler import api
from compiler.cli.output import NO_COLOR, Format, console, output_option


def validate(
    ctx: typer.Context,
    app_dir: str = typer.Argument(".", help="Application folder (the one holding common_config/)."),
    output: Format = output_option(
        "text for people; markdown for a job summary; json for machines; github for "
        "workflow annotations on a PR."),
    warnings_as_errors: bool = typer.Option(
        False, "--warnings-as-errors", "-W", help="Fail (exit 1) on warnings too."),
    no_color: bool = NO_COLOR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when valid."),
) -> None:
    """Check an application: every input file against its JSON Schema, then the cross-file rules.

    Every finding has a stable code (docs/diagnostics.md), file:line:col, what is wrong and how
    to fix it. Exit status: 0 valid, 1 invalid, 64 bad command line.

    Examples:

      aisprint validate examples/mask_detection

      aisprint validate . --output github     # annotations on a pull request
    """
    out = console(ctx, output, no_color=no_color)
    report = api.validate(app_dir, warnings_as_errors=warnings_as_errors)
    if not (quiet and report.valid and not report.diagnostics):
        out.diagnostics(report.diagnostics, subject=report.app_dir)
    raise typer.Exit(0 if report.valid else 1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
