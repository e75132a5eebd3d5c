"""The one way a file is written: atomically, never through a symlink, errors explained.

Every writer of the compiler goes through here: ``write_atomically`` for one file (an
application's annotations.yaml, a saved plan, a placement's files, the reconciler's state),
``place_atomically`` for a file copied or moved into a watched folder (the local backend's
buckets), and the folder swap of ``compiler.gitops.swap`` for a whole compiled tree, built on
``write_file`` and ``fsync_dir`` with its own journal.
A refused path is AIS952 (``unsafe``); an ``OSError`` (disk full, no permission, read-only)
is AIS955 (``write_failure``) with what was left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput


def unsafe(path: Path, problem: str, fix: str) -> InvalidInput:
    return InvalidInput([diagnostic(
        "AIS952", f"{path} {problem}: writing the compiled tree there could leave "
        "the folder it belongs to, so nothing was written", fix, Location(str(path)))])


_HINTS = {
    errno.ENOSPC: "the filesystem is full: free space (`df -h {path}`) and run again",
    errno.EDQUOT: "the disk quota is used up: free space and run again",
    errno.EFBIG: "a file is larger than this process may write (ulimit -f): raise the limit",
    errno.EACCES: "this user may not write there: fix the permissions of {path} or write "
                  "somewhere else",
    errno.EPERM: "this user may not write there: fix the permissions of {path} or write "
                 "somewhere else",
    errno.EROFS: "the filesystem is read-only: write somewhere else",
    errno.ENOTDIR: "a part of {path} is a file where a folder is needed: remove it or write "
                   "somewhere else",
    errno.EEXIST: "{path} is in the way: remove it or write somewhere else",
    errno.ENOENT: "{path} cannot be created there (a parent is missing or not writable): "
                  "write somewhere else",
    errno.EISDIR: "{path} is a folder where a file is needed: remove it",
    errno.ELOOP: "{path} goes through a symlink, which the writer never follows: replace it "
                 "with a real folder",
}


def write_failure(error: OSError, what: str, *, intact: bool | None = True) -> InvalidInput:
    """An ``OSError`` of a write as AIS955: what, which path, what happened, the fix.

    ``intact``: the failure came before the commit point (the old tree stays, the staging is
    removed), after it (the next write completes the swap), or None: before any tree."""
    path = error.filename or what
    reason = error.strerror or str(error)
    state = {True: " (the old tree is intact and the staging was removed)",
             False: " (the commit is made; the next write completes the work tree)",
             None: ""}[intact]
    hint = _HINTS.get(error.errno, "fix the cause and run again").format(path=path)
    return InvalidInput([diagnostic(
        "AIS955", f"writing {what} failed at {path}: {reason}{state}", hint,
        Location(str(path)) if error.filename else None)])


@contextlib.contextmanager
def failing_as(what: str, *, intact: bool | None = None) -> Iterator[None]:
    """Turn an ``OSError`` inside the block into AIS955 for ``what``."""
    try:
        yield
    except OSError as error:
        raise write_failure(error, what, intact=intact) from None


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


def write_atomically(path: Path, data: str | bytes, *, inside: Path | None = None,
                     durable: bool = False, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one rename: readers see the
    old file or the new one.

    ``inside``: the folder ``path`` belongs to (an application). A folder on the way that is
    a symlink or a file is refused (AIS952) before anything is created, so a hostile
    ``aisprint -> /elsewhere`` never takes a write out of it. An ``OSError`` (disk full, no
    permission, read-only) is AIS955, with the temporary file removed.

    ``durable``: the bytes and the rename are on disk when this returns (a state file a crash
    must not lose). ``mode``: the file's permissions; by default only its owner may read it
    (the temporary file's 0600), which is right for state and plans; a file of an application
    that others read beside its neighbours passes 0o644.
    """
    path = Path(path)
    if inside is not None:
        folder = Path(inside)
        for part in path.parent.relative_to(inside).parts:
            folder = folder / part
            if folder.is_symlink():
                raise unsafe(folder, f"is a symlink (to {os.readlink(folder)})",
                             f"replace the symlink {folder} with a real folder")
            if folder.exists() and not folder.is_dir():
                raise unsafe(folder, "is a file where a folder is needed",
                             f"remove or rename {folder}")
    with failing_as(str(path), intact=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                if mode is not None:
                    os.fchmod(handle.fileno(), mode)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if durable:
            fsync_dir(path.parent)


def place_atomically(source: Path, destination: Path, *, move: bool = False) -> None:
    """Put a copy of ``source`` (``move``: the file itself) at ``destination`` in one rename,
    so a watcher of the folder sees the whole file or nothing: the file is first written
    under a hidden name (a dot-file) beside it. An ``OSError`` is the caller's to handle."""
    destination = Path(destination)
    tmp = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.part")
    try:
        if move:
            shutil.move(str(source), tmp)
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
