"""A reconciler killed with SIGKILL between any two steps of a cycle converges at the next
cycle, with nothing lost and nothing applied twice.

The cycle under test does everything a cycle can: it applies the compiled head (IM creates the
Raspberry Pi cluster's services through its real OSCAR connector, talking to the recording
OSCAR stand-in; the FDL apply adopts the service), judges the slow face detector in the
metrics, commits a re-placement, and applies that (IM destroys the infrastructure, the FDL
apply cleans the cluster). A child process runs it with every step instrumented: a first run
lists the steps, then one fresh run per step is killed right after that step returns
(after the state is saved, after IM answered a create or a destroy, after the commit, after
an OSCAR call), and the parent's cycles must finish the work exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from compiler.compile import build
from compiler.gitops.message import compile_message
from compiler.gitops.repo import DeploymentRepo, Reader, write
from compiler.runtime.metrics import EmbeddedStore
from compiler.runtime.reconcile import reconcile_once
from tests.conftest import copy_example
from tests.runtime.oscar_stub import OscarStub, serve
from tests.runtime.test_reconcile import (
    environment,
    im_client,
    oscar_environment,
    settings,
    slow_points,
)

pytestmark = pytest.mark.integration

CHILD = r"""
import json, os, signal, sys, time
from pathlib import Path
from compiler.runtime import reconcile
from compiler.runtime.im import IMClient, RetryPolicy, load_auth
from compiler.runtime.metrics import EmbeddedStore
from compiler.runtime.triggers import Policy
from compiler.gitops import repo as gitrepo
from oscar_python.client import Client

repo, app, state, im_url, types, metrics, now, kill_at = sys.argv[1:9]
kill_at, steps = int(kill_at), []

def step(name, fn):
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        steps.append(name)
        if len(steps) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapped

reconcile._write_state = step("state saved", reconcile._write_state)
for verb in ("create", "update", "destroy"):
    setattr(IMClient, verb, step(f"IM {verb}", getattr(IMClient, verb)))
gitrepo.write = step("commit", gitrepo.write)
for verb in ("create_service", "update_service", "remove_service"):
    setattr(Client, verb, step(f"OSCAR {verb}", getattr(Client, verb)))

env = dict(os.environ)
im = IMClient(im_url, load_auth(environ=env), custom_types=Path(types), local_imports=True,
              environ=env, retry=RetryPolicy(3, 0.2))
config = reconcile.Settings(
    repo=Path(repo), app_dir=Path(app), state_dir=Path(state), templates=("*-layer1",),
    policy=Policy(window=0, cooldown=60), window=60, poll_interval=0.2, apply_timeout=60,
    oscar=True, environ=env)
cycle = reconcile.reconcile_once(config, im=im, metrics=EmbeddedStore(Path(metrics)),
                                 now=float(now))
print(json.dumps({"cycle": cycle.to_json(), "steps": steps}))
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The mask-detection application, compiled once; each run gets a copy of the repository."""
    root = tmp_path_factory.mktemp("crash")
    app = copy_example("mask_detection", root, models=False)
    return app, build(app).artifacts


def run_child(app, repo, state, metrics, im_server, stub, custom_types, now, kill_at):
    env = {**os.environ, **environment(stub.url), **oscar_environment(stub.url)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(repo), str(app), str(state), im_server.url,
         str(custom_types), str(metrics), repr(now), str(kill_at)],
        env=env, capture_output=True, text=True, timeout=300)


def test_killed_after_any_step_the_next_cycle_finishes_the_work_once(
        compiled, im_server, custom_types, tmp_path):
    app, artifacts = compiled
    im = None

    def fresh(run: str):
        """A repository at the compile commit, empty state, slow metrics, a clean cluster."""
        stub = OscarStub()
        httpd = serve(stub)
        repo = tmp_path / run / "deploy"
        write(DeploymentRepo(repo), artifacts, compile_message(None), create=True)
        metrics = tmp_path / run / "metrics.sqlite"
        now = time.time()
        EmbeddedStore(metrics).write_points(slow_points(now))
        return stub, httpd, repo, tmp_path / run / "state", metrics, now

    stub, httpd, repo, state, metrics, now = fresh("whole")
    whole = run_child(app, repo, state, metrics, im_server, stub, custom_types, now, 0)
    httpd.shutdown()
    assert whole.returncode == 0, whole.stderr
    report = json.loads(whole.stdout)
    steps = report["steps"]
    assert report["cycle"]["status"] == "replaced"
    assert report["cycle"]["actions"] == [
        "created mask-detection-layer1",
        "oscar: updated blurry-faces-onnx on mask-detection-layer1 "
        "(adopted: it was created by another tool)",
        "destroyed mask-detection-layer1"]
    for kind in ("IM create", "IM destroy", "commit", "OSCAR update_service", "state saved"):
        assert kind in steps
    assert len(steps) >= 10
    im = im_client(im_server, stub, custom_types)
    assert im.list() == ()

    for kill_at, name in enumerate(steps, start=1):
        where = f"killed after step {kill_at} ({name}) of {steps}"
        stub, httpd, repo, state, metrics, now = fresh(f"kill{kill_at}")
        try:
            child = run_child(app, repo, state, metrics, im_server, stub, custom_types, now,
                              kill_at)
            assert child.returncode == -signal.SIGKILL, f"{where}: {child.stderr}"
            committed = len(Reader(repo)._git("rev-list", "main").split()) == 2
            im = im_client(im_server, stub, custom_types)
            config = settings(app, repo, tmp_path / f"kill{kill_at}", oscar=True,
                              environ=oscar_environment(stub.url))
            cycles = [reconcile_once(config, im=im, metrics=EmbeddedStore(metrics),
                                     now=now + i) for i in (1, 2, 3)]
            assert all(c.status != "failed" for c in cycles), f"{where}: {cycles}"
            if committed:  # the re-placement was decided: its cooldown holds after the crash
                assert not any(c.triggers for c in cycles), f"{where}: fired again {cycles}"
            assert cycles[-1].status == "unchanged" and not cycles[-1].actions, where
            reader = Reader(repo)
            history = reader._git("rev-list", "main").split()
            assert len(history) == 2, f"{where}: re-placed {len(history) - 1} times"
            assert reader.message(history[0]).startswith(
                "reconcile: L1/local_constraint_1 over its limit"), where
            assert im.list() == (), f"{where}: IM still holds {im.list()}"
            assert stub.services == {}, f"{where}: the cluster still runs {stub.services}"
            posts = [c.body["name"] for c in stub.calls("POST")]
            assert posts == ["blurry-faces-onnx"], f"{where}: created {posts}"  # once
            saved = json.loads((state / "reconcile-state.json").read_text())
            assert saved["applied"] == history[0] and saved["infrastructures"] == {}, where
            assert "pending" not in saved and saved.get("oscar") == {}, where
        finally:
            httpd.shutdown()
            httpd.server_close()
            if im is not None:
                for url in im.list():
                    im.destroy(url)
