"""`aisprint plan` and `aisprint diff`: what a compile would change in the deployment repository."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from compiler import api  # its names load when a verb runs (start-up time)
from compiler.cli.output import NO_COLOR, Console, Format, console, output_option
from compiler.diagnostics import diagnostic

EXIT_CHANGES = 2
PLAN_OUTPUT = output_option("text (terminal) | markdown | json | github (plain text).")


def _show(out: Console, plan, *, diffs: bool, comments_dir: str | None) -> None:
    # deferred: plans and their renderers load the gitops package (start-up time)
    from compiler.console.plan import PlanView, markdown_comments

    out.show(PlanView(plan, diffs=diffs))
    if comments_dir:
        folder = Path(comments_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("comment-*.md"):
            old.unlink()
        for i, body in enumerate(markdown_comments(plan), 1):
            (folder / f"comment-{i}.md").write_text(body, encoding="utf-8")


def _exit(plan, detailed: bool) -> int:
    return EXIT_CHANGES if detailed and plan.has_changes else 0


def plan(
    ctx: typer.Context,
    app_dir: str = typer.Argument(".", help="Application folder."),
    against: str | None = typer.Option(
        None, "--against",
        help="What to compare with: a revision of --repo, else a compiled folder or a "
             "revision of the application's repository (compiled too)."),
    repo: str | None = typer.Option(None, "--repo", help="The deployment repository."),
    branch: str | None = typer.Option(None, "--branch",
                                      help="Deployment branch (default: the one checked out)."),
    prefix: str = typer.Option("", "--prefix",
                               help="Folder of the deployment repository holding aisprint/."),
    rev: str | None = typer.Option(
        None, "--rev", help="Compile the application at this revision of its repository "
                            "(a pull request's head) instead of its working tree."),
    output: Format = PLAN_OUTPUT,
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 without changes, 2 with changes, 1 on error."),
    save: str | None = typer.Option(
        None, "--save", help="Also write the plan as JSON here (for `compile --plan`)."),
    comments: str | None = typer.Option(
        None, "--comments-dir", help="Also write the pull-request comments (each under "
                                     "GitHub's limit) as comment-N.md into this folder."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Terminal: list files, no diffs."),
    mode: str = typer.Option("fast", "--mode", help="Placement mode: fast | exact | heuristic."),
    time_limit: float | None = typer.Option(None, "--time-limit",
                                            help="Seconds for the placement."),
    no_color: bool = NO_COLOR,
    recompile: bool = typer.Option(
        False, "--recompile", help="Compile even when the current tree's manifest records the "
                                   "application's inputs and this tool version (then it is "
                                   "taken as is: a no-op plan stays fast)."),
) -> int:
    """Show what compiling the application would change: placement per component (layer,
    resource, replicas), cost, predicted response time per QoS path against its limit, and
    every file added, removed or modified (restart required vs metadata only).

    Examples:

      aisprint plan examples/mask_detection --repo ../deploy          # vs the branch head

      aisprint plan . --against origin/main -o markdown               # a pull request

      aisprint plan . --repo ../deploy --save plan.json --detailed-exitcode
      aisprint compile . --repo ../deploy --plan plan.json            # write exactly that
    """
    out = console(ctx, output, no_color=no_color)
    with out.status("planning: compiling and comparing…"):
        value = api.plan(app_dir, rev=rev, against=against, repo=repo, branch=branch,
                     prefix=prefix, mode=mode, time_limit=time_limit, recompile=recompile)
    if save:
        # deferred: the workflow loads the compiler and the placement (start-up time)
        from compiler.gitops.workflow import save_plan

        save_plan(value, save)
    _show(out, value, diffs=not no_diff, comments_dir=comments)
    return _exit(value, detailed_exitcode)


def diff(
    ctx: typer.Context,
    rev1: str = typer.Argument(..., help="The older revision."),
    rev2: str = typer.Argument(..., help="The newer revision."),
    repo: str = typer.Option(".", "--repo", help="The deployment repository."),
    prefix: str = typer.Option("", "--prefix",
                               help="Folder of the repository holding aisprint/."),
    app_dir: str | None = typer.Option(
        None, "--app", help="Application folder, to predict response times of both sides."),
    output: Format = PLAN_OUTPUT,
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 without changes, 2 with changes, 1 on error."),
    comments: str | None = typer.Option(None, "--comments-dir",
                                        help="Also write the pull-request comments here."),
    no_diff: bool = typer.Option(False, "--no-diff", help="Terminal: list files, no diffs."),
    no_color: bool = NO_COLOR,
) -> int:
    """Show what changed between two revisions of a deployment repository, as a plan.

    Examples:

      aisprint diff HEAD~1 HEAD --repo ../deploy

      aisprint diff v1 v2 --repo ../deploy -o markdown --app examples/mask_detection
    """
    out = console(ctx, output, no_color=no_color)
    value = api.diff(rev1, rev2, repo=repo, prefix=prefix, app_dir=app_dir)
    _show(out, value, diffs=not no_diff, comments_dir=comments)
    return _exit(value, detailed_exitcode)


# the options pr-plan and pr-comment share (the two stages plan the same way)
PR_REPO = typer.Option(None, "--repo", help="The deployment repository.")
PR_AGAINST = typer.Option(
    None, "--against", help="Default: --repo's branch head, else the pull request's base "
                            "commit (check out with fetch-depth: 0).")
PR_BRANCH = typer.Option(None, "--branch", help="Deployment branch.")
PR_PREFIX = typer.Option("", "--prefix", help="Folder of the repository for aisprint/.")
PR_DETAILED_EXITCODE = typer.Option(
    False, "--detailed-exitcode", help="Exit 0 without changes, 2 with changes, 1 on error.")


def pr_plan(
    ctx: typer.Context,
    app_dir: str = typer.Argument(".", help="Application folder."),
    out: str = typer.Option(..., "--out", help="Folder to write plan.json and plan.md into "
                                               "(the artifact the comment stage reads)."),
    repo: str | None = PR_REPO,
    against: str | None = PR_AGAINST,
    branch: str | None = PR_BRANCH,
    prefix: str = PR_PREFIX,
    detailed_exitcode: bool = PR_DETAILED_EXITCODE,
) -> int:
    """Stage 1 of the pull-request flow, in the unprivileged `pull_request` job (read-only
    token, no secrets): plan the pull request and write the plan as plan.json and plan.md into
    --out, and the markdown into the job summary. Posts nothing: the `workflow_run` stage
    (`aisprint pr-comment --artifact`) comments from the uploaded folder.

    Reads GITHUB_EVENT_PATH for the base commit and GITHUB_STEP_SUMMARY (set by the runner).

    Example (a workflow step; see action.yml):

      aisprint pr-plan examples/mask_detection --out "$RUNNER_TEMP/aisprint-plan"
    """
    # deferred: plans, their renderers and GitHub's API load the gitops package (start-up time)
    from compiler.console.plan import PlanHeadline, render_markdown
    from compiler.gitops import github  # deferred: as above
    from compiler.gitops.summary import plan_json  # deferred: as above

    event = os.environ.get("GITHUB_EVENT_PATH")
    pr = github.pull_request_from_event(event) if event else None
    if pr is None and not (against or repo):
        raise github._fail("no pull request to plan: GITHUB_EVENT_PATH is not a pull_request "
                           "event, and neither --against nor --repo is given",
                           "run on `pull_request`, or say what to compare with")
    value = api.plan(app_dir, repo=repo, branch=branch, prefix=prefix,
                      against=against if (against or repo) else pr.base_sha)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(value)
    api.write_atomically(folder / github.PLAN_FILE, plan_json(value))
    api.write_atomically(folder / github.MARKDOWN_FILE, markdown)
    github.write_job_summary(markdown)
    console(ctx).show(PlanHeadline(value, tail=f"; plan written to {folder}"))
    return _exit(value, detailed_exitcode)


def pr_comment(
    ctx: typer.Context,
    app_dir: str = typer.Argument(".", help="Application folder (one-stage use only)."),
    artifact: str | None = typer.Option(
        None, "--artifact", help="Stage 2, in a `workflow_run` job: comment the plan in this "
                                 "artifact of the run that triggered it (aisprint-plan)."),
    plan_file: str | None = typer.Option(
        None, "--plan", help="Comment this saved plan (plan.json) instead of planning."),
    repo: str | None = PR_REPO,
    against: str | None = PR_AGAINST,
    branch: str | None = PR_BRANCH,
    prefix: str = PR_PREFIX,
    max_comments: int = typer.Option(10, "--max-comments", help="At most this many comments."),
    detailed_exitcode: bool = PR_DETAILED_EXITCODE,
) -> int:
    """Create or update ONE sticky plan comment on a pull request (split in parts under
    GitHub's size limit) and write the job summary.

    Stage 2 of the pull-request flow (--artifact, in a `workflow_run` job that never checks out
    the pull request): the plan comes from the artifact of the run that triggered it, treated
    as untrusted data — at most a few MB, validated against schemas/plan.schema.json, every
    name and diff escaped, rendered by this tool; the pull request is the open one whose head
    is the run's head commit, found from the event payload, never from the artifact.

    --plan FILE comments a saved plan the same way. Without either, plans APP_DIR itself (one
    stage: only for repositories whose contributors are all trusted).

    Reads GITHUB_EVENT_PATH, GITHUB_TOKEN, GITHUB_API_URL and GITHUB_STEP_SUMMARY (set by the
    runner; the token from the workflow). Other events: nothing to do, exit 0.

    Examples (workflow steps; see action.yml):

      aisprint pr-comment --artifact aisprint-plan        # on workflow_run

      aisprint pr-comment examples/mask_detection --repo deploy   # one stage
    """
    # deferred: plans, their renderers and GitHub's API load the gitops package (start-up time)
    from compiler.console.plan import PlanHeadline, markdown_comments, render_markdown
    from compiler.gitops import github  # deferred: as above

    out = console(ctx)
    event = os.environ.get("GITHUB_EVENT_PATH")
    if not event:
        raise github._fail("GITHUB_EVENT_PATH is not set: this command runs in GitHub Actions",
                           "use `aisprint plan -o markdown` elsewhere")
    api_url = os.environ.get("GITHUB_API_URL", "https://api.github.com")

    def client() -> github.GitHub:
        return github.GitHub(os.environ.get("GITHUB_TOKEN", ""), api_url)

    run = github.workflow_run_from_event(event)
    if artifact and run is None:
        raise github._fail("--artifact reads the artifact of the run a workflow_run event "
                           "reports on, and this is not a workflow_run event",
                           "run the comment stage `on: workflow_run`", "AIS984")
    if run is not None:
        if run.event not in ("pull_request", "pull_request_target"):
            out.note(f"run {run.run_id} was triggered by {run.event}, not a pull request: "
                "no plan comment")
            return 0
        if run.conclusion != "success":  # failed validation: its annotations say why
            out.note(f"run {run.run_id} ended {run.conclusion or 'unfinished'}: no plan to comment")
            return 0
        if not (artifact or plan_file):
            raise github._fail("on workflow_run, say where the plan is: --artifact NAME or "
                               "--plan FILE", "the action passes --artifact aisprint-plan",
                               "AIS984")
        gh = client()
        pr = github.pull_request_of_run(gh, run)
        if pr is None:
            warning = diagnostic(
                "AIS985", f"no open pull request of {run.repository} has head "
                f"{run.head_repository}:{github.safe_name(run.head_branch)} at "
                f"{run.head_sha[:12]}: it was pushed to again or closed",
                "nothing to do: the run of the newer commit comments")
            out.warnings([warning])
            return 0
        data = (github.fetch_plan_artifact(gh, run, artifact) if artifact
                else github.read_plan_file(plan_file))
        value = github.untrusted_plan(data, f"artifact {artifact!r} of run {run.run_id}"
                                      if artifact else str(plan_file))
    else:
        pr = github.pull_request_from_event(event)
        if pr is None:
            out.note("not a pull request event: no plan comment")
            return 0
        if plan_file:
            value = github.untrusted_plan(github.read_plan_file(plan_file), str(plan_file))
        else:
            value = api.plan(app_dir, repo=repo, branch=branch, prefix=prefix,
                              against=against if (against or repo) else pr.base_sha)
        gh = client()
    done = github.sync_comments(gh, pr, markdown_comments(value, max_comments=max_comments),
                                has_changes=value.has_changes)
    github.write_job_summary(render_markdown(value))
    counts = ", ".join(f"{n} {what}" for what, n in done.items() if n) or "none posted"
    out.show(PlanHeadline(value, lead=f"{pr.repository}#{pr.number}: ",
                          tail=f"; comments: {counts}"))
    return _exit(value, detailed_exitcode)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("diff")(diff)
    app.command("pr-plan")(pr_plan)
    app.command("pr-comment")(pr_comment)
