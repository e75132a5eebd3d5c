"""`aisprint up` / `aisprint down`: run an application on this machine with the local backend
(compiler.runtime.local, which starts, feeds and stops the processes), and stop it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from compiler.cli.output import Console, Format, console, output_option
from compiler.console.local import NEWS, STEPS, LocalRun, LocalStopped, event_note, service_bars
from compiler.errors import UsageError
from compiler.layout import CURRENT_DEPLOYMENT
from compiler.runtime import local

DEFAULT_STATE = Path(".aisprint") / "local"


def up(
    ctx: typer.Context,
    app_dir: str = typer.Argument(..., help="Application folder (common_config/, src/)."),
    images: str | None = typer.Option(
        None, "--images", "-i", help="Folder of files to process (default: ../shared/images)."),
    no_images: bool = typer.Option(False, "--no-images",
                                   help="Process nothing at start; files dropped into the "
                                        "first service's input folder are processed."),
    state: str = typer.Option(str(DEFAULT_STATE), "--state",
                              help="State folder: buckets, logs, metrics, PIDs."),
    out: str | None = typer.Option(None, "--out", help="Compile into this folder (default: "
                                                       "<state>/repo)."),
    no_compile: bool = typer.Option(False, "--no-compile",
                                    help="Run the tree already compiled in --out / "
                                         "<state>/repo as it is."),
    deployment: str = typer.Option(CURRENT_DEPLOYMENT, "--deployment",
                                   help="Which compiled deployment to run."),
    routing: str = typer.Option("dag", "--routing",
                                help="dag: honour the DAG's branch probabilities "
                                     "(deterministic per request); all: every successor."),
    parallel: int | None = typer.Option(None, "--parallel", min=1,
                                        help="At most this many runs of a service at once "
                                             "(default: its cores, at most this machine's)."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds one run may take."),
    detach: bool = typer.Option(False, "--detach", "-d",
                                help="Process the inputs, print the summary, and keep running "
                                     "in the background (stop it with `aisprint down`)."),
    exit_when_done: bool = typer.Option(False, "--exit-when-done",
                                        help="Stop once the inputs are processed."),
    reconcile: bool | None = typer.Option(
        None, "--reconcile/--no-reconcile",
        help="Run the reconciler beside the backend (default: on when the compiled tree is a "
             "git repository): it judges the metrics the workers write and commits "
             "re-placements, which the backend follows. Its log: <state>/logs/reconciler.log."),
    reconcile_interval: float = typer.Option(5.0, "--reconcile-interval", min=0.1,
                                             help="Seconds between the reconciler's cycles."),
    reconcile_for: float = typer.Option(
        60.0, "--reconcile-for", min=0.0,
        help="Seconds a QoS violation (or a load out of its band) must last before the "
             "reconciler re-places (its --for)."),
    reconcile_cooldown: float = typer.Option(
        300.0, "--reconcile-cooldown", min=0.0,
        help="Seconds after a re-placement during which the reconciler fires nothing."),
    child: bool = typer.Option(False, "--detached-child", hidden=True),
    output: Format = output_option("text, markdown, json or github (the summary)."),
) -> None:
    """Compile an application and run it here: every component as local processes with
    OSCAR's semantics (a file arriving in a service's input folder triggers its main.py, in a
    warm worker with its ONNX model loaded once; what it writes goes on to the next ones),
    execution_time metrics to InfluxDB when INFLUX_URL is set, else to an embedded store.

    It processes the files in --images (default ../shared/images) end to end, prints the runs
    and mean time per component and per QoS constraint against its limit, then keeps running
    (Ctrl-C stops it) — or in the background with --detach. Buckets are folders under
    <state>/buckets/<bucket>/<path> as the FDL names them; file names carry each request's
    session as aisprint-<uuid>-<name>.

    The application is committed to the git repository <state>/repo (a new commit only when
    it changed), and the reconciler runs beside the backend on it (--no-reconcile: not):
    when a QoS constraint stays violated it commits a new placement, and the backend reloads
    the services that moved. `aisprint down` stops the backend, its workers and the
    reconciler.

    Examples:

      aisprint up examples/mask_detection --images ../shared/images

      aisprint up examples/mask_detection -d && aisprint down

      aisprint up APP --images photos/ --exit-when-done -o json

      aisprint up APP --no-reconcile     # the backend alone
    """
    display = console(ctx, output)
    if routing not in ("dag", "all"):
        raise UsageError("--routing is dag or all")
    if not Path(app_dir).is_dir() and not no_compile:
        raise UsageError(f"no application folder {app_dir}")
    quiet, talk = display.format is Format.json or child, display.format is Format.text or child
    state_dir = Path(state).resolve()
    ready = local.prepare(
        Path(app_dir), state_dir, Path(out).resolve() if out else state_dir / "repo",
        images=images, no_images=no_images, compile=not no_compile, check=not child,
        reconcile=reconcile, reconciler=local.ReconcilerOptions(
            reconcile_interval, reconcile_for, reconcile_cooldown),
        deployment=deployment, routing=routing, parallel=parallel, timeout=timeout,
        on_event=_teller(display, quiet, talk))
    if detach and not child:
        gone = local.detach(ready.options)
        display.show(LocalRun(gone.result, bool(gone.result.summary.inputs)))
        if display.format is Format.text:
            info = gone.result.reconciler
            beside = f"; the reconciler: pid {info.pid}, log {info.log}" if info else ""
            display.note(f"running in the background (pid {gone.pid}, log {gone.log}"
                         f"{beside}); stop it with: aisprint down --state {state_dir}")
        return
    with service_bars(display, bool(ready.files)) as bar, local.Supervisor(
            ready.options, detached=child, on_event=_teller(display, quiet, talk, bar)) as run:
        result = run.process(ready.files, settle=exit_when_done)
        if not child:
            display.show(LocalRun(result, bool(ready.files)))
        if exit_when_done:
            return
        if not child and display.format is Format.text:
            display.note(f"running (pid {os.getpid()}): drop files into "
                         f"{', '.join(result.inputs_folders)}; Ctrl-C stops")
        run.wait()
    if not child and display.format is Format.text:
        display.note("stopped")


def _teller(display: Console, quiet: bool, talk: bool, bar=lambda _event: None):
    """Notes of what happens: the steps before the backend runs unless the output is JSON,
    the news while it runs in text (a background child's notes go to its log)."""
    def tell(event) -> None:
        bar(event)
        kind = event.get("event")
        if (kind in STEPS and not quiet) or (kind in NEWS and talk):
            display.note(event_note(event, time.strftime("%H:%M:%S")))

    return tell


def down(
    ctx: typer.Context,
    state: str = typer.Option(str(DEFAULT_STATE), "--state",
                              help="The state folder `aisprint up` used."),
    output: Format = output_option("text, markdown, json or github."),
) -> None:
    """Stop everything `aisprint up` started from a state folder (the backend, its workers
    and the reconciler, by the PIDs it recorded there). Buckets, logs, metrics and the
    repository are kept.

    Example:

      aisprint down --state .aisprint/local
    """
    console(ctx, output).show(LocalStopped(local.down(Path(state)), state))


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
