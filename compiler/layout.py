"""What a compiled tree is made of, and which parts of a folder the compiler owns.

Every path of a compiled tree is spelled here once; emitters, the writer, the plan, the
reconciler and the local runner name them through these constants and functions.

The compiler owns three paths of the folder it writes into: ``aisprint/designs``,
``aisprint/deployments`` and ``aisprint/manifest.json``. A write replaces them as a whole (so
files the new manifest does not list disappear) and leaves everything else alone
(``aisprint/logs``, the application itself, a README of the deployment repository).
"""

from __future__ import annotations

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput

AISPRINT = "aisprint"  # the folder of an application (or a deployment repository) compile owns
DESIGNS = f"{AISPRINT}/designs"  # <component>/<design>/: the code of every design
DEPLOYMENTS = f"{AISPRINT}/deployments"  # <deployment>/: the artifacts of every deployment
MANIFEST = f"{AISPRINT}/manifest.json"
OWNED = (DESIGNS, DEPLOYMENTS, MANIFEST)

# designs of a component: its code as written, and the two halves of each cut
BASE_DESIGN = "base"
COMPONENT_PARTITIONS = f"{DESIGNS}/component_partitions.yaml"  # every component's designs
CONTAINERS = f"{DESIGNS}/containers.yaml"  # the images `toscarizer docker` built

# deployments: the seed's rule, the placement's choice, and what runs (the reconciler
# rewrites it, keeping the one before as current_deployment_<time>)
BASE_DEPLOYMENT = "base"
OPTIMAL_DEPLOYMENT = "optimal_deployment"
CURRENT_DEPLOYMENT = "current_deployment"
APPLIED_DEPLOYMENT = f"{DEPLOYMENTS}/{CURRENT_DEPLOYMENT}"  # what the reconciler applies
MULTI_CLUSTER_QOS = f"{DEPLOYMENTS}/multi_cluster_qos_constraints.yaml"

# files of a deployment folder
PRODUCTION = "production_deployment.yaml"
QOS_PREFIX = "ams/qos_constraints_L"  # + <layer>.yaml: the AMS limits of one layer
SPACE4AI_QOS = "space4ai-d/qos_constraints.yaml"  # every layer's limits, SPACE4AI-R's input


def design(component: str, name: str = BASE_DESIGN) -> str:
    """``aisprint/designs/<component>/<name>``: the folder of one design's code."""
    return f"{DESIGNS}/{component}/{name}"


def partition_design(cut: str | int, part: int) -> str:
    """The design name of half ``part`` (1 or 2) of cut ``cut``: ``partition<cut>_<part>``."""
    return f"partition{cut}_{part}"


def deployment(name: str) -> str:
    """``aisprint/deployments/<name>``: the folder of one deployment."""
    return f"{DEPLOYMENTS}/{name}"


def qos_file(layer: int) -> str:
    """A deployment's AMS limits of one layer, relative to its folder."""
    return f"{QOS_PREFIX}{layer}.yaml"


def is_owned(path: str) -> bool:
    return any(path == owned or path.startswith(owned + "/") for owned in OWNED)


def safe_prefix(prefix: str) -> str:
    """``prefix`` (the repository's folder that holds aisprint/) in normal form, or AIS953.

    It comes from a command line or a configuration file, so it must name a folder inside the
    repository: relative, no ``..``, nothing of ``.git``. Empty and ``.`` parts are dropped,
    so ``apps//shop/`` is ``apps/shop`` and ``""`` or ``.`` is the repository's root."""
    text = str(prefix)
    parts = [part for part in text.split("/") if part not in ("", ".")]
    wrong = ("it is absolute" if text.startswith("/") else
             "it contains `..`" if ".." in parts else
             "it names a folder of .git" if any(p.lower() == ".git" for p in parts) else
             "it contains a NUL character" if "\0" in text else None)
    if wrong:
        raise InvalidInput([diagnostic(
            "AIS953", f"--prefix {text!r} does not stay inside the repository: {wrong}",
            "give the folder that holds aisprint/ relative to the repository's root, "
            "like --prefix apps/shop (or none for the root)")])
    return "/".join(parts)


def ancestors(prefix: str) -> tuple[str, ...]:
    """Every folder a tree under ``prefix`` is written in, outermost first, aisprint/ last:
    ``apps/shop`` gives ``apps``, ``apps/shop``, ``apps/shop/aisprint``."""
    parts = [part for part in prefix.split("/") if part]
    return tuple("/".join(parts[:i]) for i in range(1, len(parts) + 1)) + \
        (join(prefix, "aisprint"),)


def join(prefix: str, path: str) -> str:
    """``prefix/path`` in POSIX form; an empty prefix is the repository's root."""
    prefix = prefix.strip("/")
    return f"{prefix}/{path}" if prefix else path
