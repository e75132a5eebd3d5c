"""`aisprint up` / `aisprint down`: run an application on this machine with the local backend
(compiler.runtime.local), and stop it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import typer

from compiler.cli.output import OutputFormat, say, use_colour
from compiler.errors import UsageError

DEFAULT_STATE = Path(".aisprint") / "local"
SUMMARY_FILE = "summary.json"
FAILED_FILE = "failed.json"


def _print_summary(doc: dict, state: Path) -> None:
    rows = [("component", "jobs", "failed", "requests", "outputs", "mean s/request")]
    for c in doc["components"]:
        mean = "-" if c["mean_seconds"] is None else f"{c['mean_seconds']:.3f}"
        rows.append((c["unit"], str(c["jobs"]), str(c["failed"]), str(c["sessions"]),
                     str(c["outputs"]), mean))
    _table(rows)
    if doc["paths"]:
        print()
        rows = [("QoS constraint", "path", "mean s", "p95 s", "limit s", "")]
        for p in doc["paths"]:
            mean = "-" if p["mean_seconds"] is None else f"{p['mean_seconds']:.3f}"
            p95 = "-" if p["p95_seconds"] is None else f"{p['p95_seconds']:.3f}"
            verdict = {True: "ok", False: "VIOLATED", None: "no data"}[p["ok"]]
            rows.append((p["id"], " -> ".join(p["components"]), mean, p95,
                         f"{p['limit']:g}", verdict))
        _table(rows)
    for f in doc["failures"][:10]:
        print(f"✗ {f['service']} failed on {f['input']}: {f['error']}")
    print(f"\n{len(doc['results'])} result file(s) under {state / 'buckets'}"
          + (f", e.g. {doc['results'][0]}" if doc["results"] else ""))


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


@contextlib.contextmanager
def _progress(enabled: bool, services: list[str]):
    """Per-service bars (runs done / runs known) on a terminal; nothing otherwise."""
    if not enabled or not use_colour(sys.stderr):
        yield lambda _event: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    lock = threading.Lock()
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs {task.fields[failed]}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        tasks = {s: bar.add_task(s, total=0, failed="") for s in services}
        known = dict.fromkeys(services, 0)

        def update(event) -> None:
            name = event.get("service")
            with lock:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=0, failed="")
                    known[name] = 0
                if event.get("event") == "queued":
                    known[name] += 1
                    bar.update(tasks[name], total=known[name])
                elif event.get("event") == "finished":
                    bar.advance(tasks[name])
                    if not event.get("ok"):
                        bar.update(tasks[name], failed="(some failed)")

        yield update


def _compile(app_dir: Path, out: Path, quiet: bool) -> Path:
    from compiler.runtime.local import compile_into

    done = compile_into(app_dir, out)
    if not quiet:
        what = f"committed {done.commit[:12]}" if done.commit else \
            f"unchanged at {done.head[:12]}"
        say(f"✓ compiled {app_dir} ({done.files} files) into the git repository {out}: {what}")
    return done.repo


def _use_reconciler(wanted: bool | None, repo: Path, quiet: bool) -> bool:
    """On by default; it follows a git branch, so a plain folder (--no-compile) goes without
    it (a note), or is refused when --reconcile was asked for."""
    from compiler.runtime import local

    if wanted is False:
        return False
    if local.is_git_repository(repo):
        return True
    if wanted is None:
        if not quiet:
            say(f"note: {repo} is not a git repository, so no reconciler runs beside the "
                "backend (compile into it with `aisprint up APP` or `aisprint compile APP "
                "--repo DIR`)")
        return False
    raise local.local_error(
        "AIS956", f"--reconcile needs a git repository and {repo} is a plain folder",
        "let up compile into it (drop --no-compile; the folder must then be empty or a git "
        "repository), or pass --no-reconcile", repo)


def _images(images: str | None, no_images: bool) -> Path | None:
    from compiler.runtime.local import PHOTO_HINT, default_images, local_error

    if no_images:
        return None
    if images:
        return Path(images)
    found = default_images()
    if found is None:
        raise local_error("AIS967", "no ../shared/images beside this folder or this "
                          "checkout, and no --images given", PHOTO_HINT)
    return found


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
    from compiler.runtime import local

    app = Path(app_dir)
    state_dir = Path(state).resolve()
    repo = Path(out).resolve() if out else state_dir / "repo"
    if routing not in ("dag", "all"):
        raise UsageError("--routing is dag or all")
    if not app.is_dir() and not no_compile:
        raise UsageError(f"no application folder {app_dir}")
    running = local.running_backend(state_dir)
    if running:
        raise local.local_error(
            "AIS966", f"a local backend already runs from {state_dir} (pid {running['pid']})",
            f"stop it first: aisprint down --state {state}, or use another --state",
            state_dir / local.UP_FILE)
    inputs = _images(images, no_images)
    files = local.input_files(inputs) if inputs else []
    quiet = output is OutputFormat.json
    if not child:
        if not no_compile:
            from compiler.gitops.swap import failing_as

            with failing_as(f"the state folder {state_dir}"):  # a file, no permission: exit 1
                state_dir.mkdir(parents=True, exist_ok=True)
            _compile(app, repo, quiet)
        local.load_topology(repo, deployment)  # refuse now what the backend could not run
    from compiler.runtime.local.reconciler import ReconcilerOptions

    options = ReconcilerOptions(reconcile_interval, reconcile_for, reconcile_cooldown) \
        if _use_reconciler(reconcile, repo, quiet or child) else None
    if detach and not child:
        _detach(app_dir, state_dir, repo, deployment, routing, parallel, timeout, inputs,
                output, options)
        return
    _serve(app, state_dir, repo, deployment, routing, parallel, timeout, files,
           exit_when_done, output, child, options)


def _serve(app: Path, state_dir: Path, repo: Path, deployment: str, routing: str,
           parallel: int | None, timeout: float, files: list[Path], exit_when_done: bool,
           output: OutputFormat, child: bool, options) -> None:
    from compiler.runtime import local
    from compiler.runtime.local.reconciler import Reconciler

    for name in (SUMMARY_FILE, FAILED_FILE):
        (state_dir / name).unlink(missing_ok=True)
    stop = threading.Event()

    def on_term(_signum, _frame):
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        topology = local.load_topology(repo, deployment)
        metrics = local.open_metrics(state_dir, app_name=app.name)
        services = [s.name for s in topology.services]
        quiet = output is OutputFormat.json or child
        talk = child or output is OutputFormat.text  # a child's talk goes to its log
        reconciler = None
        with _progress(not quiet and bool(files), services) as update:
            def on_event(event) -> None:
                update(event)
                if talk and event.get("event") == "reloaded":
                    say(f"{time.strftime('%H:%M:%S')} the deployment changed in {repo}: "
                        f"reloaded (stopped {', '.join(event['stopped']) or 'nothing'}; "
                        f"started {', '.join(event['started']) or 'nothing'})")
                elif talk and event.get("event") == "error":
                    say(f"{time.strftime('%H:%M:%S')} error: {event['error']}")

            backend = local.LocalBackend(topology, state_dir, metrics, routing=routing,
                                         max_parallel=parallel, timeout=timeout,
                                         on_event=on_event)
            try:
                backend.start()
                if options is not None:
                    reconciler = Reconciler.start(repo, app if app.is_dir() else None,
                                                  state_dir, options, app_name=app.name)
                    backend.update_up_file(reconciler={"pid": reconciler.pid,
                                                       "log": str(reconciler.log)})
                    if not quiet:
                        say(f"✓ reconciler running beside the backend (pid {reconciler.pid}, "
                            f"a cycle every {options.interval:g} s, log {reconciler.log})")
                since = time.time()
                if files:
                    backend.upload(files)
                    while not backend.wait_idle(timeout=0.5) and not stop.is_set():
                        pass
                done = time.time()
                if reconciler is not None and exit_when_done:
                    # a cycle ending after the batch, so the summary holds its verdict
                    reconciler.wait_cycles(len(reconciler.cycles()) + 1,
                                           timeout=options.interval + 60)
                summary = local.summarize_run(backend, since, len(files), done).to_json()
                summary["state"] = str(state_dir)
                summary["repo"] = str(repo)
                summary["inputs_folder"] = [str(backend.buckets / s.inputs[0].path)
                                            for s in backend.topology.entry_services()]
                summary["reconciler"] = reconciler.to_json() if reconciler else None
                (state_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2,
                                                                 sort_keys=True) + "\n")
                if not child:
                    _report(summary, state_dir, output, bool(files))
                if exit_when_done:
                    return
                if not child and output is OutputFormat.text:
                    folders = ", ".join(summary["inputs_folder"])
                    say(f"running (pid {os.getpid()}): drop files into {folders}; "
                        "Ctrl-C stops")
                reported = False
                while not stop.wait(0.5):
                    if reconciler is not None and not reported \
                            and reconciler.exit_code() is not None:
                        reported = True
                        if talk:
                            say(_reconciler_line(reconciler.to_json(), reconciler.last_line()))
            except KeyboardInterrupt:
                pass
            finally:
                if reconciler is not None:
                    reconciler.stop()
                backend.stop()
        if not child and output is OutputFormat.text and not exit_when_done:
            say("stopped")
    except Exception as exc:
        if child:
            (state_dir / FAILED_FILE).write_text(json.dumps({"error": str(exc)}) + "\n")
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(summary: dict, state_dir: Path, output: OutputFormat, processed: bool) -> None:
    if output is OutputFormat.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return
    if processed:
        print(f"✓ {summary['inputs']} input(s) processed end to end in "
              f"{summary['seconds']:.1f} s (metrics: {summary['metrics_store']})")
        _print_summary(summary, state_dir)
    if summary.get("reconciler"):
        print(_reconciler_line(summary["reconciler"]))


def _reconciler_line(info: dict, last_line: str = "") -> str:
    """The reconciler in one line: where it runs, its log, and what its last cycle did."""
    if not info["running"]:
        why = f": {last_line}" if last_line else ""
        return (f"✗ the reconciler (pid {info['pid']}) exited with code {info['exit_code']}"
                f"{why} — see {info['log']}; the backend runs on without it")
    last = info.get("last")
    if last is None:
        verdict = "no cycle yet"
    elif last.get("commit"):
        verdict = f"last cycle committed {last['commit'][:12]} ({', '.join(last['moves'])})"
    elif last.get("status") == "failed":
        verdict = f"last cycle failed: {last.get('error', '')}"
    else:
        verdict = f"last cycle {last['status']} at {(last.get('head') or 'nothing')[:12]}"
    return (f"reconciler: pid {info['pid']}, a cycle every {info['interval']:g} s, "
            f"{info['cycles']} cycle(s), {verdict}; log {info['log']}")


def _detach(app_dir: str, state_dir: Path, repo: Path, deployment: str, routing: str,
            parallel: int | None, timeout: float, inputs: Path | None,
            output: OutputFormat, options) -> None:
    from compiler.runtime import local

    command = [sys.executable, "-m", "compiler.cli.main", "up", str(Path(app_dir).resolve()),
               "--state", str(state_dir), "--out", str(repo), "--no-compile",
               "--deployment", deployment, "--routing", routing, "--timeout", str(timeout),
               "--detached-child"]
    command += ["--images", str(Path(inputs).resolve())] if inputs else ["--no-images"]
    if options is None:
        command += ["--no-reconcile"]
    else:
        command += ["--reconcile", "--reconcile-interval", f"{options.interval:g}",
                    "--reconcile-for", f"{options.violation_window:g}",
                    "--reconcile-cooldown", f"{options.cooldown:g}"]
    if parallel:
        command += ["--parallel", str(parallel)]
    for name in (SUMMARY_FILE, FAILED_FILE):
        (state_dir / name).unlink(missing_ok=True)
    log = state_dir / "up.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=handle, start_new_session=True)
    (state_dir / "up.pid").write_text(f"{process.pid}\n")
    while not (state_dir / SUMMARY_FILE).exists():
        if process.poll() is not None or (state_dir / FAILED_FILE).exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise local.local_error(
                "AIS970", "the background backend stopped before it was ready: "
                + (" | ".join(tail) or f"exit {process.returncode}"), f"see {log}",
                log)
        time.sleep(0.1)
    summary = json.loads((state_dir / SUMMARY_FILE).read_text())
    _report(summary, state_dir, output, bool(summary["inputs"]))
    if output is OutputFormat.text:
        info = summary.get("reconciler")
        beside = f"; the reconciler: pid {info['pid']}, log {info['log']}" if info else ""
        say(f"running in the background (pid {process.pid}, log {log}{beside}); "
            f"stop it with: aisprint down --state {state_dir}")


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
    from compiler.runtime.local import stop_backend

    stopped = stop_backend(Path(state))
    (Path(state) / "up.pid").unlink(missing_ok=True)
    if output is OutputFormat.json:
        print(json.dumps({"stopped": [{"pid": p, "what": w} for p, w in stopped]},
                         sort_keys=True))
        return
    if not stopped:
        print(f"nothing running from {state}")
    for pid, what in stopped:
        print(f"✓ stopped {what} (pid {pid})")


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
