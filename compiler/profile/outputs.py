"""Writing a campaign's results under ``oscarp/`` in OSCAR-P's formats.

Per unit, ``<campaign>/<unit>/results/Dataframes/{runtime_dataframe,jobs}.csv`` and
``<campaign>/<unit>/results/Models/{best.joblib,best.onnx,models.json}``, built in a staging
folder and renamed in whole; then ``<campaign>/campaign.json`` (a summary), and the merged
``performance_models.json`` (one CoreBasedPredictor entry per unit and resource measured,
every other entry kept) and ``components_data_size.yaml`` (MB each unit sends on).

Numbers are written with 6 significant digits (CSV: 6 decimals), JSON with sorted keys, so
the same measurements give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.errors import InvalidInput
from compiler.profile.fit import save
from compiler.profile.learn import UnitReport
from compiler.profile.measure import JobRow, RunRow
from compiler.write import write_atomically

RUNTIME_COLUMNS = ("runs", "configurations", "runtime", "actual_parallelism",
                   "target_parallelism", "cores")
JOB_COLUMNS = ("runs", "configurations", "input", "worker", "seconds", "start", "end",
               "target_parallelism", "cores", "output_bytes")


@dataclass(frozen=True)
class SavedUnit:
    """One unit's results folder, written."""

    report: UnitReport  # with ``onnx`` now known
    files: tuple[Path, ...]
    regressor_file: str  # best.joblib, relative to the application (performance_models.json)
    warning: Diagnostic | None  # AIS929 when the model has no ONNX export


@dataclass(frozen=True)
class CampaignOutputs:
    reports: tuple[UnitReport, ...]  # with ``onnx`` known
    written: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...]


# ----------------------------------------------------------------------------- formats


def _num(value: float) -> float:
    return float(f"{value:.6g}")


def _csv(columns: Sequence[str], rows: Sequence[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def runtime_dataframe(rows: Sequence[RunRow]) -> str:
    return _csv(RUNTIME_COLUMNS, [
        {"runs": f"Run #{r.run}", "configurations": f"Configuration #{r.configuration}",
         "runtime": r.runtime, "actual_parallelism": r.actual_parallelism,
         "target_parallelism": r.target_parallelism, "cores": r.cores}
        for r in sorted(rows, key=lambda r: (r.configuration, r.run))])


def jobs_dataframe(rows: Sequence[JobRow]) -> str:
    """jobs.csv: one row per input of every run, in the order they were measured."""
    return _csv(JOB_COLUMNS, [
        {"runs": f"Run #{r.run}", "configurations": f"Configuration #{r.configuration}",
         "input": r.input, "worker": r.worker, "seconds": r.seconds, "start": r.start,
         "end": r.end, "target_parallelism": r.target_parallelism, "cores": r.cores,
         "output_bytes": r.output_bytes}
        for r in rows])


def dumps_json(data) -> str:
    """The one JSON style of profiling outputs: sorted keys, two spaces, final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def models_document(report: UnitReport, seed: int) -> dict:
    """models.json: the chosen technique and every candidate's scores."""
    model = report.model
    return {
        "unit": report.unit.name, "features": ["1/cores", "parallelism"],
        "target": "seconds per request (mean of a run)",
        "chosen": model.technique, "params": model.params,
        "holdout_mape": model.holdout_mape, "runs": model.n_runs, "seed": seed,
        "onnx": report.onnx,
        "candidates": [{"technique": c.technique, "params": c.params, "cv_mape": c.cv_mape,
                        "holdout_mape": c.holdout_mape} for c in model.candidates],
    }


def unit_summary(report: UnitReport) -> dict:
    """A unit's entry in campaign.json."""
    return {
        "component": report.unit.component, "design": report.unit.design,
        "inputs": report.inputs, "regressor": report.model.technique,
        "holdout_mape": report.model.holdout_mape, "onnx": report.onnx,
        "data_size_mb": _num(report.data_size_mb),
        "configurations": [{"parallelism": c.parallelism, "cores": c.cores,
                            "mean_runtime": _num(statistics.fmean(
                                r.runtime for r in report.rows if r.configuration == i))}
                           for i, c in enumerate(report.configurations, 1)],
        "resources": {r: {"cores": c, "demand": _num(d)}
                      for r, (c, d) in sorted(report.demands.items())},
    }


def merge_performance_models(existing: dict, reports: Sequence[UnitReport],
                             regressors: Mapping[str, str]) -> dict:
    """``existing`` with one CoreBasedPredictor entry per (unit, resource) measured; every
    other entry is kept as it was."""
    merged = json.loads(json.dumps(existing))  # a deep copy
    for rep in reports:
        for resource, (res_cores, demand) in sorted(rep.demands.items()):
            unit = merged.setdefault(rep.unit.component, {}).setdefault(rep.unit.name, {})
            unit[resource] = {"model": "CoreBasedPredictor",
                              "regressor_file": regressors[rep.unit.name],
                              "demand": _num(demand), "meanTime": _num(rep.mean_time),
                              "cores": res_cores}
    return merged


def merge_data_sizes(text: str | None, sizes: Mapping[str, float]) -> str:
    """components_data_size.yaml with ``sizes`` merged in; leading comments kept, keys sorted."""
    current = yaml.safe_load(text) if text else None
    current = dict(current) if isinstance(current, dict) else {}
    current.update({k: _num(v) for k, v in sizes.items()})
    header = []
    for line in (text or "").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    body = "".join(f"{k}: {json.dumps(current[k])}\n" for k in sorted(current))
    return "".join(h + "\n" for h in header) + body


# ----------------------------------------------------------------------------- writing


def write_outputs(root: Path, campaign: str, reports: Sequence[UnitReport],
                  jobs_of: Mapping[str, Sequence[JobRow]], seed: int) -> CampaignOutputs:
    """Every output of the campaign, in the order of the module docstring."""
    base = root / "oscarp" / campaign
    saved = [write_unit_results(root, base, rep, jobs_of[rep.unit.name], seed)
             for rep in reports]
    final = tuple(s.report for s in saved)
    written = [path for s in saved for path in s.files]
    summary = {"units": {rep.unit.name: unit_summary(rep) for rep in final}}
    write_atomically(base / "campaign.json", dumps_json(summary))
    written.append(base / "campaign.json")
    regressors = {s.report.unit.name: s.regressor_file for s in saved}
    written += write_performance_models(root, final, regressors)
    written.append(write_data_sizes(root, final))
    return CampaignOutputs(final, tuple(written),
                           tuple(s.warning for s in saved if s.warning is not None))


def write_unit_results(root: Path, base: Path, report: UnitReport, jobs: Sequence[JobRow],
                       seed: int) -> SavedUnit:
    """``base/<unit>/results/``, built aside and renamed in, replacing an earlier one."""
    staging = base / f".staging-{report.unit.name}"
    shutil.rmtree(staging, ignore_errors=True)
    frames = staging / "results" / "Dataframes"
    frames.mkdir(parents=True)
    (frames / "runtime_dataframe.csv").write_text(runtime_dataframe(report.rows))
    (frames / "jobs.csv").write_text(jobs_dataframe(jobs))
    joblib_path, onnx_file, why = save(report.model, staging / "results" / "Models")
    warning = None
    if onnx_file is None:
        warning = diagnostic(
            "AIS929", f"the {report.model.technique} model of {report.unit.name} has no ONNX "
            f"export ({why}); the placement will use its demand field",
            "install skl2onnx (a dependency of aisprint-gitops) to export it")
    report = replace(report, onnx=onnx_file is not None)
    (staging / "results" / "Models" / "models.json").write_text(
        dumps_json(models_document(report, seed)))
    final = base / report.unit.name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    regressor = (final / "results" / "Models" / joblib_path.name).relative_to(root)
    return SavedUnit(report, tuple(sorted(p for p in final.rglob("*") if p.is_file())),
                     regressor.as_posix(), warning)


def write_performance_models(root: Path, reports: Sequence[UnitReport],
                             regressors: Mapping[str, str]) -> list[Path]:
    """Merge the measured entries into performance_models.json (written only when a unit
    measured a resource); an unreadable file is AIS002."""
    path = root / "oscarp" / "performance_models.json"
    existing = {}
    if path.is_file():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput([diagnostic(
                "AIS002", f"cannot read {path}: {exc}",
                "fix or remove it; profile merges its entries into it")]) from None
    merged = merge_performance_models(existing, reports, regressors)
    if not any(rep.demands for rep in reports):
        return []
    write_atomically(path, dumps_json(merged))
    return [path]


def write_data_sizes(root: Path, reports: Sequence[UnitReport]) -> Path:
    path = root / "oscarp" / "components_data_size.yaml"
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    write_atomically(path, merge_data_sizes(old, {r.unit.name: r.data_size_mb for r in reports}))
    return path
