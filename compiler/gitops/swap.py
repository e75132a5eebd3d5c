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

Paths are hostile (a pull request can commit ``aisprint -> /home/you``): before anything is
written, ``check_folders`` looks at every folder the tree goes under with ``lstat`` and refuses
a symlink or a file there (AIS952); every staged path must stay below its folder; removal never
follows a symlink. An ``OSError`` of the write (disk full, permission denied, read-only) is
AIS955 (``write_failure``), after the staging is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.gitops.lock import WriteLock
from compiler.layout import MANIFEST, OWNED, ancestors, join
from compiler.write import failing_as, fsync_dir, unsafe, write_failure, write_file

JOURNAL = "journal.json"
WORK, WORK_LOCK = ".aisprint-write", ".aisprint-write.lock"  # write_folder's, inside out/


def check_folders(root: Path, prefix: str = "", *, folders: tuple[str, ...] = (),
                  files: tuple[str, ...] = ()) -> None:
    """Refuse to write under ``root`` when a folder the tree goes in (``prefix``'s folders,
    aisprint/) or a compiled path itself is a symlink or not what it should be (AIS952).

    Only ``lstat``: a symlink is never followed, whatever it points at. ``folders`` and
    ``files`` name more paths of ``root`` the writer uses (its staging area and lock)."""
    manifest = join(prefix, MANIFEST)
    wanted = [(rel, True) for rel in (*ancestors(prefix), *folders)]
    wanted += [(join(prefix, rel), join(prefix, rel) != manifest) for rel in OWNED]
    wanted += [(rel, False) for rel in files]
    for rel, folder in wanted:
        path = root / rel
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # nothing there yet (a parent that is a file was reported already)
        if stat.S_ISLNK(mode):
            raise unsafe(path, f"is a symlink (to {os.readlink(path)})",
                         f"replace the symlink {rel} with a real folder (`git rm {rel}` and "
                         "commit, or remove it), or write somewhere else")
        if folder and not stat.S_ISDIR(mode):
            raise unsafe(path, "is a file where a folder is needed",
                         f"remove or rename {rel}, or choose another --prefix / --out")
        if not folder and not stat.S_ISREG(mode):
            raise unsafe(path, "is not a regular file",
                         f"remove {rel} (the compiler writes it again)")


def check_relative(rel: str) -> None:
    """A staged path must stay below the staging folder (no absolute path, ``..`` or ``.``)."""
    parts = rel.split("/")
    if rel.startswith("/") or "\0" in rel or any(p in ("", ".", "..") for p in parts):
        raise unsafe(Path(rel), "is not a plain relative path",
                     "rename what produced it (a component or container name with `/` or "
                     "`..`) in common_config/")


def abandon(work: Path, error: OSError, what: str) -> InvalidInput:
    """A write failed with ``error``: before the commit point (no journal) its staging is
    removed and the old tree stays; after it, the journal stays for the next write."""
    committed = read_journal(work) is not None
    if not committed:
        with contextlib.suppress(OSError):
            finish(work)
            work.rmdir()
    return write_failure(error, what, intact=not committed)


def stage(work: Path, artifacts: Mapping[str, bytes], *, durable: bool = True) -> Path:
    """Write ``artifacts`` under ``work/new`` (a fresh folder) and return it."""
    for rel in artifacts:
        check_relative(rel)
    new = work / "new"
    remove(new)
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
                remove(retired)
            retired.parent.mkdir(parents=True, exist_ok=True)
            os.rename(current, retired)
        if rel in present:
            current.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, current)


def finish(work: Path) -> None:
    """Forget a completed (or abandoned) swap: journal first, then the leftovers."""
    (work / JOURNAL).unlink(missing_ok=True)
    for leftover in ("new", "old", JOURNAL + ".tmp"):
        remove(work / leftover)


def swap(root: Path, work: Path, artifacts: Mapping[str, bytes], owned: tuple[str, ...], *,
         durable: bool = True, record: Mapping | None = None) -> None:
    """Stage, commit and roll forward in one call (the folder writer)."""
    stage(work, artifacts, durable=durable)
    present = tuple(rel for rel in owned if _exists(work / "new" / rel))
    write_journal(work, {**(record or {}), "root": str(Path(root).resolve()),
                         "owned": list(owned), "present": list(present)})
    roll_forward(root, work, owned, present)
    finish(work)


def recover(root: Path, work: Path, owned: tuple[str, ...], *,
            forward: bool | None = None) -> str | None:
    """Complete or undo an interrupted swap. Returns "forward", "back" or None (nothing to do).

    ``forward`` overrides the journal's verdict (the git writer decides from the ref). The
    journal is trusted only when it is one this writer could have written (``trusted``): an
    output folder is anybody's, and a journal committed by a pull request must not move
    ``/etc`` into the staging area that is deleted next."""
    if not os.path.lexists(work):
        return None
    journal = read_journal(work)
    if journal is not None and not trusted(journal, root, work, owned):
        journal = None  # thrown away with the rest of the leftovers
    go = journal is not None if forward is None else (forward and journal is not None)
    if go:
        roll_forward(root, work, tuple(journal["owned"]), tuple(journal["present"]))
    leftovers = any(_exists(work / name) for name in ("new", "old", JOURNAL, JOURNAL + ".tmp"))
    finish(work)
    if go:
        return "forward"
    return "back" if leftovers else None


def trusted(journal: Mapping, root: Path, work: Path, owned: tuple[str, ...]) -> bool:
    """The journal names this root, only owned paths, and the staging holds no symlink."""
    try:
        names, present = list(journal["owned"]), list(journal["present"])
        same_root = Path(journal["root"]).resolve() == Path(root).resolve()
    except (KeyError, TypeError, ValueError, OSError):
        return False
    if not same_root or not set(names) <= set(owned) or not set(present) <= set(names):
        return False
    for folder, dirnames, filenames in os.walk(work):
        if any(os.path.islink(os.path.join(folder, name)) for name in dirnames + filenames):
            return False
    return True


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def remove(path: Path) -> None:
    """Delete ``path`` itself: a symlink is unlinked, never followed (nor are the ones inside
    a folder: ``shutil.rmtree`` removes links without descending)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)



def write_folder(out: Path, artifacts: Mapping[str, bytes], owned: tuple[str, ...], *,
                 durable: bool = False) -> Path:
    """Replace the owned paths of the plain folder ``out`` with ``artifacts`` (locked, journaled).

    The staging area is ``out/.aisprint-write`` (same filesystem); an interrupted write is
    completed or undone by the next one."""
    out = Path(out)
    what = f"the compiled tree into {out}"
    if out.exists() and not out.is_dir():
        raise InvalidInput([diagnostic(
            "AIS954", f"{out} is a file, not a folder to write the compiled tree into",
            "pass a folder (new or existing) as --out", Location(str(out)))])
    with failing_as(what):
        out.mkdir(parents=True, exist_ok=True)
    check_folders(out, folders=(WORK,), files=(WORK_LOCK,))
    work = out / WORK
    with WriteLock(out / WORK_LOCK, f"the folder {out}"):
        recover(out, work, owned)
        try:
            swap(out, work, artifacts, owned, durable=durable)
        except OSError as error:
            raise abandon(work, error, what) from None
        with contextlib.suppress(OSError):
            work.rmdir()  # another writer may be using it already
    return out


def recover_folder(out: Path) -> str | None:
    """Take the lock and finish or undo an interrupted ``write_folder`` of ``out``."""
    check_folders(Path(out), folders=(WORK,), files=(WORK_LOCK,))
    with WriteLock(Path(out) / WORK_LOCK, f"the folder {out}"):
        return recover(Path(out), Path(out) / WORK, OWNED)
