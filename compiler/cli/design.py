"""`aisprint design`: from annotated sources to the design artifacts."""

from __future__ import annotations

import typer

from compiler import api
from compiler.cli.output import say


def design(
    app_dir: str | None = typer.Argument(None, help="Application folder.", show_default=False),
    application_dir: str | None = typer.Option(
        None, "--application_dir", "--application-dir", hidden=True,
        help="Same as APP_DIR (the original tool's spelling)."),
) -> None:
    """Parse the annotations on def main() of every src/<component>/main.py (statically: no code
    runs) and write common_config/annotations.yaml, exactly as the AI-SPRINT design tool does.

    The application is validated first; nothing is written when it has errors.

    Example:

      aisprint design examples/mask_detection
    """
    target = app_dir or application_dir
    if not target:
        raise typer.BadParameter("give the application folder: aisprint design APP_DIR")
    result = api.design_annotations(target)
    for warning in result.warnings:
        say(f"warning {warning.code}: {warning.message}")
    state = "written" if result.changed else "already up to date"
    say(f"annotations of {len(result.components)} component(s) "
        f"({', '.join(result.components)}): {result.annotations_file} {state}")


def register(app: typer.Typer) -> None:
    app.command("design")(design)
