"""The views of ``aisprint up`` and ``down`` (the local backend): what a run did with its
inputs — runs and mean times per component, response times per QoS constraint against its
limit, failures, where the results are — the reconciler beside it, and what ``down`` stopped;
the notes of what happens while it runs, and its bars (runs per service) on a terminal.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from compiler.console import Console, View
from compiler.console.results import columns

if TYPE_CHECKING:
    from compiler.runtime.local.reconciler import ReconcilerStatus
    from compiler.runtime.local.supervisor import UpResult


@dataclass(frozen=True)
class LocalRun(View):
    """``aisprint up``: the summary (when inputs were ``processed``), then the reconciler."""

    result: UpResult
    processed: bool

    def text(self, colour: bool = False) -> str:
        lines = []
        if self.processed:
            summary = self.result.summary
            lines.append(f"✓ {summary.inputs} input(s) processed end to end in "
                         f"{summary.seconds:.1f} s (metrics: {summary.metrics_store})\n")
            lines += self._tables()
        if self.result.reconciler is not None:
            lines.append(reconciler_line(self.result.reconciler) + "\n")
        return "".join(lines)

    def _tables(self) -> list[str]:
        summary = self.result.summary
        out = [columns([("component", "jobs", "failed", "requests", "outputs",
                         "mean s/request")]
                       + [(c.unit, str(c.jobs), str(c.failed), str(c.sessions),
                           str(c.outputs), _seconds(c.mean)) for c in summary.components],
                       rule=True)]
        if summary.paths:
            verdicts = {True: "ok", False: "VIOLATED", None: "no data"}
            out += ["\n", columns([("QoS constraint", "path", "mean s", "p95 s", "limit s", "")]
                                  + [(p.id, " -> ".join(p.components), _seconds(p.mean),
                                      _seconds(p.p95), f"{p.limit:g}", verdicts[p.ok])
                                     for p in summary.paths], rule=True)]
        out += [f"✗ {f.service} failed on {f.input}: {f.error}\n" for f in summary.failures[:10]]
        example = f", e.g. {summary.results[0]}" if summary.results else ""
        out.append(f"\n{len(summary.results)} result file(s) under "
                   f"{self.result.state / 'buckets'}{example}\n")
        return out

    def to_json(self) -> dict:
        return self.result.to_json()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def reconciler_line(status: ReconcilerStatus, last_line: str = "") -> str:
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


@dataclass(frozen=True)
class LocalStopped(View):
    """``aisprint down``: each process stopped (one JSON line)."""

    json_indent: ClassVar[int | None] = None

    stopped: tuple[tuple[int, str], ...]  # (pid, what)
    state: str

    def text(self, colour: bool = False) -> str:
        if not self.stopped:
            return f"nothing running from {self.state}\n"
        return "".join(f"✓ stopped {what} (pid {pid})\n" for pid, what in self.stopped)

    def to_json(self) -> dict:
        return {"stopped": [{"pid": pid, "what": what} for pid, what in self.stopped]}


STEPS = ("compiled", "note", "reconciler-started")  # before the inputs are processed
NEWS = ("reloaded", "error", "reconciler-exited")  # while the backend runs


def event_note(event: Mapping[str, Any], clock: str) -> str:
    """The note an event of ``aisprint up`` (one of ``STEPS`` or ``NEWS``) makes; ``clock``:
    the time of day news is stamped with."""
    kind = event["event"]
    if kind == "compiled":
        done = event["compiled"]
        what = f"committed {done.commit[:12]}" if done.commit else \
            f"unchanged at {done.head[:12]}"
        return (f"✓ compiled {event['app']} ({done.files} files) into the git repository "
                f"{done.repo}: {what}")
    if kind == "note":
        return f"note: {event['note']}"
    if kind == "reconciler-started":
        return (f"✓ reconciler running beside the backend (pid {event['pid']}, a cycle every "
                f"{event['interval']:g} s, log {event['log']})")
    if kind == "reloaded":
        return (f"{clock} the deployment changed in {event['repo']}: reloaded (stopped "
                f"{', '.join(event['stopped']) or 'nothing'}; started "
                f"{', '.join(event['started']) or 'nothing'})")
    if kind == "error":
        return f"{clock} error: {event['error']}"
    return reconciler_line(event["status"], event["last_line"])


@contextlib.contextmanager
def service_bars(out: Console, enabled: bool) -> Iterator[Callable[[Mapping[str, Any]], None]]:
    """Per-service bars (runs done / runs known) on a terminal; nothing otherwise."""
    if not enabled or not out.interactive:
        yield lambda _event: None
        return
    # deferred: rich's progress bars are slow to import and only a terminal shows them
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    lock, tasks, known = threading.Lock(), {}, {}
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs {task.fields[failed]}"), TimeElapsedColumn(),
                  console=out.rich_err(), transient=False) as bar:
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
