"""IM TOSCA: one template per computational layer a deployment uses.

* Virtual and PhysicalToBeProvisioned layers get a whole OSCAR cluster (front end with
  Kubernetes and OSCAR, worker nodes sized from the selected resource, ``count`` = replicas)
  and one ``tosca.nodes.aisprint.FaaS.Function`` per unit, hosted on it;
* PhysicalAlreadyProvisioned layers get the services only (IM's OSCAR connector deploys them
  on the existing cluster);
* NativeCloudFunction layers get unhosted function nodes (IM's Lambda connector).

Unlike TOSCARIZER, nothing random and no secret is written: cluster names derive from the
application and the layer (``<app>-layer<N>``), and passwords, tokens and keys are inputs whose
default is a ``${VARIABLE}`` reference, filled in from the environment when the template is
applied. Credentials from physical_nodes.yaml are written as the user's ``${VAR}``; a literal
(allowed only with ``AISPRINT_ALLOW_LITERAL_SECRETS=1``) becomes
``${AISPRINT_<RESOURCE>_<FIELD>}`` (``compiler.secrets.physical_reference``), the name the
validator's warning gives. The custom types are imported by URL (as IM's own examples do);
the check (``targets.tosca_check``: tosca-parser and IM's own translation) swaps in a local copy.
"""

from __future__ import annotations

import re

from compiler.design.deployments import DeploymentView, Unit
from compiler.diagnostics import Diagnostic
from compiler.layout import deployment
from compiler.model import Application, LayerType
from compiler.secrets import physical_reference
from targets import EmitContext, dump_yaml, slug
from targets.check import CompiledTree
from targets.tosca_check import CUSTOM_TYPES_URL, check_templates

DOMAIN = "im.grycap.net"
K8S_VERSION = "1.23.6"


def cluster_name(app: Application, layer: int) -> str:
    return f"{slug(app.name)}-layer{layer}"


def env_ref(*parts: str) -> str:
    return "${" + re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_") + "}"


def service_name(unit: Unit) -> str:
    return slug(unit.name)


def image_of(unit: Unit, architecture: str) -> str:
    if unit.container.image:
        return unit.container.image[0]
    return f"{unit.component}_{unit.design}_{architecture}:latest"


def _minio_endpoint(app: Application, layer: int) -> str:
    layer_model = app.infrastructure.layer(layer)
    if layer_model.type is LayerType.PHYSICAL_ALREADY_PROVISIONED:
        for node in app.physical_nodes:
            if node.layer == layer and "minio" in node.data:
                return str(node.data["minio"].get("endpoint", ""))
    return f"https://minio.{cluster_name(app, layer)}.{DOMAIN}"


def _minio_keys(app: Application, layer: int) -> tuple[str, str]:
    # a literal key (allowed for a local test) becomes a reference, never a written value
    for node in app.physical_nodes:
        if node.layer == layer and "minio" in node.data:
            minio = node.data["minio"]
            access = minio.get("access_key")
            secret = minio.get("secret_key")
            return ("minio" if access is None
                    else physical_reference(node.resource, access, "minio", "access_key"),
                    env_ref("minio", cluster_name(app, layer)) if secret is None
                    else physical_reference(node.resource, secret, "minio", "secret_key"))
    return "minio", env_ref("minio_secret_key", cluster_name(app, layer))


def s3_bucket(app: Application) -> str:
    """The S3 bucket serverless units exchange data through (physical_nodes aws.bucket)."""
    for node in app.physical_nodes:
        if "aws" in node.data and node.data["aws"].get("bucket"):
            return str(node.data["aws"]["bucket"])
    return f"aisprint-{slug(app.name)}"


def function_node(app: Application, view: DeploymentView, unit: Unit) -> dict:
    """The FaaS.Function properties of one unit: resources, environment, storage wiring."""
    layer_model = app.infrastructure.layer(unit.layer)
    resource = app.infrastructure.resource(unit.resource)
    predecessors = [a for a, b, _ in view.dependencies if b == unit.name]
    successors = [view.unit(b) for a, b, _ in view.dependencies if a == unit.name]
    env = {
        "COMPONENT_NAME": unit.name,
        "MONIT_HOST": f"{slug(app.name)}-telegraf",
        "MONIT_PORT": "8094",
        "COMPUTING_UNITS": f"{unit.container.computing_units:g}",
        "KCI": "AWS Lambda" if layer_model.type.is_faas else _minio_endpoint(app, unit.layer),
        "RESOURCE_ID": unit.resource,
    }
    # serverless units have no MinIO: they read and write an S3 bucket (paths start with it)
    on_faas = layer_model.type.is_faas
    local, prefix = ("s3", f"{s3_bucket(app)}/") if on_faas else ("minio", "")
    inputs = [{"storage_provider": local, "path": f"{prefix}{p}/output"}
              for p in predecessors] or \
        [{"storage_provider": local, "path": f"{prefix}{unit.name}/input"}]
    outputs, providers = [], {}
    for succ in successors:
        if succ.layer == unit.layer:
            outputs.append({"storage_provider": local, "path": f"{prefix}{unit.name}/output"})
            continue
        target = cluster_name(app, succ.layer)
        if app.infrastructure.layer(succ.layer).type.is_faas:
            outputs.append({"storage_provider": f"s3.{target}",
                            "path": f"{s3_bucket(app)}/{unit.name}/output"})
            # the bucket is in the region of the function it triggers, not of the sender
            providers.setdefault("s3", {})[target] = {
                "access_key": env_ref("aws_access_key_id"),
                "secret_key": env_ref("aws_secret_access_key"),
                "region": app.infrastructure.resource(succ.resource).region or "us-east-1"}
        else:
            outputs.append({"storage_provider": f"minio.{target}", "path": f"{unit.name}/output"})
            access, secret = _minio_keys(app, succ.layer)
            providers.setdefault("minio", {})[target] = {
                "endpoint": _minio_endpoint(app, succ.layer), "access_key": access,
                "secret_key": secret, "region": "us-east-1"}
    outputs = list({(o["storage_provider"], o["path"]): o for o in outputs}.values()) or \
        [{"storage_provider": local, "path": f"{prefix}{unit.name}/output"}]
    properties = {
        "name": service_name(unit),
        "image": image_of(unit, resource.cpu_architecture),
        "script": f"/opt/{unit.name}/script.sh",
        "memory": f"{unit.container.memory_size:g}Mi",
        "cpu": float(unit.container.computing_units),
        "env_variables": env,
        "input": inputs,
        "output": outputs,
    }
    if unit.container.trusted_execution:
        properties["enable_sgx"] = True
    if unit.container.gpu_requirement:
        properties["enable_gpu"] = True
    if unit.container.expose_service:
        properties["exposed"] = {k: str(v) for k, v in unit.container.expose_service.items()}
    if providers:
        properties["storage_providers"] = providers
    return properties


def _compute(app: Application, resource_name: str, count: int) -> dict:
    res = app.infrastructure.resource(resource_name)
    host = {"num_cpus": int(res.cores), "mem_size": f"{res.memory_size:g} MB"}
    if res.storage_size not in (None, ""):
        size = re.sub(r"[^0-9.]", "", str(res.storage_size)) or "20"
        host["disk_size"] = f"{size} GB"
    if res.flavor_name:
        host["instance_type"] = res.flavor_name
    if res.has_sgx:
        host["sgx"] = True
    if res.gpus:
        host["num_gpus"] = res.gpus
    if res.on_spot:
        host["preemtible_instance"] = True
    os_props = {"type": "linux"}
    if res.os_distribution:
        os_props["distribution"] = res.os_distribution.lower()
    if res.os_version:
        os_props["version"] = str(res.os_version)
    if res.image_id:
        os_props["image"] = res.image_id
    return {"type": "tosca.nodes.indigo.Compute",
            "capabilities": {"scalable": {"properties": {"count": count}},
                             "host": {"properties": host}, "os": {"properties": os_props}}}


def _cluster_nodes(app: Application, layer: int, units: list[Unit]) -> tuple[dict, dict, dict]:
    name = cluster_name(app, layer)
    resource = units[0].resource
    count = max(u.replicas or 1 for u in units)
    res = app.infrastructure.resource(resource)
    inputs = {
        "cluster_name": {"type": "string", "default": name},
        "domain_name": {"type": "string", "default": DOMAIN},
        "admin_token": {"type": "string", "description": "Kubernetes admin token (secret)",
                        "default": env_ref("kube_admin_token", name)},
        "oscar_password": {"type": "string", "description": "OSCAR password (secret)",
                           "default": env_ref("oscar_password", name)},
        "minio_password": {"type": "string", "description": "MinIO secret key (secret)",
                           "default": env_ref("minio_secret_key", name)},
    }
    dns = {"concat": [{"get_input": "cluster_name"}, ".", {"get_input": "domain_name"}]}
    nodes = {
        "front": {
            "type": "tosca.nodes.indigo.Compute",
            "capabilities": {
                "endpoint": {"properties": {"dns_name": "kubeserver", "network_name": "PUBLIC"}},
                "host": {"properties": {"num_cpus": 2, "mem_size": "4 GB"}},
                "os": {"properties": {"type": "linux", "distribution": "ubuntu",
                                      **({"image": res.image_id} if res.image_id else {})}}},
            "requirements": [{"local_storage": {
                "node": "my_block_storage", "capability": "tosca.capabilities.Attachment",
                "relationship": {"type": "tosca.relationships.AttachesTo",
                                 "properties": {"location": "/pv", "device": "hdb"}}}}]},
        "my_block_storage": {"type": "tosca.nodes.BlockStorage",
                             "properties": {"size": "20 GB"}},
        "lrms_front_end": {
            "type": "tosca.nodes.indigo.LRMS.FrontEnd.Kubernetes",
            "capabilities": {"endpoint": {"properties": {"port": 30443, "protocol": "tcp"}}},
            "properties": {"admin_username": "kubeuser",
                           "admin_token": {"get_input": "admin_token"},
                           "install_metrics": True, "install_nfs_client": True,
                           "install_ingress": True, "version": K8S_VERSION,
                           "cert_manager": True, "public_dns_name": dns},
            "requirements": [{"host": "front"}]},
        "oscar": {
            "type": "tosca.nodes.indigo.OSCAR",
            "properties": {
                "minio_secretkey": {"get_input": "minio_password"},
                "password": {"get_input": "oscar_password"},
                "dns_host": dns,
                "minio_dns_host": {"concat": ["minio.", {"get_input": "cluster_name"}, ".",
                                              {"get_input": "domain_name"}]},
                "minio_dns_host_console": {"concat": [
                    "console.minio.", {"get_input": "cluster_name"}, ".",
                    {"get_input": "domain_name"}]}},
            "requirements": [{"host": "lrms_front_end"}]},
        "wn_node": {
            "type": "tosca.nodes.indigo.LRMS.WorkerNode.Kubernetes",
            "properties": {"front_end_ip": {"get_attribute": ["front", "private_address", 0]},
                           "version": K8S_VERSION},
            "requirements": [{"host": "wn"}]},
        "wn": _compute(app, resource, count),
    }
    outputs = {
        "oscar_endpoint": {"value": {"concat": ["https://", {"get_input": "cluster_name"}, ".",
                                                {"get_input": "domain_name"}]}},
        "minio_endpoint": {"value": {"concat": ["https://minio.", {"get_input": "cluster_name"},
                                                ".", {"get_input": "domain_name"}]}},
        "fe_node_ip": {"value": {"get_attribute": ["front", "public_address", 0]}},
    }
    return inputs, nodes, outputs


def _physical_machines(app: Application, layer: int, resource: str, nodes: dict) -> None:
    """Machines that exist already (PhysicalToBeProvisioned): one Compute node per machine,
    reached over SSH at the addresses physical_nodes.yaml gives, keys as references."""
    data = next((n.data for n in app.physical_nodes
                 if n.layer == layer and n.resource == resource), None)
    if data is None:
        return
    nodes["pub_network"] = {"type": "tosca.nodes.network.Network",
                            "properties": {"network_type": "public"}}
    nodes["priv_network"] = {"type": "tosca.nodes.network.Network",
                             "properties": {"network_type": "private"}}

    def attach(node: str, machine: dict, public: bool, *where: object) -> None:
        key = machine.get("ssh_key")
        credential = {"user": str(machine.get("ssh_user", "ubuntu")),
                      "token_type": "private_key",
                      "token": physical_reference(resource, key, *where, "ssh_key") if key
                      else env_ref("ssh_key", node)}
        nodes[node]["capabilities"]["os"]["properties"]["credential"] = credential
        ports = [("priv", machine.get("private_ip"))]
        if public:
            ports.insert(0, ("pub", machine.get("public_ip")))
        for order, (kind, address) in enumerate(ports):
            if address:
                nodes[f"{node}_{kind}_port"] = {
                    "type": "tosca.nodes.network.Port",
                    "properties": {"order": order, "ip_address": str(address)},
                    "requirements": [{"binding": node}, {"link": f"{kind}_network"}]}

    if "fe_node" in data:
        attach("front", dict(data["fe_node"]), True, "fe_node")
    workers = [dict(w) for w in data.get("wns") or ()]
    if workers:
        template = nodes.pop("wn")
        worker = nodes.pop("wn_node")
        for i, machine in enumerate(workers, 1):
            nodes[f"wn_{i}"] = {**template, "capabilities": {
                **{k: dict(v) for k, v in template["capabilities"].items()},
                "scalable": {"properties": {"count": 1}},
                "os": {"properties": dict(template["capabilities"]["os"]["properties"])}}}
            nodes[f"wn_node_{i}"] = {**worker, "requirements": [{"host": f"wn_{i}"}]}
            attach(f"wn_{i}", machine, False, "wns", i - 1)


def layer_template(app: Application, view: DeploymentView, layer: int) -> dict:
    units = [u for u in view.units if u.layer == layer]
    kind = app.infrastructure.layer(layer).type
    name = cluster_name(app, layer)
    inputs, nodes, outputs = {}, {}, {}
    if kind in (LayerType.VIRTUAL, LayerType.PHYSICAL_TO_BE_PROVISIONED):
        inputs, nodes, outputs = _cluster_nodes(app, layer, units)
        if kind is LayerType.PHYSICAL_TO_BE_PROVISIONED:
            _physical_machines(app, layer, units[0].resource, nodes)
    prefix = "lambda_function" if kind.is_faas else "oscar_service"
    for unit in units:
        node_name = f"{prefix}_{service_name(unit)}"
        node = {"type": "tosca.nodes.aisprint.FaaS.Function",
                "properties": function_node(app, view, unit)}
        if "oscar" in nodes:
            node["requirements"] = [{"host": "oscar"}]
        nodes[node_name] = node
        outputs[f"{node_name}_url"] = {"value": {"get_attribute": [node_name, "endpoint"]}}
    template = {
        "tosca_definitions_version": "tosca_simple_yaml_1_0",
        "imports": [{"grycap_custom_types": CUSTOM_TYPES_URL}],
        "metadata": {"infra_name": f"{app.name} {view.name} layer {layer}"},
        "description": f"{app.name}: {kind.value} layer {layer} ({name}) of {view.name}",
        "topology_template": {"node_templates": nodes, "outputs": outputs},
    }
    if inputs:
        template["topology_template"] = {"inputs": inputs, **template["topology_template"]}
    return template


class ToscaEmitter:
    name = "tosca"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        app = context.application
        files = {}
        for view in context.deployments:
            for layer in view.layers():
                path = f"{deployment(view.name)}/im/{cluster_name(app, layer)}.yaml"
                files[path] = dump_yaml(layer_template(app, view, layer))
        return files

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        return check_templates(tree)


EMITTER = ToscaEmitter()
