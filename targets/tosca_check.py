"""The TOSCA target's check: every emitted template through its two consumers.

* ``tosca-parser`` parses and validates it against IM's custom types;
* IM's own TOSCA→RADL translation (``IM.tosca.Tosca(text).to_radl()``) turns it into the
  systems, deploys and contextualisation IM would run.

Templates import IM's custom types by URL (as IM's own examples do); with no network, both
consumers are given a local copy instead (``localise_imports``, also what the IM client sends
with ``--local-imports``).

IM lives in its own virtualenv (``CheckTools.im_python``), so its translation runs there as one
subprocess for a batch of templates: this environment needs neither IM nor Ansible. Offline
limit: for an OSCAR cluster IM downloads the Ansible recipe of every node type
(``https://raw.githubusercontent.com/grycap/tosca/main/artifacts/…``) *during* translation.
Those fetches are answered from ``CheckTools.tosca_artifacts`` (a local copy of that
``artifacts/`` folder) when it holds the file, and otherwise with a placeholder playbook, so
what is checked is the translation itself — systems, deploys, contextualisation order, inputs
and functions resolved — not the recipes' content. Every other URL is refused.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic
from targets.check import CompiledTree, rejected, skipped

CUSTOM_TYPES_URL = "https://raw.githubusercontent.com/grycap/tosca/main/custom_types.yaml"
IM_INSTALL = ("set AISPRINT_IM_PYTHON to a python that imports IM, or create the project's "
              ".tools/im-venv: `python -m compiler.tools --install-im`")

# Runs inside IM's venv. argv: artifacts dir ('' = none), then template paths (imports local).
IM_TRANSLATOR = r"""
import json, logging, os, sys
import requests
from IM.tosca.Tosca import Tosca

logging.disable(logging.CRITICAL)
REMOTE = Tosca.ARTIFACTS_REMOTE_REPO
artifacts, paths = sys.argv[1], sys.argv[2:]
placeholders = []

class Offline(requests.adapters.BaseAdapter):
    def send(self, request, **kwargs):
        response = requests.models.Response()
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        local = os.path.join(artifacts, request.url[len(REMOTE):]) if artifacts else ""
        if request.url.startswith(REMOTE) and local and os.path.isfile(local):
            response.status_code, response._content = 200, open(local, "rb").read()
        elif request.url.startswith(REMOTE):
            placeholders.append(request.url[len(REMOTE):])
            response.status_code, response._content = 200, b"---\n- tasks: []\n"
        else:
            response.status_code, response.reason = 403, "offline: not fetched"
            response._content = b""
        return response

    def close(self):
        pass

results = {}
for path in paths:
    del placeholders[:]
    try:
        tosca = Tosca(open(path).read())
        tosca.cache_session = requests.Session()  # no cache file, no network
        tosca.cache_session.mount("https://", Offline())
        tosca.cache_session.mount("http://", Offline())
        _, radl = tosca.to_radl()
        results[path] = {"ok": True,
                         "systems": sorted(s.name for s in radl.systems),
                         "deploys": sorted([d.id, d.vm_number] for d in radl.deploys),
                         "configures": sorted(c.name for c in radl.configures),
                         "placeholders": sorted(set(placeholders))}
    except Exception as exc:
        results[path] = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
print(json.dumps(results))
"""


def is_template(path: str) -> bool:
    return "/im/" in path and path.endswith(".yaml")


def localise_imports(text: bytes | str, custom_types: Path) -> str:
    """``text`` importing ``custom_types`` (a local file) where it imports IM's by URL.

    Anything that is not a template with a list of imports is returned as it is, for its
    consumer to reject."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("imports", []), list):
        return text.decode() if isinstance(text, bytes) else text
    data["imports"] = [
        {name: str(custom_types) if url == CUSTOM_TYPES_URL else url for name, url in i.items()}
        if isinstance(i, dict) else i for i in data.get("imports", [])]
    return yaml.safe_dump(data, sort_keys=False)


def tosca_parser_problems(text: bytes | str, custom_types: Path) -> list[str]:
    """What tosca-parser finds wrong with one template (empty when it is valid)."""
    # deferred: tosca-parser takes ~0.3 s to import and only this check needs it
    from toscaparser.tosca_template import ToscaTemplate

    try:
        local = localise_imports(text, custom_types)
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(local)
        logging.getLogger("tosca").setLevel(logging.CRITICAL)
        try:
            ToscaTemplate(str(path))
        except Exception as exc:  # noqa: BLE001 - tosca-parser raises plain Exceptions
            return [line.strip() for line in str(exc).splitlines() if line.strip()]
    return []


@dataclass(frozen=True)
class Translation:
    """IM's verdict on one template: the RADL systems and deploys it made, or its error."""

    path: str
    ok: bool
    error: str = ""
    systems: tuple[str, ...] = ()
    deploys: tuple[tuple[str, int], ...] = ()
    configures: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()


def translate(templates: dict[str, bytes], *, python: Path, custom_types: Path,
              artifacts: Path | None = None, timeout: float = 300.0) -> dict[str, Translation]:
    """IM's translation of every template (name → bytes), in one subprocess of IM's venv."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for i, (name, data) in enumerate(sorted(templates.items())):
            file = Path(tmp) / f"t{i}.yaml"
            try:
                file.write_text(localise_imports(data, custom_types))
            except yaml.YAMLError:
                file.write_bytes(data)  # IM says what is wrong with it
            files[str(file)] = name
        # cwd: IM's requests-cache creates tosca_cache.sqlite in the working directory
        try:
            done = subprocess.run([str(python), "-c", IM_TRANSLATOR, str(artifacts or ""),
                                   *files], cwd=tmp, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {name: Translation(name, False, f"IM's checker did not finish within "
                                                   f"{timeout:g} s") for name in templates}
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            return {name: Translation(name, False, f"IM's checker failed: {tail}")
                    for name in templates}
        raw = json.loads(done.stdout.strip().splitlines()[-1])
    out = {}
    for file, name in files.items():
        r = raw[file]
        out[name] = Translation(name, r["ok"], r.get("error", ""), tuple(r.get("systems", ())),
                                tuple((d, int(n)) for d, n in r.get("deploys", ())),
                                tuple(r.get("configures", ())),
                                tuple(r.get("placeholders", ())))
    return out


def check_templates(tree: CompiledTree) -> tuple[Diagnostic, ...]:
    """tosca-parser, then IM's translation, on every template of the tree."""
    templates = dict(tree.matching(is_template))
    tools = tree.tools
    if not templates:
        return ()
    if tools.custom_types is None:
        return (skipped("TOSCA templates not checked: IM's custom_types.yaml was not found",
                        "pass --tosca-types PATH or set AISPRINT_TOSCA_TYPES"),)
    found = [rejected(path, problem) for path, data in templates.items()
             for problem in tosca_parser_problems(data, tools.custom_types)]
    if tools.im_python is None:
        return (*found, skipped("IM's TOSCA-to-RADL translation not checked: no IM "
                                "installation found", IM_INSTALL))
    translations = translate(templates, python=tools.im_python, custom_types=tools.custom_types,
                             artifacts=tools.tosca_artifacts)
    return (*found, *(rejected(path, f"IM's TOSCA translation: {result.error}")
                      for path, result in sorted(translations.items()) if not result.ok))
