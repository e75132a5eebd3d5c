"""Load an application folder: every input file, parsed, schema-checked and built into the model.

Files are read through the input boundary (``compiler.load.files``), and ``scan_inputs`` is the
one list of files compile reads, so what validation accepts compile can read.

``load_application`` never raises on bad input: it returns what it could build plus the
diagnostics for the rest. A part whose file is missing or breaks its schema is ``None``, so the
cross-file checks (``compiler.validate``) can still run on the parts that are sound.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, diagnostic, has_errors
from compiler.layout import DESIGNS
from compiler.load import annotations as ann
from compiler.load import common_config as cc
from compiler.load import files
from compiler.load.oscarp import load_performance
from compiler.load.schema import INPUT_FILES, validate_document
from compiler.load.yamlpos import YamlDocument, read_yaml
from compiler.model import (
    Application,
    CandidateDeployment,
    ComponentAnnotations,
    Dag,
    Infrastructure,
    PhysicalNode,
    Space4aiDSettings,
)

# Every file `aisprint compile` reads (and records in the manifest's inputs): validation
# looks at the same list, so it refuses whatever compile could not read.
# What `aisprint design` generated for partitions is an input; what compile adds beside it
# (build files, the SDK copy) is not, so compiling into the application folder is stable.
PARTITION_FILE = re.compile(rf"^{DESIGNS}/(?P<component>[^/]+)/"
                            r"partition(?P<cut>\d+)_(?P<part>\d+)/(?P<rel>.+)$")
COMPILE_OWNED_IN_DESIGN = ("Dockerfile", "Dockerfile.aws", "script.sh", "start.sh",
                           "telegraf-lambda.conf", "aisprint/")
_PARTITION_FOLDER = re.compile(rf"^{DESIGNS}/[^/]+(/partition\d+_\d+(/.*)?)?$")


def _cached(rel: str) -> bool:
    return "__pycache__" in rel.split("/") or rel.endswith(".pyc")


def _top_level(*suffixes: str) -> files.Keep:
    return lambda rel, folder: not folder and rel.endswith(suffixes)


def _designed(rel: str, folder: bool) -> bool:
    if folder:
        return bool(_PARTITION_FOLDER.match(rel)) and not _cached(rel)
    match = PARTITION_FILE.match(rel)
    return bool(match) and not match["rel"].startswith(COMPILE_OWNED_IN_DESIGN) \
        and not _cached(rel)


def _oscarp(rel: str, folder: bool) -> bool:
    # the two files of OSCAR-P on top, and the ONNX regressors learnt models name below it
    return folder or rel.count("/") == 1 and rel.endswith((".json", ".yaml")) \
        or rel.endswith(".onnx")


def scan_inputs(root: files.Root) -> tuple[list[str], list[Diagnostic]]:
    """The input files of an application (relative POSIX paths, sorted) and the entries the
    input boundary refuses among them (links out, pipes, devices, oversized files)."""
    found: list[str] = []
    problems: list[Diagnostic] = []
    for folder, keep in (("common_config", _top_level(".yaml")),
                         ("src", lambda rel, folder: not _cached(rel)),
                         ("oscarp", _oscarp),
                         ("space4ai-d", lambda rel, folder: rel == "space4ai-d/SPACE4AI-D.yaml"),
                         (DESIGNS, _designed)):
        listed, refused = files.walk(root, folder, keep=keep)
        found += listed
        problems += refused
    return sorted(found), problems


def read_inputs(root: files.Root) -> files.Snapshot:
    """Every input file of the application, read once through the input boundary: what
    validation checks, compile copies and the manifest records are then the same bytes.
    What the boundary refuses is in ``refused`` (validation reports it)."""
    listed, problems = scan_inputs(root)
    if isinstance(root, files.Listing):
        root.prefetch(listed)
    found: dict[str, bytes] = {}
    for rel in listed:
        data, problem = files.read_bytes(root, rel)
        if data is None:
            problems.append(problem)
        else:
            found[rel] = data
    shown = root.root if isinstance(root, files.Listing) else os.fspath(root)
    return files.Snapshot(shown, found, problems)


@dataclass(frozen=True)
class LoadedApplication:
    """Everything read from an application folder, sound or not."""

    app_dir: str
    documents: Mapping[str, YamlDocument]  # schema name -> parsed document
    diagnostics: tuple[Diagnostic, ...]
    dag: Dag | None = None
    infrastructure: Infrastructure | None = None
    deployments: tuple[CandidateDeployment, ...] | None = None
    annotations: tuple[ComponentAnnotations, ...] | None = None
    annotation_sources: tuple[str, ...] = ()  # folders under src/
    physical_nodes: tuple[PhysicalNode, ...] | None = None
    space4aid: Space4aiDSettings | None = None
    source_documents: Mapping[str, YamlDocument] = field(default_factory=dict)
    performance: object | None = None  # compiler.load.oscarp.PerformanceData
    source: files.Snapshot | None = None  # the input files, as read once

    @property
    def application(self) -> Application | None:
        if self.dag is None or self.infrastructure is None or self.deployments is None:
            return None
        return Application(
            self.app_dir, self.dag, self.infrastructure, self.deployments,
            self.annotations or (), self.physical_nodes or (), self.space4aid)


def _display(app_dir: str, rel: str) -> str:
    return os.path.normpath(os.path.join(app_dir, rel))


def load_application(app: str | os.PathLike[str] | files.Listing) -> LoadedApplication:
    """``app``: an application folder, or its files already read (``read_inputs``, or a
    git revision's ``compiler.load.revision.GitTree``)."""
    diags: list[Diagnostic] = []
    if not isinstance(app, files.Listing):
        given = os.fspath(app)
        if not Path(given).is_dir():
            diags.append(diagnostic(
                "AIS001", f"application folder {given} does not exist",
                "pass the folder that holds common_config/ (create one with "
                "`aisprint new-application NAME`)", Location(given)))
            return LoadedApplication(given, {}, tuple(diags))
    source = app if isinstance(app, files.Snapshot) else read_inputs(app)
    given = source.root

    documents: dict[str, YamlDocument] = {}
    valid: dict[str, YamlDocument] = {}
    diags += source.refused
    for spec in INPUT_FILES:
        file = _display(given, spec.path)
        if not files.exists(source, spec.path):
            if spec.required:
                diags.append(diagnostic(
                    "AIS001", f"{spec.path} is missing: it describes {spec.purpose}",
                    "create it (`aisprint new-application NAME` writes an example of every "
                    "file) or check that you passed the application folder", Location(file)))
            continue
        doc, found = read_yaml(source, spec.path)
        diags.extend(found)
        if doc is None:
            continue
        documents[spec.schema] = doc
        schema_errors = validate_document(doc, spec.schema)
        diags.extend(schema_errors)
        if not has_errors(found) and not has_errors(schema_errors):
            valid[spec.schema] = doc

    parts: dict = {}
    if "application_dag" in valid:
        parts["dag"] = cc.build_dag(valid["application_dag"])
    if "candidate_resources" in valid:
        parts["infrastructure"] = cc.build_infrastructure(valid["candidate_resources"])
    if "candidate_deployments" in valid:
        parts["deployments"] = cc.build_deployments(valid["candidate_deployments"])
    if "physical_nodes" in valid:
        parts["physical_nodes"] = cc.build_physical_nodes(valid["physical_nodes"])
    if "space4ai_d" in valid:
        parts["space4aid"] = cc.build_space4aid(valid["space4ai_d"])

    parts["performance"], found = load_performance(source)
    diags += found

    folders = ann.discover_sources(source)
    source_docs: dict[str, YamlDocument] = {}
    if folders:
        from_sources: list[ComponentAnnotations] = []
        for folder in folders:
            main = f"src/{folder}/main.py"
            file = _display(given, main)
            if not files.exists(source, main):
                diags.append(diagnostic(
                    "AIS508", f"src/{folder}/ has no main.py",
                    "every folder under src/ is a component and needs a main.py with an "
                    "annotated `def main`; move helper folders inside a component",
                    Location(_display(given, f"src/{folder}"))))
                continue
            key = ann.source_key(given, folder)
            found_ann, doc, found = ann.read_source(source, main, key=key, folder=folder)
            diags.extend(found)
            if doc is None or found_ann is None:
                continue
            source_docs[folder] = doc
            schema_errors = validate_document(doc, "annotations")
            diags.extend(schema_errors)
            if not has_errors(found) and not has_errors(schema_errors):
                from_sources.append(found_ann)
        parts["annotations"] = tuple(from_sources)
        if "annotations" in valid:
            diags.extend(_stale_check(valid["annotations"], parts["annotations"]))
    elif "annotations" in valid:
        parts["annotations"] = ann.from_annotations_yaml(valid["annotations"])

    return LoadedApplication(given, documents, tuple(diags), annotation_sources=tuple(folders),
                             source_documents=source_docs, source=source, **parts)


def _stale_check(doc: YamlDocument, from_sources: tuple[ComponentAnnotations, ...]
                 ) -> list[Diagnostic]:
    written = {a.folder: a.values for a in ann.from_annotations_yaml(doc)}
    current = {a.folder: a.values for a in from_sources}
    if written == current:
        return []
    changed = sorted(set(written) ^ set(current)
                     | {f for f in set(written) & set(current) if written[f] != current[f]})
    return [diagnostic(
        "AIS512",
        "common_config/annotations.yaml does not match the annotations in src/ "
        f"(differs for: {', '.join(changed)})",
        "run `aisprint design APP_DIR` to rewrite it; validation uses the sources",
        doc.loc(()))]
