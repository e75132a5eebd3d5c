"""The views of `aisprint up` / `down` (compiler.console.local) on hand-built results: what a
person reads, what a machine reads, and the notes of a run's events."""

from __future__ import annotations

import io
import json
from pathlib import Path

from compiler.console import Console, Format
from compiler.console.local import LocalRun, LocalStopped, event_note
from compiler.runtime import local

STATE = Path("/state")


def _result(reconciler: local.ReconcilerStatus | None = None) -> local.UpResult:
    failure = local.JobRecord("mask-detector", "mask-detector", 3, "b/in/a.jpg", "s1", False,
                              "exit 1", 10.0, 11.0, (), 4242)
    summary = local.Summary(
        2.46, 2,
        (local.ComponentSummary("blur", "blur", 2, 0, 2, 2, 0.2),
         local.ComponentSummary("mask-detector", "mask-detector", 2, 1, 2, 1, None)),
        (local.PathSummary("L1/c1", ("blur", "mask-detector"), 1.0, 1.5, 2.0, 2, "end_to_end"),
         local.PathSummary("L1/c2", ("blur",), 20.0, None, None, 0, "local")),
        (failure,), ("b/out/x.json",), "EmbeddedStore")
    return local.UpResult(summary, STATE, STATE / "repo", ("/state/buckets/b/in",), reconciler)


def _shown(view, format: Format = Format.text) -> str:
    out = io.StringIO()
    Console(format, out=out, err=io.StringIO()).show(view)
    return out.getvalue()


def test_the_summary_as_a_person_reads_it():
    text = _shown(LocalRun(_result(), processed=True))
    assert text.splitlines() == [
        "✓ 2 input(s) processed end to end in 2.5 s (metrics: EmbeddedStore)",
        "component      jobs  failed  requests  outputs  mean s/request",
        "-------------  ----  ------  --------  -------  --------------",
        "blur           2     0       2         2        0.200",
        "mask-detector  2     1       2         1        -",
        "",
        "QoS constraint  path                   mean s  p95 s  limit s",
        "--------------  ---------------------  ------  -----  -------  --------",
        "L1/c1           blur -> mask-detector  1.500   2.000  1        VIOLATED",
        "L1/c2           blur                   -       -      20       no data",
        "✗ mask-detector failed on b/in/a.jpg: exit 1",
        "",
        "1 result file(s) under /state/buckets, e.g. b/out/x.json"]
    # nothing processed (`up --no-images`) and no reconciler: nothing to show
    assert _shown(LocalRun(_result(), processed=False)) == ""


def test_the_reconciler_line():
    running = local.ReconcilerStatus(77, Path("/state/logs/r.log"), 5.0, None, 3, ("abc",),
                                     {"status": "committed", "commit": "0123456789abcdef",
                                      "moves": ["blur"]})
    assert _shown(LocalRun(_result(running), processed=False)) == (
        "reconciler: pid 77, a cycle every 5 s, 3 cycle(s), last cycle committed "
        "0123456789ab (blur); log /state/logs/r.log\n")
    gone = local.ReconcilerStatus(77, Path("/state/logs/r.log"), 5.0, 2, 0, (), None)
    assert event_note({"event": "reconciler-exited", "status": gone,
                       "last_line": "boom"}, "12:00:00") == (
        "✗ the reconciler (pid 77) exited with code 2: boom — see /state/logs/r.log; "
        "the backend runs on without it")


def test_the_summary_as_a_machine_reads_it():
    doc = json.loads(_shown(LocalRun(_result(), processed=True), Format.json))
    assert doc["inputs"] == 2 and doc["seconds"] == 2.46 and doc["reconciler"] is None
    assert [p["ok"] for p in doc["paths"]] == [False, None]
    assert doc["inputs_folder"] == ["/state/buckets/b/in"] and doc["state"] == "/state"


def test_down_says_what_it_stopped():
    stopped = LocalStopped(((10, "backend"), (11, "worker")), ".aisprint/local")
    assert _shown(stopped) == "✓ stopped backend (pid 10)\n✓ stopped worker (pid 11)\n"
    assert _shown(LocalStopped((), "s")) == "nothing running from s\n"
    assert _shown(stopped, Format.json) == (
        '{"stopped": [{"pid": 10, "what": "backend"}, {"pid": 11, "what": "worker"}]}\n')


def test_the_notes_of_a_run():
    assert event_note({"event": "reloaded", "repo": "/r", "stopped": ["a"], "started": []},
                      "12:00:00") == ("12:00:00 the deployment changed in /r: reloaded "
                                      "(stopped a; started nothing)")
    compiled = local.Compiled(Path("/r"), "f" * 40, None, 148)
    assert event_note({"event": "compiled", "app": Path("app"), "compiled": compiled}, "") == \
        f"✓ compiled app (148 files) into the git repository /r: unchanged at {'f' * 12}"
