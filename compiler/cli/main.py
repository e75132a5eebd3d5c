"""The `aisprint` command: assembles the verbs and is the one place errors become exit codes.

Exit codes: 0 ok · 1 invalid input or failed check · 2 changes found (plan --detailed-exitcode)
· 3 internal error (a bug: please report it) · 64 usage error · 130 interrupted.
Set AISPRINT_DEBUG=1 to get the Python traceback of an error instead of its message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click
import typer

from compiler import __version__
from compiler.cli import design, new_application, schema, validate
from compiler.cli.output import render, OutputFormat
from compiler.errors import AisprintError, InvalidInput

EXIT_OK, EXIT_INVALID, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 3, 64, 130

app = typer.Typer(
    name="aisprint",
    help="Declarative GitOps compiler for AI applications on the edge-cloud continuum.\n\n"
         "Start with `aisprint new-application NAME`, check with `aisprint validate APP_DIR`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"aisprint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Declarative GitOps compiler for AI applications on the edge-cloud continuum."""


for module in (validate, design, new_application, schema):
    module.register(app)


def run(typer_app: typer.Typer, argv: Sequence[str] | None = None, prog: str = "aisprint") -> int:
    """Run a Typer app and map every outcome to this tool's exit codes (never a traceback)."""
    debug = bool(os.environ.get("AISPRINT_DEBUG"))
    try:
        command = typer.main.get_command(typer_app)
        result = command.main(args=list(argv) if argv is not None else None, prog_name=prog,
                              standalone_mode=False)
        return result if isinstance(result, int) else EXIT_OK
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except click.UsageError as usage:
        usage.show(file=sys.stderr)
        return EXIT_USAGE
    except InvalidInput as invalid:
        if debug:
            raise
        sys.stdout.write(render(invalid.diagnostics, OutputFormat.text, subject=""))
        return invalid.exit_code
    except AisprintError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as bug:  # noqa: BLE001 - the one place that turns bugs into exit code 3
        if debug:
            raise
        print(f"internal error: {type(bug).__name__}: {bug}\n"
              "This is a bug in aisprint-gitops. Run again with AISPRINT_DEBUG=1 for the "
              "traceback and include it in your report.", file=sys.stderr)
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
