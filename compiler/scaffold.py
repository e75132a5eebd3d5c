"""``aisprint new-application``: a complete application folder from the packaged template.

The folder tree is the one the AI-SPRINT Studio template creates (common_config/, src/,
aisprint/{designs,deployments,logs}/, ams/, im/, oscar/, oscarp/, pycompss/, space4ai-d/),
filled with a small working two-component example that passes ``aisprint validate``. Editor
support comes with it: draft-07 schemas in ``.schemas/`` and a VS Code ``yaml.schemas`` map.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from compiler.errors import AisprintError
from compiler.load.schema import INPUT_SCHEMAS, downlevel_draft07, dumps, load_schema

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RENAMES = {"gitignore": ".gitignore"}  # dot-files do not survive every packaging tool

_EDITOR_GLOBS = {
    "application_dag": "common_config/application_dag.yaml",
    "candidate_resources": "common_config/candidate_resources.yaml",
    "candidate_deployments": "common_config/candidate_deployments.yaml",
    "annotations": "common_config/annotations.yaml",
    "physical_nodes": "common_config/physical_nodes.yaml",
    "space4ai_d": "space4ai-d/SPACE4AI-D.yaml",
}


def _copy_template(source, target: Path, name: str) -> None:
    for entry in source.iterdir():
        dest = target / _RENAMES.get(entry.name, entry.name)
        if entry.is_dir():
            if entry.name == "__pycache__":
                continue
            dest.mkdir()
            _copy_template(entry, dest, name)
        else:
            data = entry.read_bytes()
            if entry.name != ".gitkeep":
                data = data.replace(b"{{app_name}}", name.encode())
            dest.write_bytes(data)


def scaffold(name: str, target: Path) -> Path:
    if not _NAME.match(name):
        raise AisprintError(
            f"'{name}' is not a valid application name: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        template = resources.files("compiler.templates").joinpath("new_application")
        _copy_template(template, staging, name)
        schemas = staging / ".schemas"
        schemas.mkdir()
        for schema in INPUT_SCHEMAS:
            (schemas / f"{schema}.draft07.json").write_text(
                dumps(downlevel_draft07(load_schema(schema))), encoding="utf-8")
        vscode = staging / ".vscode"
        vscode.mkdir()
        settings = {"yaml.schemas": {f"./.schemas/{schema}.draft07.json": glob
                                     for schema, glob in _EDITOR_GLOBS.items()}}
        (vscode / "settings.json").write_text(json.dumps(settings, indent=2) + "\n",
                                              encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp made it private; give it the usual mode
        staging.rename(target)  # one step: the folder appears complete or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def new_application(name: str, parent: str | os.PathLike[str] = ".") -> Path:
    """Scaffold a complete application folder that validates unchanged."""
    target = Path(parent) / name
    if target.exists():
        raise AisprintError(
            f"{target} already exists: choose another name or remove it first "
            "(new-application never overwrites files)")
    return scaffold(name, target)
