"""Running a campaign: every unit in DAG order, each configuration ``repetitions`` times.

A component's inputs are the files its predecessors send on (what their ``main`` returned,
else what they wrote), a source component's are the campaign's inputs, and the second half
of a partitioned model reads what the first half sent. A *run* is one pass over the inputs;
its ``runtime`` is the mean wall time of ``main`` per input (seconds per request, the
placement's service time), not the batch makespan OSCAR-P reports — per-input times and each
job's start and end are kept as ``JobRow``s.

Only the first run of a unit keeps what it sent on (the next unit's inputs); the other runs'
outputs are deleted as soon as they are measured, and everything lives in a scratch folder
removed at the end.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import BASE_DESIGN
from compiler.model import Application
from compiler.profile.plan import CampaignPlan, Configuration
from compiler.profile.runner import (
    JobResult,
    UnitFailure,
    WorkerJob,
    WorkerPool,
    actual_parallelism,
)
from compiler.profile.units import ProfiledUnit

# (runs done, runs in all, the unit running)
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RunRow:
    """One run of a unit in one configuration (a row of runtime_dataframe.csv)."""

    run: int
    configuration: int
    runtime: float
    actual_parallelism: int
    target_parallelism: int
    cores: int


@dataclass(frozen=True)
class JobRow:
    """One input of one run (a row of jobs.csv); start and end in seconds from the run's
    first start."""

    run: int
    configuration: int
    input: str
    worker: int
    seconds: float
    start: float
    end: float
    target_parallelism: int
    cores: int  # all instances together
    output_bytes: int


@dataclass(frozen=True)
class UnitRun:
    """What running one unit measured."""

    unit: ProfiledUnit
    configurations: tuple[Configuration, ...]
    rows: tuple[RunRow, ...]
    jobs: tuple[JobRow, ...]
    inputs: int  # files it read per run
    data_size_mb: float  # mean MB it sent on per input


class _Progress:
    """Counts the runs done and tells ``report`` after each one."""

    def __init__(self, total: int, report: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.report = report
        if report is not None:
            report(0, total, "starting")

    def tick(self, label: str) -> None:
        self.done += 1
        if self.report is not None:
            self.report(self.done, self.total, label)

    def skip(self, runs: int) -> None:
        self.done += runs


def run_campaign(app: Application, plan: CampaignPlan, *, timeout: float,
                 progress: ProgressCallback | None = None
                 ) -> tuple[tuple[UnitRun, ...], tuple[Diagnostic, ...]]:
    """Every unit the plan names, in order; a unit nothing reached is skipped (AIS925).
    A unit that fails is AIS923 (crash), AIS924 (cannot be imported) or AIS930."""
    counter = _Progress(plan.runs, progress)
    runs: list[UnitRun] = []
    warnings: list[Diagnostic] = []
    produced: dict[str, list[Path]] = {}  # component -> the files it sent on
    scratch = Path(tempfile.mkdtemp(prefix="aisprint-profile-"))
    try:
        for found in plan.components:
            preds = app.dag.predecessors(found.component)
            head = list(plan.inputs) if not preds else \
                [p for c in preds for p in produced.get(c, [])]
            for chain in found.chains:
                current = head
                for unit in chain:
                    configs = plan.configurations[unit.name]
                    if not current:
                        warnings.append(diagnostic(
                            "AIS925", f"{unit.name} was not profiled: nothing reached it "
                            "(the units before it sent no files on)",
                            "profile with inputs that make every component produce output"))
                        counter.skip(len(configs) * plan.repetitions)
                        break
                    try:
                        run, current = run_unit(unit, current, configs, plan.repetitions,
                                                plan.cpus, scratch, timeout, counter.tick)
                    except UnitFailure as failure:
                        raise _failure(unit, failure, plan.given, plan.root) from None
                    runs.append(run)
                if chain[0].design == BASE_DESIGN or found.component not in produced:
                    produced[found.component] = current
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tuple(runs), tuple(warnings)


def run_unit(unit: ProfiledUnit, inputs: Sequence[Path], configs: Sequence[Configuration],
             repetitions: int, cpus: Sequence[int], scratch: Path, timeout: float,
             tick: Callable[[str], None]) -> tuple[UnitRun, list[Path]]:
    """Every configuration of one unit, each ``repetitions`` times over all ``inputs``; also
    the files its first run sent on."""
    rows: list[RunRow] = []
    jobs_rows: list[JobRow] = []
    sent: list[Path] = []
    sizes: list[int] = []
    home = scratch / unit.name
    home.mkdir(parents=True, exist_ok=True)
    for c_index, config in enumerate(configs, 1):
        with WorkerPool(unit.main_py, parallelism=config.parallelism, cores=config.cores,
                        cpus=cpus, log=home / "worker.log", timeout=timeout) as pool:
            pool.run([WorkerJob(("warm", w), str(inputs[w % len(inputs)]),
                                str(home / "warm" / str(w))) for w in range(config.parallelism)])
            for rep in range(1, repetitions + 1):
                keep = c_index == 1 and rep == 1
                base = home / ("sent" if keep else f"c{c_index}r{rep}")
                jobs = [WorkerJob((rep, i), str(path), str(base / f"{i:05d}"))
                        for i, path in enumerate(inputs)]
                results = sorted(pool.run(jobs), key=lambda r: r.key)
                zero = min(r.start for r in results)
                for result in results:
                    files = _sent_on(result, Path(jobs[result.key[1]].output))
                    size = sum(p.stat().st_size for p in files)
                    jobs_rows.append(_job_row(rep, c_index, inputs[result.key[1]].name, result,
                                              config, size, zero))
                    if keep:
                        sent.extend(files)
                        sizes.append(size)
                rows.append(RunRow(rep, c_index, statistics.fmean(r.seconds for r in results),
                                   actual_parallelism(results), config.parallelism,
                                   config.total_cores))
                if not keep:
                    shutil.rmtree(base, ignore_errors=True)
                tick(unit.name)
    mean_mb = statistics.fmean(sizes) / 1e6 if sizes else 0.0
    run = UnitRun(unit, tuple(configs), tuple(rows), tuple(jobs_rows), len(inputs), mean_mb)
    return run, sent


def _sent_on(result: JobResult, output: Path) -> list[Path]:
    """What ``main`` returned, else every file it wrote in its output folder."""
    if result.returned:
        return [Path(p) for p in result.returned]
    return sorted(p for p in output.rglob("*") if p.is_file()) if output.is_dir() else []


def _job_row(rep: int, config: int, name: str, result: JobResult, c: Configuration,
             size: int, zero: float) -> JobRow:
    return JobRow(rep, config, name, result.worker, result.seconds, result.start - zero,
                  result.end - zero, c.parallelism, c.total_cores, size)


def _failure(unit: ProfiledUnit, failure: UnitFailure, given: str, root: Path
             ) -> InvalidInput:
    """A unit that could not be run, located at its main.py as the user names it."""
    try:
        shown = os.path.join(given, os.path.relpath(unit.main_py, root))
    except ValueError:
        shown = str(unit.main_py)
    code = {"load": "AIS924", "crash": "AIS923"}.get(failure.kind, "AIS930")
    detail = failure.detail.strip().splitlines()[-12:]
    message = f"profiling {unit.name}: {failure}" + (
        "\n    " + "\n    ".join(detail) if detail else "")
    hint = {"AIS924": "run `python main.py INPUT OUTPUT_DIR` in its folder to see the error; "
                      "install what it imports",
            "AIS923": "run `python main.py INPUT OUTPUT_DIR` on that input to reproduce it; "
                      "check that the inputs are what the unit reads"}.get(
        code, "a component must process one input and return; check for crashes or hangs")
    return InvalidInput([diagnostic(code, message, hint, Location(os.path.normpath(shown)))])
