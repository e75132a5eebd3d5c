"""The local backend (compiler.runtime.local) and `aisprint up` / `down`: the mask-detection
example run for real (ONNX Runtime on real photos) with OSCAR's semantics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from compiler.runtime import local
from compiler.runtime import metrics as m
from compiler.runtime.local import supervisor
from tests.conftest import alive, shared_path

PHOTOS = ("faces-1.jpg", "masked-img1.jpeg")  # one raises an alert, one does not


# --------------------------------------------------------------------------- pure parts

def test_session_names_follow_the_seed_script():
    sid = "4d283658-ee35-489b-9683-679dd2a4df58"
    assert local.session_of(f"aisprint-{sid}-faces-1.jpg") == sid
    assert local.session_of("faces-1.jpg") == ""
    assert local.with_session("faces-1.jpg", sid) == f"aisprint-{sid}-faces-1.jpg"
    assert local.with_session(f"aisprint-{sid}-x.json", sid) == f"aisprint-{sid}-x.json"


def test_branch_probabilities_are_honoured_deterministically():
    edges = [("a", "b", 1.0), ("a", "exit", 0.25), ("a", "rest", 0.75)]
    sessions = [f"s{i}" for i in range(2000)]
    picks = [local.chosen_successors("a", s, edges) for s in sessions]
    assert all("b" in p and len(p) == 2 for p in picks)  # p = 1 always, one of the others
    share = sum("exit" in p for p in picks) / len(picks)
    assert 0.21 < share < 0.29
    assert picks == [local.chosen_successors("a", s, edges) for s in sessions]  # stable
    # probabilities summing below 1: some requests stop here
    assert any(not local.chosen_successors("x", s, [("x", "y", 0.5)]) for s in sessions[:50])


def test_parallel_runs_follow_the_cores_and_the_machine():
    service = local.Service("s", "s", Path("."), (local.Storage("b/in"),), (), (), 3.5, "")
    assert local.parallelism(service, cpus=8) == 4
    assert local.parallelism(service, cpus=2) == 2
    assert local.parallelism(service, cpus=8, cap=1) == 1
    light = local.Service("s", "s", Path("."), (local.Storage("b/in"),), (), (), 0.5, "")
    assert local.parallelism(light, cpus=8) == 1


def test_oscar_prefix_and_suffix_filters():
    storage = local.Storage("b/in", prefixes=("img",), suffixes=(".jpg",))
    assert storage.accepts("img-1.jpg")
    assert storage.accepts("aisprint-4d283658-ee35-489b-9683-679dd2a4df58-img-1.jpg")
    assert not storage.accepts("img-1.json") and not storage.accepts("x-1.jpg")


def test_the_sdk_writes_the_ams_point_with_its_session(tmp_path):
    sid = "4d283658-ee35-489b-9683-679dd2a4df58"
    target = tmp_path / "metrics.jsonl"
    code = ("from aisprint.annotations import exec_time\n"
            "@exec_time(local_time_thr=1)\n"
            "def main(args):\n    return args['input']\n"
            f"main({{'input': '/in/aisprint-{sid}-photo.jpg', 'output': '/out'}})\n")
    env = {**os.environ, "AISPRINT_METRICS_FILE": str(target), "COMPONENT_NAME": "c",
           "RESOURCE_ID": "VM1", "KCI": "cluster-1", "AISPRINT_JOB_START_TIME": "1.0"}
    env.pop("UUID", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    record = json.loads(target.read_text())
    assert set(m.FIELDS) <= set(record) and set(m.TAGS) <= set(record)
    assert record["session_id"] == sid and record["job_start_time"] == 1.0
    assert record["job_overhead"] == pytest.approx(record["function_start_time"] - 1.0)
    point = m.point_from_record(record)
    assert (point.session_id, point.kubernetes_cluster_id, point.resource_id) == \
        (sid, "cluster-1", "VM1")
    assert point.job_duration == pytest.approx(record["job_duration"])


def test_a_background_backends_result_reads_back_as_it_was_written(tmp_path):
    """`up -d` renders what its child wrote to summary.json: the same UpResult, failures,
    unmeasured paths and the reconciler's last cycle included."""
    failure = local.JobRecord("mask-detector", "mask-detector", 3, "in/a.jpg", "s1", False,
                              "exit 1", 10.5, 11.25, (), 4242)
    summary = local.Summary(
        2.5, 2, (local.ComponentSummary("mask-detector", "mask-detector", 2, 1, 2, 1, 0.125),),
        (local.PathSummary("L1/c1", ("a", "b"), 1.0, 1.5, 2.0, 2, "end_to_end"),
         local.PathSummary("L1/c2", ("b",), 1.0, None, None, 0, "local")),
        (failure,), ("out/x.json",), "EmbeddedStore")
    status = local.ReconcilerStatus(77, tmp_path / "r.log", 5.0, None, 3, ("abc",),
                                    {"status": "unchanged", "head": "abc"})
    result = local.UpResult(summary, tmp_path, tmp_path / "repo", ("/b/in",), status)
    doc = json.loads(json.dumps(result.to_json()))
    assert local.UpResult.from_json(doc) == result
    assert [p["ok"] for p in doc["paths"]] == [False, None]  # 1.5 s over its 1 s limit
    assert doc["reconciler"]["running"] and doc["failures"][0]["worker"] == 4242
    assert doc["inputs_folder"] == ["/b/in"] and doc["state"] == str(tmp_path)
    gone = local.ReconcilerStatus.from_json({**doc["reconciler"], "exit_code": 1})
    assert not gone.running


def test_a_missing_deployment_is_a_diagnostic(tmp_path):
    (tmp_path / "aisprint" / "deployments" / "base").mkdir(parents=True)
    with pytest.raises(local.LocalError) as err:
        local.load_topology(tmp_path)
    assert err.value.diagnostics[0].code == "AIS968"
    assert "base" in err.value.diagnostics[0].hint


# --------------------------------------------------------------------------- the real example

@pytest.fixture(scope="module")
def compiled(prepared_examples, tmp_path_factory):
    return local.compile_into(prepared_examples["mask_detection"],
                              tmp_path_factory.mktemp("compiled") / "repo").repo


@pytest.fixture(scope="module")
def two_photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        shutil.copyfile(shared_path("images", name), folder / name)
    return folder


def test_topology_of_the_compiled_example(compiled):
    topology = local.load_topology(compiled)
    by_unit = {s.unit: s for s in topology.services}
    assert set(by_unit) == {"blurry-faces-onnx", "mask-detector", "mask-alert"}
    # the OSCAR service (FDL) feeds the serverless functions (IM templates) through a bucket
    assert by_unit["blurry-faces-onnx"].source.endswith("oscar/fdl.yaml")
    assert by_unit["mask-detector"].source.endswith(".yaml") and "/im/" in \
        by_unit["mask-detector"].source
    assert by_unit["blurry-faces-onnx"].outputs[0].path == by_unit["mask-detector"].inputs[0].path
    assert [s.unit for s in topology.entry_services()] == ["blurry-faces-onnx"]
    assert {q.id for q in topology.qos} >= {"L4/global_constraint_2"}


def _run(compiled, photos, state, source) -> tuple[local.LocalBackend, float]:
    topology = local.load_topology(compiled)
    backend = local.LocalBackend(topology, state, source, watch_repository=False).start()
    since = time.time()
    try:
        backend.upload(sorted(photos.iterdir()))
        assert backend.wait_idle(timeout=120)
    finally:
        backend.stop()
    return backend, since


def _check_run(backend: local.LocalBackend, since: float, source) -> dict[str, str]:
    records = backend.records
    assert all(r.ok for r in records), [r.error for r in records if not r.ok]
    first = [r for r in records if r.unit == "blurry-faces-onnx"]
    sessions = {Path(r.input).name: r.session for r in first}
    assert sorted(sessions) == sorted(PHOTOS)  # each photo ran once through the first
    assert len(set(sessions.values())) == len(PHOTOS)
    # OSCAR semantics: every file a service writes triggers exactly one run of the next
    written = Counter(o for r in records for o in r.outputs)
    taken = Counter(r.input for r in records if r.unit != "blurry-faces-onnx")
    assert taken == Counter({o: 1 for o in written if "/mask-alert/" not in o})
    for unit in ("mask-detector", "mask-alert"):
        assert {r.session for r in records if r.unit == unit} == set(sessions.values())
    # results in the last service's output folder, named with the request's session
    alerts = sorted((backend.buckets / "aisprint-mask-detection" / "mask-alert" / "output")
                    .iterdir())
    assert [a.name for a in alerts] == [f"aisprint-{sessions['faces-1.jpg']}-faces-1.alert.json"]
    assert json.loads(alerts[0].read_text())["unmasked_faces"] >= 1
    # the components' own execution_time points, with the sessions, in the store
    points = source.execution_times(since - 1, time.time() + 1)
    assert {p.session_id for p in points} == set(sessions.values())
    assert {p.component_name for p in points} == {"blurry-faces-onnx", "mask-detector",
                                                  "mask-alert"}
    assert all(p.resource_id and p.kubernetes_cluster_id for p in points)
    assert all(p.job_start_time <= p.function_start_time <= p.job_end_time for p in points)
    # ... from which metrics.py computes every QoS path end to end, per request
    times = source.response_times(time.time() - since + 5, time.time() + 1,
                                  backend.topology.qos)
    whole = times.path("L4/global_constraint_2")
    assert whole.method == "end_to_end" and whole.stats.count == len(PHOTOS)
    part = times.path("L4/global_constraint_1")
    assert 0 < part.stats.mean <= whole.stats.mean
    return sessions


@pytest.mark.slow
def test_mask_detection_end_to_end_with_the_embedded_store(compiled, two_photos, tmp_path):
    store = m.EmbeddedStore(tmp_path / "state" / "metrics.sqlite")
    backend, since = _run(compiled, two_photos, tmp_path / "state", store)
    _check_run(backend, since, store)
    summary = local.summarize_run(backend, since, len(PHOTOS))
    counts = {c.unit: (c.jobs, c.sessions, c.failed) for c in summary.components}
    assert counts["blurry-faces-onnx"] == (2, 2, 0)
    assert [c.unit for c in summary.components] == ["blurry-faces-onnx", "mask-detector",
                                                    "mask-alert"]
    assert all(p.ok for p in summary.paths) and len(summary.results) == 1
    assert not list((tmp_path / "state" / "work").rglob("*.jpg"))  # runs clean up
    # a restart does not run what was taken already
    topology = local.load_topology(compiled)
    with local.LocalBackend(topology, tmp_path / "state", store,
                            watch_repository=False) as again:
        assert again.wait_idle(timeout=30)
        assert again.records == []


@pytest.mark.slow
@pytest.mark.integration
def test_mask_detection_end_to_end_into_a_real_influxdb(compiled, two_photos, tmp_path,
                                                        influxd):
    source = local.open_metrics(tmp_path, environ={"INFLUX_URL": influxd,
                                                   "INFLUX_DB": "local_runner"})
    assert isinstance(source, m.InfluxV1Source)
    backend, since = _run(compiled, two_photos, tmp_path / "state", source)
    _check_run(backend, since, source)
    assert not (tmp_path / "state" / "metrics.sqlite").exists()


@pytest.mark.slow
def test_up_detach_then_down_leaves_no_process(prepared_examples, tmp_path):
    photo = tmp_path / "one"
    photo.mkdir()
    shutil.copyfile(shared_path("images", "faces-1.jpg"), photo / "faces-1.jpg")
    state = tmp_path / "state"
    cli = [sys.executable, "-m", "compiler.cli.main"]
    up = subprocess.run([*cli, "up", str(prepared_examples["mask_detection"]), "--state",
                         str(state), "--images", str(photo), "--detach"],
                        capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "1 input(s) processed end to end" in up.stdout
    recorded = json.loads((state / "up.json").read_text())
    pids = [recorded["pid"], *recorded["workers"], recorded["reconciler"]["pid"]]
    assert len(pids) >= 5 and all(alive(p) for p in pids)  # backend + a worker per service
    again = subprocess.run([*cli, "up", str(prepared_examples["mask_detection"]), "--state",
                            str(state), "--no-images", "--detach"], capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 1 and "AIS966" in again.stdout
    down = subprocess.run([*cli, "down", "--state", str(state)], capture_output=True,
                          text=True, timeout=60)
    assert down.returncode == 0, down.stderr
    assert f"stopped backend (pid {recorded['pid']})" in down.stdout
    assert f"stopped reconciler (pid {recorded['reconciler']['pid']})" in down.stdout
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if alive(p)]
    assert not (state / "up.json").exists()
    assert "nothing running" in subprocess.run([*cli, "down", "--state", str(state)],
                                               capture_output=True, text=True).stdout


def test_up_without_photos_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AISPRINT_SHARED", str(tmp_path / "nowhere"))
    monkeypatch.setattr(supervisor, "default_images", lambda *a, **k: None)
    from compiler.cli.main import app, run

    (tmp_path / "app").mkdir()
    code = run(app, ["up", str(tmp_path / "app"), "--state", str(tmp_path / "s")])
    assert code == 1
    said = capsys.readouterr().out
    assert "AIS967" in said and "--images DIR" in said
    with pytest.raises(local.LocalError) as err:
        local.input_files(tmp_path / "missing")
    assert err.value.diagnostics[0].code == "AIS967"
    assert "--images DIR" in err.value.diagnostics[0].hint
