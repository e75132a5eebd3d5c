"""The views of ``aisprint up`` and ``down`` (the local backend): what a run did with its
inputs — runs and mean times per component, response times per QoS constraint against its
limit, failures, where the results are — the reconciler beside it, and what ``down`` stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from compiler.console import View
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
