"""The `toscarizer` command: TOSCARIZER's verbs on this project's library.

  toscarizer tosca --application_dir APP (--base | --optimal)   IM TOSCA, one file per layer
  toscarizer fdl   --application_dir APP (--base | --optimal)   the OSCAR FDL

Both write into aisprint/deployments/<base|optimal_deployment>/ of the application, as the
original tool does, from the same compiler that `aisprint compile` runs (so names, storage
wiring and secrets handling are the same). `deploy`, `outputs` and `delete` talk to the
Infrastructure Manager (compiler/cli/toscarizer_im.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
import yaml

from compiler import __version__, api
from compiler.cli import toscarizer_im
from compiler.cli.main import run
from compiler.cli.output import console, reflow_help
from compiler.console.results import Outcome, Written
from compiler.errors import AisprintError, UsageError
from compiler.layout import BASE_DEPLOYMENT, CONTAINERS, DESIGNS, OPTIMAL_DEPLOYMENT
from compiler.layout import deployment as deployment_folder
from compiler.layout import design as design_folder
from targets.docker import images as design_images

app = typer.Typer(
    name="toscarizer",
    help="TOSCARIZER verbs on the aisprint-gitops library.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"toscarizer (aisprint-gitops) {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """TOSCARIZER verbs on the aisprint-gitops library."""


def _write(ctx: typer.Context, application_dir: str, base: bool, optimal: bool, target: str,
           folder: str) -> None:
    if base == optimal:
        raise UsageError("choose one of --base or --optimal")
    deployment = BASE_DEPLOYMENT if base else OPTIMAL_DEPLOYMENT
    result = api.build(application_dir, targets=(target,))
    prefix = f"{deployment_folder(deployment)}/{folder}/"
    written = []
    for rel, data in result.artifacts.items():
        if rel.startswith(prefix):
            api.write_atomically(Path(application_dir) / rel, data.decode(),
                             inside=Path(application_dir))
            written.append(Path(application_dir) / rel)
    out = console(ctx)
    if written:
        out.show(Written(tuple(written)))
    else:
        out.note(f"nothing to write for {deployment}")


@app.command("tosca")
def tosca(
    ctx: typer.Context,
    application_dir: str = typer.Option(..., "--application_dir", "--application-dir",
                                        help="Application folder."),
    base: bool = typer.Option(False, "--base", help="The base deployment."),
    optimal: bool = typer.Option(False, "--optimal", help="The optimal deployment."),
) -> None:
    """Write the IM TOSCA templates of a deployment (one per computational layer)."""
    _write(ctx, application_dir, base, optimal, "tosca", "im")


@app.command("fdl")
def fdl(
    ctx: typer.Context,
    application_dir: str = typer.Option(..., "--application_dir", "--application-dir",
                                        help="Application folder."),
    base: bool = typer.Option(False, "--base", help="The base deployment."),
    optimal: bool = typer.Option(False, "--optimal", help="The optimal deployment."),
) -> None:
    """Write the OSCAR FDL of a deployment (oscar/fdl.yaml)."""
    _write(ctx, application_dir, base, optimal, "oscar_fdl", "oscar")


@app.command("docker")
def docker(
    ctx: typer.Context,
    application_dir: str = typer.Option(..., "--application_dir", "--application-dir",
                                        help="Application folder."),
    registry: str = typer.Option(..., "--registry", help="Registry host, e.g. docker.io."),
    registry_folder: str = typer.Option("/", "--registry_folder", "--registry-folder",
                                        help="Folder (organisation) in the registry."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Write the build contexts and containers.yaml only."),
) -> None:
    """Write every design's build context, then build and push one image per architecture.

    Images are <registry>/<folder>/<component>_<design>_<arch>:latest for every design (base
    and the partitions `aisprint design` generated), plus <…>_amd64_aws:latest built from
    Dockerfile.aws for units that may run on AWS Lambda; all are listed in
    aisprint/designs/containers.yaml. Needs a Docker engine (DOCKER_HOST) unless --dry-run.
    """
    out = console(ctx)
    # deferred: the workspace loads the placement (numpy, PuLP): start-up time
    from compiler.workspace import Workspace

    workspace = Workspace.from_folder(application_dir)
    result = api.build(workspace, targets=("docker",))
    root = Path(application_dir)
    for rel, data in result.artifacts.items():
        if rel.startswith(DESIGNS + "/"):
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    app_model = workspace.application
    folder = registry_folder.strip("/")
    prefix = "/".join(p for p in (registry.rstrip("/"), folder) if p)
    images: dict[str, list[str]] = {}
    contexts = []
    for component, design, _, archs, on_faas in design_images(
            app_model, workspace.cuts):
        context = root / design_folder(component, design)
        builds = [(arch, "Dockerfile", "") for arch in archs]
        if on_faas:  # AWS Lambda runs amd64 images built from Dockerfile.aws
            builds.append(("amd64", "Dockerfile.aws", "_aws"))
        for arch, dockerfile, suffix in builds:
            tag = f"{prefix}/{component}_{design}_{arch}{suffix}:latest"
            images.setdefault(component, []).append(tag)
            contexts.append((context, tag, arch, dockerfile))
    if not dry_run:
        import docker as docker_sdk

        try:
            client = docker_sdk.from_env()
            client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means: no engine here
            raise AisprintError(
                f"no Docker engine is reachable ({exc.__class__.__name__}); start one or set "
                "DOCKER_HOST, or run with --dry-run to write the build contexts only") from None
        for context, tag, arch, dockerfile in contexts:
            out.note(f"building {tag} (linux/{arch}, {dockerfile})")
            client.images.build(path=str(context), tag=tag, platform=f"linux/{arch}", pull=True,
                                dockerfile=dockerfile)
            client.images.push(tag)
    api.write_atomically(root / CONTAINERS, yaml.safe_dump(
        {"components": {c: {"docker_images": tags} for c, tags in images.items()}},
        sort_keys=False), inside=root)
    state = "listed (dry run)" if dry_run else "built and pushed"
    listing = root / CONTAINERS
    out.show(Outcome(f"{len(contexts)} image(s) {state}: {listing}",
                     {"images": images, "containers": str(listing), "pushed": not dry_run}))


toscarizer_im.register(app)  # deploy | outputs | delete, through the Infrastructure Manager
reflow_help(app)


def main() -> None:
    sys.exit(run(app, prog="toscarizer"))
