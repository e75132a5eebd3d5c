"""The exit-code contract and the verbs, through the real console scripts and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.cli.main import app, run


def aisprint(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "compiler.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_valid_application_exits_0(prepared_examples):
    done = aisprint("validate", str(prepared_examples["mask_detection"]))
    assert done.returncode == 0
    assert done.stdout.strip().startswith("✓ valid")


def test_invalid_application_exits_1_with_diagnostics_and_no_traceback(mask_app):
    dag = mask_app / "common_config" / "application_dag.yaml"
    dag.write_text(dag.read_text().replace("mask-alert, 1]", "mask-alert, 7]"))
    done = aisprint("validate", str(mask_app))
    assert done.returncode == 1
    assert "error AIS205" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_missing_folder_exits_1(tmp_path):
    done = aisprint("validate", str(tmp_path / "nope"))
    assert done.returncode == 1 and "AIS001" in done.stdout


@pytest.mark.parametrize("args", [["validate", "--output", "yaml"], ["frobnicate"],
                                  ["validate", "--no-such-flag"], ["new-application"]])
def test_usage_errors_exit_64(args, tmp_path):
    done = aisprint(*args, cwd=tmp_path)
    assert done.returncode == 64, done.stderr
    assert "Traceback" not in done.stderr


def test_json_and_github_outputs(mask_app):
    res = mask_app / "common_config" / "candidate_resources.yaml"
    res.write_text(res.read_text().replace("totalNodes: 3", "totalNodes: three"))
    data = json.loads(aisprint("validate", str(mask_app), "-o", "json").stdout)
    assert data["valid"] is False
    assert data["diagnostics"][0]["code"] == "AIS103"
    github = aisprint("validate", str(mask_app), "-o", "github").stdout
    assert github.startswith(f"::error file={res},line=")


def test_warnings_as_errors(mask_app):
    # the copy has no ONNX models: one AIS524 warning
    assert aisprint("validate", str(mask_app)).returncode == 0
    assert aisprint("validate", str(mask_app), "-W").returncode == 1


def test_new_application_validates_unchanged(tmp_path):
    done = aisprint("new-application", "my_app", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    app = tmp_path / "my_app"
    for folder in ("aisprint/designs", "aisprint/deployments", "aisprint/logs", "ams", "im",
                   "oscar", "oscarp", "pycompss", "space4ai-d", "src/preprocess"):
        assert (app / folder).is_dir(), folder
    done = aisprint("validate", "my_app", "-W", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert aisprint("new-application", "--application_name", "my_app", cwd=tmp_path)\
        .returncode == 1  # never overwrites
    settings = json.loads((app / ".vscode" / "settings.json").read_text())
    assert "./.schemas/candidate_resources.draft07.json" in settings["yaml.schemas"]
    assert (app / ".gitignore").is_file()


def test_new_application_components_run(tmp_path):
    aisprint("new-application", "demo", cwd=tmp_path)
    sample = tmp_path / "in.txt"
    sample.write_text("hello")
    first = subprocess.run([sys.executable, str(tmp_path / "demo/src/preprocess/main.py"),
                            str(sample), str(tmp_path / "out1")], capture_output=True, text=True,
                           check=True)
    second = subprocess.run([sys.executable, str(tmp_path / "demo/src/inference/main.py"),
                             first.stdout.strip(), str(tmp_path / "out2")], capture_output=True,
                            text=True, check=True)
    assert json.loads(Path(second.stdout.strip()).read_text()) == {"file": "in.txt", "bytes": 5}


def test_bad_application_name_is_refused(tmp_path):
    done = aisprint("new-application", "bad name!", cwd=tmp_path)
    assert done.returncode == 1 and "not a valid application name" in done.stderr


def test_design_with_the_original_option_spelling(prepared_examples, tmp_path):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    done = aisprint("design", "--application_dir", "app", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (app / "common_config" / "annotations.yaml").read_text()
    assert text.startswith("app/src/blurry-faces-onnx/main.py:\n  component_name:\n")


def test_design_refuses_an_invalid_application(mask_app):
    src = mask_app / "src" / "mask-alert" / "main.py"
    src.write_text(src.read_text().replace('name="mask-alert"', 'name="nobody"'))
    done = aisprint("design", str(mask_app))
    assert done.returncode == 1 and "AIS510" in done.stdout
    assert not (mask_app / "common_config" / "annotations.yaml").exists()


def test_schema_export_list_show(tmp_path):
    assert aisprint("schema", "export", str(tmp_path / "s")).returncode == 0
    from compiler.load.schema import schema_names

    assert len(list((tmp_path / "s").glob("*.schema.json"))) == len(schema_names()) >= 9
    assert aisprint("schema", "export", str(tmp_path / "e"), "--draft07").returncode == 0
    assert (tmp_path / "e" / "application_dag.draft07.json").is_file()
    listing = aisprint("schema", "list").stdout
    assert "candidate_resources" in listing
    shown = json.loads(aisprint("schema", "show", "application_dag", "--draft07").stdout)
    assert shown["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert aisprint("schema", "show", "nope").returncode == 1


def test_version_and_help():
    assert aisprint("--version").stdout.startswith("aisprint ")
    helptext = aisprint("--help").stdout
    for verb in ("validate", "design", "new-application", "schema"):
        assert verb in helptext


def test_help_prose_follows_the_terminal_width_and_examples_keep_their_lines():
    from compiler.cli.output import reflow

    doc = """First line
    goes on.

    - an item
      indented under it
    - another

    Examples:

      aisprint up APP
      aisprint down
    """
    assert reflow(doc) == ("First line goes on.\n\n- an item\n  indented under it\n"
                           "- another\n\nExamples:\n\n  aisprint up APP\n  aisprint down")
    wide = aisprint("up", "--help", env={"COLUMNS": "200"}).stdout
    assert "end to end, prints the runs and mean time per component" in wide


def test_internal_errors_exit_3_and_debug_reraises(monkeypatch, capsys):
    import compiler.api

    def boom(*_a, **_k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(compiler.api, "validate", boom)
    assert run(app, ["validate", "."]) == 3
    assert "internal error: RuntimeError: kaboom" in capsys.readouterr().err
    monkeypatch.setenv("AISPRINT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run(app, ["validate", "."])


def test_console_scripts_are_installed():
    for script in ("aisprint", "toscarizer"):
        done = subprocess.run([script, "--version"], capture_output=True, text=True)
        assert done.returncode == 0 and "0.1.0" in done.stdout


def test_toscarizer_tosca_and_fdl(prepared_examples, tmp_path):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    done = subprocess.run(["toscarizer", "tosca", "--application_dir", str(app), "--base"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (app / "aisprint/deployments/base/im/mask-detection-layer3.yaml").is_file()
    done = subprocess.run(["toscarizer", "fdl", "--application_dir", str(app), "--optimal"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (app / "aisprint/deployments/optimal_deployment/oscar/fdl.yaml").is_file()
    both = subprocess.run(["toscarizer", "tosca", "--application_dir", str(app), "--base",
                           "--optimal"], capture_output=True, text=True)
    assert both.returncode == 64
