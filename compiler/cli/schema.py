"""`aisprint schema`: the JSON Schemas every input file is validated against."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from compiler.cli.output import say
from compiler.errors import AisprintError

schema_app = typer.Typer(help="List, show and export the JSON Schemas of the input files.",
                         no_args_is_help=True)


@schema_app.command("list")
def list_schemas() -> None:
    """Name and title of every schema."""
    from compiler.validate.schema import load_schema, schema_names

    for name in schema_names():
        print(f"{name:24} {load_schema(name).get('title', '')}")


@schema_app.command("show")
def show(
    name: str = typer.Argument(..., help="Schema name (see `aisprint schema list`)."),
    draft07: bool = typer.Option(False, "--draft07", help="The editor (draft-07) variant."),
) -> None:
    """Print one schema as JSON."""
    from compiler.validate.schema import downlevel_draft07, dumps, load_schema, schema_names

    if name not in schema_names():
        raise AisprintError(f"no schema named '{name}'; known: {', '.join(schema_names())}")
    schema = load_schema(name)
    sys.stdout.write(dumps(downlevel_draft07(schema) if draft07 else schema))


@schema_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="Folder to write the schemas into."),
    draft07: bool = typer.Option(
        False, "--draft07", help="Write the draft-07 copies that yaml-language-server reads."),
) -> None:
    """Write every schema as <name>.schema.json (or <name>.draft07.json) into DIRECTORY.

    Editors: point yaml.schemas (VS Code) at the draft-07 files, or add a modeline
    `# yaml-language-server: $schema=<path>` at the top of a YAML file.
    """
    from compiler.validate.schema import export_schemas

    written = export_schemas(directory, draft07=draft07)
    say(f"wrote {len(written)} schemas to {directory}")


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")
