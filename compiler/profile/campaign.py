"""`aisprint profile`: a profiling campaign on this machine, written in OSCAR-P's formats.

What runs: every *unit* of the application — each component's design under
``aisprint/designs/<component>/<design>/main.py`` (``base`` and every partition half written
by `aisprint design`), or ``src/<folder>/main.py`` when the component has no designs yet.
Components run in DAG order; a component's inputs are the files its predecessors send on (what
their ``main`` returned), a source component's are the campaign's input files, and the second
half of a partitioned model reads what the first half wrote (the boundary tensors).

How: every configuration (``parallelism`` instances side by side, ``cores`` CPUs each) is run
``repetitions`` times over all inputs by real worker processes (``compiler.profile.runner``).
A *run* is one pass over the inputs; its ``runtime`` is the mean wall time of ``main`` per
input (seconds per request, the placement's service time), not the batch makespan OSCAR-P
reports — per-input times and each job's start/end are kept in ``jobs.csv``.

Where timings go: this machine stands for the candidate resources given with ``resources``
(``--resource``); by default for every non-FaaS candidate resource of a unit whose CPU
architecture is this machine's, assuming the same speed per core. The learnt model is
evaluated at each resource's declared cores. Entries of other resources (the Raspberry Pi of
an x86 profile, FaaS functions) are left as they are in ``performance_models.json``.

Written (``oscarp/``): ``<campaign>/<unit>/results/Dataframes/{runtime_dataframe,jobs}.csv``,
``<campaign>/<unit>/results/Models/{best.joblib,best.onnx,models.json}``,
``<campaign>/campaign.json``, and merged entries in ``performance_models.json`` and
``components_data_size.yaml`` (MB each unit sends on: its output files).
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import re
import shutil
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, Severity, diagnostic
from compiler.errors import InvalidInput
from compiler.model import Application
from compiler.profile.fit import FittedModel, Sample, fit, save
from compiler.profile.runner import Job, JobResult, UnitFailure, WorkerPool, actual_parallelism

RUN_PARAMETERS = "oscarp/run_parameters.yaml"
INPUT_FILES = "oscarp/input_files"
DEFAULT_CAMPAIGN = "profile"
DEFAULT_REPETITIONS = 3
RUNTIME_COLUMNS = ("runs", "configurations", "runtime", "actual_parallelism",
                   "target_parallelism", "cores")
JOB_COLUMNS = ("runs", "configurations", "input", "worker", "seconds", "start", "end",
               "target_parallelism", "cores", "output_bytes")
_DESIGN = re.compile(r"^partition(\d+)_(\d+)$")
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Unit:
    name: str  # component, or <component>_partition<cut>_<part>
    component: str
    design: str  # base | partition<cut>_<part>
    main_py: Path
    resources: tuple[str, ...]  # non-FaaS candidate resources of its entry
    entry_key: str = ""  # key in candidate_deployments.yaml (run_parameters uses it)


@dataclass(frozen=True)
class Configuration:
    parallelism: int
    cores: int  # per instance

    @property
    def total_cores(self) -> int:
        return self.parallelism * self.cores


@dataclass(frozen=True)
class RunRow:
    run: int
    configuration: int
    runtime: float
    actual_parallelism: int
    target_parallelism: int
    cores: int


@dataclass(frozen=True)
class UnitReport:
    unit: Unit
    configurations: tuple[Configuration, ...]
    rows: tuple[RunRow, ...]
    inputs: int
    model: FittedModel | None
    onnx: bool
    data_size_mb: float
    demands: dict[str, tuple[float, float]]  # resource -> (cores, demand s)
    mean_time: float


@dataclass(frozen=True)
class ProfileResult:
    campaign: str
    units: tuple[UnitReport, ...]
    written: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...] = ()
    cpus: int = 1
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- inputs


def _error(code: str, message: str, hint: str, location: Location | None = None):
    return InvalidInput([diagnostic(code, message, hint, location)])


def read_run_parameters(root: Path, given: str) -> tuple[dict, Location | None]:
    """``oscarp/run_parameters.yaml`` (optional): the keys the profiler uses, checked."""
    from compiler.load.yamlpos import parse_yaml

    path = root / RUN_PARAMETERS
    if not path.is_file():
        return {}, None
    file = os.path.normpath(os.path.join(given, RUN_PARAMETERS))
    doc, found = parse_yaml(path.read_text(encoding="utf-8"), file)
    if doc is None:
        raise InvalidInput(found)
    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(doc.data, dict):
        raise _error("AIS928", f"{file} is not a mapping", "write the OSCAR-P run parameters "
                     "(run:, components:, input_files:)", doc.loc(()))
    # the user guide's sample nests everything under `synchronous:`; accept both
    nested = data.get("synchronous") if isinstance(data.get("synchronous"), dict) else {}
    out: dict = {}
    for key in ("run", "components", "input_files"):
        value = data.get(key, nested.get(key))
        where = (key,) if key in data else ("synchronous", key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _error("AIS928", f"{file}: {key} must be a mapping", "see the OSCAR-P run "
                         "parameters in the user guide", doc.loc(where))
        out[key] = (value, where)
    run, where = out.get("run", ({}, ("run",)))
    result: dict = {}
    if "repetitions" in run:
        reps = run["repetitions"]
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
            raise _error("AIS928", f"{file}: run.repetitions must be a positive integer, "
                         f"not {reps!r}", "e.g. repetitions: 3", doc.loc(where + ("repetitions",)))
        result["repetitions"] = reps
    if run.get("campaign_dir"):
        result["campaign"] = str(run["campaign_dir"])
    components, where = out.get("components", ({}, ("components",)))
    levels: dict[str, tuple[int, ...]] = {}
    for key, spec in components.items():
        values = spec.get("parallelism") if isinstance(spec, dict) else None
        if values is None:
            continue
        if not isinstance(values, list) or not values or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
            raise _error("AIS928", f"{file}: components.{key}.parallelism must be a list of "
                         f"positive integers, not {values!r}", "e.g. parallelism: [2, 1]",
                         doc.loc(where + (key, "parallelism")))
        levels[str(key)] = tuple(sorted(set(values)))
    result["parallelism"] = levels
    files, _ = out.get("input_files", ({}, ()))
    if files.get("filename"):
        result["filename"] = str(files["filename"])
    return result, doc.loc(())


def find_inputs(root: Path, given: str, inputs: str | os.PathLike[str] | None,
                filename: str | None) -> list[Path]:
    """``inputs`` (a folder or a file), else ``oscarp/input_files/`` (only ``filename`` when
    run_parameters.yaml names one). Hidden files are ignored."""
    if inputs is not None:
        source = Path(inputs)
        where = os.fspath(inputs)
    else:
        source = root / INPUT_FILES
        where = os.path.normpath(os.path.join(given, INPUT_FILES))
    if source.is_file():
        found = [source]
    elif source.is_dir():
        found = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
        if inputs is None and filename:
            found = [p for p in found if p.name == filename]
    else:
        found = []
    if not found:
        raise _error(
            "AIS921", f"no input files to profile with in {where}",
            "pass a folder of inputs with --inputs DIR (e.g. the photos the first component "
            "reads) or put them in oscarp/input_files/", Location(where))
    return [p.resolve() for p in found]


def host_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def host_architecture() -> str:
    machine = platform.machine().lower()
    return _ARCH.get(machine, machine)


def configurations(cores: Sequence[int], parallelism: Sequence[int], cpus: int
                   ) -> tuple[Configuration, ...]:
    """Every (parallelism, cores per instance) that fits on ``cpus`` CPUs, fewest cores first."""
    return tuple(Configuration(p, k) for k in sorted(set(cores)) for p in sorted(set(parallelism))
                 if p * k <= cpus)


# ----------------------------------------------------------------------------- units


def _entry_for(app: Application, component: str, design: str):
    entries = app.deployments_of(component)
    if design == "base":
        return next((e for e in entries if e.partition is None), None)
    match = _DESIGN.match(design)
    if not match:
        return None
    cut, part = match.group(1), int(match.group(2))
    return next((e for e in entries if e.partition is not None and e.partition.part == part
                 and e.partition.cut in (cut, "X")), None)


def _resources_of(app: Application, entry) -> tuple[str, ...]:
    if entry is None:
        return ()
    names: list[str] = []
    for container in entry.containers:
        for name in container.candidate_resources:
            res = app.infrastructure.resource(name)
            if res is None or res.is_faas or res.layer not in entry.layers or name in names:
                continue
            names.append(name)
    return tuple(names)


def discover_units(app: Application, root: Path, given: str
                   ) -> tuple[list[tuple[str, list[list[Unit]]]], list[Diagnostic]]:
    """Per component (DAG order), its chains of units: ``[base]`` and each partition's halves."""
    found: list[tuple[str, list[list[Unit]]]] = []
    diags: list[Diagnostic] = []
    for component in app.dag.topological_order() or app.dag.components:
        designs_dir = root / "aisprint" / "designs" / component
        designs = sorted(d.name for d in designs_dir.iterdir()
                         if (d / "main.py").is_file()) if designs_dir.is_dir() else []
        mains: dict[str, Path] = {d: designs_dir / d / "main.py" for d in designs}
        if "base" not in mains:
            ann = app.annotations_of(component)
            folder = ann.folder if ann is not None else component
            source = root / "src" / folder / "main.py"
            if source.is_file():
                mains["base"] = source
        if not mains:
            where = os.path.normpath(os.path.join(given, "src", component, "main.py"))
            diags.append(diagnostic(
                "AIS922", f"{component} has no entry point to profile: neither "
                f"aisprint/designs/{component}/<design>/main.py nor {where} exists",
                "write its main.py with `def main(args)` under src/ (see "
                "`aisprint new-application`), then run `aisprint design`", Location(where)))
            continue
        cuts: dict[str, dict[int, str]] = {}
        for design in mains:
            match = _DESIGN.match(design)
            if match:
                cuts.setdefault(match.group(1), {})[int(match.group(2))] = design
        chains: list[list[Unit]] = []
        for design in ["base"] + [cuts[c][p] for c in sorted(cuts, key=int)
                                  for p in sorted(cuts[c])]:
            if design not in mains:
                continue
            match = _DESIGN.match(design)
            entry = _entry_for(app, component, design)
            name = component if design == "base" else f"{component}_{design}"
            unit = Unit(name, component, design, mains[design].resolve(),
                        _resources_of(app, entry),
                        entry.key if entry is not None else "")
            if match is None or int(match.group(2)) == 1:
                chains.append([unit])
            elif chains and chains[-1][-1].design == f"partition{match.group(1)}_" \
                    f"{int(match.group(2)) - 1}":
                chains[-1].append(unit)
        found.append((component, chains))
    if any(d.severity is Severity.ERROR for d in diags):
        raise InvalidInput(diags)
    return found, diags


# ----------------------------------------------------------------------------- running


def _written(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _run_unit(unit: Unit, inputs: Sequence[Path], configs: Sequence[Configuration],
              repetitions: int, cpus: Sequence[int], scratch: Path, timeout: float,
              tick: Callable[[str], None]) -> tuple[list[RunRow], list[dict], list[Path], float]:
    """Rows of runtime_dataframe.csv, rows of jobs.csv, files sent on, mean MB sent per input."""
    rows: list[RunRow] = []
    jobs_rows: list[dict] = []
    sent: list[Path] = []
    sizes: list[int] = []
    home = scratch / unit.name
    log = home / "worker.log"
    home.mkdir(parents=True, exist_ok=True)
    run_number = 0
    for c_index, config in enumerate(configs, 1):
        with WorkerPool(unit.main_py, parallelism=config.parallelism, cores=config.cores,
                        cpus=cpus, log=log, timeout=timeout) as pool:
            warm = [Job(("warm", w), str(inputs[w % len(inputs)]),
                        str(home / "warm" / str(w))) for w in range(config.parallelism)]
            pool.run(warm)
            for rep in range(1, repetitions + 1):
                run_number += 1
                keep = c_index == 1 and rep == 1
                base = home / ("sent" if keep else f"c{c_index}r{rep}")
                jobs = [Job((rep, i), str(path), str(base / f"{i:05d}"))
                        for i, path in enumerate(inputs)]
                results = sorted(pool.run(jobs), key=lambda r: r.key)
                zero = min(r.start for r in results)
                for result in results:
                    out = Path(jobs[result.key[1]].output)
                    files = [Path(p) for p in result.returned] or _written(out)
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
    return rows, jobs_rows, sent, mean_mb


def _job_row(rep: int, config: int, name: str, result: JobResult, c: Configuration,
             size: int, zero: float) -> dict:
    """One input of one run; start and end in seconds from the run's first start."""
    return {"runs": f"Run #{rep}", "configurations": f"Configuration #{config}", "input": name,
            "worker": result.worker, "seconds": result.seconds, "start": result.start - zero,
            "end": result.end - zero, "target_parallelism": c.parallelism,
            "cores": c.total_cores,
            "output_bytes": size}


def _failure(unit: Unit, failure: UnitFailure, given: str, root: Path) -> InvalidInput:
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


# ----------------------------------------------------------------------------- the campaign


def profile_application(app_dir: str | os.PathLike[str], *,
                        inputs: str | os.PathLike[str] | None = None,
                        cores: Sequence[int] | None = None,
                        parallelism: Sequence[int] | None = None,
                        repetitions: int | None = None, campaign: str | None = None,
                        resources: Sequence[str] | None = None, seed: int = 1,
                        timeout: float = 600.0,
                        progress: Callable[[int, int, str], None] | None = None
                        ) -> ProfileResult:
    """Run the campaign and write its results (see the module docstring)."""
    import time

    from compiler.validate import validate_application

    began = time.perf_counter()
    given = os.fspath(app_dir)
    root = Path(given)
    report = validate_application(given)
    if not report.valid:
        raise InvalidInput(report.diagnostics)
    app = report.application
    params, _ = read_run_parameters(root, given)
    repetitions = repetitions or params.get("repetitions", DEFAULT_REPETITIONS)
    if repetitions < 1:
        raise _error("AIS926", f"repetitions must be at least 1, not {repetitions}",
                     "e.g. --repetitions 3")
    campaign = campaign or params.get("campaign", DEFAULT_CAMPAIGN)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", campaign) or campaign in (".", ".."):
        raise _error("AIS926", f"campaign name {campaign!r} is not a plain folder name",
                     "use letters, digits, '.', '_' or '-', e.g. --campaign nuc-2024")
    files = find_inputs(root, given, inputs, params.get("filename"))
    cpus = host_cpus()
    core_levels = tuple(cores) if cores else tuple(sorted({1, len(cpus)}))
    bad = [k for k in core_levels if k < 1 or k > len(cpus)]
    if bad:
        raise _error("AIS926", f"cannot give {bad[0]} core(s) to an instance: this machine "
                     f"lets the profiler use {len(cpus)} CPU(s)",
                     f"choose --cores values between 1 and {len(cpus)}")
    if parallelism and any(p < 1 for p in parallelism):
        raise _error("AIS926", "parallelism levels must be at least 1", "e.g. --parallelism 1,2")
    chains_of, warnings = discover_units(app, root, given)
    warnings = list(warnings)

    arch = host_architecture()
    if resources:
        for name in resources:
            res = app.infrastructure.resource(name)
            if res is None or res.is_faas:
                known = sorted(r.name for r in app.infrastructure.resources() if not r.is_faas)
                raise _error("AIS927", f"--resource {name}: "
                             + ("a FaaS resource is not profiled by cores" if res else
                                "no such resource in common_config/candidate_resources.yaml"),
                             f"name one of: {', '.join(known)}")

    def stands_for(unit: Unit) -> tuple[str, ...]:
        if resources:
            return tuple(r for r in unit.resources if r in resources)
        return tuple(r for r in unit.resources
                     if app.infrastructure.resource(r).cpu_architecture == arch)

    plans: dict[str, tuple[Configuration, ...]] = {}
    for _, chains in chains_of:
        for unit in (u for chain in chains for u in chain):
            levels = parallelism or params.get("parallelism", {}).get(unit.entry_key) \
                or params.get("parallelism", {}).get(
                    re.sub(r"_partition\d+_", "_partitionX_", unit.entry_key)) \
                or tuple(sorted({1, len(cpus) // min(core_levels)}))
            plan = configurations(core_levels, levels, len(cpus))
            if not plan:
                raise _error("AIS926", f"no configuration of {unit.name} fits on "
                             f"{len(cpus)} CPU(s) (parallelism {list(levels)} × cores "
                             f"{list(core_levels)})", "lower the parallelism or the cores")
            plans[unit.name] = plan
    total = sum(len(p) for p in plans.values()) * repetitions
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    if progress is not None:
        progress(0, total, "starting")
    reports: list[UnitReport] = []
    job_tables: dict[str, list[dict]] = {}
    produced: dict[str, list[Path]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="aisprint-profile-"))
    try:
        for component, chains in chains_of:
            preds = app.dag.predecessors(component)
            head = files if not preds else [p for c in preds for p in produced.get(c, [])]
            for chain in chains:
                current = head
                for unit in chain:
                    if not current:
                        warnings.append(diagnostic(
                            "AIS925", f"{unit.name} was not profiled: nothing reached it "
                            "(the units before it sent no files on)",
                            "profile with inputs that make every component produce output"))
                        done += len(plans[unit.name]) * repetitions
                        break
                    try:
                        rows, jobs, sent, mb = _run_unit(
                            unit, current, plans[unit.name], repetitions, cpus, scratch,
                            timeout, tick)
                    except UnitFailure as failure:
                        raise _failure(unit, failure, given, root) from None
                    job_tables[unit.name] = jobs
                    reports.append(_model_unit(unit, plans[unit.name], rows, len(current), mb,
                                               seed, app, stands_for(unit)))
                    current = sent
                if chain[0].design == "base" or component not in produced:
                    produced[component] = current
        written, more = _write(root, given, campaign, reports, job_tables, seed)
        warnings += more
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for rep in reports:
        if not rep.demands:
            warnings.append(diagnostic(
                "AIS931", f"{rep.unit.name} was profiled but this machine stands for none of "
                "its candidate resources, so performance_models.json was not changed for it",
                "name the resource this machine stands for with --resource NAME"))
    settings = {"cores": list(core_levels), "repetitions": repetitions, "inputs": len(files),
                "resources": list(resources or []), "architecture": arch, "seed": seed}
    return ProfileResult(campaign, tuple(reports), tuple(written), tuple(warnings), len(cpus),
                         time.perf_counter() - began, settings)


def _model_unit(unit: Unit, configs: Sequence[Configuration], rows: Sequence[RunRow],
                inputs: int, mb: float, seed: int, app: Application,
                targets: Sequence[str]) -> UnitReport:
    samples = [Sample(configs[r.configuration - 1].cores, r.target_parallelism, r.run, r.runtime)
               for r in rows]
    model = fit(samples, seed=seed)
    demands = {}
    for name in targets:
        res_cores = float(app.infrastructure.resource(name).cores)
        demands[name] = (res_cores, max(model.predict(res_cores, 1), 0.0))
    single = [s for s in samples if s.parallelism == 1]
    best = max((s.cores for s in single), default=None)
    mean = statistics.fmean(s.runtime for s in single if s.cores == best) if single else \
        statistics.fmean(s.runtime for s in samples)
    return UnitReport(unit, tuple(configs), tuple(rows), inputs, model, False, mb, demands, mean)


# ----------------------------------------------------------------------------- writing


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


def dumps_json(data) -> str:
    """The one JSON style of profiling outputs: sorted keys, two spaces, final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def merge_performance_models(existing: dict, reports: Sequence[UnitReport],
                             regressors: dict[str, str]) -> dict:
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


def merge_data_sizes(text: str | None, sizes: dict[str, float]) -> str:
    """components_data_size.yaml with ``sizes`` merged in; leading comments kept, keys sorted."""
    import yaml

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


def _atomic(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
    os.replace(tmp, path)


def _write(root: Path, given: str, campaign: str, reports: list[UnitReport],
           job_tables: dict[str, list[dict]], seed: int
           ) -> tuple[list[Path], list[Diagnostic]]:
    base = root / "oscarp" / campaign
    written: list[Path] = []
    warnings: list[Diagnostic] = []
    regressors: dict[str, str] = {}
    summary: dict = {"units": {}}
    for index, rep in enumerate(reports):
        staging = base / f".staging-{rep.unit.name}"
        shutil.rmtree(staging, ignore_errors=True)
        frames = staging / "results" / "Dataframes"
        frames.mkdir(parents=True)
        (frames / "runtime_dataframe.csv").write_text(runtime_dataframe(rep.rows))
        (frames / "jobs.csv").write_text(_csv(JOB_COLUMNS, job_tables[rep.unit.name]))
        joblib_path, onnx_file, why = save(rep.model, staging / "results" / "Models")
        if onnx_file is None:
            warnings.append(diagnostic(
                "AIS929", f"the {rep.model.technique} model of {rep.unit.name} has no ONNX "
                f"export ({why}); the placement will use its demand field",
                "install skl2onnx (a dependency of aisprint-gitops) to export it"))
        models = {
            "unit": rep.unit.name, "features": ["1/cores", "parallelism"],
            "target": "seconds per request (mean of a run)",
            "chosen": rep.model.technique, "params": rep.model.params,
            "holdout_mape": rep.model.holdout_mape, "runs": rep.model.n_runs, "seed": seed,
            "onnx": onnx_file is not None,
            "candidates": [{"technique": c.technique, "params": c.params, "cv_mape": c.cv_mape,
                            "holdout_mape": c.holdout_mape} for c in rep.model.candidates],
        }
        (staging / "results" / "Models" / "models.json").write_text(dumps_json(models))
        final = base / rep.unit.name
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        reports[index] = UnitReport(rep.unit, rep.configurations, rep.rows, rep.inputs,
                                    rep.model, onnx_file is not None, rep.data_size_mb,
                                    rep.demands, rep.mean_time)
        regressors[rep.unit.name] = (final / "results" / "Models" / joblib_path.name
                                     ).relative_to(root).as_posix()
        written += sorted(p for p in final.rglob("*") if p.is_file())
        summary["units"][rep.unit.name] = {
            "component": rep.unit.component, "design": rep.unit.design,
            "inputs": rep.inputs, "regressor": rep.model.technique,
            "holdout_mape": rep.model.holdout_mape, "onnx": onnx_file is not None,
            "data_size_mb": _num(rep.data_size_mb),
            "configurations": [{"parallelism": c.parallelism, "cores": c.cores,
                                "mean_runtime": _num(statistics.fmean(
                                    r.runtime for r in rep.rows if r.configuration == i))}
                               for i, c in enumerate(rep.configurations, 1)],
            "resources": {r: {"cores": c, "demand": _num(d)}
                          for r, (c, d) in sorted(rep.demands.items())},
        }
    _atomic(base / "campaign.json", dumps_json(summary))
    written.append(base / "campaign.json")

    perf_path = root / "oscarp" / "performance_models.json"
    existing = {}
    if perf_path.is_file():
        try:
            existing = json.loads(perf_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise _error("AIS002", f"cannot read {perf_path}: {exc}", "fix or remove it; "
                         "profile merges its entries into it") from None
    merged = merge_performance_models(existing, reports, regressors)
    if any(rep.demands for rep in reports):
        _atomic(perf_path, dumps_json(merged))
        written.append(perf_path)
    size_path = root / "oscarp" / "components_data_size.yaml"
    old = size_path.read_text(encoding="utf-8") if size_path.is_file() else None
    _atomic(size_path, merge_data_sizes(old, {r.unit.name: r.data_size_mb for r in reports}))
    written.append(size_path)
    return written, warnings
