"""IM's own TOSCA→RADL translation (``IM.tosca.Tosca(text).to_radl()``) run on emitted templates.

IM lives in its own virtualenv (``compiler.runtime.im.server.find_im_python``), so the check
runs there as one subprocess for a batch of templates: the main environment needs neither IM
nor Ansible. The custom types import is pointed at a local copy.

Offline limit: for an OSCAR cluster IM downloads the Ansible recipe of every node type
(``https://raw.githubusercontent.com/grycap/tosca/main/artifacts/…``) *during* translation.
With no network, those fetches are answered from ``$AISPRINT_TOSCA_ARTIFACTS`` (a local copy of
that ``artifacts/`` folder) when it holds the file, and otherwise with a placeholder playbook,
so what is checked is the translation itself — systems, deploys, contextualisation order,
inputs and functions resolved — not the recipes' content. Every other URL is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ARTIFACTS_ENV = "AISPRINT_TOSCA_ARTIFACTS"

# Runs inside IM's venv. argv: custom_types, artifacts dir ('' = none), then template paths.
CHECKER = r"""
import json, logging, os, sys
import requests, yaml
from IM.tosca.Tosca import Tosca

logging.disable(logging.CRITICAL)
REMOTE = Tosca.ARTIFACTS_REMOTE_REPO
CUSTOM_TYPES_URL = "https://raw.githubusercontent.com/grycap/tosca/main/custom_types.yaml"
custom_types, artifacts, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
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
        data = yaml.safe_load(open(path))
        data["imports"] = [{k: (custom_types if v == CUSTOM_TYPES_URL else v)
                            for k, v in i.items()} if isinstance(i, dict) else i
                           for i in data.get("imports", [])]
        tosca = Tosca(yaml.safe_dump(data))
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
    if artifacts is None and os.environ.get(ARTIFACTS_ENV):
        artifacts = Path(os.environ[ARTIFACTS_ENV])
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for i, (name, data) in enumerate(sorted(templates.items())):
            file = Path(tmp) / f"t{i}.yaml"
            file.write_bytes(data)
            files[str(file)] = name
        # cwd: IM's requests-cache creates tosca_cache.sqlite in the working directory
        done = subprocess.run([str(python), "-c", CHECKER, str(custom_types),
                               str(artifacts or ""), *files], cwd=tmp, capture_output=True,
                              text=True, timeout=timeout)
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
