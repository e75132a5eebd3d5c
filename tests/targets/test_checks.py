"""Every target's check on files emitted from the hand-built context (tests/targets/context.py):
what it emits passes, and a broken file of each kind is rejected at its path (AIS906); a check
whose tool is missing says so (AIS907). The runner (compiler.verify) loops the registry.
(The TOSCA check, with tosca-parser and IM: tests/targets/test_tosca_check.py.)"""

from __future__ import annotations

import json

import pytest
import yaml

from compiler.layout import MANIFEST
from compiler.verify import check_artifacts
from targets import EMITTERS, ams, deployment_folders, docker, oscar_fdl, scone
from targets import helm as helm_target
from targets.check import CheckTools, CompiledTree
from tests.targets.context import context

NO_TOOLS = CheckTools()
SCRIPT = b"#!/bin/sh\nexec python main.py\n"


def emitted(*emitters) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for emitter in emitters:
        files.update(emitter.EMITTER.emit(context()))
    return files


def run(emitter, files: dict[str, bytes], root, tools: CheckTools = NO_TOOLS) -> tuple:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return emitter.EMITTER.check(CompiledTree(files, root, tools))


def rejected_paths(found) -> set[str]:
    assert all(d.code == "AIS906" for d in found), found
    return {d.location.file for d in found}


def test_every_registered_emitter_has_a_check():
    for name, emitter in EMITTERS.items():
        assert callable(getattr(emitter, "check", None)), \
            f"{name}: an emitter checks its own files (Emitter.check)"


def test_deployment_files_meet_their_schemas(tmp_path):
    files = emitted(deployment_folders)
    assert run(deployment_folders, files, tmp_path) == ()
    production = "aisprint/deployments/optimal_deployment/production_deployment.yaml"
    dag = "aisprint/deployments/deployment1/application_dag.yaml"
    files[production] = files[production].replace(b"executionLayer: 1", b"executionLayer: one")
    files[dag] = yaml.safe_dump({"System": {"name": "Road_Watch"}}).encode()
    found = run(deployment_folders, files, tmp_path / "broken")
    assert rejected_paths(found) == {production, dag}
    assert any("'one' is not of type 'integer'" in d.message for d in found)


def test_monitoring_files_meet_their_schemas_and_toml(tmp_path):
    files = emitted(ams)
    assert run(ams, files, tmp_path) == ()
    qos = "aisprint/deployments/base/ams/qos_constraints_L1.yaml"
    merged = "aisprint/deployments/base/space4ai-d/qos_constraints.yaml"
    telegraf = "aisprint/deployments/current_deployment/ams/telegraf.conf"
    dashboard = "aisprint/deployments/optimal_deployment/ams/grafana_dashboard.json"
    files[qos] = files[qos].replace(b"threshold: 0.5", b"threshold: -0.5")
    files[merged] = b"system: [\n"
    files[telegraf] += b"[agent\n"
    files[dashboard] = json.dumps({"title": 3}).encode()
    found = run(ams, files, tmp_path / "broken")
    assert rejected_paths(found) == {qos, merged, telegraf, dashboard}
    assert any(d.location.file == telegraf and "not valid TOML" in d.message for d in found)
    assert any(d.location.file == merged and "cannot be parsed" in d.message for d in found)


def test_scone_sessions_meet_their_schema(tmp_path):
    files = emitted(scone)
    assert files and run(scone, files, tmp_path) == ()
    path = next(iter(files))
    session = yaml.safe_load(files[path])
    del session["services"]
    files[path] = yaml.safe_dump(session).encode()
    assert rejected_paths(run(scone, files, tmp_path / "broken")) == {path}


def test_fdl_is_loaded_by_oscar_python_from_its_tree(tmp_path):
    files = emitted(oscar_fdl)
    scripts = {f"aisprint/designs/{c}/{d}/script.sh": SCRIPT for c, d in (
        ("camera", "base"), ("detector", "base"), ("detector", "partition1_1"),
        ("detector", "partition1_2"))}
    assert run(oscar_fdl, {**files, **scripts}, tmp_path) == ()
    fdl = "aisprint/deployments/base/oscar/fdl.yaml"
    # no script beside it: oscar-python cannot read what the service would run
    found = run(oscar_fdl, files, tmp_path / "no-scripts")
    assert rejected_paths(found) >= {fdl}
    assert any("oscar-python cannot load it" in d.message for d in found)
    broken = yaml.safe_load(files[fdl])
    next(iter(broken["functions"]["oscar"][0].values()))["memory"] = 512
    found = run(oscar_fdl, {**scripts, fdl: yaml.safe_dump(broken).encode()}, tmp_path / "bad")
    assert rejected_paths(found) == {fdl}
    assert any("memory" in d.message for d in found)  # where, as a JSON pointer


def test_build_contexts_hold_what_their_dockerfiles_run(tmp_path):
    files = emitted(docker)
    scripts = {f"{path.rsplit('/', 1)[0]}/script.sh": SCRIPT
               for path in files if path.endswith("/Dockerfile")}
    assert run(docker, {**files, **scripts}, tmp_path) == ()
    lambda_file = next(p for p in files if p.endswith("/Dockerfile.aws"))
    folder = lambda_file.rsplit("/", 1)[0]
    del scripts[f"{folder}/script.sh"]
    files[f"{folder}/telegraf-lambda.conf"] = b"[agent\n"
    found = run(docker, {**files, **scripts}, tmp_path / "broken")
    assert rejected_paths(found) == {f"{folder}/Dockerfile", lambda_file,
                                     f"{folder}/telegraf-lambda.conf"}
    assert sum("no script.sh" in d.message for d in found) == 2


def test_helm_missing_is_said_with_how_to_get_it(tmp_path):
    found = run(helm_target, emitted(helm_target), tmp_path)
    assert [d.code for d in found] == ["AIS907"]
    assert "AISPRINT_HELM" in found[0].hint and "--install-helm" in found[0].hint


@pytest.mark.integration
def test_a_chart_helm_rejects_is_reported_at_its_chart(tmp_path, helm):
    files = emitted(helm_target)
    assert run(helm_target, files, tmp_path, CheckTools(helm=helm)) == ()
    chart = next(p for p in files if p.endswith("/Chart.yaml"))
    values_path = chart.replace("Chart.yaml", "values.yaml")
    values = yaml.safe_load(files[values_path])
    next(iter(values["components"].values()))["replicas"] = "two"
    files[values_path] = yaml.safe_dump(values).encode()
    found = run(helm_target, files, tmp_path / "broken", CheckTools(helm=helm))
    assert rejected_paths(found) == {chart}
    assert all(d.message.startswith("helm lint: ") for d in found)


def test_the_runner_loops_the_registry_and_orders_its_report():
    files = emitted(deployment_folders, ams, helm_target)
    production = "aisprint/deployments/optimal_deployment/production_deployment.yaml"
    telegraf = "aisprint/deployments/base/ams/telegraf.conf"
    files[production] = b"System: 3\n"
    files[telegraf] = b"[agent\n"
    files[MANIFEST] = b"{}"
    report = check_artifacts(files, NO_TOOLS)
    assert [d.code for d in report.skipped] == ["AIS907"]  # helm: not found
    paths = [d.location.file for d in report.rejected]
    assert paths == sorted(paths) and set(paths) == {production, telegraf, MANIFEST}
    assert check_artifacts(files, NO_TOOLS, emitters=[EMITTERS["deployments"]]).skipped == ()


def test_a_path_leaving_the_tree_is_rejected_not_written_nor_checked(tmp_path):
    outside = tmp_path / "escaped.yaml"
    relative = "../" * 12 + str(outside).lstrip("/")
    fdl = "../deployments/base/oscar/fdl.yaml"  # the FDL check would read it
    report = check_artifacts({relative: b"x", str(outside): b"x", fdl: b"x"}, NO_TOOLS)
    assert [d.message for d in report.rejected] == ["the path leaves the compiled tree"] * 3
    assert report.skipped == () and not outside.exists()
