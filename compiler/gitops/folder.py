"""A compiled tree in a plain folder: read it back, compare it, replace it.

``compile --out`` and ``plan`` against a folder use these; the git writer (``repo.py``)
has its own reader of trees in commits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from compiler.gitops.swap import write_folder
from compiler.layout import OWNED
from compiler.load import files as boundary


def compiled_files(folder: str | os.PathLike[str]) -> dict[str, bytes]:
    """The compiled (owned) files of a folder, by relative path (sorted). Read like inputs
    (the folder may be a checkout of a stranger's branch): links that lead out of the folder,
    pipes and devices are skipped, so they read as stale and the next write replaces them."""
    found: dict[str, bytes] = {}
    for owned in OWNED:
        listed = [owned] if boundary.check(folder, owned) is None else \
            boundary.walk(folder, owned)[0]
        for rel in listed:
            data, _ = boundary.read_bytes(folder, rel)
            if data is not None:
                found[rel] = data
    return dict(sorted(found.items()))


def stale_files(out_dir: str | os.PathLike[str], artifacts: Mapping[str, bytes]) -> list[str]:
    """What differs between ``artifacts`` and the compiled tree in ``out_dir`` (for --check)."""
    on_disk = compiled_files(out_dir)
    return sorted(p for p in set(on_disk) | set(artifacts) if on_disk.get(p) != artifacts.get(p))


def write_tree(out_dir: str | os.PathLike[str], artifacts: Mapping[str, bytes]) -> Path:
    """Swap the owned subtrees of ``out_dir`` for ``artifacts`` (``compiler.gitops``' writer).

    What compile owns (aisprint/designs, aisprint/deployments, aisprint/manifest.json) is
    replaced as a whole, so files the new manifest does not list disappear; anything else in
    ``out_dir`` (aisprint/logs, the application itself) is left alone. The swap is journaled:
    a write killed half-way is completed or undone by the next one. Nothing is written
    through a symlink (``out_dir/aisprint`` or a compiled path that is one is AIS952), and a
    failed write (disk full, no permission: AIS955) removes its staging."""
    return write_folder(Path(out_dir), artifacts, OWNED)
