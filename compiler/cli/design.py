"""`aisprint design`: from annotated sources to the design artifacts."""

from __future__ import annotations

import contextlib
import json
import sys

import typer

from compiler import api
from compiler.cli.output import OutputFormat, say, use_colour


@contextlib.contextmanager
def _progress(enabled: bool):
    """A bar per model on a terminal (candidate cuts examined); nothing in CI or for machines."""
    if not enabled or not use_colour(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        def update(component: str, done: int, total: int) -> None:
            if component not in tasks:
                tasks[component] = bar.add_task(f"cuts of {component}", total=total)
            if done == total or done % 16 == 0:
                bar.update(tasks[component], completed=done)

        yield update


def _rows(report) -> list[dict]:
    rows = []
    for c in report.components:
        for i, cut in enumerate(c.chosen, 1):
            rows.append({
                "component": c.component, "cut": i, "after": cut.after,
                "boundary_tensors": list(cut.boundary),
                "boundary_mb": round(cut.boundary_mb, 6),
                "input_mb": round(c.input_bytes / 1e6, 6),
                "first_half_flops_share": round(cut.share, 6),
                "designs": [f"partition{i}_1", f"partition{i}_2"]})
    return rows


def _print_table(report) -> None:
    if not report.components:
        say("no partitionable_model component: nothing to partition")
        return
    for c in report.components:
        say(f"{c.component}: {c.model}: {c.valid} valid cut(s) of {c.candidates} examined "
            f"in {c.analyse_seconds:.2f} s, {len(c.chosen)} kept "
            f"(written in {c.write_seconds:.2f} s)")
    header = ("component", "cut", "after node", "boundary tensors", "boundary MB",
              "input MB", "FLOPs half 1 / half 2")
    rows = [(r["component"], str(r["cut"]), r["after"],
             ", ".join(r["boundary_tensors"]) if len(r["boundary_tensors"]) <= 3
             else f"{len(r['boundary_tensors'])} tensors",
             f"{r['boundary_mb']:.3f}", f"{r['input_mb']:.3f}",
             f"{100 * r['first_half_flops_share']:.0f}% / "
             f"{100 - 100 * r['first_half_flops_share']:.0f}%")
            for r in _rows(report)]
    if use_colour(sys.stderr):
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, title="chosen cuts")
        for row in rows:
            table.add_row(*row)
        Console(stderr=True).print(table)
        return
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]
    for line in (header, *rows):
        say("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def design(
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
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text for people, json for machines."),
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
    target = app_dir or application_dir
    if not target:
        raise typer.BadParameter("give the application folder: aisprint design APP_DIR")
    result = api.design_annotations(target)
    for warning in result.warnings:
        say(f"warning {warning.code}: {warning.message}")
    state = "written" if result.changed else "already up to date"
    say(f"annotations of {len(result.components)} component(s) "
        f"({', '.join(result.components)}): {result.annotations_file} {state}")
    with _progress(output is OutputFormat.text) as progress:
        report = api.design_partitions(target, max_boundary_tensors=max_boundary_tensors,
                                       enabled=not no_partition, progress=progress)
    for warning in report.warnings:
        say(f"warning {warning.code}: {warning.location}: {warning.message}")
    if output is OutputFormat.json:
        doc = {"annotations": str(result.annotations_file),
               "component_partitions": str(report.partitions_file),
               "components": {c.component: {"model": c.model, "candidates": c.candidates,
                                            "valid_cuts": c.valid, "requested": c.requested,
                                            "input_mb": round(c.input_bytes / 1e6, 6)}
                              for c in report.components},
               "cuts": _rows(report),
               "data_sizes": report.data_sizes(),
               "warnings": [w.to_json() for w in report.warnings]}
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    _print_table(report)
    say(f"designs listed in {report.partitions_file}")


def register(app: typer.Typer) -> None:
    app.command("design")(design)
