"""How fast the reconciler reacts: a QoS violation appearing in InfluxDB → the new commit → IM
done applying it, with one cycle a second; and the cycle time when nothing changed. Each
cycle applies the IM templates and the OSCAR FDL (``--oscar``).

Real parts on loopback: influxd (Debian), IM from its own venv (installed on first use into
.tools/im-venv) with IM's OSCAR connector talking to the recording OSCAR stand-in, a git
deployment repository. Only the already-provisioned layer is applied (no VM is created).

    python benchmarks/reconcile_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.compile import build  # noqa: E402
from compiler.gitops.message import compile_message  # noqa: E402
from compiler.gitops.repo import DeploymentRepo, Reader, write  # noqa: E402
from compiler.runtime.im import IMClient, RetryPolicy, load_auth  # noqa: E402
from compiler.runtime.im.server import start_im_server  # noqa: E402
from compiler.runtime.metrics import ExecutionTimePoint, InfluxV1Source  # noqa: E402
from compiler.runtime.metrics.influxd import start_influxd  # noqa: E402
from compiler.runtime.reconcile import Settings, reconcile_once  # noqa: E402
from compiler.runtime.triggers import Policy  # noqa: E402
from compiler.tools import find_custom_types, find_im_python, install_im  # noqa: E402
from tests.conftest import copy_example  # noqa: E402
from tests.runtime.oscar_stub import OscarStub, serve  # noqa: E402


def one_run(work: Path, im_url: str, custom_types: Path, influx_url: str, run: int) -> dict:
    stub = OscarStub()
    httpd = serve(stub)
    try:
        app = copy_example("mask_detection", work / f"app{run}", models=False)
        repo = work / f"deploy{run}"
        write(DeploymentRepo(repo), build(app).artifacts, compile_message(None), create=True)
        env = {"IM_AUTH": f"id = oscar-rpi; type = OSCAR; host = {stub.url}; username = oscar; "
                          "password = stub\ntype = InfrastructureManager; username = b; "
                          "password = b\n",
               # secrets the templates reference, filled at apply time (stand-in values)
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "MINIO_SECRET_KEY_MASK_DETECTION_LAYER3": "bench",
               # the FDL applied beside IM (--oscar): the Raspberry Pi cluster is the stand-in
               "OSCAR_ENDPOINT_MASK_DETECTION_LAYER1": stub.url,
               "OSCAR_PASSWORD_MASK_DETECTION_LAYER1": "stub"}
        im = IMClient(im_url, load_auth(environ=env), custom_types=custom_types,
                      local_imports=True, environ=env, retry=RetryPolicy(3, 0.2))
        metrics = InfluxV1Source(influx_url, database=f"bench{run}")
        metrics.ensure_database()
        settings = Settings(repo=repo, app_dir=app, state_dir=work / f"state{run}",
                            policy=Policy(window=0, cooldown=60), window=60, poll_interval=0.2,
                            templates=("*-layer1",), oscar=True, environ=env)
        reconcile_once(settings, im=im, metrics=metrics)  # the first apply
        idle = []
        for _ in range(5):
            cycle = reconcile_once(settings, im=im, metrics=metrics)
            assert cycle.status == "unchanged", cycle.summary()
            idle.append(cycle.seconds)
        head = Reader(repo).head_of("main")
        # the violation appears: a minute of requests at 30 s each in the face detector
        now = time.time()
        violation = time.perf_counter()
        metrics.write_points(
            ExecutionTimePoint("blurry-faces-onnx", now - 90 + i, now - 59.5 + i,
                               session_id=f"r{run}s{i}", resource_id="RaspPi4")
            for i in range(60))
        committed = applied = None
        while applied is None and time.perf_counter() - violation < 60:
            tick = time.perf_counter()
            cycle = reconcile_once(settings, im=im, metrics=metrics)
            if cycle.commit:
                committed = tick - violation + cycle.commit_seconds
                applied = time.perf_counter() - violation
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
        assert Reader(repo).head_of("main") != head
        return {"idle": statistics.median(idle), "commit": committed, "applied": applied,
                "actions": cycle.actions}
    finally:
        httpd.shutdown()
        httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    custom_types = find_custom_types()
    if custom_types is None:
        sys.exit("needs IM's custom_types.yaml: pass AISPRINT_TOSCA_TYPES (../shared/tosca-types)")
    python = find_im_python() or install_im()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        influx = start_influxd(work / "influxdb")
        im = start_im_server(python, work / "im")
        try:
            rows = [one_run(work, im.url, custom_types, influx.url, run)
                    for run in range(args.runs)]
        finally:
            im.stop()
            influx.stop()
    print("| run | idle cycle (s) | violation → commit (s) | violation → IM applied (s) |")
    print("|---|---|---|---|")
    for i, row in enumerate(rows, 1):
        print(f"| {i} | {row['idle']:.3f} | {row['commit']:.2f} | {row['applied']:.2f} |")
    print(f"| median | {statistics.median(r['idle'] for r in rows):.3f} | "
          f"{statistics.median(r['commit'] for r in rows):.2f} | "
          f"{statistics.median(r['applied'] for r in rows):.2f} |")


if __name__ == "__main__":
    main()
