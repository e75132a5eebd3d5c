"""`aisprint profile`: measure every component and partition on this machine, learn their
performance models and hand them to the placement (OSCAR-P + aMLLibrary, locally)."""

from __future__ import annotations

import contextlib

import typer

from compiler.cli.output import Console, Format, console, output_option
from compiler.console.results import Profiled
from compiler.errors import UsageError
from compiler.profile.campaign import profile_application


def _levels(text: str | None, option: str) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise UsageError(f"{option} takes whole numbers separated by commas, e.g. 1,2") from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"{option} takes positive whole numbers, e.g. 1,2")
    return values


@contextlib.contextmanager
def _progress(out: Console):
    """A bar of the runs on a terminal; nothing in CI or for machines."""
    if not out.interactive:
        yield None
        return
    # deferred: rich's bars are slow to import and only a terminal needs them
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("profiling {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs"), TimeElapsedColumn(),
                  console=out.rich_err(), transient=True) as bar:
        task = bar.add_task("…", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield update


def profile(
    ctx: typer.Context,
    app_dir: str | None = typer.Argument(None, help="Application folder.", show_default=False),
    application_dir: str | None = typer.Option(
        None, "--application_dir", "--application-dir", hidden=True,
        help="Same as APP_DIR (the original tool's spelling)."),
    inputs: str | None = typer.Option(
        None, "--inputs", "-i", help="Folder (or file) of inputs for the first components; "
        "default: oscarp/input_files/."),
    cores: str | None = typer.Option(
        None, "--cores", help="Cores per instance to measure, e.g. 1,2 (default: 1 and all "
        "CPUs this process may use)."),
    parallelism: str | None = typer.Option(
        None, "--parallelism", help="Instances side by side, e.g. 1,2 (default: "
        "run_parameters.yaml's, else 1 and as many as fit)."),
    repetitions: int | None = typer.Option(
        None, "--repetitions", "-r", help="Runs per configuration (default: run.repetitions "
        "of run_parameters.yaml, else 3)."),
    campaign: str | None = typer.Option(
        None, "--campaign", help="Results go to oscarp/<campaign>/ (default: "
        "run.campaign_dir, else 'profile')."),
    resource: list[str] | None = typer.Option(
        None, "--resource", help="A candidate resource this machine stands for (repeatable). "
        "Default: every non-FaaS candidate resource with this machine's CPU architecture."),
    seed: int = typer.Option(1, "--seed", help="Seed of the model search."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds one input may take."),
    output: Format = output_option("text (a table), json, markdown."),
) -> None:
    """Run every component and partition (their real main.py, ONNX Runtime) over the inputs at
    several core counts and parallelism levels, in worker processes pinned to their CPUs; fit
    performance models (linear on 1/cores, decision tree, random forest, gradient boosting;
    grid search with k-fold cross-validation, best by MAPE on held-out runs) and write, as
    OSCAR-P does: oscarp/<campaign>/<unit>/results/{Dataframes,Models}/, and merged entries in
    oscarp/performance_models.json (CoreBasedPredictor) and oscarp/components_data_size.yaml.

    Units are aisprint/designs/<component>/<design>/main.py (base and the partition halves
    `aisprint design` writes) or src/<folder>/main.py; each component reads what the ones
    before it send on (their main's return value).

    The timings are THIS machine's. It stands for the candidate resources named with
    --resource, or by default for every non-FaaS candidate resource with the same CPU
    architecture, assuming equal speed per core: the learnt model is evaluated at each
    resource's declared cores (processors' computingUnits), which extrapolates beyond the
    cores measured here. Other resources' entries are kept. Profile on each kind of machine
    with its own --campaign and --resource for measured values everywhere.

    Examples:

      aisprint profile examples/mask_detection --inputs ../shared/images

      aisprint profile APP --inputs photos/ --cores 1,2 --repetitions 5 --resource EdgeNUC -o json
    """
    out = console(ctx, output)
    target = app_dir or application_dir
    if not target:
        raise UsageError("give the application folder: aisprint profile APP_DIR")
    if repetitions is not None and repetitions < 1:
        raise UsageError("--repetitions must be at least 1")
    with _progress(out) as update:
        result = profile_application(
            target, inputs=inputs, cores=_levels(cores, "--cores"),
            parallelism=_levels(parallelism, "--parallelism"), repetitions=repetitions,
            campaign=campaign, resources=resource or None, seed=seed, timeout=timeout,
            progress=update)
    out.warnings(result.warnings)
    out.show(Profiled(result))


def register(app: typer.Typer) -> None:
    app.command("profile")(profile)
