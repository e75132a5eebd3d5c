"""`aisprint design`: from annotated sources to the design artifacts."""

from __future__ import annotations

import contextlib

import typer

from compiler import api
from compiler.cli.output import Console, Format, console, output_option
from compiler.console.results import Designed


@contextlib.contextmanager
def _progress(out: Console):
    """A bar per model on a terminal (candidate cuts examined); nothing in CI or for machines."""
    if not out.interactive:
        yield None
        return
    # deferred: rich's bars are slow to import and only a terminal needs them
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out.rich_err(), transient=True) as bar:
        def update(component: str, done: int, total: int) -> None:
            if component not in tasks:
                tasks[component] = bar.add_task(f"cuts of {component}", total=total)
            if done == total or done % 16 == 0:
                bar.update(tasks[component], completed=done)

        yield update


def design(
    ctx: typer.Context,
    app_dir: str | None = typer.Argument(None, help="Application folder.", show_default=False),
    application_dir: str | None = typer.Option(
        None, "--application_dir", "--application-dir", hidden=True,
        help="Same as APP_DIR (the original tool's spelling)."),
    max_boundary_tensors: int = typer.Option(
        8, "--max-boundary-tensors", min=1,
        help="A cut may pass at most this many tensors from half 1 to half 2."),
    no_partition: bool = typer.Option(
        False, "--no-partition",
        help="Only write annotations.yaml; remove generated partitions."),
    output: Format = output_option(
        "text for people (on stderr: the result is the files), json for machines, markdown."),
) -> None:
    """Parse the annotations on def main() of every src/<component>/main.py (statically: no code
    runs) and write common_config/annotations.yaml, exactly as the AI-SPRINT design tool does;
    then cut the ONNX model of every component annotated partitionable_model(onnx_file=...,
    num_partitions=N) in two at its N best cut points and write both halves with their
    entry points to aisprint/designs/<component>/partition<i>_1 and partition<i>_2
    (listed in aisprint/designs/component_partitions.yaml).

    The application is validated first; nothing is written when it has errors.

    Example:

      aisprint design examples/mask_detection
      aisprint design examples/mask_detection --max-boundary-tensors 2 --output json
    """
    out = console(ctx, output)
    target = app_dir or application_dir
    if not target:
        raise typer.BadParameter("give the application folder: aisprint design APP_DIR")
    result = api.design_annotations(target)
    out.warnings(result.warnings)
    state = "written" if result.changed else "already up to date"
    out.note(f"annotations of {len(result.components)} component(s) "
        f"({', '.join(result.components)}): {result.annotations_file} {state}")
    with _progress(out) as progress:
        report = api.design_partitions(target, max_boundary_tensors=max_boundary_tensors,
                                       enabled=not no_partition, progress=progress)
    out.warnings(report.warnings)
    out.show(Designed(result, report))


def register(app: typer.Typer) -> None:
    app.command("design")(design)
