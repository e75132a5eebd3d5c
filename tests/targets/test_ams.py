"""AMS files: the seed's QoS formats, Telegraf TOML, and dashboards whose InfluxQL runs.

Most tests read the hand-built context (tests/targets/context.py); the dashboards' queries run
against a real influxd on the mask-detection example."""

from __future__ import annotations

import json
import time
import tomllib
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest
import yaml
from jsonschema import Draft202012Validator

from compiler.compile import build
from compiler.load.schema import load_schema
from targets.ams import EMITTER
from tests.targets import context as ctx
from tests.targets.golden import assert_golden


@pytest.fixture(scope="module")
def files(prepared_examples):
    return build(prepared_examples["mask_detection"]).artifacts


def query(url: str, db: str, q: str) -> dict:
    params = urllib.parse.urlencode({"db": db, "q": q})
    with urllib.request.urlopen(f"{url}/query?{params}", timeout=10) as reply:
        return json.loads(reply.read())


@pytest.mark.integration
def test_dashboard_queries_run_against_a_real_influxd(files, influxd):
    db = "mask-detection-bucket"
    query(influxd, "", f'CREATE DATABASE "{db}"')
    now = time.time_ns()
    lines = "\n".join(
        f"execution_time,component_name={c},session_id=s{i} function_duration={0.1 * i} "
        f"{now - i * 1_000_000_000}"
        for c in ("blurry-faces-onnx", "mask-detector", "mask-alert") for i in range(1, 4))
    request = urllib.request.Request(f"{influxd}/write?db={urllib.parse.quote(db)}",
                                     data=lines.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 204
    dashboard = json.loads(files["aisprint/deployments/base/ams/grafana_dashboard.json"])
    assert len(dashboard["panels"]) == 5  # 3 components + 2 paths
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            q = target["query"].replace("$timeFilter", "time > now() - 1h") \
                .replace("$__interval", "1m")
            result = query(influxd, db, q)["results"][0]
            assert "error" not in result, (q, result)
            values = [v for s in result["series"] for _, v in s["values"]]
            assert values and all(v > 0 for v in values), q


# ----------------------------------------------------------------------------- on the hand-built
# context (tests/targets/context.py), no pipeline

D = "aisprint/deployments/"
PLACED = ("base", "optimal_deployment", "current_deployment")
OPTIMAL_PATH = ["camera", "detector_partition1_1", "detector_partition1_2", "notifier"]


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(ctx.context())


def doc(emitted, rel: str):
    return yaml.safe_load(emitted[D + rel])


def test_qos_files_of_every_deployment_and_monitoring_of_the_placed_ones(emitted):
    layers = {"base": (1, 2, 3), "optimal_deployment": (1, 2, 3),
              "current_deployment": (1, 2, 3), "deployment1": (1, 2)}
    expected = {D + "multi_cluster_qos_constraints.yaml"}
    for deployment, used in layers.items():
        expected |= {f"{D}{deployment}/ams/qos_constraints_L{n}.yaml" for n in used}
        expected.add(f"{D}{deployment}/space4ai-d/qos_constraints.yaml")
    for deployment in PLACED:  # candidates are not monitored
        expected |= {f"{D}{deployment}/ams/{name}" for name in (
            "monitoring_setup.yaml", "telegraf.conf", "grafana_dashboard.json")}
    assert sorted(emitted) == sorted(expected)


def test_each_layer_file_holds_the_limits_of_its_layer(emitted):
    assert doc(emitted, "optimal_deployment/ams/qos_constraints_L1.yaml") == {"system": {
        "name": "Road_Watch",
        "local_constraints": {"local_constraint_1": {"component_name": "camera",
                                                     "threshold": 0.5}},
        "global_constraints": {}, "throughput_component": "camera"}}
    # detector's local limit spans its two partitions and lives with the last one (layer 2)
    assert doc(emitted, "optimal_deployment/ams/qos_constraints_L2.yaml")["system"] == {
        "name": "Road_Watch", "local_constraints": {},
        "global_constraints": {"global_constraint_1": {
            "path_components": ["detector_partition1_1", "detector_partition1_2"],
            "threshold": 3.0}},
        "throughput_component": {}}
    assert doc(emitted, "optimal_deployment/ams/qos_constraints_L3.yaml")["system"][
        "global_constraints"] == {"global_constraint_1": {"path_components": OPTIMAL_PATH,
                                                          "threshold": 6.0}}
    # deployment1 runs notifier on the VMs: the path's limit moves to layer 2
    assert doc(emitted, "deployment1/ams/qos_constraints_L2.yaml")["system"] == {
        "name": "Road_Watch",
        "local_constraints": {"local_constraint_1": {"component_name": "detector",
                                                     "threshold": 3.0}},
        "global_constraints": {"global_constraint_1": {
            "path_components": ["camera", "detector", "notifier"], "threshold": 6.0}},
        "throughput_component": {}}


def test_the_space4ai_d_file_merges_every_layer_without_throughput(emitted):
    assert doc(emitted, "optimal_deployment/space4ai-d/qos_constraints.yaml") == {"system": {
        "name": "Road_Watch",
        "local_constraints": {"local_constraint_1": {"component_name": "camera",
                                                     "threshold": 0.5}},
        "global_constraints": {
            "global_constraint_1": {"path_components": ["detector_partition1_1",
                                                        "detector_partition1_2"],
                                    "threshold": 3.0},
            "global_constraint_2": {"path_components": OPTIMAL_PATH, "threshold": 6.0}}}}


def test_qos_files_meet_their_schema(emitted):
    validator = Draft202012Validator(load_schema("qos_constraints"))
    qos = [p for p in emitted if "qos_constraints" in p and "multi_cluster" not in p]
    assert len(qos) == 3 * (3 + 1) + (2 + 1)  # per layer and merged: 3 placed, deployment1
    for path in qos:
        assert list(validator.iter_errors(yaml.safe_load(emitted[path]))) == [], path


def test_multi_cluster_file_lists_each_layer_s_components(emitted):
    deployments = doc(emitted, "multi_cluster_qos_constraints.yaml")["System"]["Deployments"]
    assert list(deployments) == [*PLACED, "deployment1"]
    layers = deployments["optimal_deployment"]["ExecutionLayers"]
    assert {n: layer["components"] for n, layer in layers.items()} == {
        1: ["camera", "detector_partition1_1"], 2: ["detector_partition1_2"], 3: ["notifier"]}
    assert layers[1]["throughput_component"] == "camera"
    assert deployments["deployment1"]["ExecutionLayers"][2]["components"] == ["detector",
                                                                              "notifier"]


def test_one_alert_per_limit_named_as_the_qos_files_name_it(emitted):
    alerts = doc(emitted, "optimal_deployment/ams/monitoring_setup.yaml")["monitoring"]["alerts"]
    assert {name: (a["condition"]["metric"], a["condition"]["threshold"])
            for name, a in alerts.items()} == {
        "local_constraint_1": ({"name": "constraint_check", "field": "local_1"},
                               {"type": ">", "value": 0.5}),
        "global_constraint_1": ({"name": "constraint_check", "field": "global_1"},
                                {"type": ">", "value": 3.0}),
        "global_constraint_2": ({"name": "constraint_check", "field": "global_2"},
                                {"type": ">", "value": 6.0})}


def test_telegraf_sends_to_the_application_bucket_with_secrets_from_the_environment(emitted):
    conf = tomllib.loads(emitted[D + "base/ams/telegraf.conf"].decode())
    assert conf["inputs"]["socket_listener"] == [{"service_address": "udp://:8094",
                                                  "data_format": "influx"}]
    assert conf["outputs"]["influxdb_v2"] == [{
        "urls": ["${INFLUX_URL}"], "token": "${INFLUX_TOKEN}", "organization": "ai-sprint",
        "bucket": "road-watch-bucket"}]


def test_a_dashboard_panel_per_unit_and_per_path_with_the_limits(emitted):
    board = json.loads(emitted[D + "optimal_deployment/ams/grafana_dashboard.json"])
    assert board["title"] == "Road_Watch (optimal_deployment)"
    assert board["uid"] == "road-watch-optimal_deployment"
    Draft202012Validator(load_schema("grafana_dashboard")).validate(board)

    def limit(panel):
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        return next((s["value"] for s in steps if s["color"] == "red"), None)

    assert [(p["title"], limit(p), len(p["targets"])) for p in board["panels"]] == [
        ("camera — execution time", 0.5, 1),
        ("detector_partition1_1 — execution time", None, 1),
        ("detector_partition1_2 — execution time", None, 1),
        ("notifier — execution time", None, 1),
        ("path 1: detector_partition1_1 → detector_partition1_2", 3.0, 2),
        ("path 2: camera → detector_partition1_1 → detector_partition1_2 → notifier", 6.0, 4)]
    assert "\"component_name\" = 'notifier'" in board["panels"][3]["targets"][0]["query"]


def test_nothing_without_an_exec_time_annotation():
    app = ctx.APPLICATION
    plain = replace(app, annotations=tuple(
        replace(a, values={k: v for k, v in a.values.items() if k != "exec_time"})
        for a in app.annotations))
    assert EMITTER.emit(replace(ctx.context(), application=plain)) == {}


def test_golden(emitted, request):
    assert_golden(request, "ams", emitted)


def test_deterministic(emitted):
    assert EMITTER.emit(ctx.context()) == emitted
