"""A small ``EmitContext`` built by hand, for the emitter tests: no files, no validation, no MILP.

The application ``Road_Watch`` (slug ``road-watch``)::

    camera --1.0--> detector --0.4--> notifier

* layer 1, ``EdgeBox``: edge machines to provision (PhysicalToBeProvisioned), arm64, 4 cores,
  4096 MB, 2 nodes; physical_nodes.yaml gives a front end and one worker reached over SSH;
* layer 2, ``VM-sgx``: cloud VMs (Virtual), amd64, 2 cores with SGX, 8192 MB, 3 nodes,
  flavour ``m5.large``;
* layer 3, ``Lambda-2GB``: AWS Lambda (NativeCloudFunction), 2048 MB, in eu-west-1.

``detector`` is partitionable: cut 1 puts ``detector_partition1_1`` on the edge and
``detector_partition1_2`` (trusted execution) on the VMs. ``notifier`` runs on Lambda
(container1, network and file-system shields) or on the VMs (container2).

QoS: camera within 0.5 s (local), detector within 3 s (local), and the path
camera -> detector -> notifier within 6 s (global); camera expects 2 requests/s; camera's
``@security`` asks for the file-system shield.

The views are written out as the design stage would make them (tests/targets/test_context.py
checks that it would), so each test reads its expected values here:

* ``base``: camera@1 (2 replicas), detector@2 (3 replicas), notifier@3 (FaaS);
* ``optimal_deployment`` = ``current_deployment``: camera@1 (2), detector_partition1_1@1 (2),
  detector_partition1_2@2 (2 replicas: the placement's choice, not totalNodes), notifier@3;
* ``deployment1`` (a candidate of the design space): as base, notifier@2 with container2.
"""

from __future__ import annotations

from compiler.design.deployments import DeploymentView, QosConstraint, Unit
from compiler.model import (
    Application,
    CandidateDeployment,
    ComponentAnnotations,
    ComputationalLayer,
    Container,
    Dag,
    Dependency,
    Infrastructure,
    LayerType,
    NetworkDomain,
    PhysicalNode,
    Processor,
    Resource,
    freeze,
)
from targets import EmitContext

APP = "Road_Watch"

# ----------------------------------------------------------------------------- resources

EDGE = Resource(key="resource1", name="EdgeBox", layer=1,
                layer_type=LayerType.PHYSICAL_TO_BE_PROVISIONED, memory_size=4096, cost=0.5,
                total_nodes=2, processors=(Processor("processor1", 4, architecture="arm64"),))
VM = Resource(key="resource1", name="VM-sgx", layer=2, layer_type=LayerType.VIRTUAL,
              memory_size=8192, cost=0.2, total_nodes=3, storage_size=40,
              os_distribution="Ubuntu", os_version="22.04", image_id="ami-0abc",
              flavor_name="m5.large",
              processors=(Processor("processor1", 2, architecture="amd64", sgx=True),))
LAMBDA = Resource(key="resource1", name="Lambda-2GB", layer=3,
                  layer_type=LayerType.NATIVE_CLOUD_FUNCTION, memory_size=2048,
                  cost=0.0000333, architecture="amd64", region="eu-west-1")

INFRASTRUCTURE = Infrastructure("Road watch continuum", (
    NetworkDomain("ND1", 0.001, 100, layers=(1,)),
    NetworkDomain("ND2", 0.002, 1000, layers=(2, 3)),
    NetworkDomain("ND3", 0.03, 5, sub_domains=("ND1", "ND2")),
), (
    ComputationalLayer("computationalLayer1", 1, LayerType.PHYSICAL_TO_BE_PROVISIONED, (EDGE,),
                       "roadside edge", "ND1"),
    ComputationalLayer("computationalLayer2", 2, LayerType.VIRTUAL, (VM,), "cloud VMs", "ND2"),
    ComputationalLayer("computationalLayer3", 3, LayerType.NATIVE_CLOUD_FUNCTION, (LAMBDA,),
                       "AWS Lambda", "ND2"),
))

# candidate_resources.yaml as written (the production deployments copy parts of it)
CANDIDATE_RESOURCES = {"System": {"name": "Road watch continuum", "NetworkDomains": {
    "ND1": {"name": "roadside", "AccessDelay": 0.001, "Bandwidth": 100, "ComputationalLayers": {
        "computationalLayer1": {"name": "roadside edge", "number": 1,
                                "type": "PhysicalToBeProvisioned", "Resources": {
                                    "resource1": {"name": "EdgeBox", "totalNodes": 2,
                                                  "memorySize": 4096, "cost": 0.5}}}}},
    "ND2": {"name": "cloud", "AccessDelay": 0.002, "Bandwidth": 1000, "ComputationalLayers": {
        "computationalLayer2": {"name": "cloud VMs", "number": 2, "type": "Virtual",
                                "Resources": {"resource1": {"name": "VM-sgx", "totalNodes": 3,
                                                            "memorySize": 8192, "cost": 0.2}}},
        "computationalLayer3": {"name": "AWS Lambda", "number": 3,
                                "type": "NativeCloudFunction",
                                "Resources": {"resource1": {"name": "Lambda-2GB",
                                                            "memorySize": 2048,
                                                            "cost": 0.0000333,
                                                            "region": "eu-west-1"}}}}},
    "ND3": {"name": "uplink", "AccessDelay": 0.03, "Bandwidth": 5,
            "subNetworkDomains": ["ND1", "ND2"]},
}}}

PHYSICAL_NODES = (PhysicalNode(1, "EdgeBox", freeze({
    "fe_node": {"public_ip": "192.0.2.10", "private_ip": "10.0.0.1", "ssh_user": "edge",
                "ssh_key": "${EDGE_SSH_KEY}"},
    "wns": [{"private_ip": "10.0.0.2", "ssh_user": "edge", "ssh_key": "${EDGE_SSH_KEY}"}]})),)

# ----------------------------------------------------------------------------- components

CAMERA_C = Container("container1", 1024, 1.5, ("EdgeBox",))
DETECTOR_C = Container("container1", 4096, 2, ("VM-sgx",), ("registry.example.org/detector:1.0",))
PART1_C = Container("container1", 2048, 1, ("EdgeBox",))
PART2_C = Container("container1", 3072, 2, ("VM-sgx",), trusted_execution=True)
NOTIFIER_LAMBDA_C = Container("container1", 2048, 1, ("Lambda-2GB",), network_protection=True,
                              file_system_protection=True)
NOTIFIER_VM_C = Container("container2", 1024, 0.5, ("VM-sgx",))

CAMERA = CandidateDeployment("component1", "camera", (1,), (CAMERA_C,))
DETECTOR = CandidateDeployment("component2", "detector", (2,), (DETECTOR_C,))
PART1 = CandidateDeployment("component2_partitionX_1", "detector_partitionX_1", (1,), (PART1_C,))
PART2 = CandidateDeployment("component2_partitionX_2", "detector_partitionX_2", (2,), (PART2_C,))
NOTIFIER = CandidateDeployment("component3", "notifier", (3, 2),
                               (NOTIFIER_LAMBDA_C, NOTIFIER_VM_C))


def _annotations(component: str, **values) -> ComponentAnnotations:
    return ComponentAnnotations(f"road_watch/src/{component}/main.py", component, freeze(
        {"component_name": {"name": component}, **values}))


ANNOTATIONS = (
    _annotations("camera", exec_time={"local_time_thr": 0.5},
                 expected_throughput={"rate": 2.0}, security={"filesystemShield": True}),
    _annotations("detector", exec_time={"local_time_thr": 3.0},
                 partitionable_model={"onnx_file": "detector.onnx", "num_partitions": 2}),
    _annotations("notifier", exec_time={"global_time_thr": 6.0,
                                        "prev_components": ["camera", "detector"]}),
)

APPLICATION = Application(
    root="road_watch",
    dag=Dag(APP, ("camera", "detector", "notifier"),
            (Dependency("camera", "detector", 1.0), Dependency("detector", "notifier", 0.4))),
    infrastructure=INFRASTRUCTURE,
    deployments=(CAMERA, DETECTOR, PART1, PART2, NOTIFIER),
    annotations=ANNOTATIONS,
    physical_nodes=PHYSICAL_NODES,
)

DAG_TEXT = (b"# the application's DAG as the user wrote it (the base deployment keeps it)\n"
            b"System:\n  name: Road_Watch\n  components: [camera, detector, notifier]\n"
            b"  dependencies: [[camera, detector, 1.0], [detector, notifier, 0.4]]\n")

# ----------------------------------------------------------------------------- deployments

CAMERA_U = Unit("camera", "camera", "base", CAMERA, CAMERA_C, "EdgeBox", 1, 2)
DETECTOR_U = Unit("detector", "detector", "base", DETECTOR, DETECTOR_C, "VM-sgx", 2, 3)
PART1_U = Unit("detector_partition1_1", "detector", "partition1_1", PART1, PART1_C, "EdgeBox",
               1, 2)
PART2_U = Unit("detector_partition1_2", "detector", "partition1_2", PART2, PART2_C, "VM-sgx",
               2, 2)
NOTIFIER_U = Unit("notifier", "notifier", "base", NOTIFIER, NOTIFIER_LAMBDA_C, "Lambda-2GB", 3)
NOTIFIER_VM_U = Unit("notifier", "notifier", "base", NOTIFIER, NOTIFIER_VM_C, "VM-sgx", 2, 3)

BASE = DeploymentView(
    "base", (CAMERA_U, DETECTOR_U, NOTIFIER_U),
    (("camera", "detector", 1.0), ("detector", "notifier", 0.4)),
    (QosConstraint("local", ("camera",), 0.5, 1),
     QosConstraint("local", ("detector",), 3.0, 2),
     QosConstraint("global", ("camera", "detector", "notifier"), 6.0, 3)),
    "camera")


def _placed(name: str) -> DeploymentView:
    return DeploymentView(
        name, (CAMERA_U, PART1_U, PART2_U, NOTIFIER_U),
        (("detector_partition1_1", "detector_partition1_2", 1.0),
         ("camera", "detector_partition1_1", 1.0),
         ("detector_partition1_2", "notifier", 0.4)),
        (QosConstraint("local", ("camera",), 0.5, 1),
         # a partitioned component's local limit spans its partitions
         QosConstraint("global", ("detector_partition1_1", "detector_partition1_2"), 3.0, 2),
         QosConstraint("global", ("camera", "detector_partition1_1", "detector_partition1_2",
                                  "notifier"), 6.0, 3)),
        "camera")


OPTIMAL = _placed("optimal_deployment")
CURRENT = _placed("current_deployment")
DEPLOYMENT1 = DeploymentView(
    "deployment1", (CAMERA_U, DETECTOR_U, NOTIFIER_VM_U), BASE.dependencies,
    (*BASE.constraints[:2], QosConstraint("global", ("camera", "detector", "notifier"), 6.0, 2)),
    "camera")


def context(*, feasible: bool = True) -> EmitContext:
    return EmitContext(APPLICATION, (BASE, OPTIMAL, CURRENT), CANDIDATE_RESOURCES, DAG_TEXT,
                       feasible, candidates=(DEPLOYMENT1,), cuts={"detector": ("1",)})
