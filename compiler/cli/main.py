"""The `aisprint` command: assembles the verbs and is the one place errors become exit codes.

Exit codes: 0 ok · 1 invalid input or failed check · 2 changes found (plan --detailed-exitcode)
· 3 internal error (a bug: please report it) · 64 usage error · 130 interrupted.
Set AISPRINT_DEBUG=1 to get the Python traceback of an error instead of its message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from compiler import __version__
from compiler.cli import (
    compile,
    design,
    gitops,
    new_application,
    profile,
    reconcile,
    schema,
    space4aid,
    up,
    validate,
)
from compiler.cli.output import reflow_help
from compiler.console import Console
from compiler.errors import AisprintError, InvalidInput
from compiler.secrets import scrub

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


for module in (validate, design, new_application, schema, space4aid, compile, gitops,
               profile, reconcile, up):
    module.register(app)
reflow_help(app)


def _is_click_error(error: BaseException) -> bool:
    """Click's exceptions, whichever copy raised them (recent Typer vendors its own click)."""
    return callable(getattr(error, "show", None)) and isinstance(
        getattr(error, "exit_code", None), int)


def run(typer_app: typer.Typer, argv: Sequence[str] | None = None, prog: str = "aisprint") -> int:
    """Run a Typer app and map every outcome to this tool's exit codes (never a traceback)."""
    debug = bool(os.environ.get("AISPRINT_DEBUG"))
    console = Console()  # the run's one console: each verb sets its format (cli/output.py)
    try:
        command = typer.main.get_command(typer_app)
        result = command.main(args=list(argv) if argv is not None else None, prog_name=prog,
                              standalone_mode=False, obj=console)
        return result if isinstance(result, int) else EXIT_OK
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        console.note("interrupted")
        return EXIT_INTERRUPTED
    except InvalidInput as invalid:
        if debug:
            raise
        console.diagnostics(invalid.diagnostics)  # in the verb's format: json stays json
        return invalid.exit_code
    except AisprintError as error:
        if debug:
            raise
        console.failure(f"error: {error}")
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - the one place that maps the rest to exit codes
        if _is_click_error(error):  # a usage error: click's exit code 2 is our 64
            error.show(file=sys.stderr)
            return EXIT_USAGE if error.exit_code == 2 else error.exit_code
        if debug:
            raise
        # scrubbed: an unexpected error may quote a credential
        console.failure(f"internal error: {type(error).__name__}: {scrub(str(error))}\n"
                        "This is a bug in aisprint-gitops. Run again with AISPRINT_DEBUG=1 for "
                        "the traceback and include it in your report.")
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
