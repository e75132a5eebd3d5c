"""The reconciler against a real IM (with IM's real OSCAR connector talking to the recording
OSCAR stand-in), a real influxd and a real git deployment repository.

Only the already-provisioned Raspberry Pi layer is applied (``templates=("*-layer1",)``): its
template is services-only, so IM never contextualises a VM (whose address must not be
contacted)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from compiler.compile import build
from compiler.gitops.message import compile_message, parse
from compiler.gitops.repo import DeploymentRepo, Reader, write
from compiler.runtime.im import IMClient, RetryPolicy, load_auth
from compiler.runtime.metrics import ExecutionTimePoint, InfluxV1Source
from compiler.runtime.reconcile import CURRENT, Settings, reconcile_once
from compiler.runtime.triggers import Policy
from tests.conftest import copy_example

pytestmark = pytest.mark.integration

SECRETS = {"MINIO_SECRET_KEY_MASK_DETECTION_LAYER3": "layer3-secret",
           "AWS_ACCESS_KEY_ID": "AKIA-TEST", "AWS_SECRET_ACCESS_KEY": "aws-secret"}


def environment(stub_url: str) -> dict[str, str]:
    auth = (f"id = oscar-rpi; type = OSCAR; host = {stub_url}; username = oscar; "
            "password = stub-pass\n"
            "type = InfrastructureManager; username = tester; password = im-pass\n")
    return {"IM_AUTH": auth, **SECRETS}


@pytest.fixture
def deployment(tmp_path):
    """The mask-detection application and its deployment repository, compiled once."""
    app = copy_example("mask_detection", tmp_path, models=False)
    repo = tmp_path / "deploy"
    write(DeploymentRepo(repo), build(app).artifacts, compile_message(None), create=True)
    return app, repo


@pytest.fixture
def influx(influxd, request):
    source = InfluxV1Source(influxd, database=f"reconcile_{request.node.name[-20:]}"
                            .replace("-", "_").replace("[", "_").replace("]", "_"))
    source.ensure_database()
    return source


def im_client(im_server, stub, custom_types) -> IMClient:
    env = environment(stub.url)
    return IMClient(im_server.url, load_auth(environ=env), custom_types=custom_types,
                    local_imports=True, environ=env, retry=RetryPolicy(3, 0.2))


def slow_points(now: float, seconds: float = 30.0, sessions: int = 60):
    """One request a second for a minute, each taking ``seconds`` in blurry-faces-onnx."""
    return [ExecutionTimePoint("blurry-faces-onnx", now - 60 + i - seconds, now - 60 + i + 0.5,
                               session_id=f"s{i:03d}", resource_id="RaspPi4")
            for i in range(sessions)]


def settings(app, repo, tmp_path, **extra) -> Settings:
    return Settings(repo=repo, app_dir=app, state_dir=tmp_path / "state",
                    policy=Policy(window=0, cooldown=60), window=60, poll_interval=0.2,
                    apply_timeout=60, templates=("*-layer1",), **extra)


def test_deploy_then_a_violation_commits_a_new_placement_and_updates_im(
        deployment, influx, im_server, oscar_stub, custom_types, tmp_path):
    app, repo = deployment
    im = im_client(im_server, oscar_stub, custom_types)
    config = settings(app, repo, tmp_path)
    now = time.time()

    first = reconcile_once(config, im=im, metrics=influx, now=now)
    assert first.status == "applied" and first.actions == ("created mask-detection-layer1",)
    assert [c.body["name"] for c in oscar_stub.calls("POST")] == ["blurry-faces-onnx"]

    idle = reconcile_once(config, im=im, metrics=influx, now=now + 1)
    assert idle.status == "unchanged" and idle.commit is None and not idle.actions
    calls = len(oscar_stub.requests)

    influx.write_points(slow_points(now + 2))
    cycle = reconcile_once(config, im=im, metrics=influx, now=now + 2)
    assert cycle.status == "replaced", cycle.summary()
    assert [t.subject for t in cycle.triggers] == ["L1/local_constraint_1"]
    head = Reader(repo).head_of("main")
    assert cycle.commit == head
    message = parse(Reader(repo).message(head))
    assert message.subject.startswith("reconcile: L1/local_constraint_1 over its limit, moved "
                                      "blurry-faces-onnx to layer 2")
    assert any("30.5 s measured" in line for line in message.body)
    tree = Reader(repo).read_tree(head)
    production = yaml.safe_load(tree[f"{CURRENT}/production_deployment.yaml"])
    blurry = production["System"]["Components"]["component1"]
    assert blurry["executionLayer"] == 2
    kept = [p for p in tree if p.startswith(CURRENT + "_") and p.endswith(
        "/production_deployment.yaml")]
    assert len(kept) == 1 and yaml.safe_load(tree[kept[0]])["System"]["Components"][
        "component1"]["executionLayer"] == 1
    # blurry left the Raspberry Pi cluster: IM removed its service there
    assert cycle.actions == ("destroyed mask-detection-layer1",)
    assert [c.path for c in oscar_stub.calls("DELETE")] == ["/system/services/blurry-faces-onnx"]
    assert len(oscar_stub.requests) > calls

    after = reconcile_once(config, im=im, metrics=influx, now=now + 3)
    assert after.status == "unchanged" and after.commit is None and not after.actions
    assert Reader(repo).head_of("main") == head
    state = json.loads((tmp_path / "state" / "reconcile-state.json").read_text())
    assert state["applied"] == head and state["infrastructures"] == {}


def test_two_reconcilers_at_once_only_one_acts(deployment, tmp_path):
    from compiler.gitops.lock import WriteLock

    app, repo = deployment
    config = settings(app, repo, tmp_path)
    with WriteLock(tmp_path / "state" / "reconcile.lock", "a reconciler"):
        assert reconcile_once(config).status == "locked"
    assert reconcile_once(config).status == "unchanged"


KILLER = r"""
import os, sys, signal
from compiler.runtime import reconcile
from compiler.runtime.im import IMClient, RetryPolicy, load_auth
from compiler.runtime.triggers import Policy
from pathlib import Path

real_create = IMClient.create
def create_then_die(self, *args, **kwargs):
    url = real_create(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # posted, but never recorded
IMClient.create = create_then_die
env = dict(os.environ)
im = IMClient(sys.argv[3], load_auth(environ=env), custom_types=Path(sys.argv[4]),
              local_imports=True, environ=env, retry=RetryPolicy(3, 0.2))
config = reconcile.Settings(repo=Path(sys.argv[1]), app_dir=None, state_dir=Path(sys.argv[2]),
                            policy=Policy(window=0), templates=("*-layer1",), poll_interval=0.2)
reconcile.reconcile_once(config, im=im)
"""


def test_killed_between_posting_and_recording_converges_without_posting_twice(
        deployment, im_server, oscar_stub, custom_types, tmp_path):
    app, repo = deployment
    env = {**os.environ, **environment(oscar_stub.url)}
    done = subprocess.run([sys.executable, "-c", KILLER, str(repo), str(tmp_path / "state"),
                           im_server.url, str(custom_types)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    state = json.loads((tmp_path / "state" / "reconcile-state.json").read_text())
    assert state["pending"]["template"] == "mask-detection-layer1"  # the crash left it pending
    im = im_client(im_server, oscar_stub, custom_types)
    before = set(im.list())
    cycle = reconcile_once(settings(app, repo, tmp_path), im=im)
    (action,) = cycle.actions
    assert action.startswith("adopted mask-detection-layer1")
    assert set(im.list()) == before  # nothing posted twice
    assert len(oscar_stub.calls("POST")) == 1
    again = reconcile_once(settings(app, repo, tmp_path), im=im)
    assert again.status == "unchanged" and not again.actions
    for url in im.list():
        im.destroy(url)
    shutil.rmtree(tmp_path / "state")


def test_the_cli_judges_embedded_metrics_and_commits_a_re_placement(deployment, tmp_path):
    """`aisprint reconcile --once` without IM: the embedded metrics store says the face
    detector is slow, so the reconciler commits a new placement (and a second run does not)."""
    from compiler.runtime.metrics import EmbeddedStore
    from tests.cli.test_cli import aisprint

    app, repo = deployment
    state = tmp_path / "state"
    EmbeddedStore(state / "metrics.sqlite").write_points(slow_points(time.time()))
    args = ["reconcile", str(repo), "--once", "--app", str(app), "--state", str(state),
            "--for", "0", "-o", "json"]
    done = aisprint(*args, env={"INFLUX_URL": ""})
    assert done.returncode == 0, done.stderr
    cycle = json.loads(done.stdout)
    assert cycle["status"] == "replaced" and cycle["commit"] == Reader(repo).head_of("main")
    assert cycle["triggers"][0].startswith("component blurry-faces-onnx over its limit")
    from jsonschema import Draft202012Validator

    from compiler.load.schema import load_schema

    manifest = json.loads(Reader(repo).read_tree(cycle["commit"])["aisprint/manifest.json"])
    Draft202012Validator(load_schema("manifest")).validate(manifest)  # still its schema's
    assert manifest["placement"]["load"] == 1.0  # compiled for the expected load
    assert manifest["current"]["load"] == cycle["load"] > 0.9  # re-placed for the measured one
    again = json.loads(aisprint(*args, env={"INFLUX_URL": ""}).stdout)
    assert again["status"] == "unchanged" and again["commit"] is None  # cooling down


def test_a_load_no_placement_can_serve_is_said_not_committed(deployment, tmp_path):
    """30 requests a second, slow ones: no placement of mask detection serves that load (it
    tops out under 20), so nothing is committed, the cycle says why, and the cooldown holds
    the next attempt."""
    from compiler.runtime.metrics import EmbeddedStore

    app, repo = deployment
    head = Reader(repo).head_of("main")
    config = settings(app, repo, tmp_path)
    now = time.time()
    store = EmbeddedStore(tmp_path / "m.sqlite")
    ends = [now - 60 + (i + 0.5) / 30 for i in range(1800)]  # all within the last minute
    store.write_points(ExecutionTimePoint("blurry-faces-onnx", end - 30, end,
                                          session_id=f"s{i:04d}") for i, end in enumerate(ends))
    cycle = reconcile_once(config, metrics=store, now=now)
    assert cycle.status == "unchanged" and cycle.commit is None, cycle
    assert {t.kind for t in cycle.triggers} == {"qos", "load"} and cycle.load == pytest.approx(30)
    assert Reader(repo).head_of("main") == head
    assert cycle.note.startswith("no placement meets every constraint at the measured times")
    assert "judged again in 60 s" in cycle.note
    assert cycle.note in cycle.summary() and cycle.to_json()["note"] == cycle.note
    later = reconcile_once(config, metrics=store, now=now + 1)
    assert not later.triggers and later.note == "" and later.commit is None  # cooling down


def oscar_environment(stub_url: str) -> dict[str, str]:
    """The FDL's secrets and the Raspberry Pi cluster's endpoint and password (never in git)."""
    return {**SECRETS, "OSCAR_ENDPOINT_MASK_DETECTION_LAYER1": stub_url,
            "OSCAR_PASSWORD_MASK_DETECTION_LAYER1": "stub-pass"}


def test_the_fdl_is_applied_and_oscar_drift_repaired(deployment, oscar_stub, tmp_path):
    """With --oscar (and no IM): the FDL's Raspberry Pi service is created, a second cycle
    only lists, a service deleted or edited on the cluster is put back, and once a
    re-placement moves the face detector off that cluster its service is removed there."""
    from compiler.runtime.metrics import EmbeddedStore

    app, repo = deployment
    config = settings(app, repo, tmp_path, oscar=True,
                      environ=oscar_environment(oscar_stub.url))
    now = time.time()
    first = reconcile_once(config, now=now)
    assert first.status == "applied", first.summary()
    assert first.actions == ("oscar: created blurry-faces-onnx on mask-detection-layer1",)
    service = oscar_stub.services["blurry-faces-onnx"]
    assert service["labels"]["aisprint.io/application"] == "mask_detection"
    recorded = json.loads((tmp_path / "state" / "reconcile-state.json").read_text())["oscar"]
    assert recorded == {"mask-detection-layer1": {
        "endpoint": oscar_stub.url,
        "services": {"blurry-faces-onnx": service["labels"]["aisprint.io/spec"]}}}
    assert service["script"].startswith("#!")  # the script, read from the commit
    assert service["storage_providers"]["s3"]["mask-detection-layer4"]["secret_key"] == \
        "aws-secret"  # filled from the environment, never committed

    mutating = ("POST", "PUT", "DELETE")
    before = sum(len(oscar_stub.calls(m)) for m in mutating)
    idle = reconcile_once(config, now=now + 1)
    assert idle.status == "unchanged" and not idle.actions
    assert sum(len(oscar_stub.calls(m)) for m in mutating) == before

    del oscar_stub.services["blurry-faces-onnx"]  # someone deleted it on the cluster
    assert reconcile_once(config, now=now + 2).actions == (
        "oscar: created blurry-faces-onnx on mask-detection-layer1",)
    oscar_stub.services["blurry-faces-onnx"]["image"] = "someone/else:latest"
    (action,) = reconcile_once(config, now=now + 3).actions
    assert action == ("oscar: updated blurry-faces-onnx on mask-detection-layer1 "
                      "(drift on the cluster: image)")
    assert oscar_stub.services["blurry-faces-onnx"]["image"] == service["image"]

    metrics = EmbeddedStore(tmp_path / "metrics.sqlite")
    metrics.write_points(slow_points(now + 4))
    moved = reconcile_once(config, metrics=metrics, now=now + 4)
    assert moved.status == "replaced", moved.summary()
    assert moved.actions == ("oscar: deleted blurry-faces-onnx on mask-detection-layer1",)
    assert oscar_stub.services == {}
    state = json.loads((tmp_path / "state" / "reconcile-state.json").read_text())
    assert state["oscar"] == {} and state["applied"] == moved.commit
    assert reconcile_once(config, metrics=metrics, now=now + 5).actions == ()


def test_a_cluster_that_cannot_be_reached_fails_the_cycle_with_a_fix(deployment, tmp_path):
    app, repo = deployment
    config = settings(app, repo, tmp_path, oscar=True, environ=SECRETS)
    cycle = reconcile_once(config)
    assert cycle.status == "failed"
    assert cycle.error.startswith("AIS993: no endpoint for OSCAR cluster "
                                  "'mask-detection-layer1'")
    assert "OSCAR_ENDPOINT_MASK_DETECTION_LAYER1" in cycle.error
    assert "failed at" in cycle.summary() and cycle.to_json()["status"] == "failed"


def test_two_reconciler_processes_started_together_re_place_once(deployment, tmp_path):
    """Two `aisprint reconcile --once` on one repository and state, started at the same
    moment with a violation to act on: one re-places, the other finds the lock held (or, when
    it came second, the placement already changed and cooling down); one commit in all."""
    from compiler.runtime.metrics import EmbeddedStore

    app, repo = deployment
    state = tmp_path / "state"
    EmbeddedStore(state / "metrics.sqlite").write_points(slow_points(time.time()))
    args = [sys.executable, "-m", "compiler.cli.main", "reconcile", str(repo), "--once",
            "--app", str(app), "--state", str(state), "--for", "0", "-o", "json"]
    env = {**os.environ, "INFLUX_URL": ""}
    children = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    cycles = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        cycles.append(json.loads(out))
    statuses = sorted(c["status"] for c in cycles)
    assert statuses in (["locked", "replaced"], ["replaced", "unchanged"]), cycles
    history = Reader(repo)._git("rev-list", "main").split()
    assert len(history) == 2
    assert next(c for c in cycles if c["status"] == "replaced")["commit"] == history[0]
