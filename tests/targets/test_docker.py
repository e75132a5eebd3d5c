import os
import shutil
import subprocess

import yaml

from compiler.compile import build


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
