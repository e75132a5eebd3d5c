"""Profiling results an application carries for the placement (OSCAR-P's formats).

``oscarp/performance_models.json`` says how fast each component or partition runs on each
resource; ``oscarp/components_data_size.yaml`` how many MB each sends on. Both are optional:
without the first, an application can be validated and compiled with its base deployment but
not placed by cost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, diagnostic, has_errors
from compiler.load.yamlpos import YamlDocument, parse_yaml

PERFORMANCE_FILE = "oscarp/performance_models.json"
DATA_SIZE_FILE = "oscarp/components_data_size.yaml"


@dataclass(frozen=True)
class PerformanceData:
    models: Mapping[str, Mapping[str, Mapping[str, Mapping]]]  # comp -> unit -> resource -> model
    data_sizes: Mapping[str, float]
    document: YamlDocument  # positions for diagnostics
    root: str = ""  # the application folder: learnt models' regressor files are relative to it

    def model(self, component: str, unit: str, resource: str) -> Mapping | None:
        return (self.models.get(component) or {}).get(unit, {}).get(resource)


def load_performance(app_dir: str | os.PathLike[str]
                     ) -> tuple[PerformanceData | None, list[Diagnostic]]:
    from compiler.validate.schema import validate_document

    root = Path(app_dir)
    path = root / PERFORMANCE_FILE
    file = os.path.normpath(os.path.join(os.fspath(app_dir), PERFORMANCE_FILE))
    if not path.is_file():
        return None, []
    diags: list[Diagnostic] = []
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        return None, [diagnostic("AIS002", f"cannot read {file}: {exc}",
                                 "write valid JSON (see schemas/performance_models.schema.json)",
                                 Location(file, line, getattr(exc, "colno", 1)))]
    doc, found = parse_yaml(text.replace("\t", " "), file)
    diags += found
    if doc is None:
        return None, diags
    diags += validate_document(doc, "performance_models")
    sizes: dict[str, float] = {}
    size_path = root / DATA_SIZE_FILE
    if size_path.is_file():
        size_file = os.path.normpath(os.path.join(os.fspath(app_dir), DATA_SIZE_FILE))
        size_doc, found = parse_yaml(size_path.read_text(encoding="utf-8"), size_file)
        diags += found
        if size_doc is not None:
            size_errors = validate_document(size_doc, "components_data_size")
            diags += size_errors
            if not has_errors(size_errors):
                sizes = {str(k): float(v) for k, v in size_doc.data.items()}
    if has_errors(diags):
        return None, diags
    return PerformanceData(doc.data, sizes, doc, os.fspath(app_dir)), diags
