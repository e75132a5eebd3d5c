"""The action and the workflows, read as a security reviewer would: `zizmor` (offline) finds
nothing above informational, GitHub's own workflow and action schemas (check-jsonschema's
vendored copies, offline) accept them, and the rules of the two-stage pull-request flow hold
— every third-party action pinned to a commit, permissions per job, no persisted credentials,
no secret or write permission where a pull request's code runs. Each tool is also shown a
broken file, so these checks are known to be able to fail."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

BIN = Path(sys.executable).parent
ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
USER_WORKFLOWS = sorted((REPO / ".github" / "user-workflows").glob("*.y*ml"))
ALL_WORKFLOWS = WORKFLOWS + USER_WORKFLOWS
# findings silenced in the files, each with its reason beside it: `uses: ./` runs the
# checked-out tree on purpose (the pull request's own action in the unprivileged job, the
# default branch's in the others), and workflow_run is the privileged half of the pattern
ALLOWED_IGNORES = {"self-repository", "dangerous-triggers"}
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\S*)")


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is missing: install the dev extras (pip install -e '.[dev]')")
    return str(path)


def _zizmor(*files: Path) -> tuple[int, list[dict]]:
    done = subprocess.run([_tool("zizmor"), "--offline", "--format", "json", "--no-progress",
                           *map(str, files)], capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout or "[]")


def _load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def test_zizmor_reports_nothing_above_informational():
    status, findings = _zizmor(ACTION, *ALL_WORKFLOWS, REPO / ".pre-commit-hooks.yaml")
    serious = [(f["ident"], f["determinations"]["severity"],
                f["locations"][0]["symbolic"]["key"]) for f in findings
               if f["determinations"]["severity"] != "Informational"]
    assert serious == [] and status == 0, serious
    ignored = {name for path in (ACTION, *ALL_WORKFLOWS)
               for names in re.findall(r"zizmor: ignore\[([^\]]+)\]", path.read_text())
               for name in names.split(",")}
    assert ignored <= ALLOWED_IGNORES, ignored


def test_zizmor_does_flag_the_old_mistakes(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  plan:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - uses: actions/checkout@v4\n")
    status, findings = _zizmor(bad)
    assert status != 0
    assert {"unpinned-uses", "artipacked", "excessive-permissions"} <= {
        f["ident"] for f in findings}


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema,
                           *map(str, files)], capture_output=True, text=True, timeout=120)


def test_workflows_and_action_match_githubs_schemas(tmp_path):
    done = _check_jsonschema("vendor.github-workflows", *ALL_WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    done = _check_jsonschema("vendor.github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\npermissions:\n  contents: sideways\njobs: {}\n")
    assert _check_jsonschema("vendor.github-workflows", broken).returncode == 1


def test_third_party_actions_are_pinned_to_one_commit_each_with_its_tag():
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in (ACTION, *ALL_WORKFLOWS):
        for line in path.read_text().splitlines():
            if not re.match(r"^\s*(?:-\s+)?uses:", line):
                continue
            if re.match(r"^\s*(?:-\s+)?uses:\s+\./\s*(#.*)?$", line):
                continue
            match = PINNED.match(line)
            assert match, f"{path.name}: not pinned to a commit with its tag: {line.strip()}"
            pins.setdefault(match.group(1), set()).add((match.group(2), match.group(3)))
    assert {"actions/checkout", "actions/setup-python", "actions/cache",
            "actions/upload-artifact"} <= set(pins)
    mixed = {name: found for name, found in pins.items() if len(found) != 1}
    assert not mixed, mixed  # one version of each action everywhere


def test_permissions_are_per_job_and_checkouts_keep_no_credentials():
    for path in ALL_WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {}, path.name  # nothing by default
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name}"
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{path.name}: {name}"


def _jobs_on(trigger: str):
    for path in ALL_WORKFLOWS:
        workflow = _load(path)
        if trigger in workflow["on"]:
            yield path, workflow


def test_jobs_that_run_pull_request_code_hold_no_secret_and_no_write_permission():
    found = list(_jobs_on("pull_request"))
    assert {p.name for p, _ in found} >= {"plan.yml", "aisprint-plan.yml", "ci.yml"}
    for path, workflow in found:
        assert "secrets." not in path.read_text(), path.name
        assert "pull_request_target" not in workflow["on"], path.name
        for job in workflow["jobs"].values():
            assert set(job["permissions"].values()) <= {"read", "none"}, path.name


def test_the_privileged_stage_runs_no_code_of_the_pull_request():
    found = list(_jobs_on("workflow_run"))
    assert {p.name for p, _ in found} == {"plan-comment.yml", "aisprint-plan-comment.yml"}
    for path, workflow in found:
        (job,) = workflow["jobs"].values()
        assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
        assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
        for step in job["steps"]:
            assert "run" not in step, path.name  # only the pinned action, in comment mode
            given = step.get("with") or {}
            assert "ref" not in given and "repository" not in given, path.name
            if not str(step["uses"]).startswith("actions/checkout@"):
                assert given == {"mode": "comment"}, path.name


def test_the_action_takes_no_expression_into_a_shell_and_installs_from_its_own_ref():
    action = yaml.safe_load(ACTION.read_text())
    steps = action["runs"]["steps"]
    for step in steps:
        assert "${{" not in step.get("run", ""), step.get("name")  # inputs arrive as env
    install = next(s for s in steps if s.get("id") == "install")
    assert '"$GITHUB_ACTION_PATH"' in install["run"]
    assert "GITHUB_WORKSPACE" not in install["run"]
    comment = next(s for s in steps if "pr-comment" in s.get("run", ""))
    assert "--artifact" in comment["run"]
    tokens = [s.get("name") for s in steps if any("TOKEN" in k for k in s.get("env", {}))]
    assert tokens == [comment["name"], "Compile and commit"]  # nowhere near the plan step
