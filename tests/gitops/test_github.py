"""The pull-request comment script against recorded event payloads and a loopback stand-in
for the GitHub REST API that records every call (the only stand-in: GitHub itself)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from compiler import deploy
from compiler.gitops import github
from compiler.gitops.console import MARKER
from tests.cli.test_cli import aisprint
from tests.conftest import REPO
from tests.gitops.test_plan import tighten

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
TOKEN = "ghs_test_token_not_a_secret"


class FakeGitHub:
    """Issue comments of one repository, served on 127.0.0.1 (pages of two, like GitHub's
    Link-header pagination), and a log of every request."""

    def __init__(self):
        self.comments: dict[int, dict] = {}
        self.calls: list[tuple[str, str, dict | None, str]] = []
        self.next_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body=None, headers=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
                match = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments\?(.*)",
                                     self.path)
                if not match:
                    return self._reply(404, {"message": "Not Found"})
                page = int(dict(p.split("=") for p in match.group(3).split("&")).get("page", 1))
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


def test_action_and_workflow_use_the_commands_that_exist():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    for verb in ("validate", "pr-comment", "compile"):
        assert f"aisprint {verb}" in script
    assert "-o github" in script  # validation errors as annotations
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "plan.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on`
    assert "pull_request" in triggers and "push" in triggers
    assert any(step.get("uses") == "./" for job in workflow["jobs"].values()
               for step in job["steps"])
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"aisprint-validate", "aisprint-compile-check"}
    for hook in hooks:
        command = hook["entry"].split()
        assert command[0] == "aisprint"
        done = aisprint(*command[1:], "--help")
        assert done.returncode == 0, hook["id"]
