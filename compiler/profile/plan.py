"""Planning a campaign: what runs, on which inputs, in which configurations, for which resources.

Everything here is decided and checked before the first worker starts, so a bad option or a
bad ``oscarp/run_parameters.yaml`` costs nothing: options given on the command line win over
the run parameters, which win over the defaults.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.load.yamlpos import YamlDocument, parse_yaml
from compiler.model import Application
from compiler.profile.units import ComponentUnits, ProfiledUnit, discover_units

RUN_PARAMETERS = "oscarp/run_parameters.yaml"
INPUT_FILES = "oscarp/input_files"
DEFAULT_CAMPAIGN = "profile"
DEFAULT_REPETITIONS = 3
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Configuration:
    parallelism: int
    cores: int  # per instance

    @property
    def total_cores(self) -> int:
        return self.parallelism * self.cores


@dataclass(frozen=True)
class RunParameters:
    """The keys of ``oscarp/run_parameters.yaml`` the profiler uses (None: not given)."""

    repetitions: int | None = None
    campaign: str | None = None
    parallelism: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # entry key ->
    filename: str | None = None  # the one file of oscarp/input_files/ to use


@dataclass(frozen=True)
class CampaignPlan:
    """Every decision of a campaign, taken before anything runs."""

    root: Path
    given: str  # the application folder as the user wrote it (for messages)
    campaign: str  # results go to oscarp/<campaign>/
    repetitions: int
    inputs: tuple[Path, ...]  # what the source components read
    cpus: tuple[int, ...]  # the CPUs this process may use
    core_levels: tuple[int, ...]
    architecture: str  # this machine's, as candidate_resources.yaml spells it
    resources: tuple[str, ...]  # --resource names (empty: every one of this architecture)
    components: tuple[ComponentUnits, ...]  # DAG order
    configurations: Mapping[str, tuple[Configuration, ...]]  # unit name ->
    stands_for: Mapping[str, tuple[str, ...]]  # unit name -> resources its timings are used for

    @property
    def runs(self) -> int:
        """How many runs the campaign makes (the progress total)."""
        return sum(len(c) for c in self.configurations.values()) * self.repetitions


def _error(code: str, message: str, hint: str, location: Location | None = None):
    return InvalidInput([diagnostic(code, message, hint, location)])


# ----------------------------------------------------------------------------- run parameters


def read_run_parameters(root: Path, given: str) -> RunParameters:
    """``oscarp/run_parameters.yaml`` (optional): the keys the profiler uses, checked."""
    path = root / RUN_PARAMETERS
    if not path.is_file():
        return RunParameters()
    file = os.path.normpath(os.path.join(given, RUN_PARAMETERS))
    doc, found = parse_yaml(path.read_text(encoding="utf-8"), file)
    if doc is None:
        raise InvalidInput(found)
    if not isinstance(doc.data, dict):
        raise _error("AIS928", f"{file} is not a mapping", "write the OSCAR-P run parameters "
                     "(run:, components:, input_files:)", doc.loc(()))
    sections = _sections(doc, file)
    run, where = sections.get("run", ({}, ("run",)))
    repetitions = None
    if "repetitions" in run:
        repetitions = run["repetitions"]
        if not isinstance(repetitions, int) or isinstance(repetitions, bool) or repetitions < 1:
            raise _error("AIS928", f"{file}: run.repetitions must be a positive integer, "
                         f"not {repetitions!r}", "e.g. repetitions: 3",
                         doc.loc(where + ("repetitions",)))
    components, where = sections.get("components", ({}, ("components",)))
    files, _ = sections.get("input_files", ({}, ()))
    return RunParameters(
        repetitions=repetitions,
        campaign=str(run["campaign_dir"]) if run.get("campaign_dir") else None,
        parallelism=_parallelism(components, doc, file, where),
        filename=str(files["filename"]) if files.get("filename") else None)


def _sections(doc: YamlDocument, file: str) -> dict[str, tuple[dict, tuple[str, ...]]]:
    """run / components / input_files -> (mapping, where it is in the document)."""
    data = doc.data
    # the user guide's sample nests everything under `synchronous:`; accept both
    nested = data.get("synchronous") if isinstance(data.get("synchronous"), dict) else {}
    out: dict[str, tuple[dict, tuple[str, ...]]] = {}
    for key in ("run", "components", "input_files"):
        value = data.get(key, nested.get(key))
        where = (key,) if key in data else ("synchronous", key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _error("AIS928", f"{file}: {key} must be a mapping", "see the OSCAR-P run "
                         "parameters in the user guide", doc.loc(where))
        out[key] = (value, where)
    return out


def _parallelism(components: dict, doc: YamlDocument, file: str, where: tuple[str, ...]
                 ) -> dict[str, tuple[int, ...]]:
    """components.<entry key>.parallelism, each a sorted set of positive integers."""
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
    return levels


# ----------------------------------------------------------------------------- this machine


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


# ----------------------------------------------------------------------------- the plan


def plan_campaign(app: Application, root: Path, given: str, params: RunParameters, *,
                  inputs: str | os.PathLike[str] | None, cores: Sequence[int] | None,
                  parallelism: Sequence[int] | None, repetitions: int | None,
                  campaign: str | None, resources: Sequence[str] | None) -> CampaignPlan:
    """The campaign the options ask for, every option checked (AIS921, AIS922, AIS926,
    AIS927) in the order a user meets them."""
    repetitions = repetitions or params.repetitions or DEFAULT_REPETITIONS
    if repetitions < 1:
        raise _error("AIS926", f"repetitions must be at least 1, not {repetitions}",
                     "e.g. --repetitions 3")
    campaign = _campaign_name(campaign or params.campaign or DEFAULT_CAMPAIGN)
    files = find_inputs(root, given, inputs, params.filename)
    cpus = tuple(host_cpus())
    core_levels = _core_levels(cores, len(cpus))
    if parallelism and any(p < 1 for p in parallelism):
        raise _error("AIS926", "parallelism levels must be at least 1", "e.g. --parallelism 1,2")
    components = discover_units(app, root, given)
    arch = host_architecture()
    if resources:
        _check_resources(app, resources)
    units = [unit for found in components for unit in found.units()]
    return CampaignPlan(
        root=root, given=given, campaign=campaign, repetitions=repetitions,
        inputs=tuple(files), cpus=cpus, core_levels=core_levels, architecture=arch,
        resources=tuple(resources or ()), components=components,
        configurations={unit.name: _configurations_of(unit, parallelism, params, core_levels,
                                                      len(cpus)) for unit in units},
        stands_for={unit.name: _stands_for(app, unit, resources, arch) for unit in units})


def _campaign_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name) or name in (".", ".."):
        raise _error("AIS926", f"campaign name {name!r} is not a plain folder name",
                     "use letters, digits, '.', '_' or '-', e.g. --campaign nuc-2024")
    return name


def _core_levels(cores: Sequence[int] | None, cpus: int) -> tuple[int, ...]:
    """The asked cores per instance, else 1 and every CPU."""
    levels = tuple(cores) if cores else tuple(sorted({1, cpus}))
    bad = [k for k in levels if k < 1 or k > cpus]
    if bad:
        raise _error("AIS926", f"cannot give {bad[0]} core(s) to an instance: this machine "
                     f"lets the profiler use {cpus} CPU(s)",
                     f"choose --cores values between 1 and {cpus}")
    return levels


def _check_resources(app: Application, resources: Sequence[str]) -> None:
    for name in resources:
        res = app.infrastructure.resource(name)
        if res is None or res.is_faas:
            known = sorted(r.name for r in app.infrastructure.resources() if not r.is_faas)
            raise _error("AIS927", f"--resource {name}: "
                         + ("a FaaS resource is not profiled by cores" if res else
                            "no such resource in common_config/candidate_resources.yaml"),
                         f"name one of: {', '.join(known)}")


def _configurations_of(unit: ProfiledUnit, parallelism: Sequence[int] | None,
                       params: RunParameters, core_levels: tuple[int, ...], cpus: int
                       ) -> tuple[Configuration, ...]:
    """The option's parallelism levels, else the run parameters' for the unit's entry (or
    its ``partitionX`` spelling), else 1 and as many instances as fit."""
    levels = parallelism or params.parallelism.get(unit.entry_key) \
        or params.parallelism.get(re.sub(r"_partition\d+_", "_partitionX_", unit.entry_key)) \
        or tuple(sorted({1, cpus // min(core_levels)}))
    plan = configurations(core_levels, levels, cpus)
    if not plan:
        raise _error("AIS926", f"no configuration of {unit.name} fits on {cpus} CPU(s) "
                     f"(parallelism {list(levels)} × cores {list(core_levels)})",
                     "lower the parallelism or the cores")
    return plan


def _stands_for(app: Application, unit: ProfiledUnit, resources: Sequence[str] | None,
                arch: str) -> tuple[str, ...]:
    """The unit's resources this machine's timings are used for: the named ones, else every
    one with this machine's CPU architecture."""
    if resources:
        return tuple(r for r in unit.resources if r in resources)
    return tuple(r for r in unit.resources
                 if app.infrastructure.resource(r).cpu_architecture == arch)
