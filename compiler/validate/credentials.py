"""Credentials: none written literally in the inputs (AIS601-AIS604)."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.load import files as boundary
from compiler.load.application import LoadedApplication
from compiler.load.schema import INPUT_FILES
from compiler.load.yamlpos import YamlDocument
from compiler.secrets import (
    ALLOW_ENV,
    credential_field,
    credential_shape,
    describe_literal,
    find_credential,
    is_reference,
    literals_allowed,
    variable_name,
)
from compiler.validate.registry import check

# A literal credential is an error (AIS602), a warning (AIS601) when the user opted in for a
# local test; the emitters write a ${VAR} reference either way (compiler/secrets.py names it:
# the hint below gives the same name). A value shaped like a credential anywhere else is
# copied verbatim into the artifacts, so it is an error whatever the opt-in (AIS603, AIS604).
# No message shows any part of the value.

_SOURCE_SCAN_LIMIT = 1 << 20  # bytes read per file under src/ (the start holds any key)


def _walk(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield path + (key,), key, value
            yield from _walk(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield path + (i,), None, value
            yield from _walk(value, path + (i,))


def _credential_name(doc: YamlDocument, path: tuple) -> str:
    """The variable the fix writes: the emitters' name for physical_nodes.yaml (resource name
    + the field's path under it), the value's path elsewhere."""
    if path[:1] == ("ComputationalLayers",) and len(path) > 4 and path[2] == "Resources":
        resource = doc.get(path[:4] + ("name",))
        if isinstance(resource, str) and resource:
            return variable_name(resource, *path[4:])
    return variable_name(*path[-3:])


def secrets_in(doc: YamlDocument, allow_literals: bool = False) -> Iterator[Diagnostic]:
    for path, key, value in _walk(doc.data):
        if not isinstance(value, str) or not value.strip() or is_reference(value):
            continue
        field = key if isinstance(key, str) else next(
            (p for p in reversed(path) if isinstance(p, str)), "")
        if isinstance(key, str) and credential_field(key):
            var = _credential_name(doc, path)
            what = describe_literal(key, value)
            if allow_literals:
                yield diagnostic(
                    "AIS601", f"{what} is written in '{key}' ({ALLOW_ENV} allows it here)",
                    f"artifacts that need it carry ${{{var}}}, never the value: export {var} "
                    f"where you deploy, and write ${{{var}}} here before you commit",
                    doc.loc(path))
            else:
                yield diagnostic(
                    "AIS602", f"{what} is written in '{key}': credentials are never committed",
                    f"write ${{{var}}} here and export {var} where deployments run "
                    "(deploy and reconcile fill it in); rotate it if it was ever pushed. "
                    f"For a local test only, {ALLOW_ENV}=1 makes this a warning",
                    doc.loc(path))
            continue
        shape = credential_shape(value)
        if shape:
            yield diagnostic(
                "AIS603", f"{shape} is written in '{field}', which is copied into the "
                "compiled artifacts",
                "remove it: credentials belong only in physical_nodes.yaml's key, password "
                "and token fields, as ${VAR} references (endpoints without user:password@); "
                "rotate it if it was ever pushed", doc.loc(path))


def secrets_in_comments(doc: YamlDocument, text: str) -> Iterator[Diagnostic]:
    """Credential shapes outside the values (comments): the DAG file is copied as written."""
    lines = text[:_SOURCE_SCAN_LIMIT].splitlines()
    values = [v for _, _, v in _walk(doc.data) if isinstance(v, str)]
    for number, line in enumerate(lines, 1):
        found = find_credential(line)
        if found and not any(found[1] in v for v in values):
            yield diagnostic(
                "AIS603", f"{found[0]} is written in a comment of this file",
                "remove it (comments are committed, and some files are copied as written); "
                "rotate it if it was ever pushed", Location(doc.file, number, 1))


@check("documents")
def no_secrets(app: LoadedApplication) -> Iterator[Diagnostic]:
    allow = literals_allowed()
    paths = {spec.schema: spec.path for spec in INPUT_FILES}
    for schema, doc in app.documents.items():
        yield from secrets_in(doc, allow)
        data = app.source.files.get(paths.get(schema, "")) if app.source else None
        if data is not None:
            yield from secrets_in_comments(doc, data.decode("utf-8", "replace"))


@check()
def no_secrets_in_sources(app: LoadedApplication) -> Iterator[Diagnostic]:
    """Every file under src/ is copied into the designs (and their images): no text file may
    hold a credential. The files are the ones read (links inside the application followed,
    the others refused by the input boundary)."""
    if app.source is None:
        return
    for rel, data in app.source.files.items():
        if not rel.startswith("src/"):
            continue
        raw = data[:_SOURCE_SCAN_LIMIT]
        if b"\0" in raw[:8192]:
            continue  # binary (ONNX models, images): keys are text files
        text = raw.decode("utf-8", "replace")
        shape = credential_shape(text)
        if shape is None:
            continue
        line = next((i for i, row in enumerate(text.splitlines(), 1)
                     if credential_shape(row)), 0)
        yield diagnostic(
            "AIS604", f"{shape} is written in {rel}, which is copied into every design and "
            "container image", "remove it and read the credential from an environment "
            "variable at run time (os.environ); rotate it if it was ever pushed",
            Location(boundary.display(app.source, rel), line, 1 if line else 0))
