"""`aisprint up` with the reconciler beside the local backend: the compiled tree is a git
repository written by the GitOps writer, the reconciler judges the metrics the workers write
and commits re-placements there, the backend follows them, and `aisprint down` stops it all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from compiler.gitops.repo import Reader
from compiler.runtime import local
from compiler.runtime.local import reconciler as lr
from compiler.runtime.metrics import EmbeddedStore, ExecutionTimePoint
from tests.conftest import alive, shared_path

CLI = [sys.executable, "-m", "compiler.cli.main"]
CURRENT = "aisprint/deployments/current_deployment"


def _env() -> dict[str, str]:
    """This machine's environment without a metrics server or an IM: the embedded store."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("INFLUX_") and k not in ("IM_URL", "AISPRINT_DEBUG")}


def aisprint(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=_env())


def _gone(pids, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


# --------------------------------------------------------------------------- quick parts

def test_compile_into_commits_through_the_gitops_writer(mask_app, tmp_path):
    repo = tmp_path / "repo"
    first = local.compile_into(mask_app, repo)
    assert first.commit and first.head == first.commit == Reader(repo).head_of("main")
    assert first.files == len(Reader(repo).read_tree(first.head)) > 50
    assert _git(repo, "log", "--format=%s").startswith("compile of")
    assert (repo / CURRENT / "oscar" / "fdl.yaml").is_file()  # the work tree follows
    assert local.load_topology(repo).services
    # bytecode the workers leave in the designs is not a hand edit of the compiled tree
    (repo / "aisprint" / "designs" / "mask-alert" / "base" / "__pycache__").mkdir()
    (repo / "aisprint" / "designs" / "mask-alert" / "base" / "__pycache__" / "main.pyc") \
        .write_bytes(b"\0")
    assert _git(repo, "status", "--porcelain") == ""
    again = local.compile_into(mask_app, repo)
    assert again.commit is None and again.head == first.head  # nothing changed: no commit
    alert = mask_app / "src" / "mask-alert" / "main.py"
    alert.write_text(alert.read_text().replace("local_time_thr=2,", "local_time_thr=3,"))
    changed = local.compile_into(mask_app, repo)
    assert changed.commit and changed.commit != first.head
    assert _git(repo, "rev-list", "--count", "main").strip() == "2"
    moved = _git(repo, "diff", "--name-only", first.head, changed.commit).split()
    assert {"aisprint/designs/mask-alert/base/main.py",
            f"{CURRENT}/ams/qos_constraints_L4.yaml"} <= set(moved)
    assert "local_time_thr=3," in (repo / "aisprint" / "designs" / "mask-alert" / "base" /
                                   "main.py").read_text()  # in the work tree the backend reads


@pytest.mark.slow
def test_a_plain_folder_is_not_compiled_over(mask_app, tmp_path):
    from compiler.compile import build
    from compiler.gitops.folder import write_tree

    plain = tmp_path / "plain"
    write_tree(str(plain), build(str(mask_app), max_deployments=0).artifacts)
    with pytest.raises(local.LocalError) as err:
        local.compile_into(mask_app, plain)
    assert err.value.diagnostics[0].code == "AIS956"
    assert f"rm -r {plain}" in err.value.diagnostics[0].hint
    # --no-compile runs the plain tree; the reconciler needs git: refused when asked for ...
    state = tmp_path / "state"
    asked = aisprint("up", mask_app, "--no-compile", "--out", plain, "--state", state,
                     "--no-images", "--exit-when-done", "--reconcile")
    assert asked.returncode == 1 and "AIS956" in asked.stdout and "--no-reconcile" in asked.stdout
    # ... and left out with a note by default
    plain_run = aisprint("up", mask_app, "--no-compile", "--out", plain, "--state", state,
                         "--no-images", "--exit-when-done", "-o", "json")
    assert plain_run.returncode == 0, plain_run.stderr
    assert json.loads(plain_run.stdout)["reconciler"] is None
    assert not (state / "logs" / lr.LOG).exists()


def test_the_reconciler_reads_the_store_the_backend_writes(tmp_path):
    embedded = yaml.safe_load(lr.write_metrics_config(tmp_path, "app", environ={}).read_text())
    assert embedded == {"metrics": {"backend": "embedded", "database": "aisprint",
                                    "org": "ai-sprint",
                                    "store": str(tmp_path.resolve() / "metrics.sqlite")}}
    env = {"INFLUX_URL": "http://127.0.0.1:9", "INFLUX_TOKEN": "secret-token",
           "INFLUX_VERSION": "2"}
    path = lr.write_metrics_config(tmp_path, "Mask Detection", environ=env)
    influx = yaml.safe_load(path.read_text())["metrics"]
    assert influx["backend"] == "influxdb2" and influx["url"] == "http://127.0.0.1:9"
    assert influx["bucket"] == "mask-detection-bucket"  # the bucket the backend writes to
    assert "secret-token" not in path.read_text()  # secrets stay in the environment
    from compiler.runtime.metrics import load_config

    assert load_config(path, env) == local.metrics_config(tmp_path, "Mask Detection", env)
    command = lr.command(Path("/r"), Path("/a"), tmp_path, lr.ReconcilerOptions(2, 0, 30),
                         path)
    assert command[:5] == [sys.executable, "-m", "compiler.cli.main", "reconcile", "/r"]
    assert " ".join(command[5:]).startswith("--watch --interval 2 --app /a --state ")
    assert local.RECONCILER_COMMAND in " ".join(command)
    assert "IM_URL" not in lr.child_environment({"IM_URL": "http://127.0.0.1:1", "A": "b"})
    log = '{"status": "unchanged", "commit": null}\nnote: x\n{"other": 1}\nnot json {\n'
    assert lr.cycles_in(log) == [{"status": "unchanged", "commit": None}]


def test_down_leaves_a_recorded_pid_that_is_not_a_reconciler(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / local.UP_FILE).write_text(json.dumps(
            {"pid": 999999999, "workers": [], "reconciler": {"pid": sleeper.pid}}))
        assert local.stop_backend(tmp_path) == []
        assert sleeper.poll() is None
    finally:
        sleeper.send_signal(signal.SIGTERM)
        sleeper.wait()


# --------------------------------------------------------------------------- the real example

@pytest.mark.slow
def test_up_commits_runs_the_reconciler_and_stops_it_when_done(prepared_examples, tmp_path):
    images = shared_path("images")
    state = tmp_path / "state"
    done = aisprint("up", prepared_examples["mask_detection"], "--state", state, "--images",
                    images, "--exit-when-done", "--reconcile-interval", "1", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["inputs"] == len(local.input_files(images))
    assert not summary["failures"]
    # the compiled tree is a git repository with the compile's commit, its work tree clean
    # although workers ran from it
    repo = state / "repo"
    assert Reader(repo).head_of("main") and _git(repo, "log", "--format=%s") \
        .startswith("compile of")
    assert _git(repo, "status", "--porcelain") == ""
    # the reconciler ran on it, judged the metrics the workers wrote, and is gone
    info = summary["reconciler"]
    assert info["log"] == str(state.resolve() / "logs" / lr.LOG)
    cycles = lr.cycles_in(Path(info["log"]).read_text())
    # nothing lasts the default --reconcile-for 60 s in a run this short: no re-placement
    assert cycles and {c["status"] for c in cycles} == {"unchanged"}
    assert {c["head"] for c in cycles} == {Reader(repo).head_of("main")}
    assert any("L1/local_constraint_1" in c["measured"] for c in cycles)
    assert info["cycles"] == len(cycles) and info["last"] == cycles[-1]
    assert not _gone([info["pid"]], timeout=5)
    assert not (state / local.UP_FILE).exists()
    # without the reconciler: none starts, and an unchanged application makes no commit
    head = Reader(repo).head_of("main")
    alone = aisprint("up", prepared_examples["mask_detection"], "--state", state,
                     "--no-images", "--exit-when-done", "--no-reconcile")
    assert alone.returncode == 0, alone.stderr
    assert "unchanged at" in alone.stderr and "reconciler" not in alone.stdout
    assert Reader(repo).head_of("main") == head
    assert len(lr.cycles_in(Path(info["log"]).read_text())) == len(cycles)


def slow_points(now: float) -> list[ExecutionTimePoint]:
    """A minute of one request a second, each 30 s in the face blurrer (limit 20 s)."""
    return [ExecutionTimePoint("blurry-faces-onnx", now - 70 + i * 0.5, now - 40 + i * 0.5,
                               session_id=f"slow-{i:03d}", resource_id="RaspPi4")
            for i in range(60)]


def _topology_at(repo: Path, commit: str, into: Path) -> local.Topology:
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", str(repo), "archive", commit], stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(into, filter="data")
    return local.load_topology(into)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_reconciler_commit_is_followed_by_the_backend(prepared_examples, tmp_path):
    """The face blurrer measured at 30 s (over its 20 s limit) in the store the backend
    writes: the reconciler beside `up -d` commits a re-placement to <state>/repo, the backend
    reloads it, and the next photo runs the new deployment's services and buckets."""
    photo = shared_path("images", "faces-1.jpg")
    state = tmp_path / "state"
    EmbeddedStore(state / "metrics.sqlite").write_points(slow_points(time.time()))
    up = aisprint("up", prepared_examples["mask_detection"], "--state", state, "--no-images",
                  "-d", "--reconcile-interval", "1", "--reconcile-for", "0", "-o", "json")
    assert up.returncode == 0, up.stdout + up.stderr
    recorded = json.loads((state / local.UP_FILE).read_text())
    reconciler = recorded["reconciler"]["pid"]
    assert json.loads(up.stdout)["reconciler"]["pid"] == reconciler and alive(reconciler)
    pids = {recorded["pid"], reconciler}
    try:
        repo = state / "repo"
        compiled = _git(repo, "rev-list", "--max-parents=0", "main").strip()
        head = _wait(lambda: (h := Reader(repo).head_of("main")) != compiled and h, 60,
                     "the reconciler's commit")
        assert _git(repo, "log", "-1", "--format=%s", head).startswith(
            "reconcile: L1/local_constraint_1 over its limit, moved blurry-faces-onnx")
        before, after = (yaml.safe_load(Reader(repo).read_tree(c)[
            f"{CURRENT}/production_deployment.yaml"])["System"]["Components"]["component1"]
            ["executionLayer"] for c in (compiled, head))
        assert (before, after) == (1, 2)
        # the backend follows the work tree the writer keeps: it reloads the new deployment
        fingerprint = local.topology_fingerprint(repo)
        now = _wait(lambda: (d := local.read_up_file(state)) and d.get("reloads", 0) >= 1
                    and d.get("fingerprint") == fingerprint and d, 30, "the backend's reload")
        assert now["pid"] == recorded["pid"]
        assert "reloaded (stopped blurry-faces-onnx" in (state / "up.log").read_text()
        old = _topology_at(repo, compiled, tmp_path / "compiled")
        new = local.load_topology(repo)
        blurry_out = {t.by_unit("blurry-faces-onnx").outputs[0].path for t in (old, new)}
        assert len(blurry_out) == 2  # the move changed where the face blurrer writes
        # a new photo runs through the reloaded services, into the new deployment's buckets
        entry = state / "buckets" / new.entry_services()[0].inputs[0].path
        entry.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, entry / ".after-move.jpg.part")
        os.replace(entry / ".after-move.jpg.part", entry / "after-move.jpg")
        alerts = state / "buckets" / new.by_unit("mask-alert").outputs[0].path
        _wait(lambda: list(alerts.glob("aisprint-*-after-move.alert.json")), 60,
              "the alert of the photo dropped after the move")
        jobs = [json.loads(line) for line in (state / "jobs.jsonl").read_text().splitlines()]
        blurry = [j for j in jobs if j["unit"] == "blurry-faces-onnx"
                  and j["input"].endswith("after-move.jpg")]
        assert len(blurry) == 1 and blurry[0]["ok"]
        assert {o.rsplit("/", 1)[0] for o in blurry[0]["outputs"]} == \
            {new.by_unit("blurry-faces-onnx").outputs[0].path}
        pids |= set(json.loads((state / local.UP_FILE).read_text())["workers"])
        pids |= {j["worker"] for j in jobs}
    finally:
        down = aisprint("down", "--state", state, "-o", "json", timeout=60)
    assert down.returncode == 0, down.stderr
    stopped = {(s["what"], s["pid"]) for s in json.loads(down.stdout)["stopped"]}
    assert {("backend", recorded["pid"]), ("reconciler", reconciler)} <= stopped
    assert not _gone(pids)
