"""Profiling results an application carries for the placement (OSCAR-P's formats).

``oscarp/performance_models.json`` says how fast each component or partition runs on each
resource; ``oscarp/components_data_size.yaml`` how many MB each sends on. Both are optional:
without the first, an application can be validated and compiled with its base deployment but
not placed by cost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, Location, diagnostic, has_errors
from compiler.load import files
from compiler.load.learnt import onnx_path
from compiler.load.schema import validate_document
from compiler.load.yamlpos import YamlDocument, parse_yaml, read_yaml

PERFORMANCE_FILE = "oscarp/performance_models.json"
DATA_SIZE_FILE = "oscarp/components_data_size.yaml"


@dataclass(frozen=True)
class PerformanceData:
    models: Mapping[str, Mapping[str, Mapping[str, Mapping]]]  # comp -> unit -> resource -> model
    data_sizes: Mapping[str, float]
    document: YamlDocument  # positions for diagnostics
    # the application (folder or files read): learnt models' regressor files are relative to it
    root: files.Root = ""

    def model(self, component: str, unit: str, resource: str) -> Mapping | None:
        return (self.models.get(component) or {}).get(unit, {}).get(resource)


def load_performance(app_dir: files.Root
                     ) -> tuple[PerformanceData | None, list[Diagnostic]]:
    """Both files, through the input boundary and their schemas; validation reports what
    this finds, so compile and placement never meet a file they cannot read."""
    root = app_dir if isinstance(app_dir, files.Listing) else os.fspath(app_dir)
    if not files.exists(root, PERFORMANCE_FILE):
        return None, []
    file = files.display(root, PERFORMANCE_FILE)
    text, problem = files.read_text(root, PERFORMANCE_FILE)
    if text is None:
        return None, [problem]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also an int of 4300+ digits
        line = getattr(exc, "lineno", 1)
        return None, [diagnostic("AIS002", f"cannot read {file}: {exc}",
                                 "write valid JSON (see schemas/performance_models.schema.json)",
                                 Location(file, line, getattr(exc, "colno", 1)))]
    diags: list[Diagnostic] = []
    doc, found = parse_yaml(text.replace("\t", " "), file)
    diags += found
    if doc is None:
        return None, diags
    # the values as JSON reads them (YAML 1.1 reads 1e-06 as text); YAML only gives the lines
    doc = YamlDocument(file, data, doc.value_positions, doc.key_positions)
    diags += validate_document(doc, "performance_models")
    if not has_errors(diags):
        diags += list(_regressor_files(root, doc))
    sizes: dict[str, float] = {}
    if files.exists(root, DATA_SIZE_FILE):
        size_doc, found = read_yaml(root, DATA_SIZE_FILE)
        diags += found
        if size_doc is not None:
            size_errors = validate_document(size_doc, "components_data_size")
            diags += size_errors
            if not has_errors(size_errors) and not has_errors(found):
                sizes = {str(k): float(v) for k, v in size_doc.data.items()}
    if has_errors(diags):
        return None, diags
    return PerformanceData(doc.data, sizes, doc, root), diags


def _regressor_files(root: files.Root, doc: YamlDocument) -> Iterator[Diagnostic]:
    """A learnt model's ONNX regressor is read by the placement: it must be a file of the
    application (the input boundary's rules), named by a relative path that stays inside."""
    for component, units in doc.data.items():
        for unit, resources in (units if isinstance(units, dict) else {}).items():
            for resource, entry in (resources if isinstance(resources, dict) else {}).items():
                regressor = entry.get("regressor_file") if isinstance(entry, dict) else None
                if not isinstance(regressor, str) or not regressor:
                    continue
                where = doc.loc((component, unit, resource, "regressor_file"))
                rel = onnx_path(regressor).as_posix()
                real, problem = files.locate(root, rel)
                if problem is not None:
                    yield diagnostic(
                        "AIS006", f"regressor_file {regressor!r} leaves the application: "
                        "the placement reads only files inside it", "write the path relative "
                        "to the application folder, e.g. oscarp/models/<unit>/best.pickle",
                        where)
                elif files.exists(root, rel):
                    problem = files.check(root, rel)
                    if problem is not None:
                        yield problem
