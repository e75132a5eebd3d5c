"""Build contexts: the Docker emitter on the hand-built context (tests/targets/context.py),
the compiled smart-city example and `toscarizer docker`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path

import aisprint
import pytest
import yaml

from compiler.compile import build
from targets.docker import EMITTER
from tests.targets.context import context
from tests.targets.golden import assert_golden


def test_every_design_gets_a_self_contained_build_context(prepared_examples):
    files = build(prepared_examples["smart_city"]).artifacts
    for component in ("camera-ingest", "plate-reader"):
        folder = f"aisprint/designs/{component}/base"
        dockerfile = files[f"{folder}/Dockerfile"].decode()
        assert f"WORKDIR /opt/{component}" in dockerfile and "FROM python:3.11-slim" in dockerfile
        assert f"{folder}/aisprint/annotations.py" in files  # the SDK the code imports
        assert files[f"{folder}/script.sh"].startswith(b"#!/bin/sh")


def test_toscarizer_docker_dry_run_and_no_engine(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    done = subprocess.run(["toscarizer", "docker", "--application_dir", str(app), "--registry",
                           "registry.example.org", "--registry_folder", "team", "--dry-run"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = yaml.safe_load((app / "aisprint/designs/containers.yaml").read_text())
    assert listed["components"]["blurry-faces-onnx"]["docker_images"] == [
        "registry.example.org/team/blurry-faces-onnx_base_amd64:latest",
        "registry.example.org/team/blurry-faces-onnx_base_arm64:latest"]
    assert (app / "aisprint/designs/mask-alert/base/Dockerfile").is_file()
    assert "registry.example.org/team/mask-alert_base_amd64_aws:latest" in \
        listed["components"]["mask-alert"]["docker_images"]  # it may run on AWS Lambda
    no_engine = subprocess.run(
        ["toscarizer", "docker", "--application_dir", str(app), "--registry", "r.example.org"],
        capture_output=True, text=True,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert no_engine.returncode == 1
    assert "no Docker engine is reachable" in no_engine.stderr


# ----------------------------------------------------------------------------- on the hand-built
# context (tests/targets/context.py), no pipeline

DESIGNS = ("camera/base", "detector/base", "detector/partition1_1", "detector/partition1_2",
           "notifier/base")
SDK = ("__init__.py", "annotations.py", "monitoring.py", "partition.py", "serve.py")


@pytest.fixture(scope="module")
def emitted():
    return EMITTER.emit(context())


def test_a_build_context_per_design_and_a_lambda_image_where_lambda_may_run_it(emitted):
    expected = {f"aisprint/designs/{d}/{name}" for d in DESIGNS
                for name in ("Dockerfile", *(f"aisprint/{s}" for s in SDK))}
    # notifier's container1 lists Lambda-2GB
    expected |= {f"aisprint/designs/notifier/base/{name}"
                 for name in ("Dockerfile.aws", "start.sh", "telegraf-lambda.conf")}
    assert sorted(emitted) == sorted(expected)


def test_without_generated_cuts_only_the_base_designs(emitted):
    folders = {p.split("/")[2] + "/" + p.split("/")[3]
               for p in EMITTER.emit(replace(context(), cuts={}))}
    assert folders == {"camera/base", "detector/base", "notifier/base"}


def test_the_dockerfile_runs_the_unit_from_its_folder(emitted):
    text = emitted["aisprint/designs/detector/partition1_2/Dockerfile"].decode()
    lines = text.splitlines()
    assert "FROM python:3.11-slim" in lines
    assert "WORKDIR /opt/detector_partition1_2" in lines
    assert "COPY . /opt/detector_partition1_2/" in lines
    assert "chmod +x /opt/detector_partition1_2/script.sh" in lines[-1]


def test_the_sdk_is_copied_as_packaged(emitted):
    sdk = Path(aisprint.__file__).parent
    for design in DESIGNS:
        for name in SDK:
            assert emitted[f"aisprint/designs/{design}/aisprint/{name}"] == \
                (sdk / name).read_bytes()


def test_the_lambda_image_runs_telegraf_and_the_supervisor(emitted):
    folder = "aisprint/designs/notifier/base/"
    aws = emitted[folder + "Dockerfile.aws"].decode().splitlines()
    assert aws[-1] == 'CMD ["/var/task/start.sh"]' and "WORKDIR /var/task" in aws
    start = emitted[folder + "start.sh"].decode()
    assert start.startswith("#!/bin/sh\n") and start.rstrip().endswith("exec supervisor")
    assert "--config /var/task/telegraf-lambda.conf" in start
    conf = tomllib.loads(emitted[folder + "telegraf-lambda.conf"].decode())
    assert conf["outputs"]["influxdb_v2"][0]["bucket"] == "road-watch-bucket"


def test_golden(emitted, request):
    # the SDK files are copies of the package (checked above), not repeated here
    assert_golden(request, "docker", {p: d for p, d in emitted.items() if "/aisprint/" not in
                                      p.removeprefix("aisprint/")})


def test_deterministic(emitted):
    assert EMITTER.emit(context()) == emitted
