"""``aisprint up`` / ``down`` around the backend: compiling the application into the git
repository it runs from, the inputs it is fed, its metrics store, and finding and stopping a
running backend by the PIDs of ``up.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from compiler.gitops.repo import Reader
from compiler.gitops.workflow import commit
from compiler.runtime.local.backend import UP_FILE
from compiler.runtime.local.errors import local_error
from compiler.runtime.local.processes import (
    RECONCILER_COMMAND,
    WORKER_MODULE,
    command_line,
    terminate,
)
from compiler.runtime.metrics import (
    InfluxV1Source,
    MetricsConfig,
    MetricsSource,
    load_config,
    open_source,
)


def read_up_file(state_dir: Path) -> dict | None:
    try:
        return json.loads((Path(state_dir) / UP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def running_backend(state_dir: Path) -> dict | None:
    """The up.json of a backend that is still running from ``state_dir``, else None."""
    data = read_up_file(state_dir)
    if not data or not isinstance(data.get("pid"), int) or data["pid"] == os.getpid():
        return None
    line = command_line(data["pid"])
    return data if line is not None and ("aisprint" in line or "compiler" in line
                                         or line == "") else None


def stop_backend(state_dir: Path, timeout: float = 15.0) -> list[tuple[int, str]]:
    """Stop what ``aisprint up`` started from ``state_dir``, by the PIDs it recorded: the
    backend (SIGTERM, then SIGKILL after ``timeout``), and any worker or reconciler still
    alive. Returns ``(pid, what)`` of every process stopped; a PID now used by another program
    is left."""
    data = read_up_file(state_dir) or {}
    stopped: list[tuple[int, str]] = []
    workers = [p for p in data.get("workers") or [] if isinstance(p, int)
               and WORKER_MODULE in (command_line(p) or "")]
    reconciler = (data.get("reconciler") or {}).get("pid") \
        if isinstance(data.get("reconciler"), Mapping) else None
    if not (isinstance(reconciler, int) and RECONCILER_COMMAND in (command_line(reconciler) or "")):
        reconciler = None
    main = data.get("pid")
    if isinstance(main, int) and main != os.getpid():
        line = command_line(main)
        if line is not None and ("aisprint" in line or "compiler" in line or line == ""):
            terminate(main, timeout)
            stopped.append((main, "backend"))
    for pid in workers:  # the backend stops its workers; any left are stopped here
        if command_line(pid) is not None:
            terminate(pid, 5)
        stopped.append((pid, "worker"))
    if reconciler is not None:  # the backend stops the reconciler it started; else here
        if command_line(reconciler) is not None:
            terminate(reconciler, 10)
        stopped.append((reconciler, "reconciler"))
    (Path(state_dir) / UP_FILE).unlink(missing_ok=True)
    return stopped


PHOTO_HINT = ("pass the folder of files to process: aisprint up APP --images DIR "
              "(or --no-images to start empty and drop files into the first service's input "
              "folder later)")


def default_images(environ: Mapping[str, str] | None = None, cwd: Path | None = None
                   ) -> Path | None:
    """``../shared/images``: beside the working folder, beside this checkout, or under
    ``$AISPRINT_SHARED``; None when none exists."""
    env = os.environ if environ is None else environ
    candidates = []
    if env.get("AISPRINT_SHARED"):
        candidates.append(Path(env["AISPRINT_SHARED"]) / "images")
    candidates.append((cwd or Path.cwd()).resolve().parent / "shared" / "images")
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "images")
    return next((c for c in candidates if c.is_dir()), None)


def input_files(images: Path) -> list[Path]:
    """The files ``aisprint up`` feeds the application (sorted; hidden files left out)."""
    images = Path(images)
    if images.is_file():
        return [images]
    if not images.is_dir():
        raise local_error("AIS967", f"no such folder of inputs: {images}", PHOTO_HINT)
    files = sorted(p for p in images.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise local_error("AIS967", f"{images} holds no files to process", PHOTO_HINT)
    return files


@dataclass(frozen=True)
class Compiled:
    """What ``compile_into`` left in the repository."""

    repo: Path
    head: str  # the branch head: the tree the backend runs
    commit: str | None  # the commit made, None when the tree was already this one
    files: int


def compile_into(app_dir: Path, out: Path) -> Compiled:
    """Compile ``app_dir`` and commit it to the git repository ``out`` (created when missing)
    through the GitOps writer (``compiler.gitops.workflow.commit``), which keeps the work
    tree — what the backend reads — in step with the branch. An unchanged application
    makes no commit."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not (out / ".git").exists():
        raise local_error("AIS956", f"{out} holds files but is not a git repository (an older "
                          "`aisprint up` compiled into it as a plain folder?)",
                          f"remove it (rm -r {out}) so that up commits the compiled tree there, or "
                          "pass another --out", out)
    result, _plan = commit(app_dir, repo=out)
    _ignore_bytecode(out)
    head = result.commit or result.previous or ""
    return Compiled(out, head, result.commit, len(Reader(out).read_tree(head)))


def _ignore_bytecode(repo: Path) -> None:
    """Workers import the designs' main.py from the work tree: their ``__pycache__`` must not
    count as hand edits of the compiled tree (the writer refuses to write over those)."""
    exclude = Path(repo) / ".git" / "info" / "exclude"
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    missing = [p for p in ("__pycache__/", "*.pyc") if p not in lines]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")


def is_git_repository(path: Path) -> bool:
    return (Path(path) / ".git").exists()


def metrics_config(state_dir: Path, app_name: str = "",
                   environ: Mapping[str, str] | None = None) -> MetricsConfig:
    """Where the backend writes its metrics: InfluxDB when the INFLUX_* environment names one,
    else the embedded store ``<state>/metrics.sqlite`` (given as a path, so a reconciler with
    another state folder reads the same store)."""
    config = load_config(None, environ, app_name=app_name)
    if config.backend == "embedded" and not config.store:
        config = replace(config, store=str(Path(state_dir).resolve() / "metrics.sqlite"))
    return config


def open_metrics(state_dir: Path, app_name: str = "",
                 environ: Mapping[str, str] | None = None) -> MetricsSource:
    """InfluxDB when the INFLUX_* environment names one (its database created when it is
    InfluxDB 1.x), else the embedded store in the state folder."""
    source = open_source(metrics_config(state_dir, app_name, environ),
                         state_dir=Path(state_dir), environ=environ)
    if isinstance(source, InfluxV1Source):
        source.ensure_database()
    return source
