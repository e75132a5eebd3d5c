"""`toscarizer deploy | outputs | delete`: a deployment's TOSCA through the Infrastructure Manager.

Credentials: --im_auth PATH (an IM auth.dat), or $IM_AUTH_FILE, or $IM_AUTH (its content);
never a file committed to a repository. ``${NAME}`` references in the templates (secrets the
compiler never writes) are filled from the environment when posting. The infrastructures are
listed in ``<deployment>/im/infras.yaml`` (TOSCARIZER's file), which outputs and delete read.
"""

from __future__ import annotations

from pathlib import Path

import typer

from compiler.cli.output import Console, Format, console
from compiler.console.results import Infrastructures, Outcome, Outputs
from compiler.errors import UsageError
from compiler.layout import BASE_DEPLOYMENT, OPTIMAL_DEPLOYMENT
from compiler.layout import deployment as deployment_folder
from compiler.tools import find_custom_types

DEFAULT_IM = "https://im.egi.eu/im"

# the options the three verbs share (TOSCARIZER's spellings, and the dashed ones)
APPLICATION_DIR = typer.Option(None, "--application_dir", "--application-dir",
                               help="Application folder.")
BASE = typer.Option(False, "--base", help="The base deployment.")
OPTIMAL = typer.Option(False, "--optimal", help="The optimal deployment.")
IM_AUTH = typer.Option(None, "--im_auth", "--im-auth",
                       help="IM auth.dat (default: $IM_AUTH_FILE, or the content in $IM_AUTH).")
VERIFY = typer.Option(True, "--verify/--no-verify", help="Check the IM's TLS certificate.")
INFRAS = typer.Option(None, "--infras", help="An infras.yaml instead.")


def _progress(out: Console):
    """The IM's news on a terminal; nothing in CI or for machines."""
    return out.note if out.interactive else (lambda message: None)


def _im_folder(application_dir: str | None, base: bool, optimal: bool) -> Path:
    if application_dir is None:
        raise UsageError("give --application_dir with --base or --optimal (or --tosca_file)")
    if base == optimal:
        raise UsageError("choose one of --base or --optimal")
    deployment = BASE_DEPLOYMENT if base else OPTIMAL_DEPLOYMENT
    return Path(application_dir) / deployment_folder(deployment) / "im"


def _client(im_url: str, im_auth: str | None, verify: bool, tosca_types: str | None = None,
            local_imports: bool = False):
    # deferred: the IM client (requests) is slow to import; toscarizer tosca/fdl never use it
    from compiler.runtime.im import IMClient, load_auth

    return IMClient(im_url, load_auth(im_auth), custom_types=find_custom_types(tosca_types),
                    local_imports=local_imports, verify_tls=verify)


def _base_url(infrastructure_url: str) -> str:
    return infrastructure_url.rstrip("/").rsplit("/infrastructures/", 1)[0]


def deploy(
    ctx: typer.Context,
    application_dir: str | None = APPLICATION_DIR,
    base: bool = BASE,
    optimal: bool = OPTIMAL,
    tosca_file: list[str] = typer.Option(
        None, "--tosca_file", "--tosca-file",
        help="Deploy these templates instead (repeatable; ignored with --application_dir)."),
    im_url: str = typer.Option(DEFAULT_IM, "--im_url", "--im-url", help="IM REST endpoint."),
    im_auth: str | None = IM_AUTH,
    verify: bool = VERIFY,
    tosca_types: str | None = typer.Option(
        None, "--tosca-types", help="IM's custom_types.yaml, to validate before posting "
        "(default: $AISPRINT_TOSCA_TYPES or ../shared/tosca-types)."),
    local_imports: bool = typer.Option(
        False, "--local-imports",
        help="Point the templates' custom-types import at --tosca-types (an IM on this "
             "machine, without network)."),
    timeout: float = typer.Option(900.0, "--timeout", help="Seconds to wait per template."),
    poll: float = typer.Option(10.0, "--poll", help="Seconds between state polls."),
    output: Format = typer.Option(Format.text, "--output", "-o",
                                  help="text | json | markdown | github"),
) -> None:
    """Create one IM infrastructure per TOSCA template and wait until each is configured.

    Templates that write into another template's cluster are deployed after it (sinks
    first). The infrastructures are listed in im/infras.yaml next to the templates.

    Example:

      toscarizer deploy --application_dir app --base --im_url http://localhost:8800 \\
          --im_auth ~/.im/auth.dat
    """
    # deferred: as in _client
    from compiler.runtime.im import IMError
    from compiler.runtime.im.deploy import INFRAS_FILE, template_files  # deferred: as above
    from compiler.runtime.im.deploy import deploy as deploy_all  # deferred: as above

    out = console(ctx, output)
    if application_dir is not None:
        folder = _im_folder(application_dir, base, optimal)
        files = template_files(folder)
    elif tosca_file:
        files = {Path(f).stem: Path(f) for f in tosca_file}
        folder = Path(tosca_file[0]).parent
    else:
        raise UsageError("give --application_dir with --base or --optimal, or --tosca_file")
    if not files:
        raise IMError("AIS981", f"no TOSCA templates in {folder}",
                      "write them first: `toscarizer tosca` or `aisprint compile`")
    client = _client(im_url, im_auth, verify, tosca_types, local_imports)
    result = deploy_all(client, files, folder / INFRAS_FILE, timeout=timeout, interval=poll,
                        progress=_progress(out))
    out.show(Infrastructures({d.name: {"url": d.url, "state": d.state}
                              for d in result.values()}))
    out.note(f"infrastructures listed in {folder / INFRAS_FILE}")
    bad = sorted(n for n, d in result.items() if d.state != "configured")
    if bad:
        detail = "; ".join(f"{n}: {result[n].state} {result[n].message[-300:]}".strip()
                           for n in bad)
        raise IMError("AIS979", f"{len(bad)} infrastructure(s) not configured: {detail}",
                      "see each one's contextualisation message (`toscarizer outputs` shows the "
                      "infrastructures; infras.yaml keeps the message)")


def _infras(application_dir, base, optimal, infras_file) -> Path:
    # deferred: as in _client
    from compiler.runtime.im.deploy import INFRAS_FILE

    if infras_file:
        return Path(infras_file)
    return _im_folder(application_dir, base, optimal) / INFRAS_FILE


def outputs(
    ctx: typer.Context,
    application_dir: str | None = APPLICATION_DIR,
    base: bool = BASE,
    optimal: bool = OPTIMAL,
    infras_file: str | None = INFRAS,
    im_auth: str | None = IM_AUTH,
    verify: bool = VERIFY,
    output: str = typer.Option("yaml", "--output", "-o", help="yaml | json"),
) -> None:
    """Print the outputs (endpoints, credentials) of every deployed infrastructure.

    Example:

      toscarizer outputs --application_dir app --base --im_auth ~/.im/auth.dat
    """
    # deferred: as in _client
    from compiler.runtime.im.deploy import read_infras

    if output not in ("yaml", "json"):
        raise UsageError(f"--output is yaml or json, not {output!r}")
    out = console(ctx, Format.json if output == "json" else Format.text)  # text is YAML

    result = {}
    for name, entry in read_infras(_infras(application_dir, base, optimal, infras_file)).items():
        if entry.url.startswith("http"):
            client = _client(_base_url(entry.url), im_auth, verify)
            result[name] = client.outputs(entry.url)
    out.show(Outputs(result))


def delete(
    ctx: typer.Context,
    application_dir: str | None = APPLICATION_DIR,
    base: bool = BASE,
    optimal: bool = OPTIMAL,
    infras_file: str | None = INFRAS,
    im_auth: str | None = IM_AUTH,
    verify: bool = VERIFY,
) -> None:
    """Destroy every infrastructure listed in infras.yaml; the file goes when all are gone.

    Example:

      toscarizer delete --application_dir app --base --im_auth ~/.im/auth.dat
    """
    # deferred: as in _client
    from compiler.runtime.im import IMError, load_auth
    from compiler.runtime.im.deploy import destroy  # deferred: as above

    out = console(ctx)
    path = _infras(application_dir, base, optimal, infras_file)
    load_auth(im_auth)  # fail on missing credentials before touching anything
    errors = destroy(lambda url: _client(_base_url(url), im_auth, verify), path,
                     progress=_progress(out))
    if errors:
        detail = "; ".join(f"{n}: {m}" for n, m in sorted(errors.items()))
        raise IMError("AIS976", f"{len(errors)} infrastructure(s) not destroyed: {detail}",
                      f"run the command again; {path} keeps the ones left")
    out.show(Outcome(f"deleted every infrastructure listed in {path}", {"deleted": str(path)}))


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("outputs")(outputs)
    app.command("delete")(delete)
