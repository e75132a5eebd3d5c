"""`aisprint up` / `aisprint down`: run an application on this machine with the local backend
(compiler.runtime.local, which starts, feeds and stops the processes), and stop it."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import typer

from compiler.cli.output import OutputFormat, say, use_colour
from compiler.errors import UsageError
from compiler.runtime import local

DEFAULT_STATE = Path(".aisprint") / "local"


def up(
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
    deployment: str = typer.Option("current_deployment", "--deployment",
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
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o",
                                        help="text or json (the summary)."),
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
    if routing not in ("dag", "all"):
        raise UsageError("--routing is dag or all")
    if not Path(app_dir).is_dir() and not no_compile:
        raise UsageError(f"no application folder {app_dir}")
    quiet, talk = output is OutputFormat.json or child, output is OutputFormat.text or child
    state_dir = Path(state).resolve()
    ready = local.prepare(
        Path(app_dir), state_dir, Path(out).resolve() if out else state_dir / "repo",
        images=images, no_images=no_images, compile=not no_compile, check=not child,
        reconcile=reconcile, reconciler=local.ReconcilerOptions(
            reconcile_interval, reconcile_for, reconcile_cooldown),
        deployment=deployment, routing=routing, parallel=parallel, timeout=timeout,
        on_event=lambda event: _tell(event, quiet, talk))
    if detach and not child:
        gone = local.detach(ready.options)
        _show(gone.result, output, bool(gone.result.summary.inputs))
        if output is OutputFormat.text:
            info = gone.result.reconciler
            beside = f"; the reconciler: pid {info.pid}, log {info.log}" if info else ""
            say(f"running in the background (pid {gone.pid}, log {gone.log}{beside}); "
                f"stop it with: aisprint down --state {state_dir}")
        return
    with _progress(not quiet and bool(ready.files)) as bar, local.Supervisor(
            ready.options, detached=child, on_event=lambda e: _tell(e, quiet, talk, bar)) as run:
        result = run.process(ready.files, settle=exit_when_done)
        if not child:
            _show(result, output, bool(ready.files))
        if exit_when_done:
            return
        if not child and output is OutputFormat.text:
            say(f"running (pid {os.getpid()}): drop files into "
                f"{', '.join(result.inputs_folders)}; Ctrl-C stops")
        run.wait()
    if not child and output is OutputFormat.text:
        say("stopped")


def _tell(event, quiet: bool, talk: bool, bar=lambda _event: None) -> None:
    """What happens while up runs: on stderr (a background child's goes to its log)."""
    bar(event)
    kind, now = event.get("event"), time.strftime("%H:%M:%S")
    if kind == "compiled" and not quiet:
        done = event["compiled"]
        what = f"committed {done.commit[:12]}" if done.commit else \
            f"unchanged at {done.head[:12]}"
        say(f"✓ compiled {event['app']} ({done.files} files) into the git repository "
            f"{done.repo}: {what}")
    elif kind == "note" and not quiet:
        say(f"note: {event['note']}")
    elif kind == "reconciler-started" and not quiet:
        say(f"✓ reconciler running beside the backend (pid {event['pid']}, a cycle every "
            f"{event['interval']:g} s, log {event['log']})")
    elif kind == "reloaded" and talk:
        say(f"{now} the deployment changed in {event['repo']}: reloaded (stopped "
            f"{', '.join(event['stopped']) or 'nothing'}; started "
            f"{', '.join(event['started']) or 'nothing'})")
    elif kind == "error" and talk:
        say(f"{now} error: {event['error']}")
    elif kind == "reconciler-exited" and talk:
        say(_reconciler_line(event["status"], event["last_line"]))


def _show(result: local.UpResult, output: OutputFormat, processed: bool) -> None:
    if output is OutputFormat.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))
    elif text := _result_text(result, processed):
        print(text)


@contextlib.contextmanager
def _progress(enabled: bool):
    """Per-service bars (runs done / runs known) on a terminal; nothing otherwise."""
    if not enabled or not use_colour(sys.stderr):
        yield lambda _event: None
        return
    # deferred: rich's progress bars are slow to import and only a terminal shows them
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    lock, tasks, known = threading.Lock(), {}, {}
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs {task.fields[failed]}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        def add(name: str) -> None:
            if name not in tasks:
                tasks[name], known[name] = bar.add_task(name, total=0, failed=""), 0

        def update(event) -> None:
            kind, name = event.get("event"), event.get("service")
            with lock:
                if kind == "starting":
                    for each in event["services"]:
                        add(each)
                elif kind == "queued":
                    add(name)
                    known[name] += 1
                    bar.update(tasks[name], total=known[name])
                elif kind == "finished":
                    add(name)
                    bar.advance(tasks[name])
                    if not event.get("ok"):
                        bar.update(tasks[name], failed="(some failed)")

        yield update


def down(
    state: str = typer.Option(str(DEFAULT_STATE), "--state",
                              help="The state folder `aisprint up` used."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o",
                                        help="text or json."),
) -> None:
    """Stop everything `aisprint up` started from a state folder (the backend, its workers
    and the reconciler, by the PIDs it recorded there). Buckets, logs, metrics and the
    repository are kept.

    Example:

      aisprint down --state .aisprint/local
    """
    stopped = local.down(Path(state))
    if output is OutputFormat.json:
        print(json.dumps({"stopped": [{"pid": p, "what": w} for p, w in stopped]},
                         sort_keys=True))
        return
    if not stopped:
        print(f"nothing running from {state}")
    for pid, what in stopped:
        print(f"✓ stopped {what} (pid {pid})")


def _result_text(result: local.UpResult, processed: bool) -> str:
    """The summary (when inputs were ``processed``), then the reconciler's line."""
    lines = []
    if processed:
        summary = result.summary
        lines.append(f"✓ {summary.inputs} input(s) processed end to end in "
                     f"{summary.seconds:.1f} s (metrics: {summary.metrics_store})")
        lines += _summary_lines(result)
    if result.reconciler is not None:
        lines.append(_reconciler_line(result.reconciler))
    return "\n".join(lines)


def _summary_lines(result: local.UpResult) -> list[str]:
    summary = result.summary
    lines = _table([("component", "jobs", "failed", "requests", "outputs", "mean s/request")]
                   + [(c.unit, str(c.jobs), str(c.failed), str(c.sessions), str(c.outputs),
                       _seconds(c.mean)) for c in summary.components])
    if summary.paths:
        verdicts = {True: "ok", False: "VIOLATED", None: "no data"}
        lines += ["", *_table([("QoS constraint", "path", "mean s", "p95 s", "limit s", "")]
                              + [(p.id, " -> ".join(p.components), _seconds(p.mean),
                                  _seconds(p.p95), f"{p.limit:g}", verdicts[p.ok])
                                 for p in summary.paths])]
    lines += [f"✗ {f.service} failed on {f.input}: {f.error}" for f in summary.failures[:10]]
    example = f", e.g. {summary.results[0]}" if summary.results else ""
    lines += ["", f"{len(summary.results)} result file(s) under {result.state / 'buckets'}"
                  f"{example}"]
    return lines


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _reconciler_line(status: local.ReconcilerStatus, last_line: str = "") -> str:
    """Where the reconciler runs, its log, and what its last cycle did (or why it exited)."""
    if not status.running:
        why = f": {last_line}" if last_line else ""
        return (f"✗ the reconciler (pid {status.pid}) exited with code {status.exit_code}"
                f"{why} — see {status.log}; the backend runs on without it")
    last = status.last
    if last is None:
        verdict = "no cycle yet"
    elif last.get("commit"):
        verdict = f"last cycle committed {last['commit'][:12]} ({', '.join(last['moves'])})"
    elif last.get("status") == "failed":
        verdict = f"last cycle failed: {last.get('error', '')}"
    else:
        verdict = f"last cycle {last['status']} at {(last.get('head') or 'nothing')[:12]}"
    return (f"reconciler: pid {status.pid}, a cycle every {status.interval:g} s, "
            f"{status.cycles} cycle(s), {verdict}; log {status.log}")


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
