"""The `toscarizer` command: the TOSCARIZER verbs (docker, tosca, fdl, deploy, outputs, delete)
on this project's library. The verbs are registered here as the emitters and the runtime
client land; until then the command only reports its version."""

from __future__ import annotations

import sys

import typer

from compiler import __version__
from compiler.cli.main import run

app = typer.Typer(
    name="toscarizer",
    help="TOSCARIZER verbs on the aisprint-gitops library.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """TOSCARIZER verbs on the aisprint-gitops library."""
    if version:
        print(f"toscarizer (aisprint-gitops) {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(0)


def main() -> None:
    sys.exit(run(app, prog="toscarizer"))
