"""Pull requests on GitHub: one sticky plan comment, the job summary, through the REST API.

``sync_comments`` keeps the plan in the pull request's comments that start with ``MARKER``
(the bodies come rendered, each under ``GITHUB_COMMENT_LIMIT``, from the console's
``markdown_comments``): the first run creates them, later runs edit them in place (and delete
the parts a shorter plan no longer needs), so a pull request carries one plan however often
it is pushed to. A plan without changes posts nothing unless a plan comment already exists (which
is then edited to say so). Requests go to ``$GITHUB_API_URL`` (https://api.github.com unless
GitHub Enterprise), authenticated with the workflow's token.

Pull requests from strangers are planned in two stages (GitHub's pattern for untrusted
code): an unprivileged ``pull_request`` job runs ``aisprint pr-plan`` and uploads the plan as
an artifact; a ``workflow_run`` job, which holds the write token but never runs the pull
request's code, reads that artifact here as hostile data — its size bounded before and while
it is read, the plan validated against ``schemas/plan.schema.json``, every name and diff
neutralised so the markdown renderer cannot be broken out of — and finds the pull request
from the trusted event payload alone (``WorkflowRun``, ``pull_request_of_run``).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.gitops.plan import (
    ArtifactChange,
    PlacementChange,
    Plan,
    QosPath,
    Side,
    UnitPlacement,
)
from compiler.load.schema import load_schema

API_VERSION = "2022-11-28"
MARKER = "<!-- aisprint-plan -->"  # the first line of every plan comment: how ours are found
GITHUB_COMMENT_LIMIT = 65_535  # characters GitHub accepts in one comment
ARTIFACT_NAME = "aisprint-plan"
PLAN_FILE, MARKDOWN_FILE = "plan.json", "plan.md"
# A plan of mask_detection is ~60 KB and one of a 50-component application ~2 MB; anything
# far larger is not a plan this tool wrote, and reading it would only cost the privileged job.
MAX_ARTIFACT_BYTES = 8 * 1024 * 1024  # the zip, as listed and as downloaded
MAX_PLAN_BYTES = 32 * 1024 * 1024  # plan.json unpacked
MAX_NAME = 200  # characters kept of a name from an untrusted plan


def _fail(message: str, hint: str, code: str = "AIS950") -> InvalidInput:
    return InvalidInput([diagnostic(code, message, hint)])


def _read_event(event_path: str | os.PathLike[str]) -> dict:
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the GitHub event payload {event_path}: {exc}",
                    "run inside a GitHub Actions job (GITHUB_EVENT_PATH is set by the runner)") \
            from None
    return event if isinstance(event, dict) else {}


@dataclass(frozen=True)
class PullRequest:
    repository: str  # owner/name
    number: int
    base_sha: str
    head_sha: str
    base_ref: str


def pull_request_from_event(event_path: str | os.PathLike[str]) -> PullRequest | None:
    """The pull request of a ``pull_request``/``pull_request_target`` event; None otherwise."""
    event = _read_event(event_path)
    pr = event.get("pull_request")
    if not pr:
        return None
    try:
        return PullRequest(event["repository"]["full_name"], int(pr["number"]),
                           pr["base"]["sha"], pr["head"]["sha"], pr["base"]["ref"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(f"the pull_request event in {event_path} lacks {exc}",
                    "the action needs the standard pull_request payload") from None


@dataclass(frozen=True)
class WorkflowRun:
    """The run a ``workflow_run`` event reports on, as GitHub wrote it (never the artifact)."""

    repository: str  # owner/name the run belongs to (the base repository)
    run_id: int
    event: str  # what triggered that run: pull_request, push …
    conclusion: str
    head_sha: str
    head_branch: str
    head_repository: str  # owner/name of the head: a fork, or the repository itself
    head_repository_id: int
    # (number, head sha, head repository id) of the pull requests GitHub lists with the run:
    # only those of the same repository (GitHub leaves the list empty for forks)
    pull_requests: tuple[tuple[int, str, int], ...] = ()


def workflow_run_from_event(event_path: str | os.PathLike[str]) -> WorkflowRun | None:
    """The run of a ``workflow_run`` event; None for other events."""
    event = _read_event(event_path)
    run = event.get("workflow_run")
    if not run:
        return None
    try:
        value = WorkflowRun(
            str(event["repository"]["full_name"]), int(run["id"]), str(run["event"]),
            str(run.get("conclusion") or ""), str(run["head_sha"]),
            str(run.get("head_branch") or ""), str(run["head_repository"]["full_name"]),
            int(run["head_repository"]["id"]),
            tuple((int(p["number"]), str(p["head"]["sha"]), int(p["head"]["repo"]["id"]))
                  for p in run.get("pull_requests") or ()))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(f"the workflow_run event in {event_path} lacks {exc}",
                    "the comment stage runs on `workflow_run: types: [completed]` of the "
                    "plan workflow, whose payload GitHub writes", "AIS984") from None
    if not re.fullmatch(r"[0-9a-f]{40}", value.head_sha) or not all(
            re.fullmatch(r"[\w.-]+/[\w.-]+", name)
            for name in (value.repository, value.head_repository)):
        raise _fail(f"the workflow_run event in {event_path} has a malformed head commit or "
                    "repository name", "the event must be GitHub's own payload", "AIS984")
    return value


def pull_request_of_run(github: GitHub, run: WorkflowRun) -> PullRequest | None:
    """The open pull request whose head is exactly the commit the run planned, found from the
    event alone: GitHub's list for same-repository pull requests, else the open pull
    requests of the head's ``owner:branch`` (a fork). The number is never read from the
    artifact. None when the pull request has moved on (a newer run will comment)."""
    for number, sha, repo_id in run.pull_requests:
        if sha == run.head_sha and repo_id == run.head_repository_id:
            return PullRequest(run.repository, number, "", run.head_sha, "")
    if not run.head_branch:
        return None
    owner = run.head_repository.split("/")[0]
    for pull in github.open_pulls(run.repository, f"{owner}:{run.head_branch}"):
        try:
            head, base = pull["head"], pull["base"]
            if (head["sha"] == run.head_sha
                    and (head.get("repo") or {}).get("id") == run.head_repository_id
                    and base["repo"]["full_name"] == run.repository):
                return PullRequest(run.repository, int(pull["number"]), base["sha"],
                                   head["sha"], base["ref"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


class GitHub:
    """The few REST calls the action makes (``requests``; a ``session`` can be passed in)."""

    def __init__(self, token: str, api_url: str = "https://api.github.com", session=None):
        import requests

        if not token:
            raise _fail("no GitHub token: set GITHUB_TOKEN (the workflow's `github.token`)",
                        "give the action `token: ${{ github.token }}` and "
                        "`permissions: pull-requests: write`")
        self.api = api_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}",
                                     "Accept": "application/vnd.github+json",
                                     "X-GitHub-Api-Version": API_VERSION,
                                     "User-Agent": "aisprint-gitops"})

    def _call(self, method: str, path_or_url: str, body: Mapping | None = None):
        url = path_or_url if path_or_url.startswith("http") else self.api + path_or_url
        reply = self.session.request(method, url, json=body, timeout=30)
        if reply.status_code >= 400:
            raise _fail(f"GitHub answered {reply.status_code} to {method} {url}: "
                        f"{reply.text[:300]}",
                        "check the token's permissions (pull-requests: write)")
        return reply

    def comments(self, repository: str, number: int) -> list[dict]:
        url: str | None = f"/repos/{repository}/issues/{number}/comments?per_page=100"
        found: list[dict] = []
        while url:
            reply = self._call("GET", url)
            found += reply.json()
            url = reply.links.get("next", {}).get("url")
        return found

    def create(self, repository: str, number: int, body: str) -> dict:
        return self._call("POST", f"/repos/{repository}/issues/{number}/comments",
                          {"body": body}).json()

    def update(self, repository: str, comment_id: int, body: str) -> dict:
        return self._call("PATCH", f"/repos/{repository}/issues/comments/{comment_id}",
                          {"body": body}).json()

    def delete(self, repository: str, comment_id: int) -> None:
        self._call("DELETE", f"/repos/{repository}/issues/comments/{comment_id}")

    def open_pulls(self, repository: str, head: str) -> list[dict]:
        """Open pull requests of ``repository`` whose head is ``owner:branch``."""
        return self._call("GET", f"/repos/{repository}/pulls?state=open&per_page=100"
                                 f"&head={quote(head, safe=':')}").json()

    def run_artifacts(self, repository: str, run_id: int, name: str) -> list[dict]:
        reply = self._call("GET", f"/repos/{repository}/actions/runs/{run_id}/artifacts"
                                  f"?per_page=100&name={quote(name, safe='')}")
        found = reply.json().get("artifacts") if isinstance(reply.json(), dict) else None
        return [a for a in found or () if isinstance(a, dict)]

    def download(self, path: str, limit: int) -> bytes:
        """The body of ``path`` (GitHub redirects artifact zips to its blob storage; requests
        drops the Authorization header when the redirect leaves the API host), read in chunks
        and refused past ``limit`` bytes whatever Content-Length claims."""
        url = self.api + path
        with self.session.get(url, stream=True, timeout=60) as reply:
            if reply.status_code >= 400:
                raise _fail(f"GitHub answered {reply.status_code} to GET {url}",
                            "the comment job needs `permissions: actions: read`", "AIS982")
            data = bytearray()
            for chunk in reply.iter_content(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise _fail(f"the artifact at {url} is larger than {limit} bytes",
                                "a plan artifact holds plan.json and plan.md only", "AIS982")
        return bytes(data)


def sync_comments(github: GitHub, pr: PullRequest, bodies: Sequence[str], *,
                  has_changes: bool) -> dict[str, int]:
    """Make the pull request's plan comments be ``bodies``: edit, create, delete as needed."""
    ours = sorted((c for c in github.comments(pr.repository, pr.number)
                   if str(c.get("body", "")).startswith(MARKER)), key=lambda c: c["id"])
    done = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    if not ours and not has_changes:
        return done  # nothing to say, and nothing said before
    for i, body in enumerate(bodies):
        if i < len(ours):
            if ours[i].get("body") == body:
                done["unchanged"] += 1
            else:
                github.update(pr.repository, ours[i]["id"], body)
                done["updated"] += 1
        else:
            github.create(pr.repository, pr.number, body)
            done["created"] += 1
    for stale in ours[len(bodies):]:
        github.delete(pr.repository, stale["id"])
        done["deleted"] += 1
    return done


def write_job_summary(markdown: str, path: str | None = None) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` (the job's summary page); False outside Actions."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(markdown)
    return True


# ----------------------------------------------------------------------------- untrusted plans


def fetch_plan_artifact(github: GitHub, run: WorkflowRun, name: str = ARTIFACT_NAME) -> bytes:
    """The ``plan.json`` of the artifact ``name`` the run uploaded, size-checked twice: by
    GitHub's listing before the download, and while reading (the listing could be wrong)."""
    found = [a for a in github.run_artifacts(run.repository, run.run_id, name)
             if a.get("name") == name]
    where = f"artifact {name!r} of run {run.run_id}"
    hint = "the plan job uploads it with actions/upload-artifact (name: aisprint-plan)"
    if len(found) != 1:
        raise _fail(f"the {where} is {'missing' if not found else 'there more than once'}",
                    hint, "AIS982")
    artifact = found[0]
    size, artifact_id = artifact.get("size_in_bytes"), artifact.get("id")
    if artifact.get("expired"):
        raise _fail(f"the {where} has expired", "run the plan workflow again", "AIS982")
    if type(size) is not int or type(artifact_id) is not int or size < 0:
        raise _fail(f"GitHub's listing of the {where} has no size or id", hint, "AIS982")
    if size > MAX_ARTIFACT_BYTES:
        raise _fail(f"the {where} is {size} bytes, more than the {MAX_ARTIFACT_BYTES} a plan "
                    "may take; it is not downloaded", hint, "AIS982")
    data = github.download(f"/repos/{run.repository}/actions/artifacts/{artifact_id}/zip",
                           MAX_ARTIFACT_BYTES)
    return plan_from_zip(data, where)


def plan_from_zip(data: bytes, source: str) -> bytes:
    """``plan.json`` out of an artifact zip, read in memory (nothing is extracted to disk, so
    member paths and symlinks in the zip have no effect), at most MAX_PLAN_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(PLAN_FILE)
            if info.file_size > MAX_PLAN_BYTES:
                raise _fail(f"{PLAN_FILE} in the {source} unpacks to {info.file_size} bytes, "
                            f"more than {MAX_PLAN_BYTES}", "a plan is far smaller", "AIS982")
            with archive.open(info) as member:
                text = member.read(MAX_PLAN_BYTES + 1)
    except KeyError:
        raise _fail(f"the {source} has no {PLAN_FILE} at its top",
                    "the plan job writes it with `aisprint pr-plan --out DIR`", "AIS982") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, OSError, ValueError) as exc:
        raise _fail(f"the {source} is not a readable zip: {exc}",
                    "a plan artifact is the zip actions/upload-artifact makes", "AIS982") from None
    if len(text) > MAX_PLAN_BYTES:
        raise _fail(f"{PLAN_FILE} in the {source} is larger than {MAX_PLAN_BYTES} bytes",
                    "a plan is far smaller", "AIS982")
    return text


def read_plan_file(path: str | os.PathLike[str]) -> bytes:
    """A saved plan from disk (a downloaded artifact): a regular file, not a symlink, bounded."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _fail(f"{path} is not a regular file (a symlink, a folder, a device)",
                        "pass the plan.json the plan job wrote", "AIS982")
        if info.st_size > MAX_PLAN_BYTES:
            raise _fail(f"{path} is {info.st_size} bytes, more than {MAX_PLAN_BYTES}",
                        "a plan is far smaller", "AIS982")
        with open(path, "rb") as handle:
            return handle.read(MAX_PLAN_BYTES + 1)[:MAX_PLAN_BYTES]
    except OSError as exc:
        raise _fail(f"cannot read the plan {path}: {exc}", "pass the plan.json the plan job "
                    "wrote", "AIS982") from None


# Characters a name from an untrusted plan keeps. Everything else — markdown and HTML syntax
# (` * _ [ ] < > | ! # & \ "), @ (mentions), line breaks, control and bidi characters — is
# replaced, so a name cannot leave the table cell, code span, <code> or mermaid label the
# renderer puts it in.
_SAFE_NAME = re.compile(r"[A-Za-z0-9 ._/:+=,~()\-]")
REPLACEMENT = "\ufffd"


def safe_name(text: str) -> str:
    kept = "".join(ch if _SAFE_NAME.fullmatch(ch) or (ch.isalnum() and ord(ch) > 127)
                   else REPLACEMENT for ch in text[:MAX_NAME])
    return kept + ("…" if len(text) > MAX_NAME else "")


def safe_code(text: str) -> str:
    """A diff from an untrusted plan, to be shown in a fenced block: no run of three
    backticks is left (so no line can close the fence), and carriage returns and other
    control characters — which markdown may read as line breaks — are replaced."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]",
                  REPLACEMENT, text)
    return re.sub(r"`{3,}", lambda m: "\u02cb" * len(m.group()), text)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _numbers_sane(value) -> bool:
    """No float overflowed to infinity (1e999 parses as inf) and no integer beyond what a
    plan can hold, so formatting a number never fails or runs long."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return abs(value) < 2**53
    if isinstance(value, float):
        return math.isfinite(value)
    items = value.values() if isinstance(value, dict) else value
    return all(_numbers_sane(v) for v in items)


def untrusted_plan(data: bytes, source: str) -> Plan:
    """A Plan from bytes a pull request's job produced: valid UTF-8 JSON (no NaN or
    Infinity), valid against plan.schema.json, every name and diff neutralised."""
    from jsonschema import Draft202012Validator

    hint = f"the plan must be `aisprint plan --save` output ({source} is not rendered)"
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _fail(f"the plan in the {source} is not JSON: {str(exc)[:200]}", hint,
                    "AIS983") from None
    errors = sorted(Draft202012Validator(load_schema("plan")).iter_errors(value),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise _fail(f"the plan in the {source} does not match schemas/plan.schema.json at "
                    f"{safe_name(where)}: {safe_name(first.message)} "
                    f"({len(errors)} error(s))", hint, "AIS983")
    if not _numbers_sane(value):
        raise _fail(f"the plan in the {source} holds a number out of range", hint, "AIS983")
    if not all(key.isdigit() and len(key) < 6 for key in value["layers"]):
        raise _fail(f"the plan in the {source} names a layer that is not a number", hint,
                    "AIS983")

    def side(s: dict) -> Side:
        return Side(s["kind"], safe_name(s["ref"]), s["commit"], s["manifest_sha256"])

    def unit(u: dict | None) -> UnitPlacement | None:
        if u is None:
            return None
        return UnitPlacement(u["layer"], safe_name(u["resource"]), u["replicas"],
                             safe_name(u["container"]), safe_name(u["image"]), u["memory"],
                             u["cores"])

    return Plan(
        current=side(value["current"]), desired=side(value["desired"]),
        placement=tuple(PlacementChange(safe_name(p["unit"]), safe_name(p["component"]),
                                        unit(p["before"]), unit(p["after"]))
                        for p in value["placement"]),
        cost_before=value["cost"]["before"], cost_after=value["cost"]["after"],
        qos=tuple(QosPath(safe_name(q["name"]), q["kind"],
                          tuple(safe_name(c) for c in q["components"]), q["limit"],
                          q["before"], q["after"], q["limit_before"]) for q in value["qos"]),
        artifacts=tuple(ArtifactChange(safe_name(a["path"]), a["kind"], a["label"], a["binary"],
                                       a["size_before"], a["size_after"], a["sha_before"],
                                       a["sha_after"], safe_code(a["diff"]), a["diff_truncated"])
                        for a in value["artifacts"]),
        dag=tuple((safe_name(a), safe_name(b), float(prob)) for a, b, prob in
                  value["dag"]["edges"]),
        layer_names=tuple(sorted((int(k), safe_name(v)) for k, v in value["layers"].items())),
        unchanged_files=value["summary"]["unchanged"])
