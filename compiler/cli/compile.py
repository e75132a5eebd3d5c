"""`aisprint compile`: every deployment artifact of an application, written atomically."""

from __future__ import annotations

from pathlib import Path

import typer

from compiler import api  # its names load when a verb runs (start-up time)
from compiler.cli.output import Console, Format, console, output_option
from compiler.console.results import Checked, Committed, CompiledInto, timings_table
from compiler.gitops.folder import stale_files, write_tree
from compiler.gitops.repo import Identity
from compiler.gitops.swap import check_folders
from compiler.layout import safe_prefix


def compile_(
    ctx: typer.Context,
    app_dir: str = typer.Argument(".", help="Application folder."),
    out_dir: str | None = typer.Option(
        None, "--out", help="Where to write aisprint/ (default: the application folder)."),
    mode: str = typer.Option("fast", "--mode", help="Placement mode: fast | exact | heuristic."),
    time_limit: float | None = typer.Option(None, "--time-limit",
                                            help="Seconds for the placement."),
    target: list[str] = typer.Option(
        None, "--target", "-t", help="Only these emitters (repeatable); default: all."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if the written tree is out of date."),
    timings: bool = typer.Option(False, "--timings", help="Print the time of each stage."),
    output: Format = output_option("text for people, json for machines, markdown, github."),
    max_deployments: str = typer.Option(
        "64", "--max-deployments", metavar="N|all",
        help="How many deployment1..N folders of the design space to write (it grows "
             "exponentially with the components); the placement searches all of it anyway."),
    tosca_types: str | None = typer.Option(
        None, "--tosca-types",
        help="IM's custom_types.yaml (or its folder) for checking TOSCA; default: "
             "$AISPRINT_TOSCA_TYPES or the project's ../shared/tosca-types."),
    repo: str | None = typer.Option(
        None, "--repo", help="Commit the tree to this deployment repository (created when "
                             "missing) instead of writing a folder."),
    commit: bool = typer.Option(True, "--commit/--no-commit",
                                help="With --repo: commit (default), or only write its files."),
    branch: str | None = typer.Option(
        None, "--branch", help="With --repo: the branch to commit to (default: the one checked "
                               "out; another branch is written without touching the work tree)."),
    prefix: str = typer.Option("", "--prefix",
                               help="With --repo: the folder of the repository for aisprint/."),
    plan_file: str | None = typer.Option(
        None, "--plan", help="With --repo: write exactly what this saved plan (`aisprint plan "
                             "--save`) showed; refused if the branch or the result changed."),
    push: str | None = typer.Option(None, "--push", help="With --repo: push to this remote."),
    author: str | None = typer.Option(None, "--author", help="'Name <email>' of the commit."),
    committer: str | None = typer.Option(None, "--committer",
                                         help="'Name <email>' (default: the author)."),
) -> None:
    """Compile an application: design tree, placement, deployments, every emitter, manifest.

    The output is deterministic: compiling twice gives identical bytes. Without
    oscarp/performance_models.json the seed's base rule places the components.

    Examples:

      aisprint compile examples/mask_detection --out /tmp/deploy-repo

      aisprint compile . --check        # in CI: fail when the committed output is stale

      aisprint compile . --repo ../deploy --push origin   # commit "compile of <sha>", push
    """
    out = console(ctx, output)
    if max_deployments != "all" and not max_deployments.isdigit():
        raise typer.BadParameter("give a number or `all`", param_hint="--max-deployments")
    if repo is not None and commit and not check:
        _commit_to_repo(out, app_dir, repo=repo, branch=branch, prefix=prefix, plan_file=plan_file,
                        push=push, author=author, committer=committer, mode=mode,
                        time_limit=time_limit)
        return
    if repo is not None and out_dir is None:
        prefix = safe_prefix(prefix)
        check_folders(Path(repo), prefix)  # the prefix's folders too, not only out's own
        out_dir = str(Path(repo) / prefix)
    result = api.build(app_dir, mode=mode, time_limit=time_limit,
                   targets=tuple(target) if target else None,
                   max_deployments=None if max_deployments == "all" else int(max_deployments))
    out.warnings(result.warnings)
    destination = out_dir or app_dir
    if check:
        # deferred: only --check runs the consumers (tosca-parser, oscar-python, helm, IM)
        from compiler.verify import check_artifacts, find_check_tools

        report = check_artifacts(result.artifacts, find_check_tools(tosca_types))
        problems = report.rejected
        for note in report.skipped:
            out.note(f"note: {note.message} ({note.hint})")
        stale = stale_files(destination, result.artifacts)
        out.show(Checked(destination, app_dir, len(result.artifacts), tuple(problems),
                          tuple(stale)))
        if stale or problems:
            raise typer.Exit(1)
    else:
        write_tree(destination, result.artifacts)
        out.show(CompiledInto(result, destination))
    if timings:
        out.note(timings_table(result.timings))


def _commit_to_repo(out: Console, app_dir: str, *, repo: str, branch: str | None, prefix: str,
                    plan_file: str | None, push: str | None, author: str | None,
                    committer: str | None, mode: str, time_limit: float | None) -> None:
    result, plan = api.commit_deployment(
        app_dir, repo=repo, branch=branch, prefix=prefix, plan_file=plan_file,
        author=Identity.parse(author) if author else None,
        committer=Identity.parse(committer) if committer else None,
        push_to=push, mode=mode, time_limit=time_limit)
    if result.recovered:
        done = "completed" if result.recovered == "forward" else "undone"
        out.note(f"note: an interrupted write was {done} first")
    out.show(Committed(result, plan, repo))


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_)
