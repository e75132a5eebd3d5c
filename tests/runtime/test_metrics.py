"""Runtime metrics: AMS's execution_time points, per-path response times and throughput, read
from a real InfluxDB 1.x, an InfluxDB 2.x stand-in (no v2 server can be installed here) and
the embedded SQLite store — the same numbers from all three."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from compiler.runtime import metrics as m
from compiler.runtime.loopback import free_port
from compiler.runtime.metrics import ExecutionTimePoint as P
from tests.conftest import REPO
from tests.stubs.influxdb2_standin import InfluxDB2StandIn

NOW = 1_700_000_000.0
PATH = m.QoSPath("L3/global_constraint_1", ("blurry", "mask", "alert"), 2.0)
LOCAL = m.QoSPath("L3/local_constraint_1", ("mask",), 1.0, "local")


def session(sid: str, start: float, durations=(0.3, 0.6, 0.1), gap=0.05, **tags):
    """One request crossing blurry → mask → alert, each component starting after the last."""
    points, t = [], start
    for name, d in zip(("blurry", "mask", "alert"), durations, strict=True):
        points.append(P(name, t, t + d, session_id=sid, resource_id="vm", **tags))
        t += d + gap
    return points


def scenario() -> list[P]:
    points = []
    for i in range(6):  # in the last 60 s: one request every 10 s
        points += session(f"s{i}", NOW - 58 + 10 * i)
    points += session("old", NOW - 100, (5, 5, 5))  # ended before the window: ignored
    return points


# ------------------------------------------------------------------ the pure core

def test_path_time_is_last_end_minus_first_start_per_session_as_ams():
    rt = m.summarize(scenario(), 60, NOW, (PATH, LOCAL))
    path = rt.path(PATH.id)
    assert path.method == "end_to_end"
    assert path.stats.count == 6
    assert path.stats.mean == pytest.approx(0.3 + 0.6 + 0.1 + 2 * 0.05)
    assert rt.path(LOCAL.id).stats.mean == pytest.approx(0.6)
    assert rt.component("blurry").count == 6 and rt.component("alert").mean == pytest.approx(0.1)
    assert rt.violations() == ()


def test_slow_requests_violate_and_the_mean_decides():
    points = scenario() + session("slow", NOW - 12, (0.3, 9.0, 0.1))
    rt = m.summarize(points, 60, NOW, (PATH, LOCAL))
    assert [p.path.id for p in rt.violations()] == [PATH.id, LOCAL.id]
    assert rt.path(LOCAL.id).stats.max == pytest.approx(9.0)
    assert rt.path(PATH.id).stats.mean == pytest.approx((6 * 1.1 + 9.5) / 7)


def test_a_session_that_began_before_the_window_counts_whole():
    # it ends inside the 10 s window; its first component ran before the window began
    points = session("long", NOW - 20, (10, 1, 1))
    rt = m.summarize(points, 10, NOW, (PATH,))
    assert rt.path(PATH.id).stats.mean == pytest.approx(12.1)
    assert rt.component("blurry") is None  # the component's own point is outside


def test_without_sessions_the_path_is_the_sum_of_component_means():
    points = [P(c, NOW - 30 + i, NOW - 30 + i + d) for i in range(3)
              for c, d in (("blurry", 0.5), ("mask", 1.0), ("alert", 0.25))]
    path = m.summarize(points, 60, NOW, (PATH,)).path(PATH.id)
    assert path.method == "sum_of_components"
    assert path.stats.mean == pytest.approx(1.75)
    missing = m.summarize([p for p in points if p.component_name != "alert"], 60, NOW, (PATH,))
    assert missing.path(PATH.id).method == "no_data" and not missing.path(PATH.id).violated


def test_throughput_counts_distinct_sessions_per_second():
    points = scenario()
    # a session seen twice by one component (a retry) is one request
    points.append(P("blurry", NOW - 3, NOW - 2, session_id="s5"))
    assert m.throughput_of(points, "blurry", 60, NOW) == pytest.approx(6 / 60)
    assert m.throughput_of(points, "nobody", 60, NOW) == 0


def test_derived_fields_and_sdk_records(tmp_path):
    p = P("c", 10.0, 12.5, function_start_time=10.5)
    assert (p.job_duration, p.function_duration, p.job_overhead) == (2.5, 2.0, 0.5)
    # what the SDK really writes, read back as points
    target = tmp_path / "metrics.jsonl"
    code = ("from aisprint.monitoring import report_execution_time as r; "
            "r('mask', 100.0, 101.5)")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "AISPRINT_METRICS_FILE": str(target),
                        "RESOURCE_ID": "VM1"})
    (point,) = m.points_from_jsonl(target)
    assert (point.component_name, point.resource_id, point.response_time) == ("mask", "VM1", 1.5)
    with pytest.raises(m.MetricsError) as err:
        m.point_from_record({"component_name": "x"})
    assert err.value.diagnostics[0].code == "AIS989"


def test_line_protocol_escapes_tags_and_writes_floats():
    line = m.line_protocol([P("a b,c=d", 1.0, 2.0, session_id="s 1")])
    assert line.startswith(r"execution_time,component_name=a\ b\,c\=d,session_id=s\ 1 ")
    assert "job_duration=1.0," in line and line.endswith(" 2000000000\n")
    assert m.line_protocol([]) == ""


def test_qos_constraints_of_a_compiled_deployment():
    spec = m.load_qos(REPO / "tests" / "golden" / "mask_detection" / "base")
    by_id = {p.id: p for p in spec.paths}
    assert spec.throughput_component == "blurry-faces-onnx"
    assert by_id["L1/local_constraint_1"] == m.QoSPath(
        "L1/local_constraint_1", ("blurry-faces-onnx",), 20.0, "local")
    assert by_id["L4/global_constraint_1"].components == (
        "blurry-faces-onnx", "mask-detector", "mask-alert")
    assert len(spec.paths) == 5
    with pytest.raises(m.MetricsError) as err:
        m.qos_from_mapping({"system": {"local_constraints": {"x": {"threshold": 1}}}})
    assert err.value.diagnostics[0].code == "AIS990"


def test_qos_files_are_read_in_layer_order_and_the_reconciler_reads_a_commit_alike():
    from compiler.runtime.reconcile import qos_of

    def doc(component: str, limit: float) -> str:
        return (f"system:\n  name: app\n  local_constraints:\n    local_constraint_1:\n"
                f"      component_name: {component}\n      threshold: {limit}\n")

    files = {"ams/qos_constraints_L10.yaml": doc("late", 3), "ams/qos_constraints_L2.yaml":
             doc("early", 1)}
    spec = m.qos_from_files(files)
    assert [p.id for p in spec.paths] == ["L2/local_constraint_1", "L10/local_constraint_1"]
    folder = "aisprint/deployments/current_deployment/"
    tree = {folder + k: v.encode() for k, v in files.items()}
    tree[folder + "ams/qos_constraints_L3.yaml.orig"] = b"not: qos"
    assert qos_of(tree) == spec
    with pytest.raises(m.MetricsError) as err:
        m.qos_from_files({"ams/qos_constraints_L1.yaml": "system: [unclosed"})
    assert err.value.diagnostics[0].code == "AIS990"


def test_configuration_from_environment_and_file(tmp_path):
    assert m.load_config(environ={}).backend == "embedded"
    v1 = m.load_config(environ={"INFLUX_URL": "http://127.0.0.1:1", "INFLUX_DB": "d"})
    assert (v1.backend, v1.database) == ("influxdb1", "d")
    v2 = m.load_config(environ={"INFLUX_URL": "http://127.0.0.1:1", "INFLUX_TOKEN": "tok3n"},
                       app_name="Mask Detection")
    assert (v2.backend, v2.org, v2.bucket) == ("influxdb2", "ai-sprint", "mask-detection-bucket")
    assert "tok3n" not in repr(v2)  # the token never becomes part of the configuration
    file = tmp_path / "metrics.yaml"
    file.write_text("metrics: {url: 'http://127.0.0.1:1', version: 2, bucket: b}\n")
    assert m.load_config(file, environ={}).backend == "influxdb2"
    with pytest.raises(m.MetricsError) as err:
        m.open_source(m.load_config(file, environ={}), environ={})
    assert "INFLUX_TOKEN" in err.value.diagnostics[0].hint
    file.write_text("metrics: {url: 'http://127.0.0.1:1', password: hunter2}\n")
    with pytest.raises(m.MetricsError) as err:
        m.load_config(file, environ={})
    assert err.value.diagnostics[0].code == "AIS986"
    with pytest.raises(m.MetricsError):
        m.load_config(environ={"INFLUX_URL": "http://x", "INFLUX_VERSION": "3"})


def test_unreachable_server_is_a_diagnostic_not_a_traceback():
    source = m.InfluxV1Source(f"http://127.0.0.1:{free_port()}", retries=0, timeout=1)
    with pytest.raises(m.MetricsError) as err:
        source.throughput("c", 10, NOW)
    assert err.value.diagnostics[0].code == "AIS987"


# ------------------------------------------------------------------ three stores, one answer

@pytest.fixture
def v2_standin():
    standin = InfluxDB2StandIn(token="s3cret", org="ai-sprint", buckets={"app-bucket"}).start()
    yield standin
    standin.stop()


@pytest.fixture(params=["embedded", "influxdb1", "influxdb2"])
def store(request, tmp_path):
    if request.param == "embedded":
        return m.EmbeddedStore(tmp_path / "state" / "metrics.sqlite")
    if request.param == "influxdb1":
        url = request.getfixturevalue("influxd")
        db = f"t{free_port()}"
        source = m.open_source(m.load_config(environ={"INFLUX_URL": url, "INFLUX_DB": db}))
        source.ensure_database()
        return source
    standin = request.getfixturevalue("v2_standin")
    return m.open_source(m.load_config(environ={
        "INFLUX_URL": standin.url, "INFLUX_TOKEN": "s3cret", "INFLUX_BUCKET": "app-bucket"}),
        environ={"INFLUX_TOKEN": "s3cret"})


@pytest.mark.integration
def test_every_store_gives_the_same_response_times_and_throughput(store):
    assert isinstance(store, m.MetricsSource)
    points = scenario() + session("slow", NOW - 12, (0.3, 9.0, 0.1), kubernetes_cluster_id="k1")
    assert store.write_points(points) == len(points)
    back = store.execution_times(NOW - 200, NOW)
    assert sorted(back, key=repr) == sorted(points, key=repr)  # every tag and field kept
    assert {p.component_name for p in store.execution_times(NOW - 200, NOW, ["mask"])} == {"mask"}
    rt = store.response_times(60, NOW, (PATH, LOCAL))
    # the numbers of test_slow_requests_violate_and_the_mean_decides, from the store's points
    assert rt.path(PATH.id).stats.count == 7
    assert rt.path(PATH.id).stats.mean == pytest.approx((6 * 1.1 + 9.5) / 7)
    assert rt.path(LOCAL.id).stats.max == pytest.approx(9.0)
    assert [p.path.id for p in rt.violations()] == [PATH.id, LOCAL.id]
    assert store.throughput("blurry", 60, NOW) == pytest.approx(7 / 60)
    # windows are (now - w, now]: a point ending exactly at now - w is out, at now is in
    store.write_points([P("edge", NOW - 61, NOW - 60, session_id="out"),
                        P("edge", NOW - 1, NOW, session_id="in")])
    assert store.throughput("edge", 60, NOW) * 60 == pytest.approx(1)
    assert store.response_times(60, NOW).component("edge").count == 1


@pytest.mark.integration
def test_influxdb1_reads_points_written_as_line_protocol_by_others(influxd):
    """What Telegraf forwards from components (line protocol, no client of ours) is read."""
    db = f"t{free_port()}"
    requests.post(f"{influxd}/query", data={"q": f'CREATE DATABASE "{db}"'}, timeout=5)
    ns = int(NOW * 1e9)
    body = "\n".join(
        f"execution_time,component_name=mask,session_id=r{i},kubernetes_cluster_id=k "
        f"job_start_time={NOW - 10 + i},job_end_time={NOW - 9.5 + i},function_start_time="
        f"{NOW - 10 + i},function_duration=0.4,job_duration=0.5,job_overhead=0.1 "
        f"{ns - (10 - i) * 10**9}" for i in range(5))
    assert requests.post(f"{influxd}/write", params={"db": db}, data=body,
                         timeout=5).status_code == 204
    source = m.InfluxV1Source(influxd, db)
    rt = source.response_times(30, NOW, (LOCAL,))
    assert rt.path(LOCAL.id).stats.count == 5
    assert rt.path(LOCAL.id).stats.mean == pytest.approx(0.5)
    assert source.throughput("mask", 30, NOW) == pytest.approx(5 / 30)


@pytest.mark.integration
def test_influxdb1_errors_carry_the_servers_message(influxd):
    source = m.InfluxV1Source(influxd, "no_such_db", retries=0)
    with pytest.raises(m.MetricsError) as err:
        source.write_points([P("c", 1, 2)])
    assert err.value.diagnostics[0].code == "AIS988"
    assert "database not found" in err.value.diagnostics[0].message
    with pytest.raises(m.MetricsError) as err:
        source.execution_times(0, 1)
    assert "no_such_db" in err.value.diagnostics[0].message + err.value.diagnostics[0].hint


@pytest.mark.integration
def test_influxdb2_requests_are_what_the_v2_api_expects(v2_standin):
    source = m.InfluxV2Source(v2_standin.url, "ai-sprint", "app-bucket", "s3cret")
    source.write_points(session("s1", NOW - 5))
    source.response_times(10, NOW, (PATH,))
    (write,) = v2_standin.writes
    assert write.query == {"org": "ai-sprint", "bucket": "app-bucket", "precision": "ns"}
    assert write.headers["Authorization"] == "Token s3cret"
    assert write.headers["Content-Type"] == "text/plain; charset=utf-8"
    (query,) = v2_standin.queries
    assert query.query == {"org": "ai-sprint"}
    assert query.headers["Accept"] == "application/csv"
    assert query.body.startswith('from(bucket: "app-bucket")\n  |> range(start: '
                                 "2023-11-14T22:13:00.000000001Z, stop: "
                                 "2023-11-14T22:13:20.000000001Z)")
    assert 'r._measurement == "execution_time"' in query.body
    source.throughput("mask", 10, NOW)
    assert 'r.component_name == "mask"' in v2_standin.queries[-1].body
    wrong = m.InfluxV2Source(v2_standin.url, "ai-sprint", "app-bucket", "wrong", retries=0)
    with pytest.raises(m.MetricsError) as err:
        wrong.throughput("mask", 10, NOW)
    assert "HTTP 401" in err.value.diagnostics[0].message
    missing = m.InfluxV2Source(v2_standin.url, "ai-sprint", "other", "s3cret", retries=0)
    with pytest.raises(m.MetricsError) as err:
        missing.write_points([P("c", 1, 2)])
    assert 'bucket "other" not found' in err.value.diagnostics[0].message


def test_annotated_csv_with_several_tables():
    """InfluxDB 2's CSV as documented: annotations, one header per table, blank separators."""
    text = (
        "#group,false,false,true,false,false,false\r\n"
        "#datatype,string,long,string,double,double,string\r\n"
        "#default,_result,,,,,\r\n"
        ",result,table,component_name,job_start_time,job_end_time,session_id\r\n"
        ",,0,a,1,2,s1\r\n,,0,a,3,4,s2\r\n\r\n"
        "#group,false,false,true,false,false\r\n"
        "#datatype,string,long,string,double,double\r\n"
        "#default,_result,,,,\r\n"
        ",result,table,component_name,job_start_time,job_end_time\r\n"
        ",,1,b,5,7\r\n\r\n")
    rows = m.parse_annotated_csv(text)
    assert [(r["component_name"], r["job_end_time"], r.get("session_id")) for r in rows] == [
        ("a", "2", "s1"), ("a", "4", "s2"), ("b", "7", None)]


def test_response_times_serialise_for_json_output():
    rt = m.summarize(scenario(), 60, NOW, (PATH,))
    doc = json.loads(json.dumps(rt.to_json()))
    assert doc["paths"][0]["method"] == "end_to_end" and doc["paths"][0]["violated"] is False
    assert doc["components"]["mask"]["count"] == 6
