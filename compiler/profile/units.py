"""What a campaign profiles: every component's designs, as chains of units run in order.

A unit is one entry point: ``aisprint/designs/<component>/<design>/main.py`` (``base`` and
every partition half `aisprint design` wrote), or ``src/<folder>/main.py`` when the component
has no ``base`` design. A partitioned model is a chain: its second half reads what the first
half wrote, so the halves of one cut run one after the other.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import BASE_DESIGN, DESIGNS
from compiler.model import Application, CandidateDeployment

_DESIGN = re.compile(r"^partition(\d+)_(\d+)$")


@dataclass(frozen=True)
class ProfiledUnit:
    """One entry point the campaign runs, and where its timings may be used."""

    name: str  # component, or <component>_partition<cut>_<part>
    component: str
    design: str  # base | partition<cut>_<part>
    main_py: Path
    resources: tuple[str, ...]  # non-FaaS candidate resources of its entry
    entry_key: str = ""  # key in candidate_deployments.yaml (run_parameters uses it)


@dataclass(frozen=True)
class ComponentUnits:
    """A component's chains of units: ``(base,)`` and the halves of each cut, in order."""

    component: str
    chains: tuple[tuple[ProfiledUnit, ...], ...]

    def units(self) -> tuple[ProfiledUnit, ...]:
        return tuple(unit for chain in self.chains for unit in chain)


def discover_units(app: Application, root: Path, given: str) -> tuple[ComponentUnits, ...]:
    """Per component (DAG order), its chains of units. A component with no entry point at
    all is AIS922 (every such component is named before anything runs)."""
    found: list[ComponentUnits] = []
    missing = []
    for component in app.dag.topological_order() or app.dag.components:
        mains = _entry_points(app, root, component)
        if not mains:
            where = os.path.normpath(os.path.join(given, "src", component, "main.py"))
            missing.append(diagnostic(
                "AIS922", f"{component} has no entry point to profile: neither "
                f"{DESIGNS}/{component}/<design>/main.py nor {where} exists",
                "write its main.py with `def main(args)` under src/ (see "
                "`aisprint new-application`), then run `aisprint design`", Location(where)))
            continue
        found.append(ComponentUnits(component, _chains(app, component, mains)))
    if missing:
        raise InvalidInput(missing)
    return tuple(found)


def _entry_points(app: Application, root: Path, component: str) -> dict[str, Path]:
    """design -> its main.py; ``base`` falls back to the component's source folder."""
    designs_dir = root / DESIGNS / component
    designs = sorted(d.name for d in designs_dir.iterdir()
                     if (d / "main.py").is_file()) if designs_dir.is_dir() else []
    mains = {d: designs_dir / d / "main.py" for d in designs}
    if BASE_DESIGN not in mains:
        ann = app.annotations_of(component)
        source = root / "src" / (ann.folder if ann is not None else component) / "main.py"
        if source.is_file():
            mains[BASE_DESIGN] = source
    return mains


def _chains(app: Application, component: str, mains: dict[str, Path]
            ) -> tuple[tuple[ProfiledUnit, ...], ...]:
    """``base`` alone, then each cut's halves in order; a half whose predecessor half is
    missing cannot be fed, so it is left out."""
    cuts: dict[str, dict[int, str]] = {}
    for design in mains:
        match = _DESIGN.match(design)
        if match:
            cuts.setdefault(match.group(1), {})[int(match.group(2))] = design
    ordered = [BASE_DESIGN] + [cuts[c][p] for c in sorted(cuts, key=int) for p in sorted(cuts[c])]
    chains: list[list[ProfiledUnit]] = []
    for design in ordered:
        if design not in mains:
            continue
        unit = _unit(app, component, design, mains[design])
        match = _DESIGN.match(design)
        if match is None or int(match.group(2)) == 1:
            chains.append([unit])
        elif chains and chains[-1][-1].design == \
                f"partition{match.group(1)}_{int(match.group(2)) - 1}":
            chains[-1].append(unit)
    return tuple(tuple(chain) for chain in chains)


def _unit(app: Application, component: str, design: str, main_py: Path) -> ProfiledUnit:
    entry = _entry_for(app, component, design)
    name = component if design == BASE_DESIGN else f"{component}_{design}"
    return ProfiledUnit(name, component, design, main_py.resolve(), _resources_of(app, entry),
                        entry.key if entry is not None else "")


def _entry_for(app: Application, component: str, design: str) -> CandidateDeployment | None:
    """The candidate_deployments.yaml entry a design is (a partition's entry may name its
    cut, or ``X`` for any cut)."""
    entries = app.deployments_of(component)
    if design == BASE_DESIGN:
        return next((e for e in entries if e.partition is None), None)
    match = _DESIGN.match(design)
    if not match:
        return None
    cut, part = match.group(1), int(match.group(2))
    return next((e for e in entries if e.partition is not None and e.partition.part == part
                 and e.partition.cut in (cut, "X")), None)


def _resources_of(app: Application, entry: CandidateDeployment | None) -> tuple[str, ...]:
    """The entry's candidate resources that are not FaaS and lie in its layers, in order."""
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
