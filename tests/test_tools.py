"""Where tools and data are found (compiler/tools.py): an explicit argument, the environment,
the PATH, the current project — never the package's own location; a name that points nowhere
is AIS908 saying what to pass."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from compiler.errors import InvalidInput
from compiler.tools import (
    find_custom_types,
    find_helm,
    find_im_python,
    find_tosca_artifacts,
    project_root,
)
from tests.cli.test_cli import aisprint
from tests.conftest import REPO


@pytest.fixture
def project(tmp_path):
    """A project (pyproject.toml) with IM's custom types beside it in ../shared, as a clone."""
    root = tmp_path / "clone"
    (root / "deep" / "er").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    types = tmp_path / "shared" / "tosca-types" / "custom_types.yaml"
    types.parent.mkdir(parents=True)
    types.write_text("tosca_definitions_version: tosca_simple_yaml_1_0\n")
    return root


def refused(call, *names: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        call()
    (found,) = caught.value.diagnostics
    assert found.code == "AIS908"
    for name in names:
        assert name in found.message + found.hint
    return found.message


def test_the_project_is_found_from_the_working_directory(project, tmp_path, monkeypatch):
    assert project_root(project / "deep" / "er") == project
    monkeypatch.chdir(project / "deep")
    assert project_root() == project
    (tmp_path / "loose").mkdir()
    assert project_root(tmp_path / "loose") == tmp_path / "loose"  # no project: the folder


def test_custom_types_in_order_option_environment_shared_project(project, tmp_path,
                                                                 monkeypatch):
    types = tmp_path / "shared" / "tosca-types" / "custom_types.yaml"
    other = tmp_path / "other" / "custom_types.yaml"
    other.parent.mkdir()
    other.write_text("x: 1\n")
    env = {"AISPRINT_TOSCA_TYPES": str(other.parent)}
    assert find_custom_types(other, environ={}, project=project) == other
    assert find_custom_types(environ=env, project=project) == other  # a folder holding it
    assert find_custom_types(environ={}, project=project) == types  # ../shared of the project
    assert find_custom_types(environ={"AISPRINT_SHARED": str(other.parent.parent / "none")},
                             project=project) == types
    assert find_custom_types(environ={}, project=other.parent / "x") is None  # no ../shared
    monkeypatch.chdir(project / "deep" / "er")  # the default project: the working directory's
    assert find_custom_types(environ={}) == types


def test_custom_types_named_but_missing_say_what_to_pass(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    refused(lambda: find_custom_types(missing, environ={}), "--tosca-types", str(missing))
    refused(lambda: find_custom_types(environ={"AISPRINT_TOSCA_TYPES": str(tmp_path)}),
            "AISPRINT_TOSCA_TYPES")  # a folder without custom_types.yaml


def test_helm_from_environment_path_or_the_project(project, helm, tmp_path):
    assert find_helm(environ={"AISPRINT_HELM": str(helm)}, project=project) == helm
    assert find_helm(environ={"PATH": str(helm.parent)}, project=project) == helm
    assert find_helm(environ={"PATH": ""}, project=project) is None
    local = project / ".tools" / "bin" / "helm"
    local.parent.mkdir(parents=True)
    local.symlink_to(helm)
    assert find_helm(environ={"PATH": ""}, project=project) == local
    not_a_program = tmp_path / "helm.txt"
    not_a_program.write_text("helm\n")
    refused(lambda: find_helm(environ={"AISPRINT_HELM": str(not_a_program)}), "AISPRINT_HELM")


def test_im_python_must_import_im(project):
    assert find_im_python(environ={}, project=project) is None
    refused(lambda: find_im_python(environ={"AISPRINT_IM_PYTHON": sys.executable}),
            "AISPRINT_IM_PYTHON", "pip install IM")


@pytest.mark.integration
def test_im_python_from_environment_or_the_project(project, im_python):
    assert find_im_python(environ={"AISPRINT_IM_PYTHON": str(im_python)}) == im_python
    venv = project / ".tools" / "im-venv"
    venv.parent.mkdir()
    venv.symlink_to(im_python.parent.parent)  # the whole venv: its python finds its packages
    assert find_im_python(environ={}, project=project) == venv / "bin" / "python"


def test_tosca_artifacts_only_from_the_environment(tmp_path):
    assert find_tosca_artifacts({}) is None
    assert find_tosca_artifacts({"AISPRINT_TOSCA_ARTIFACTS": str(tmp_path)}) == tmp_path
    refused(lambda: find_tosca_artifacts({"AISPRINT_TOSCA_ARTIFACTS": str(tmp_path / "x")}),
            "AISPRINT_TOSCA_ARTIFACTS")


@pytest.mark.integration
def test_install_entry_points(helm, im_python):
    env = {**os.environ, "AISPRINT_HELM": str(helm), "AISPRINT_IM_PYTHON": str(im_python)}
    for option, found in (("--install-helm", helm), ("--install-im", im_python)):
        done = subprocess.run([sys.executable, "-m", "compiler.tools", option],
                              capture_output=True, text=True, env=env, cwd=REPO)
        assert done.returncode == 0 and done.stdout.strip() == str(found)  # nothing fetched
    done = subprocess.run([sys.executable, "-m", "compiler.tools", "--install-nothing"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 64 and "usage" in done.stderr


def test_compile_check_outside_any_project_says_what_to_pass(prepared_examples, tmp_path):
    """As an installed package run elsewhere: nothing is found through the package's own
    location (this clone has helm, IM and ../shared), and each skipped check says how to enable
    it; a --tosca-types that names nothing is AIS908, not a skipped check."""
    app, out = prepared_examples["mask_detection"], tmp_path / "out"
    assert aisprint("compile", str(app), "--out", str(out)).returncode == 0
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AISPRINT_")}
    env.update({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})

    def check(*more: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "compiler.cli.main", "compile", str(app),
                               "--out", str(out), "--check", *more], cwd=away, env=env,
                              capture_output=True, text=True)
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout + done.stderr

    code, said = check()
    assert code == 0, said
    assert "TOSCA templates not checked" in said and "--tosca-types" in said
    assert "Helm charts not checked" in said and "--install-helm" in said
    missing = tmp_path / "no-types.yaml"
    code, said = check("--tosca-types", str(missing))
    assert code == 1 and "AIS908" in said and str(missing) in said
