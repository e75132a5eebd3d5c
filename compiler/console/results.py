"""The views of every verb's result but the plan's (``compiler.console.plan``).

Each view holds library values (and the little the command line adds: where a tree was
written, what the input was called) and renders them; none computes or prints. The JSON
documents keep the keys each verb has always printed: scripts, tests and the GitHub Action
read them.
"""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from compiler.console import View

if TYPE_CHECKING:
    from compiler.compile import CompileResult
    from compiler.diagnostics import Diagnostic
    from compiler.gitops.plan import Plan
    from compiler.gitops.repo import WriteResult
    from compiler.placement.solve import PlacementOutcome
    from compiler.runtime.reconcile import Cycle

SPACE4AID_SCHEMA = "https://aisprint-gitops.github.io/schemas/space4aid-result/v1.json"
PROFILE_SCHEMA = "https://aisprint-gitops.github.io/schemas/profile-result/v1.json"


def _finite(value):
    return value if value is None or math.isfinite(value) else None


def columns(rows: Sequence[Sequence[str]], *, rule: bool = False) -> str:
    """Rows as left-aligned columns (the first row a header, underlined when ``rule``)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip())
        if rule and n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as a markdown table; a cell's own ``|`` and line breaks cannot break the table."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Outcome(View):
    """A one-line outcome (a file written, infrastructures deleted) and its JSON document."""

    line: str
    doc: Mapping[str, Any] = field(default_factory=dict)

    def text(self, colour: bool = False) -> str:
        return self.line + "\n"

    def to_json(self) -> dict:
        return dict(self.doc)


# ----------------------------------------------------------------------------- compile


@dataclass(frozen=True)
class CompiledInto(View):
    """A compile written into a folder."""

    result: CompileResult
    destination: str

    def text(self, colour: bool = False) -> str:
        cost = f", cost {self.result.cost:.6g}" if self.result.cost is not None else ""
        return (f"✓ compiled {len(self.result.artifacts)} files into "
                f"{self.destination}/aisprint (placement: {self.result.placement}{cost})\n")

    def to_json(self) -> dict:
        return {"destination": self.destination, "files": len(self.result.artifacts),
                "placement": self.result.placement, "cost": self.result.cost,
                "warnings": [w.to_json() for w in self.result.warnings]}


@dataclass(frozen=True)
class Checked(View):
    """``compile --check``: whether the written tree is the compile's, and what every
    emitted file's consumer (tosca-parser, oscar-python, helm, IM) said about it."""

    destination: str
    app_dir: str
    files: int
    problems: tuple[Diagnostic, ...]  # files a consumer rejected
    stale: tuple[str, ...]  # files that differ from the compile's

    def text(self, colour: bool = False) -> str:
        lines = [f"✗ {p.location}: {p.message}" for p in self.problems]
        if self.stale:
            lines.append(f"✗ {len(self.stale)} file(s) out of date in {self.destination} "
                         f"(run `aisprint compile {self.app_dir}`):")
            lines += [f"  {path}" for path in self.stale[:20]]
        if not (self.stale or self.problems):
            lines.append(f"✓ {self.destination} is up to date and every emitted file passes "
                         f"its consumer's checks ({self.files} files)")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        return {"destination": self.destination, "files": self.files,
                "up_to_date": not self.stale, "passes_checks": not self.problems,
                "stale": list(self.stale), "problems": [p.to_json() for p in self.problems]}


@dataclass(frozen=True)
class Committed(View):
    """A compile committed to a deployment repository (``compile --repo``)."""

    write: WriteResult
    plan: Plan
    repo: str

    def headline(self) -> str:
        # deferred: a plan's words load the gitops package, which only compile --repo needs
        # (start-up time)
        from compiler.gitops.summary import headline

        return headline(self.plan)

    def text(self, colour: bool = False) -> str:
        if self.write.commit is None:
            return f"✓ {self.repo} ({self.write.branch}) is up to date: nothing to commit\n"
        pushed = f", pushed to {self.write.pushed}" if self.write.pushed else ""
        return (f"✓ committed {self.write.commit[:12]} on {self.write.branch} of {self.repo}: "
                f"{self.headline()}{pushed}\n")

    def to_json(self) -> dict:
        return {"repo": self.repo, "branch": self.write.branch, "commit": self.write.commit,
                "previous": self.write.previous, "pushed": self.write.pushed,
                "recovered": self.write.recovered, "headline": self.headline(),
                "has_changes": self.plan.has_changes}


def timings_table(timings: Sequence[tuple[str, float]]) -> str:
    """The stages of a compile and their seconds, as a markdown table (``--timings``)."""
    total = sum(seconds for _, seconds in timings) or 1e-9
    rows = ["| stage | seconds | share |", "|---|---|---|"]
    rows += [f"| {stage} | {seconds:.3f} | {seconds / total:.0%} |" for stage, seconds in timings]
    rows.append(f"| total | {total:.3f} | 100% |")
    return "\n".join(rows)


# ----------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class Placed(View):
    """``aisprint space4aid``: a solved placement."""

    json_sort_keys: ClassVar[bool] = False  # the document reads top-down: verdict, then detail

    outcome: PlacementOutcome
    source: str
    mode: str

    def _placement(self) -> dict:
        system, placement = self.outcome.system, self.outcome.result.placement
        out = {}
        for component in system.components:
            name = placement.deployments[component.name]
            parts = component.deployment(name).partitions
            out[component.name] = {"deployment": name, "partitions": {
                p.name: placement.resources[(component.name, p.name)] for p in parts}}
        return out

    def to_json(self) -> dict:
        result, system = self.outcome.result, self.outcome.system
        doc = {
            "schema_version": SPACE4AID_SCHEMA,
            "input": self.source,
            "lambda": system.arrival_rate,
            "mode": self.mode,
            "method": result.method,
            "status": result.status,
            "feasible": result.feasible,
            "total_cost": result.cost,
            "solve_seconds": round(result.seconds, 6),
            "optimality_gap": result.gap,
            "lower_bound": result.bound,
            "rounds": result.rounds,
            "explanation": list(result.explanation),
            "placement": self._placement() if result.feasible else None,
            "replicas": dict(sorted(result.placement.replicas.items()))
            if result.feasible else None,
            "written": [str(p) for p in self.outcome.written],
        }
        if self.outcome.max_load is not None:
            doc["max_lambda"] = self.outcome.max_load.arrival_rate
            doc["max_lambda_binding"] = list(self.outcome.max_load.binding)
        return doc

    @staticmethod
    def _headline(doc: dict) -> str:
        if not doc["feasible"]:
            return f"✗ no feasible placement ({doc['status']}) for Λ = {doc['lambda']:g}"
        gap = doc["optimality_gap"]
        proof = "proven optimal" if doc["status"] == "optimal" else (
            f"gap {gap:.2%}" if gap is not None else "optimality not proven")
        return (f"✓ cost {doc['total_cost']:.6g} at Λ = {doc['lambda']:g} ({proof}; "
                f"{doc['method']}, {doc['solve_seconds']:.2f} s)")

    @staticmethod
    def _where(doc: dict, spec: dict) -> str:
        return ", ".join(f"{p} → {r}" + (f" ×{doc['replicas'][r]}" if r in doc["replicas"]
                                         else "") for p, r in spec["partitions"].items())

    def text(self, colour: bool = False) -> str:
        doc = self.to_json()
        lines = [self._headline(doc)]
        if not doc["feasible"]:
            return "\n".join(lines + [f"  - {line}" for line in doc["explanation"]]) + "\n"
        width = max(len(c) for c in doc["placement"])
        for component, spec in doc["placement"].items():
            lines.append(f"  {component:<{width}}  [{spec['deployment']}] "
                         f"{self._where(doc, spec)}")
        if "max_lambda" in doc:
            lines.append(f"  sustains up to Λ = {doc['max_lambda']:.6g} before: "
                         + "; ".join(doc["max_lambda_binding"][:2]))
        lines += [f"  wrote {path}" for path in doc["written"]]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        doc = self.to_json()
        parts = [f"**{self._headline(doc)}**\n"]
        if not doc["feasible"]:
            parts += [f"- {line}\n" for line in doc["explanation"]]
            return "".join(parts)
        parts.append("\n" + md_table(("component", "deployment", "partition → resource"), [
            (f"`{c}`", spec["deployment"], self._where(doc, spec))
            for c, spec in doc["placement"].items()]))
        if "max_lambda" in doc:
            parts.append(f"\nSustains up to Λ = {doc['max_lambda']:.6g} before: "
                         + "; ".join(doc["max_lambda_binding"][:2]) + "\n")
        return "".join(parts)


@dataclass(frozen=True)
class Evaluated(View):
    """``aisprint space4aid evaluate``: the evaluator's verdict on a given solution."""

    json_sort_keys: ClassVar[bool] = False

    system_file: str
    solution_file: str
    arrival_rate: float
    evaluation: Any  # compiler.placement.performance.Evaluation

    def to_json(self) -> dict:
        e = self.evaluation
        return {
            "schema_version": SPACE4AID_SCHEMA, "system": self.system_file,
            "solution": self.solution_file, "lambda": self.arrival_rate,
            "feasible": e.feasible, "total_cost": _finite(e.cost),
            "violations": [{"kind": v.kind, "subject": v.subject, "message": v.message,
                            "excess": _finite(v.excess)} for v in e.violations],
            "component_response_times": {k: _finite(v) for k, v in e.component_times.items()},
            "path_response_times": {k: _finite(v) for k, v in e.path_times.items()},
            "utilisation": dict(e.utilisation),
        }

    def text(self, colour: bool = False) -> str:
        e = self.evaluation
        state = "✓ feasible" if e.feasible else "✗ infeasible"
        lines = [f"{state}: cost {e.cost:.6g} at Λ = {self.arrival_rate:g}"]
        lines += [f"  - [{v.kind}] {v.message}" for v in e.violations]
        lines += [f"  path {name}: {value:.4g} s" for name, value in e.path_times.items()]
        return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- design


@dataclass(frozen=True)
class Designed(View):
    """``aisprint design``: the annotations written and the cuts chosen per model. In text
    the result is the files; the table is talk about them, on stderr (``talk``)."""

    talk: ClassVar[bool] = True

    annotations: Any  # compiler.design.annotations result (annotations_file, components)
    report: Any  # compiler.design partition report

    def rows(self) -> list[dict]:
        rows = []
        for c in self.report.components:
            for i, cut in enumerate(c.chosen, 1):
                rows.append({
                    "component": c.component, "cut": i, "after": cut.after,
                    "boundary_tensors": list(cut.boundary),
                    "boundary_mb": round(cut.boundary_mb, 6),
                    "input_mb": round(c.input_bytes / 1e6, 6),
                    "first_half_flops_share": round(cut.share, 6),
                    "designs": [f"partition{i}_1", f"partition{i}_2"]})
        return rows

    def to_json(self) -> dict:
        report = self.report
        return {"annotations": str(self.annotations.annotations_file),
                "component_partitions": str(report.partitions_file),
                "components": {c.component: {"model": c.model, "candidates": c.candidates,
                                             "valid_cuts": c.valid, "requested": c.requested,
                                             "input_mb": round(c.input_bytes / 1e6, 6)}
                               for c in report.components},
                "cuts": self.rows(),
                "data_sizes": report.data_sizes(),
                "warnings": [w.to_json() for w in report.warnings]}

    def text(self, colour: bool = False) -> str:
        tail = f"designs listed in {self.report.partitions_file}\n"
        if not self.report.components:
            return "no partitionable_model component: nothing to partition\n" + tail
        lines = [f"{c.component}: {c.model}: {c.valid} valid cut(s) of {c.candidates} examined "
                 f"in {c.analyse_seconds:.2f} s, {len(c.chosen)} kept "
                 f"(written in {c.write_seconds:.2f} s)" for c in self.report.components]
        return ("\n".join(lines) + "\n" + _table(self.HEADER, self._cells(), "chosen cuts", colour)
                + tail)

    HEADER: ClassVar[tuple[str, ...]] = (
        "component", "cut", "after node", "boundary tensors", "boundary MB", "input MB",
        "FLOPs half 1 / half 2")

    def _cells(self) -> list[tuple[str, ...]]:
        return [(r["component"], str(r["cut"]), r["after"],
                 ", ".join(r["boundary_tensors"]) if len(r["boundary_tensors"]) <= 3
                 else f"{len(r['boundary_tensors'])} tensors",
                 f"{r['boundary_mb']:.3f}", f"{r['input_mb']:.3f}",
                 f"{100 * r['first_half_flops_share']:.0f}% / "
                 f"{100 - 100 * r['first_half_flops_share']:.0f}%")
                for r in self.rows()]

    def markdown(self) -> str:
        listed = f"Designs listed in `{self.report.partitions_file}`.\n"
        if not self.report.components:
            return "No partitionable_model component: nothing to partition.\n\n" + listed
        return md_table(self.HEADER, self._cells()) + "\n" + listed


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], title: str,
           colour: bool) -> str:
    """A table: drawn by rich on a terminal, plain columns elsewhere."""
    if not colour:
        return columns([header, *rows])
    # deferred: rich is slow to import and only a terminal needs it
    from rich.console import Console as RichConsole
    from rich.table import Table

    buffer = io.StringIO()
    table = Table(*header, title=title)
    for row in rows:
        table.add_row(*row)
    width = shutil.get_terminal_size((120, 24)).columns  # the table fits the terminal
    RichConsole(file=buffer, force_terminal=True, width=width).print(table)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class Profiled(View):
    """``aisprint profile``: the runs measured and the performance model learnt per unit."""

    result: Any  # compiler.profile.campaign result

    def to_json(self) -> dict:
        result = self.result
        units = []
        for rep in result.units:
            def mean(i: int, rows=rep.rows) -> float:
                picked = [r.runtime for r in rows if r.configuration == i]
                return round(sum(picked) / max(1, len(picked)), 6)

            units.append({
                "unit": rep.unit.name, "component": rep.unit.component,
                "design": rep.unit.design, "inputs": rep.inputs,
                "data_size_mb": round(rep.data_size_mb, 6),
                "regressor": rep.model.technique, "params": rep.model.params,
                "holdout_mape": rep.model.holdout_mape, "onnx": rep.onnx,
                "configurations": [{"parallelism": c.parallelism, "cores": c.cores,
                                    "mean_runtime": mean(i)}
                                   for i, c in enumerate(rep.configurations, 1)],
                "resources": {r: {"cores": c, "demand": round(d, 6)}
                              for r, (c, d) in sorted(rep.demands.items())},
            })
        return {"schema_version": PROFILE_SCHEMA, "campaign": result.campaign,
                "cpus": result.cpus, "settings": result.settings,
                "seconds": round(result.seconds, 3), "units": units,
                "written": [str(p) for p in result.written],
                "warnings": [d.to_json() for d in result.warnings]}

    HEADER: ClassVar[tuple[str, ...]] = (
        "unit", "resource", "cores", "mean s/req", "demand s", "regressor", "MAPE")

    @staticmethod
    def _cells(doc: dict) -> list[tuple[str, ...]]:
        rows = []
        for unit in doc["units"]:
            measured = {(c["parallelism"], c["cores"]): c["mean_runtime"]
                        for c in unit["configurations"]}
            mape = "-" if unit["holdout_mape"] is None else f"{unit['holdout_mape']:.1%}"
            for (p, k), mean in sorted(measured.items(), key=lambda kv: (kv[0][1], kv[0][0])):
                rows.append((unit["unit"], f"this host ×{p}" if p > 1 else "this host", str(k),
                             f"{mean:.4f}", "", unit["regressor"], mape))
            for name, spec in unit["resources"].items():
                rows.append((unit["unit"], name, f"{spec['cores']:g}", "",
                             f"{spec['demand']:.4f}", unit["regressor"], mape))
        return rows

    @staticmethod
    def _tail(doc: dict) -> str:
        return (f"campaign {doc['campaign']}: {len(doc['units'])} unit(s) profiled in "
                f"{doc['seconds']:.1f} s on {doc['cpus']} CPU(s)\n")

    def text(self, colour: bool = False) -> str:
        doc = self.to_json()
        return columns([self.HEADER, *self._cells(doc)], rule=True) + self._tail(doc)

    def markdown(self) -> str:
        doc = self.to_json()
        return md_table(self.HEADER, self._cells(doc)) + "\n" + self._tail(doc)


# ----------------------------------------------------------------------------- reconcile


@dataclass(frozen=True)
class Reconciled(View):
    """One reconcile cycle: a log line, or one JSON object a line (``--watch -o json``)."""

    json_indent: ClassVar[int | None] = None

    cycle: Cycle
    clock: str  # the wall-clock time the line is printed at (HH:MM:SS)

    def text(self, colour: bool = False) -> str:
        return f"{self.clock} {self.cycle.summary()}\n"

    def to_json(self) -> dict:
        return self.cycle.to_json()

    def markdown(self) -> str:
        return f"- `{self.clock}` {self.cycle.summary()}\n"


# ----------------------------------------------------------------------------- the rest


@dataclass(frozen=True)
class Schemas(View):
    """``aisprint schema list``: name and title of every schema."""

    schemas: tuple[tuple[str, str], ...]

    def text(self, colour: bool = False) -> str:
        return "".join(f"{name:24} {title}\n" for name, title in self.schemas)

    def to_json(self) -> dict:
        return {"schemas": [{"name": n, "title": t} for n, t in self.schemas]}

    def markdown(self) -> str:
        return md_table(("schema", "title"), [(f"`{n}`", t) for n, t in self.schemas])


@dataclass(frozen=True)
class Written(View):
    """Files a verb wrote (toscarizer tosca/fdl): one ``wrote PATH`` line each."""

    paths: tuple[Path, ...]

    def text(self, colour: bool = False) -> str:
        return "".join(f"wrote {p}\n" for p in self.paths)

    def to_json(self) -> dict:
        return {"written": [str(p) for p in self.paths]}


@dataclass(frozen=True)
class Infrastructures(View):
    """IM infrastructures and their state (``toscarizer deploy``)."""

    states: Mapping[str, Mapping[str, str]]  # name -> {"url", "state"}

    def text(self, colour: bool = False) -> str:
        return "".join(f"{name}: {entry['state']} {entry['url']}".rstrip() + "\n"
                       for name, entry in self.states.items())

    def to_json(self) -> dict:
        return {name: dict(entry) for name, entry in self.states.items()}

    def markdown(self) -> str:
        return md_table(("infrastructure", "state", "url"), [
            (f"`{name}`", entry["state"], entry["url"]) for name, entry in self.states.items()])


@dataclass(frozen=True)
class Outputs(View):
    """The outputs of deployed infrastructures (``toscarizer outputs``): YAML for people."""

    outputs: Mapping[str, Any]

    def text(self, colour: bool = False) -> str:
        # deferred: only this view writes YAML
        import yaml

        return yaml.safe_dump(dict(self.outputs), sort_keys=True)

    def to_json(self) -> dict:
        return dict(self.outputs)
