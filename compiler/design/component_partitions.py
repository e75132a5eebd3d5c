"""Partition every ``partitionable_model`` component of an application into design folders.

For a component whose ``main()`` carries ``partitionable_model(onnx_file=F, num_partitions=N)``
the model ``src/<folder>/onnx/F`` is analysed (``compiler.design.onnx_cut``), the ``N`` best
cuts are kept and cut ``i`` becomes two design folders beside ``base``::

    aisprint/designs/<component>/partition<i>_1/   half 1: onnx/partition<i>_1.onnx
    aisprint/designs/<component>/partition<i>_2/   half 2: onnx/partition<i>_2.onnx

Each holds the component's files (``onnx/F`` left out), its ``main.py`` kept as
``base_main.py``, and a generated ``main.py`` that runs that code with the model swapped for
the half (``aisprint.partition.run_half``): half 1 writes ``<stem>.boundary.npz`` (boundary
tensors + the input file), half 2 reads it and finishes the component's work.
``aisprint/designs/component_partitions.yaml`` lists the designs of every component.

``analyse_component`` and ``render_component`` are pure (bytes out); ``write_designs`` is the
edge that swaps the folders in.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from compiler.design import onnx_cut as core
from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.errors import InvalidInput
from compiler.layout import BASE_DESIGN, COMPONENT_PARTITIONS, DESIGNS
from compiler.load import files
from compiler.model import ComponentAnnotations
from compiler.write import write_atomically

Progress = Callable[[str, int, int], None]  # component, done, total
# the second halves `boundary_sizes` reads back, and the folders on the way to them
_HALF_2 = re.compile(rf"^{DESIGNS}/[^/]+/partition(\d+)_2/onnx/partition\1_2\.onnx$")
_DESIGN_FOLDER = re.compile(rf"^{DESIGNS}/[^/]+(/partition\d+_2(/onnx)?)?$")
BASE_MAIN_NAMES = ("base_main.py", "component_main.py", "aisprint_base_main.py")


@dataclass(frozen=True)
class ComponentPartitions:
    """What partitioning one component found and chose."""

    component: str
    folder: str
    model: str  # path of the ONNX file, relative to the application
    requested: int
    candidates: int
    valid: int
    input_bytes: int
    flops_total: float
    chosen: tuple[core.Cut, ...]
    analyse_seconds: float = field(compare=False)
    write_seconds: float = field(default=0.0, compare=False)

    def designs(self) -> list[str]:
        return [f"partition{i}_{n}" for i in range(1, len(self.chosen) + 1) for n in (1, 2)]


@dataclass(frozen=True)
class PartitionReport:
    components: tuple[ComponentPartitions, ...]
    partitions_file: Path | None
    warnings: tuple[Diagnostic, ...] = ()

    def data_sizes(self) -> dict[str, float]:
        """MB each half 1 sends on, keyed as ``oscarp/components_data_size.yaml`` wants."""
        return data_sizes(self.components)


def data_sizes(components: Sequence[ComponentPartitions]) -> dict[str, float]:
    """``{<component>_partition<i>_1: boundary MB}`` for every chosen cut."""
    return {f"{c.component}_partition{i}_1": round(cut.boundary_mb, 6)
            for c in components for i, cut in enumerate(c.chosen, 1)}


# ----------------------------------------------------------------------------- analysis


def _requested(ann: ComponentAnnotations) -> tuple[int | None, Diagnostic | None]:
    raw = (ann.values.get("partitionable_model") or {}).get("num_partitions", 1)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        return None, diagnostic(
            "AIS904", f"{ann.component}: partitionable_model num_partitions={raw!r} is not a "
            "positive whole number", "write num_partitions=1 (or more): how many cuts to "
            "keep", ann.loc("partitionable_model.num_partitions"))
    return raw, None


def analyse_component(app_dir: str | os.PathLike[str], ann: ComponentAnnotations, *,
                      max_boundary_tensors: int = core.DEFAULT_MAX_BOUNDARY,
                      min_share: float = core.DEFAULT_MIN_SHARE,
                      progress: Progress | None = None):
    """Find and choose the cuts of one component: ``(summary, model, analysis)``.

    Raises ``InvalidInput`` (AIS901–AIS904) for a missing or broken model, a model without a
    valid cut, or a bad ``num_partitions``."""
    requested, problem = _requested(ann)
    if problem is not None:
        raise InvalidInput([problem])
    onnx_file = str(ann.onnx_file)
    rel = f"src/{ann.folder}/onnx/{onnx_file}"
    where = ann.loc("partitionable_model.onnx_file")
    started = time.perf_counter()
    data, problem = files.read_bytes(app_dir, rel)  # inside the application, capped
    if problem is not None and problem.code != "AIS001":  # a missing model is AIS901 below
        raise InvalidInput([problem])
    try:
        model = _load_model(data, rel)
        analysis = core.analyse(
            model, max_boundary_tensors=max_boundary_tensors,
            progress=(lambda done, total: progress(ann.component, done, total))
            if progress else None)
    except core.PartitionError as exc:
        if exc.kind == "missing":
            raise InvalidInput([diagnostic(
                "AIS901", f"{ann.component}: partitionable_model names {onnx_file}, but "
                f"{rel} does not exist", f"put the ONNX model at {rel} (or fix onnx_file)",
                where)]) from None
        raise InvalidInput([diagnostic(
            "AIS902", f"{ann.component}: {rel} cannot be partitioned: {exc}",
            "export the model again (e.g. torch.onnx.export) and check it with "
            "onnx.checker.check_model", where)]) from None
    if not analysis.cuts:
        raise InvalidInput([diagnostic(
            "AIS903", f"{ann.component}: {rel} has no valid cut with at most "
            f"{max_boundary_tensors} boundary tensors and work on both sides "
            f"({analysis.candidates} candidates examined)",
            "raise --max-boundary-tensors, or remove partitionable_model from this "
            "component", where)])
    chosen = core.choose(analysis, requested, min_share=min_share)
    summary = ComponentPartitions(
        ann.component, ann.folder, rel, requested, analysis.candidates, len(analysis.cuts),
        analysis.input_bytes, analysis.flops_total, chosen,
        time.perf_counter() - started)
    return summary, model, analysis


# ----------------------------------------------------------------------------- rendering


def entry_point(component: str, cut: int, part: int, base_main: str) -> bytes:
    """The generated main.py of one half."""
    role = ("it runs half 1 of the model and writes <stem>.boundary.npz (the boundary\n"
            "tensors and the input file) to OUTPUT_DIR for half 2."
            if part == 1 else
            "it reads the <stem>.boundary.npz of half 1, runs half 2 of the model, then\n"
            "the component's own post-processing, as the whole component would.")
    return (
        f'"""{component}, cut {cut}, half {part}: generated by `aisprint design` '
        "(do not edit).\n\n"
        f"Runs the component's own code ({base_main}, its main.py) with its ONNX model\n"
        f"swapped for onnx/partition{cut}_{part}.onnx:\n{role}\n\n"
        "    python main.py INPUT OUTPUT_DIR\n"
        '"""\n\n'
        "import sys\n"
        "from pathlib import Path\n\n"
        "from aisprint.partition import run_half\n\n"
        "HERE = Path(__file__).resolve().parent\n\n\n"
        "def main(args):\n"
        f'    return run_half(HERE, args, part={part}, model="partition{cut}_{part}.onnx",\n'
        f'                    base="{base_main}")\n\n\n'
        'if __name__ == "__main__":\n'
        '    print(main({"input": sys.argv[1], "output": sys.argv[2]}))\n').encode()


def _load_model(data: bytes | None, rel: str):
    """An ONNX model from its bytes, never from a path: onnx.load would also open the
    external-data files the model names, wherever they are."""
    import onnx

    if data is None:
        raise core.PartitionError("missing", f"{rel} does not exist")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several kinds
        raise core.PartitionError("invalid", f"not an ONNX model ({exc})") from exc
    if not model.graph.node:
        raise core.PartitionError("invalid", "it has no graph nodes (not an ONNX model?)")
    return model


def _component_files(app_dir: Path, ann: ComponentAnnotations) -> dict[str, bytes]:
    """The files of a component's folder, through the input boundary (links that lead out
    of the application, pipes, devices and oversized files are refused)."""
    prefix = f"src/{ann.folder}/"
    skip = f"onnx/{ann.onnx_file}"
    listed, problems = files.walk(app_dir, prefix.rstrip("/"), keep=lambda rel, folder: (
        "__pycache__" not in rel.split("/") and not rel.endswith(".pyc")))
    found = {}
    for rel in listed:
        if rel[len(prefix):] == skip:
            continue
        data, problem = files.read_bytes(app_dir, rel)
        if data is None:
            problems.append(problem)
        else:
            found[rel[len(prefix):]] = data
    if problems:
        raise InvalidInput(problems)
    return found


def render_component(app_dir: str | os.PathLike[str], ann: ComponentAnnotations,
                     summary: ComponentPartitions, model, analysis) -> dict[str, bytes]:
    """Every file of the partition designs of one component, relative to its designs folder
    (``partition<i>_<n>/...``)."""
    from onnx import shape_inference

    files = _component_files(Path(app_dir), ann)
    own_main = files.pop("main.py", None)
    base_main = next(n for n in BASE_MAIN_NAMES if n not in files)
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    out: dict[str, bytes] = {}
    for i, cut in enumerate(summary.chosen, 1):
        halves = core.split(model, cut, cut_number=i, source=str(ann.onnx_file),
                            tensors=analysis.tensors, inferred=inferred)
        for part, half in enumerate(halves, 1):
            design = f"partition{i}_{part}"
            for rel, data in files.items():
                out[f"{design}/{rel}"] = data
            if own_main is not None:
                out[f"{design}/{base_main}"] = own_main
            out[f"{design}/main.py"] = entry_point(summary.component, i, part, base_main)
            out[f"{design}/onnx/{design}.onnx"] = core.serialize(half)
    return out


def partitions_yaml(designs: Mapping[str, Sequence[str]]) -> bytes:
    """``component_partitions.yaml`` (§1.7): base first, then the halves cut by cut."""
    doc = {"components": {c: {"partitions": [BASE_DESIGN, *names]} for c, names in designs.items()}}
    return yaml.safe_dump(doc, sort_keys=False).encode()


# ----------------------------------------------------------------------------- writing


def _swap_in(designs_dir: Path, component: str, files: Mapping[str, bytes]) -> None:
    """Replace the partition folders of one component (base and others untouched)."""
    home = designs_dir / component
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".aisprint-design-", dir=home))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        trash = staging / ".old"
        trash.mkdir()
        for old in sorted(home.glob("partition*_*")):
            if old.is_dir():
                old.rename(trash / old.name)
        for new in sorted(p for p in staging.iterdir() if p.name != ".old"):
            new.rename(home / new.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def partition_application(app_dir: str | os.PathLike[str],
                          annotations: Sequence[ComponentAnnotations], *,
                          order: Sequence[str] | None = None,
                          max_boundary_tensors: int = core.DEFAULT_MAX_BOUNDARY,
                          min_share: float = core.DEFAULT_MIN_SHARE,
                          enabled: bool = True,
                          progress: Progress | None = None) -> PartitionReport:
    """Partition every partitionable component and write the designs (see the module doc).

    Everything is analysed before anything is written: one bad model leaves the tree as it
    was. With ``enabled=False`` the partition folders are removed and every component lists
    only ``base``."""
    root = Path(app_dir)
    by_component = {a.component: a for a in annotations if a.component}
    names = [c for c in (order or by_component) if c in by_component]
    errors: list[Diagnostic] = []
    found: list[tuple[ComponentAnnotations, ComponentPartitions, object, object]] = []
    for name in names:
        ann = by_component[name]
        if not enabled or not ann.onnx_file:
            continue
        try:
            summary, model, analysis = analyse_component(
                root, ann, max_boundary_tensors=max_boundary_tensors, min_share=min_share,
                progress=progress)
        except InvalidInput as exc:
            errors.extend(exc.diagnostics)
            continue
        found.append((ann, summary, model, analysis))
    if errors:
        raise InvalidInput(errors)
    warnings = []
    summaries = []
    designs_dir = root / DESIGNS
    rendered: dict[str, dict[str, bytes]] = {}
    for ann, summary, model, analysis in found:
        started = time.perf_counter()
        rendered[ann.component] = render_component(root, ann, summary, model, analysis)
        if len(summary.chosen) < summary.requested:
            warnings.append(diagnostic(
                "AIS905", f"{ann.component}: num_partitions={summary.requested} asked, but "
                f"only {len(summary.chosen)} cut(s) are Pareto-optimal (of {summary.valid} "
                "valid)", "lower num_partitions, or raise --max-boundary-tensors to "
                "consider more cuts", ann.loc("partitionable_model.num_partitions")))
        summaries.append((summary, started))
    done = []
    # the folders written into must be the application's own: a symlinked aisprint/ or
    # designs/<component> would carry the writes (and the renames) somewhere else
    leaving = [problem for name in names
               for problem in [files.locate(root, f"{DESIGNS}/{name}/x")[1]]
               if problem is not None]
    if leaving:
        raise InvalidInput(leaving)
    for name in names:
        generated = rendered.get(name, {})
        if generated or (designs_dir / name).is_dir():
            _swap_in(designs_dir, name, generated)
    for summary, started in summaries:
        done.append(replace(summary, write_seconds=time.perf_counter() - started))
    chosen = {s.component: s for s in done}
    text = partitions_yaml({n: chosen[n].designs() if n in chosen else [] for n in names})
    target = root / COMPONENT_PARTITIONS
    if files.read_bytes(root, COMPONENT_PARTITIONS)[0] != text:
        write_atomically(target, text, mode=0o644)  # a file of the application, like its code
    return PartitionReport(tuple(done), target, tuple(warnings))


def designed_partitions(app_dir: str | os.PathLike[str], component: str) -> list[str]:
    """The partition designs that exist on disk for ``component`` (``partition1_1``, …)."""
    home = Path(app_dir) / DESIGNS / component
    found = [p.name for p in home.glob("partition*_*") if p.is_dir()] if home.is_dir() else []
    return sorted(found, key=lambda n: tuple(int(x) for x in n[len("partition"):].split("_")
                                             if x.isdigit()))


def boundary_sizes(app_dir: str | os.PathLike[str]) -> dict[str, float]:
    """``{<component>_partition<i>_1: MB}`` read back from the designs on disk: what half 1
    sends on (the inputs of half 2, symbolic dimensions counted as 1), for
    ``oscarp/components_data_size.yaml``."""
    import numpy as np
    import onnx
    from onnx import helper

    sizes: dict[str, float] = {}
    listed, problems = files.walk(app_dir, DESIGNS, keep=lambda rel, folder: bool(
        (_DESIGN_FOLDER if folder else _HALF_2).match(rel)))
    for rel in listed:
        data, problem = files.read_bytes(app_dir, rel)
        if data is None:
            problems.append(problem)
            continue
        try:
            model = onnx.load_model_from_string(data)
            total = 0
            for vi in model.graph.input:
                t = vi.type.tensor_type
                count = int(np.prod([d.dim_value if d.HasField("dim_value") else 1
                                     for d in t.shape.dim], dtype=np.int64))
                total += count * np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type)).itemsize
        except Exception as exc:  # noqa: BLE001 - protobuf and onnx raise several kinds
            shown = files.display(app_dir, rel)
            problems.append(diagnostic(
                "AIS902", f"{shown} is not a readable ONNX model ({exc})",
                "run `aisprint design` again to regenerate the partitions", Location(shown)))
            continue
        component, design = rel.split("/")[2:4]  # aisprint/designs/<c>/partition<i>_2/...
        sizes[f"{component}_{design[:-2]}_1"] = round(total / 1e6, 6)
    if problems:
        raise InvalidInput(problems)
    return dict(sorted(sizes.items()))
