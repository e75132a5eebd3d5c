"""OSCAR FDL: the services of each deployment's OSCAR clusters, one file per deployment.

``aisprint/deployments/<d>/oscar/fdl.yaml`` lists ``functions.oscar`` as
``[{<cluster>: service}]`` for every unit on an OSCAR layer (Virtual, PhysicalToBeProvisioned,
PhysicalAlreadyProvisioned); serverless (Lambda) units are deployed through IM's TOSCA only.
The service properties are those of the TOSCA function node (one source of truth), with
``cpu`` as text and the environment under ``environment.variables`` (current OSCAR).

Unlike TOSCARIZER's FDL, ``script`` is a path *relative to the FDL file* that exists in the
compiled tree (``aisprint/designs/<unit>/<design>/script.sh``), which is what oscar-cli and
oscar-python read; storage credentials stay ``${VARIABLE}`` references.

Checked against its JSON Schema, then loaded by ``oscar-python`` the way its client reads an
FDL before creating services (cluster ids, scripts resolved relative to the file).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic
from compiler.layout import deployment
from targets import EmitContext, dump_yaml
from targets.check import CompiledTree, rejected, schema_errors
from targets.tosca import cluster_name, function_node


def script_path(component: str, design: str) -> str:
    # from aisprint/deployments/<d>/oscar/ up to aisprint/
    return f"../../../designs/{component}/{design}/script.sh"


class OscarFdlEmitter:
    name = "oscar_fdl"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        app = context.application
        files = {}
        for view in context.deployments:
            services = []
            for unit in view.units:
                if app.infrastructure.layer(unit.layer).type.is_faas:
                    continue
                props = function_node(app, view, unit)
                service = {
                    "name": props["name"],
                    "image": props["image"],
                    "script": script_path(unit.component, unit.design),
                    "memory": props["memory"],
                    "cpu": f"{props['cpu']:g}",
                    "environment": {"variables": props["env_variables"]},
                    "input": props["input"],
                    "output": props["output"],
                }
                for key in ("enable_sgx", "enable_gpu"):
                    if props.get(key):
                        service[key] = True
                if "storage_providers" in props:
                    service["storage_providers"] = props["storage_providers"]
                services.append({cluster_name(app, unit.layer): service})
            if services:
                files[f"{deployment(view.name)}/oscar/fdl.yaml"] = dump_yaml(
                    {"functions": {"oscar": services}})
        return files

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        return tuple(rejected(path, problem)
                     for path, _ in tree.matching(lambda path: path.endswith("/oscar/fdl.yaml"))
                     for problem in fdl_problems(tree.root / path))


def fdl_problems(path: Path) -> list[str]:
    """What is wrong with one FDL file *in its compiled tree* (scripts are resolved from it):
    its JSON Schema first, then oscar-python loading it as its client does."""
    try:
        data = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    return schema_errors(data, "oscar_fdl") or oscar_python_problems(path, data)


def oscar_python_problems(path: Path, data: dict) -> list[str]:
    """What oscar-python says of the schema-valid FDL ``data`` read from ``path``."""
    # deferred: oscar-python takes ~0.4 s to import and only this check needs it
    from oscar_python.client import Client

    problems = []
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


EMITTER = OscarFdlEmitter()
