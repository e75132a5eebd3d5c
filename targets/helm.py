"""A Helm chart per deployment, for the units that run on Kubernetes (not on FaaS).

``aisprint/deployments/<d>/helm/<app>/``: a fixed set of templates (Deployment, Service,
HorizontalPodAutoscaler per component, one ConfigMap for the monitoring settings) and a
``values.yaml`` that carries everything the placement decided — image, CPU and memory from
the container, replicas and the most replicas from the placement, node selectors that pin each
component to its layer, resource type and CPU architecture, GPU and SGX requests — plus a
``values.schema.json`` (draft-07, which Helm checks on every install).

Checked by ``helm lint --strict`` and ``helm template``, then every rendered manifest by
``kubernetes-validate --strict`` against the Kubernetes schemas.
"""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic
from compiler.layout import deployment
from targets import EmitContext, dump_yaml, slug
from targets.check import CompiledTree, rejected, skipped
from targets.tosca import image_of

TEMPLATES = ("_helpers.tpl", "configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml")
LAYER_LABEL = "aisprint.eu/layer"
RESOURCE_LABEL = "aisprint.eu/resource"


def values(context: EmitContext, view) -> dict:
    app = context.application
    components = {}
    for unit in view.units:
        resource = app.infrastructure.resource(unit.resource)
        if resource.is_faas:
            continue
        cpu = f"{int(round(unit.container.computing_units * 1000))}m"
        memory = f"{unit.container.memory_size:g}Mi"
        limits = {"cpu": cpu, "memory": memory}
        if unit.container.gpu_requirement:
            limits["nvidia.com/gpu"] = 1
        if unit.container.trusted_execution:
            limits["sgx.intel.com/enclave"] = 1
        components[slug(unit.name)] = {
            "image": image_of(unit, resource.cpu_architecture),
            "workingDir": f"/opt/{unit.name}",
            "replicas": 1,
            "maxReplicas": max(1, unit.replicas or 1),
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": limits},
            "nodeSelector": {"kubernetes.io/arch": resource.cpu_architecture,
                             LAYER_LABEL: str(unit.layer), RESOURCE_LABEL: slug(unit.resource)},
            "env": {"COMPONENT_NAME": unit.name, "RESOURCE_ID": unit.resource,
                    "COMPUTING_UNITS": f"{unit.container.computing_units:g}"},
        }
    return {"application": slug(app.name),
            "monitoring": {"host": f"{slug(app.name)}-telegraf", "port": "8094"},
            "components": components}


def values_schema() -> dict:
    quantity = {"type": ["string", "integer"]}
    component = {
        "type": "object", "additionalProperties": False,
        "required": ["image", "workingDir", "replicas", "maxReplicas", "resources",
                     "nodeSelector", "env"],
        "properties": {
            "image": {"type": "string", "minLength": 1},
            "workingDir": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 1},
            "maxReplicas": {"type": "integer", "minimum": 1},
            "resources": {"type": "object", "properties": {
                "requests": {"type": "object", "additionalProperties": quantity},
                "limits": {"type": "object", "additionalProperties": quantity}}},
            "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
            "env": {"type": "object", "additionalProperties": {"type": "string"}}}}
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Values of an aisprint application chart",
            "type": "object", "additionalProperties": False,
            "required": ["application", "monitoring", "components"],
            "properties": {
                "application": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "monitoring": {"type": "object", "required": ["host", "port"],
                               "properties": {"host": {"type": "string"},
                                              "port": {"type": "string"}}},
                "components": {"type": "object",
                               "propertyNames": {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                               "additionalProperties": component}}}


class HelmEmitter:
    name = "helm"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        app = context.application
        chart = resources.files("targets").joinpath("helm_chart")
        chart_yaml = chart.joinpath("Chart.yaml.tmpl").read_text().format(
            name=slug(app.name), app_version="1.0",
            description=f"{app.name} on Kubernetes, as placed by aisprint")
        templates = {name: chart.joinpath("templates", name).read_bytes() for name in TEMPLATES}
        files = {}
        for view in context.deployments:
            chart_values = values(context, view)
            if not chart_values["components"]:
                continue
            root = f"{deployment(view.name)}/helm/{slug(app.name)}"
            files[f"{root}/Chart.yaml"] = chart_yaml.encode()
            files[f"{root}/values.yaml"] = dump_yaml(chart_values)
            files[f"{root}/values.schema.json"] = (
                json.dumps(values_schema(), indent=2) + "\n").encode()
            for name, data in templates.items():
                files[f"{root}/templates/{name}"] = data
        return files

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        charts = tree.matching(lambda path: "/helm/" in path and path.endswith("/Chart.yaml"))
        if not charts:
            return ()
        if tree.tools.helm is None:
            return (skipped("Helm charts not checked: no helm binary found",
                            "put helm on the PATH, set AISPRINT_HELM, or fetch one into the "
                            "project: `python -m compiler.tools --install-helm`"),)
        return tuple(rejected(path, problem) for path, _ in charts
                     for problem in chart_problems((tree.root / path).parent, tree.tools.helm))


def chart_problems(chart: Path, helm: Path, timeout: float = 300.0) -> list[str]:
    """helm lint, helm template, then every rendered manifest by kubernetes-validate --strict."""
    # deferred: only this check needs kubernetes-validate, not every compile that emits a chart
    import kubernetes_validate

    try:
        lint = subprocess.run([str(helm), "lint", "--strict", str(chart)], capture_output=True,
                              text=True, timeout=timeout)
        if lint.returncode != 0:
            return [f"helm lint: {line}" for line in lint.stdout.splitlines()
                    if "[ERROR]" in line or "[WARNING]" in line] or ["helm lint failed"]
        rendered = subprocess.run([str(helm), "template", "release", str(chart)],
                                  capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return [f"helm did not answer within {timeout:g} s: {' '.join(map(str, exc.cmd))}"]
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


EMITTER = HelmEmitter()
