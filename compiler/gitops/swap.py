"""Replace the owned paths of a folder so that a reader sees the old tree or the new one.

The protocol (a small redo log):

1. ``stage``: the whole new tree is written under ``work/new`` (same filesystem as the target,
   so renames never copy); nothing in the target has changed yet.
2. ``commit``: ``work/journal.json`` is written atomically (temporary file, fsync, rename). This
   rename is the commit point: before it, recovery throws the staging away (old tree); after it,
   recovery finishes the swap (new tree).
3. ``roll_forward``: for every owned path, the current one is renamed into ``work/old`` and the
   staged one into place. Every step is idempotent, so recovery can simply run it again.
4. The journal is removed, then ``work/`` (old and new) is deleted.

``recover`` runs at the start of every write (and of ``aisprint plan`` on a work tree), so a
process killed at any point leaves, once anything looks at the folder again, exactly the old
or exactly the new tree. The git writer (``repo.py``) adds its own commit point in front of
this one: the journal names the commit, and a swap whose ref update never happened is rolled
back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

JOURNAL = "journal.json"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, *, durable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())


def stage(work: Path, artifacts: Mapping[str, bytes], *, durable: bool = True) -> Path:
    """Write ``artifacts`` under ``work/new`` (a fresh folder) and return it."""
    new = work / "new"
    if new.exists():
        shutil.rmtree(new)
    new.mkdir(parents=True)
    for rel, data in artifacts.items():
        write_file(new / rel, data, durable=durable)
    return new


def write_journal(work: Path, record: Mapping) -> None:
    """Atomically record the decision to swap (the commit point of the folder swap)."""
    tmp = work / (JOURNAL + ".tmp")
    write_file(tmp, (json.dumps(dict(record), sort_keys=True) + "\n").encode(), durable=True)
    os.replace(tmp, work / JOURNAL)
    fsync_dir(work)


def read_journal(work: Path) -> dict | None:
    try:
        return json.loads((work / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:  # a torn journal cannot exist (rename), but never trust a file blindly
        return None


def roll_forward(root: Path, work: Path, owned: tuple[str, ...], present: tuple[str, ...]) -> None:
    """Move every staged owned path into ``root`` (idempotent; safe to run again after a kill)."""
    new, old = work / "new", work / "old"
    for rel in owned:
        staged, current, retired = new / rel, root / rel, old / rel
        if rel in present and not _exists(staged):
            continue  # moved in already
        if _exists(current):
            if _exists(retired):
                _remove(retired)
            retired.parent.mkdir(parents=True, exist_ok=True)
            os.rename(current, retired)
        if rel in present:
            current.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, current)


def finish(work: Path) -> None:
    """Forget a completed (or abandoned) swap: journal first, then the leftovers."""
    (work / JOURNAL).unlink(missing_ok=True)
    for leftover in ("new", "old", JOURNAL + ".tmp"):
        _remove(work / leftover)


def swap(root: Path, work: Path, artifacts: Mapping[str, bytes], owned: tuple[str, ...], *,
         durable: bool = True, record: Mapping | None = None) -> None:
    """Stage, commit and roll forward in one call (the folder writer)."""
    stage(work, artifacts, durable=durable)
    present = tuple(rel for rel in owned if _exists(work / "new" / rel))
    write_journal(work, {**(record or {}), "root": str(root), "owned": list(owned),
                         "present": list(present)})
    roll_forward(root, work, owned, present)
    finish(work)


def recover(root: Path, work: Path, *, forward: bool | None = None) -> str | None:
    """Complete or undo an interrupted swap. Returns "forward", "back" or None (nothing to do).

    ``forward`` overrides the journal's verdict (the git writer decides from the ref)."""
    if not work.exists():
        return None
    journal = read_journal(work)
    go = journal is not None if forward is None else (forward and journal is not None)
    if go:
        roll_forward(root, work, tuple(journal["owned"]), tuple(journal["present"]))
    leftovers = any(_exists(work / name) for name in ("new", "old", JOURNAL, JOURNAL + ".tmp"))
    finish(work)
    if go:
        return "forward"
    return "back" if leftovers else None


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif _exists(path):
        path.unlink()


def write_folder(out: Path, artifacts: Mapping[str, bytes], owned: tuple[str, ...], *,
                 durable: bool = False) -> Path:
    """Replace the owned paths of the plain folder ``out`` with ``artifacts`` (locked, journaled).

    The staging area is ``out/.aisprint-write`` (same filesystem); an interrupted write is
    completed or undone by the next one."""
    from compiler.gitops.lock import WriteLock

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".aisprint-write"
    with WriteLock(out / ".aisprint-write.lock", f"the folder {out}"):
        recover(out, work)
        swap(out, work, artifacts, owned, durable=durable)
        with contextlib.suppress(OSError):
            work.rmdir()  # another writer may be using it already
    return out


def recover_folder(out: Path) -> str | None:
    """Take the lock and finish or undo an interrupted ``write_folder`` of ``out``."""
    from compiler.gitops.lock import WriteLock

    with WriteLock(Path(out) / ".aisprint-write.lock", f"the folder {out}"):
        return recover(Path(out), Path(out) / ".aisprint-write")
