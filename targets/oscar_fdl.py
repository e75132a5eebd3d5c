"""OSCAR FDL: the services of each deployment's OSCAR clusters, one file per deployment.

``aisprint/deployments/<d>/oscar/fdl.yaml`` lists ``functions.oscar`` as
``[{<cluster>: service}]`` for every unit on an OSCAR layer (Virtual, PhysicalToBeProvisioned,
PhysicalAlreadyProvisioned); serverless (Lambda) units are deployed through IM's TOSCA only.
The service properties are those of the TOSCA function node (one source of truth), with
``cpu`` as text and the environment under ``environment.variables`` (current OSCAR).

Unlike TOSCARIZER's FDL, ``script`` is a path *relative to the FDL file* that exists in the
compiled tree (``aisprint/designs/<unit>/<design>/script.sh``), which is what oscar-cli and
oscar-python read; storage credentials stay ``${VARIABLE}`` references.
"""

from __future__ import annotations

from targets import EmitContext, dump_yaml
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
                files[f"aisprint/deployments/{view.name}/oscar/fdl.yaml"] = dump_yaml(
                    {"functions": {"oscar": services}})
        return files


EMITTER = OscarFdlEmitter()
