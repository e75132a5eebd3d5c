"""`aisprint profile`: a profiling campaign on this machine, written in OSCAR-P's formats.

One way down, one module per step:

1. plan (``compiler.profile.plan``): the units to run (``compiler.profile.units``: every
   component's designs, or its ``src/`` entry point), the inputs, the configurations
   (``parallelism`` instances side by side, ``cores`` CPUs each) and the resources this
   machine stands for — every option checked before anything runs;
2. measure (``compiler.profile.measure``): every configuration ``repetitions`` times over all
   inputs, by real worker processes (``compiler.profile.runner``), units in DAG order, each
   reading what the ones before it sent on;
3. learn (``compiler.profile.learn``): a performance model per unit
   (``compiler.profile.fit``), evaluated at the declared cores of each resource this machine
   stands for;
4. write (``compiler.profile.outputs``): ``oscarp/<campaign>/<unit>/results/``,
   ``oscarp/<campaign>/campaign.json``, and merged entries in ``performance_models.json`` and
   ``components_data_size.yaml``.

Where timings go: this machine stands for the candidate resources given with ``resources``
(``--resource``); by default for every non-FaaS candidate resource of a unit whose CPU
architecture is this machine's, assuming the same speed per core. Entries of other resources
(the Raspberry Pi of an x86 profile, FaaS functions) are left as they are in
``performance_models.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.errors import InvalidInput
from compiler.model import Application
from compiler.profile.learn import UnitReport, learn_unit
from compiler.profile.measure import ProgressCallback, run_campaign
from compiler.profile.outputs import write_outputs
from compiler.profile.plan import plan_campaign, read_run_parameters
from compiler.validate import validate_application


@dataclass(frozen=True)
class ProfileResult:
    campaign: str
    units: tuple[UnitReport, ...]
    written: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...] = ()
    cpus: int = 1
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)


def profile_application(app_dir: str | os.PathLike[str], *,
                        inputs: str | os.PathLike[str] | None = None,
                        cores: Sequence[int] | None = None,
                        parallelism: Sequence[int] | None = None,
                        repetitions: int | None = None, campaign: str | None = None,
                        resources: Sequence[str] | None = None, seed: int = 1,
                        timeout: float = 600.0,
                        progress: ProgressCallback | None = None) -> ProfileResult:
    """Run the campaign and write its results (see the module docstring)."""
    began = time.perf_counter()
    given = os.fspath(app_dir)
    root = Path(given)
    app = _valid_application(given)
    plan = plan_campaign(app, root, given, read_run_parameters(root, given), inputs=inputs,
                         cores=cores, parallelism=parallelism, repetitions=repetitions,
                         campaign=campaign, resources=resources)
    runs, skipped = run_campaign(app, plan, timeout=timeout, progress=progress)
    reports = [learn_unit(run, app, plan.stands_for[run.unit.name], seed) for run in runs]
    outputs = write_outputs(root, plan.campaign, reports,
                            {run.unit.name: run.jobs for run in runs}, seed)
    settings = {"cores": list(plan.core_levels), "repetitions": plan.repetitions,
                "inputs": len(plan.inputs), "resources": list(plan.resources),
                "architecture": plan.architecture, "seed": seed}
    warnings = skipped + outputs.warnings + _unused(outputs.reports)
    return ProfileResult(plan.campaign, outputs.reports, outputs.written, warnings,
                         len(plan.cpus), time.perf_counter() - began, settings)


def _valid_application(given: str) -> Application:
    report = validate_application(given)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    return report.application


def _unused(reports: Sequence[UnitReport]) -> tuple[Diagnostic, ...]:
    """AIS931 for every unit whose timings no resource takes."""
    return tuple(diagnostic(
        "AIS931", f"{rep.unit.name} was profiled but this machine stands for none of its "
        "candidate resources, so performance_models.json was not changed for it",
        "name the resource this machine stands for with --resource NAME")
        for rep in reports if not rep.demands)
