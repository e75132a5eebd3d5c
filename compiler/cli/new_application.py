"""`aisprint new-application`: scaffold an application folder."""

from __future__ import annotations

import typer

from compiler import api
from compiler.cli.output import console


def new_application(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Name of the application (and of its folder).",
                               show_default=False),
    application_name: str | None = typer.Option(
        None, "--application_name", "--application-name", hidden=True,
        help="Same as NAME (the original tool's spelling)."),
    directory: str = typer.Option(".", "--dir", "-d", help="Where to create the folder."),
) -> None:
    """Create NAME/ with the AI-SPRINT folder tree, a two-component example (annotated sources,
    DAG, candidate resources and deployments, SPACE4AI-D settings) and editor schemas.

    The result passes `aisprint validate` unchanged; edit it into your application.

    Example:

      aisprint new-application my_app && aisprint validate my_app
    """
    chosen = name or application_name
    if not chosen:
        raise typer.BadParameter("give the application name: aisprint new-application NAME")
    target = api.new_application(chosen, directory)
    console(ctx).note(f"created {target}/ — next: edit common_config/ and src/, then "
        f"`aisprint validate {target}`")


def register(app: typer.Typer) -> None:
    app.command("new-application")(new_application)
