"""`aisprint schema`: the JSON Schemas every input file is validated against."""

from __future__ import annotations

from pathlib import Path

import typer

from compiler.cli.output import Format, console, output_option
from compiler.console.results import Schemas
from compiler.errors import AisprintError
from compiler.load.schema import (
    downlevel_draft07,
    dumps,
    export_schemas,
    load_schema,
    schema_names,
)

schema_app = typer.Typer(help="List, show and export the JSON Schemas of the input files.",
                         no_args_is_help=True)


@schema_app.command("list")
def list_schemas(ctx: typer.Context, output: Format = output_option("text | markdown | json."),
                 ) -> None:
    """Name and title of every schema."""
    console(ctx, output).show(Schemas(tuple((name, load_schema(name).get("title", ""))
                                            for name in schema_names())))


@schema_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Schema name (see `aisprint schema list`)."),
    draft07: bool = typer.Option(False, "--draft07", help="The editor (draft-07) variant."),
) -> None:
    """Print one schema as JSON."""
    if name not in schema_names():
        raise AisprintError(f"no schema named '{name}'; known: {', '.join(schema_names())}")
    schema = load_schema(name)
    console(ctx).write(dumps(downlevel_draft07(schema) if draft07 else schema))


@schema_app.command("export")
def export(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Folder to write the schemas into."),
    draft07: bool = typer.Option(
        False, "--draft07", help="Write the draft-07 copies that yaml-language-server reads."),
) -> None:
    """Write every schema as <name>.schema.json (or <name>.draft07.json) into DIRECTORY.

    Editors: point yaml.schemas (VS Code) at the draft-07 files, or add a modeline
    `# yaml-language-server: $schema=<path>` at the top of a YAML file.
    """
    written = export_schemas(directory, draft07=draft07)
    console(ctx).note(f"wrote {len(written)} schemas to {directory}")


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")
