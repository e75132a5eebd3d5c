"""What a compiled tree is made of, and which parts of a folder the compiler owns.

The compiler owns three paths of the folder it writes into: ``aisprint/designs``,
``aisprint/deployments`` and ``aisprint/manifest.json``. A write replaces them as a whole (so
files the new manifest does not list disappear) and leaves everything else alone
(``aisprint/logs``, the application itself, a README of the deployment repository).
"""

from __future__ import annotations

MANIFEST = "aisprint/manifest.json"
OWNED = ("aisprint/designs", "aisprint/deployments", MANIFEST)
APPLIED_DEPLOYMENT = "aisprint/deployments/current_deployment"  # what the reconciler applies
PRODUCTION = "production_deployment.yaml"


def is_owned(path: str) -> bool:
    return any(path == owned or path.startswith(owned + "/") for owned in OWNED)


def join(prefix: str, path: str) -> str:
    """``prefix/path`` in POSIX form; an empty prefix is the repository's root."""
    prefix = prefix.strip("/")
    return f"{prefix}/{path}" if prefix else path
