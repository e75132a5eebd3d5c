"""Pull requests on GitHub: one sticky plan comment, the job summary, through the REST API.

``StickyComments`` keeps the plan in the pull request's comments that start with
``console.MARKER``: the first run creates them, later runs edit them in place (and delete the
parts a shorter plan no longer needs), so a pull request carries one plan however often it is
pushed to. A plan without changes posts nothing unless a plan comment already exists (which
is then edited to say so). Requests go to ``$GITHUB_API_URL`` (https://api.github.com unless
GitHub Enterprise), authenticated with the workflow's token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.gitops.console import MARKER

API_VERSION = "2022-11-28"


def _fail(message: str, hint: str) -> InvalidInput:
    return InvalidInput([diagnostic("AIS950", message, hint)])


@dataclass(frozen=True)
class PullRequest:
    repository: str  # owner/name
    number: int
    base_sha: str
    head_sha: str
    base_ref: str


def pull_request_from_event(event_path: str | os.PathLike[str]) -> PullRequest | None:
    """The pull request of a ``pull_request``/``pull_request_target`` event; None otherwise."""
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the GitHub event payload {event_path}: {exc}",
                    "run inside a GitHub Actions job (GITHUB_EVENT_PATH is set by the runner)") \
            from None
    pr = event.get("pull_request") if isinstance(event, dict) else None
    if not pr:
        return None
    try:
        return PullRequest(event["repository"]["full_name"], int(pr["number"]),
                           pr["base"]["sha"], pr["head"]["sha"], pr["base"]["ref"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(f"the pull_request event in {event_path} lacks {exc}",
                    "the action needs the standard pull_request payload") from None


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
