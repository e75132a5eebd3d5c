"""What a compiled tree is made of, and which parts of a folder the compiler owns.

The compiler owns three paths of the folder it writes into: ``aisprint/designs``,
``aisprint/deployments`` and ``aisprint/manifest.json``. A write replaces them as a whole (so
files the new manifest does not list disappear) and leaves everything else alone
(``aisprint/logs``, the application itself, a README of the deployment repository).
"""

from __future__ import annotations

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput

MANIFEST = "aisprint/manifest.json"
OWNED = ("aisprint/designs", "aisprint/deployments", MANIFEST)
APPLIED_DEPLOYMENT = "aisprint/deployments/current_deployment"  # what the reconciler applies
PRODUCTION = "production_deployment.yaml"


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
