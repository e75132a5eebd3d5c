"""AMS (AI-SPRINT Monitoring Subsystem): the QoS constraint files of every deployment.

Formats as the AI-SPRINT design tool writes them (formats reference §1.10):

* ``aisprint/deployments/<d>/ams/qos_constraints_L<layer>.yaml`` — one per layer in use:
  ``system: {name, local_constraints, global_constraints, throughput_component}``, constraints
  numbered from 1 in each file, global ones with ``path_components``;
* ``aisprint/deployments/<d>/space4ai-d/qos_constraints.yaml`` — every layer merged, no
  throughput key;
* ``aisprint/deployments/multi_cluster_qos_constraints.yaml`` — ``System.Deployments.<d>.
  ExecutionLayers.<layer>`` with the layer's components and constraints.

Nothing is written when no component has an ``exec_time`` annotation.
"""

from __future__ import annotations

from targets import EmitContext, dump_yaml


def _numbered(constraints, kind: str) -> dict:
    out = {}
    for i, c in enumerate((c for c in constraints if c.kind == kind), 1):
        if kind == "local":
            out[f"local_constraint_{i}"] = {"component_name": c.units[0],
                                            "threshold": c.threshold}
        else:
            out[f"global_constraint_{i}"] = {"path_components": list(c.units),
                                             "threshold": c.threshold}
    return out


class AmsEmitter:
    name = "ams"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        app = context.application
        if not any(a.exec_time is not None for a in app.annotations):
            return {}
        files: dict[str, bytes] = {}
        multi: dict = {}
        for view in context.deployments:
            base = f"aisprint/deployments/{view.name}"
            layers: dict = {}
            for layer in view.layers():
                in_layer = [c for c in view.constraints if c.layer == layer]
                throughput = view.throughput_unit if view.throughput_unit and \
                    view.unit(view.throughput_unit).layer == layer else None
                system = {"name": app.name,
                          "local_constraints": _numbered(in_layer, "local"),
                          "global_constraints": _numbered(in_layer, "global"),
                          "throughput_component": throughput if throughput else {}}
                files[f"{base}/ams/qos_constraints_L{layer}.yaml"] = dump_yaml({"system": system})
                layers[layer] = {"components": [u.name for u in view.units if u.layer == layer],
                                 **{k: v for k, v in system.items() if k != "name"}}
            merged = {"name": app.name,
                      "local_constraints": _numbered(view.constraints, "local"),
                      "global_constraints": _numbered(view.constraints, "global")}
            files[f"{base}/space4ai-d/qos_constraints.yaml"] = dump_yaml({"system": merged})
            multi[view.name] = {"ExecutionLayers": layers}
        files["aisprint/deployments/multi_cluster_qos_constraints.yaml"] = dump_yaml(
            {"System": {"Deployments": multi}})
        return files


EMITTER = AmsEmitter()
