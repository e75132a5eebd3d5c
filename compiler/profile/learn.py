"""From a unit's runs to what the placement needs: a fitted performance model, the mean time
per request, and the demand at each resource this machine stands for (the model evaluated at
that resource's declared cores, one instance)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from compiler.model import Application
from compiler.profile.fit import FittedModel, TimingSample, fit
from compiler.profile.measure import RunRow, UnitRun
from compiler.profile.plan import Configuration
from compiler.profile.units import ProfiledUnit


@dataclass(frozen=True)
class UnitReport:
    unit: ProfiledUnit
    configurations: tuple[Configuration, ...]
    rows: tuple[RunRow, ...]
    inputs: int
    model: FittedModel | None
    onnx: bool  # the model has an ONNX export (known once it is written)
    data_size_mb: float
    demands: dict[str, tuple[float, float]]  # resource -> (cores, demand s)
    mean_time: float


def learn_unit(run: UnitRun, app: Application, targets: Sequence[str], seed: int
               ) -> UnitReport:
    """Fit ``run``'s timings and evaluate the model at each of ``targets``' cores."""
    samples = [TimingSample(run.configurations[r.configuration - 1].cores,
                            r.target_parallelism, r.run, r.runtime) for r in run.rows]
    model = fit(samples, seed=seed)
    demands = {}
    for name in targets:
        res_cores = float(app.infrastructure.resource(name).cores)
        demands[name] = (res_cores, max(model.predict(res_cores, 1), 0.0))
    return UnitReport(run.unit, run.configurations, run.rows, run.inputs, model, False,
                      run.data_size_mb, demands, mean_time(samples))


def mean_time(samples: Sequence[TimingSample]) -> float:
    """Mean seconds per request of one instance with the most cores measured (of every run
    when no run had a single instance)."""
    single = [s for s in samples if s.parallelism == 1]
    if not single:
        return statistics.fmean(s.runtime for s in samples)
    best = max(s.cores for s in single)
    return statistics.fmean(s.runtime for s in single if s.cores == best)
