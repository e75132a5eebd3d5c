"""`aisprint reconcile`: apply the deployment repository and re-place on runtime events."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from compiler.cli.output import Format, console, output_option
from compiler.console.results import Reconciled
from compiler.gitops.repo import Identity, Reader, check_branch
from compiler.tools import find_custom_types


def reconcile(
    ctx: typer.Context,
    repo: str = typer.Argument(".", help="The deployment repository."),
    once: bool = typer.Option(False, "--once", help="One cycle, then exit (for cron jobs)."),
    watch: bool = typer.Option(False, "--watch", help="A cycle every --interval seconds."),
    interval: float = typer.Option(10.0, "--interval", help="Seconds between cycles (--watch)."),
    app_dir: str | None = typer.Option(
        None, "--app", help="The application sources (common_config/, src/); default: the "
                            "repository itself when it holds them. Needed to re-place."),
    branch: str | None = typer.Option(None, "--branch", help="Branch of the repository."),
    prefix: str = typer.Option("", "--prefix", help="Folder of the repository with aisprint/."),
    state: str | None = typer.Option(None, "--state",
                                     help="State folder (default <repo>/.git/aisprint)."),
    im_url: str | None = typer.Option(
        None, "--im-url", envvar="IM_URL",
        help="IM REST endpoint ($IM_URL); without it nothing is applied, metrics are still "
             "judged and re-placements committed."),
    im_auth: str | None = typer.Option(
        None, "--im-auth", help="IM auth.dat ($IM_AUTH_FILE or $IM_AUTH otherwise); never a "
                                "file of the repository."),
    tosca_types: str | None = typer.Option(
        None, "--tosca-types", help="IM's custom_types.yaml, to check templates before posting."),
    template: list[str] = typer.Option(
        None, "--template", help="Apply only the im/ templates matching this pattern "
                                 "(repeatable), e.g. '*-layer1'."),
    oscar: bool = typer.Option(
        False, "--oscar", help="Also apply current_deployment/oscar/fdl.yaml to the OSCAR "
                               "clusters (the --template patterns apply to their names): "
                               "endpoints from $OSCAR_ENDPOINT_<CLUSTER> or IM's "
                               "oscar_endpoint output, credentials from "
                               "$OSCAR_PASSWORD_<CLUSTER> or $OSCAR_TOKEN_<CLUSTER>."),
    metrics_config: str | None = typer.Option(
        None, "--metrics-config", help="YAML with `metrics: {backend, url, database, …}`; "
                                       "else $INFLUX_URL etc.; else the embedded store."),
    window: float = typer.Option(60.0, "--window", help="Seconds of metrics judged per cycle."),
    violation_window: float = typer.Option(
        60.0, "--for", help="Seconds a violation or an out-of-band load must last."),
    band: float = typer.Option(0.2, "--band", help="Load band around the planned load (±)."),
    cooldown: float = typer.Option(300.0, "--cooldown",
                                   help="Seconds after a change during which nothing fires."),
    tolerance: float = typer.Option(
        0.0, "--tolerance", help="Extra cost (fraction) accepted to keep running resources."),
    push: str | None = typer.Option(None, "--push", help="Push each commit to this remote."),
    author: str | None = typer.Option(None, "--author", help="'Name <email>' of commits."),
    output: Format = output_option("text | json (one line a cycle) | markdown | github."),
) -> None:
    """Make the infrastructure match the repository, and re-place when the QoS or the load
    says so. Each cycle: lock, apply what changed through IM and, with --oscar, the OSCAR
    services of the FDL (nothing twice, even after a crash; drift repaired), judge the AMS
    metrics of the last --window seconds, and when a constraint has been violated --for
    seconds (or the load left its band), commit a new current_deployment (the previous one
    kept as current_deployment_<time>) and apply it.

    Examples:

      aisprint reconcile deploy-repo --once --app . --im-url http://127.0.0.1:8899

      aisprint reconcile deploy-repo --watch --interval 1 -o json

      OSCAR_ENDPOINT_MASK_DETECTION_LAYER1=https://oscar.rpi.example.org \
      OSCAR_PASSWORD_MASK_DETECTION_LAYER1=... aisprint reconcile deploy-repo --once --oscar
    """
    # deferred: the runtime (metrics stores, the reconciler) is slow to import and only
    # this verb needs it
    from compiler.runtime.metrics import load_config, open_source
    from compiler.runtime.reconcile import Settings, reconcile_once  # deferred: as above
    from compiler.runtime.triggers import Policy  # deferred: as above

    out = console(ctx, output)
    if once == watch:
        raise typer.BadParameter("choose one of --once or --watch")
    root = Path(repo)
    Reader(root)  # AIS941 before anything (the metrics store) is created in a wrong path
    check_branch(branch)
    if app_dir and not Path(app_dir).is_dir():
        raise typer.BadParameter(f"{app_dir} is not a folder (the one with common_config/)",
                                 param_hint="--app")
    app = Path(app_dir) if app_dir else (root if (root / "common_config").is_dir() else None)
    settings = Settings(
        repo=root, app_dir=app, branch=branch, prefix=prefix,
        state_dir=Path(state) if state else None,
        policy=Policy(window=violation_window, band=band, cooldown=cooldown),
        window=window, tolerance=tolerance, author=Identity.parse(author) if author else None,
        push_to=push, templates=tuple(template or ()), oscar=oscar)
    im = None
    if im_url:
        # deferred: the IM client (requests) is slow to import and only --im-url needs it
        from compiler.runtime.im import IMClient, load_auth

        im = IMClient(im_url, load_auth(im_auth), custom_types=find_custom_types(tosca_types))
    metrics = open_source(load_config(Path(metrics_config) if metrics_config else None),
                          state_dir=settings.state_path())
    if im is None and not oscar:
        out.note("note: no --im-url nor --oscar: nothing is applied, metrics are judged")
    failures = 0
    while True:
        cycle = reconcile_once(settings, im=im, metrics=metrics)
        out.show(Reconciled(cycle, clock=time.strftime("%H:%M:%S")))
        failures = failures + 1 if cycle.status == "failed" else 0
        if once:
            break
        time.sleep(interval)
    if failures:
        sys.exit(1)


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
