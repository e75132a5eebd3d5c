"""AMS files: the seed's QoS formats, Telegraf TOML, and dashboards whose InfluxQL runs."""

from __future__ import annotations

import json
import time
import tomllib
import urllib.parse
import urllib.request

import pytest
import yaml

from compiler.compile import build


@pytest.fixture(scope="module")
def files(prepared_examples):
    return build(prepared_examples["mask_detection"]).artifacts


def test_telegraf_is_toml_with_secrets_from_the_environment(files):
    conf = tomllib.loads(files["aisprint/deployments/base/ams/telegraf.conf"].decode())
    assert conf["inputs"]["socket_listener"][0]["service_address"] == "udp://:8094"
    out = conf["outputs"]["influxdb_v2"][0]
    assert out["token"] == "${INFLUX_TOKEN}" and out["bucket"] == "mask-detection-bucket"


def test_one_alert_per_constraint(files):
    setup = yaml.safe_load(files["aisprint/deployments/base/ams/monitoring_setup.yaml"])
    assert len(setup["monitoring"]["alerts"]) == 5  # 3 local + 2 global limits


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
