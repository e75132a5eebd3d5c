"""The one input boundary: every file of an application is read through here.

An application arrives in a stranger's pull request, so a file name promises nothing:

* only **regular files** are read. A named pipe would block a reader forever, a device such as
  ``/dev/zero`` never ends, a socket has no content; each is refused before it is opened, and
  the file is opened non-blocking and checked again (``fstat``) in case it was swapped.
* only files **inside the application**. A path is resolved one component at a time; a
  symlink that resolves inside the application is followed, one that resolves outside it (or
  a path with ``..`` or an absolute one) is refused, naming the link. Nothing outside the
  application is ever opened.
* sizes are **capped** per kind: text (YAML, JSON, Python) at ``TEXT_CAP``, other files
  (ONNX models, whatever a component carries) at ``FILE_CAP``.
* text is **UTF-8**; a leading byte-order mark is allowed and dropped (Python and YAML accept
  it). Anything else is refused with the line and column of the first bad byte.

Readers return ``(value, problem)``: the value, or ``None`` and a ``Diagnostic`` that says
which file, what is wrong and how to fix it. They never raise on bad input.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import PurePosixPath

from compiler.diagnostics import Diagnostic, Location, diagnostic

MiB = 1024 * 1024
TEXT_CAP = 4 * MiB  # YAML, JSON and Python sources: generous for hand-written files
FILE_CAP = 512 * MiB  # anything else, ONNX models included

PathLike = str | os.PathLike[str]
Keep = Callable[[str, bool], bool]  # (relative path, is a folder) -> look at it?


def display(root: Root, rel: str) -> str:
    """How a file of the application is named in diagnostics (as the user gave the folder)."""
    if isinstance(root, Listing):
        root = root.root
    return os.path.normpath(os.path.join(os.fspath(root), rel))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _outside(shown: str, name: str, what: str, *, line: int = 1) -> Diagnostic:
    # a path that leaves the folder gets no line: the text renderer would print that line of
    # the file outside (a symlink's own location it never opens, so a link keeps line 1)
    return diagnostic(
        "AIS006", f"{name} {what}, outside the application; nothing outside the application "
        "is read", "put the file itself inside the application folder (copy it, or a hard "
        "link on the same file system) instead of linking to it",
        Location(shown, line, line))


def locate(root: Root, rel: str) -> tuple[str | None, Diagnostic | None]:
    """The real path of ``rel`` (relative to ``root``), or why it leaves the application.

    Each component is resolved in turn, so the diagnostic names the first symlink that leads
    out (the link, not what it points to). The path need not exist."""
    if isinstance(root, Listing):
        return root.locate(rel)
    real_root = os.path.realpath(root)
    if "\x00" in rel:  # no file name can hold one, and the OS calls raise on it
        shown = repr(rel)[1:-1]
        return None, diagnostic("AIS005", f"the path {shown} contains a NUL character",
                                "remove it: no file name can hold one", Location(shown))
    parts = PurePosixPath(rel.replace(os.sep, "/")).parts
    if not parts or os.path.isabs(rel) or ".." in parts:
        return None, _outside(rel, rel, "is a path that leaves the application folder", line=0)
    here = real_root
    for i, part in enumerate(parts):
        following = os.path.realpath(os.path.join(here, part))
        if not _inside(following, real_root):
            name = "/".join(parts[:i + 1])
            shown = display(root, name)
            try:
                target = os.readlink(shown)
            except OSError:
                target = following
            return None, _outside(shown, name, f"is a symlink to {target}")
        here = following
    return here, None


def exists(root: Root, rel: str) -> bool:
    """Something (a file, folder or even a dangling symlink) is at ``rel``."""
    if isinstance(root, Listing):
        return root.exists(rel)
    return os.path.lexists(os.path.join(os.fspath(root), rel))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refuse(mode: int, size: int, shown: str, cap: int, name: str = "") -> Diagnostic | None:
    name = name or shown
    if not stat.S_ISREG(mode):
        return diagnostic(
            "AIS007", f"{name} is {_kind(mode)}, not a regular file",
            "replace it with a regular file (inputs are read from regular files only)",
            Location(shown, 1, 1))
    if size > cap:
        return diagnostic(
            "AIS008", f"{name} is {size / MiB:.1f} MiB, over the {cap // MiB} MiB limit for "
            + ("YAML, JSON and Python text" if cap == TEXT_CAP else "a file of the application"),
            "make it smaller, or keep it out of the application "
            "folder (large data belongs in object storage)", Location(shown, 1, 1))
    return None


def _unreadable(shown: str, exc: OSError) -> Diagnostic:
    if isinstance(exc, FileNotFoundError):
        return diagnostic("AIS001", f"{shown} does not exist", "create it, or fix the path",
                          Location(shown))
    return diagnostic("AIS005", f"cannot read {shown}: {exc.strerror or exc}",
                      "make it a readable regular file", Location(shown, 1, 1))


def check(root: Root, rel: str, *, cap: int = FILE_CAP) -> Diagnostic | None:
    """Why ``rel`` may not be read (None when it may), without opening it."""
    if isinstance(root, Listing):
        return root.check(rel, cap)
    real, problem = locate(root, rel)
    if problem is not None:
        return problem
    shown = display(root, rel)
    try:
        st = os.stat(real)
    except OSError as exc:
        return _unreadable(shown, exc)
    return _refuse(st.st_mode, st.st_size, shown, cap, rel)


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))


def _read_checked(real: str, shown: str, cap: int, name: str = ""
                  ) -> tuple[bytes | None, Diagnostic | None]:
    """Open a resolved path that must be a regular file of at most ``cap`` bytes, read it."""
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        return None, _unreadable(shown, exc)
    try:
        st = os.fstat(fd)
        problem = _refuse(st.st_mode, st.st_size, shown, cap, name)
        if problem is not None:
            return None, problem
        chunks, total = [], 0
        while total <= cap:  # a file that grows while read is still cut off at the cap
            chunk = os.read(fd, min(cap + 1 - total, 8 * MiB))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return None, _unreadable(shown, exc)
    finally:
        os.close(fd)
    if total > cap:
        return None, _refuse(st.st_mode, total, shown, cap, name)
    return b"".join(chunks), None


def read_bytes(root: Root, rel: str, *, cap: int = FILE_CAP
               ) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of the regular file ``rel`` inside ``root`` (see the module's rules)."""
    if isinstance(root, Listing):
        return root.read_bytes(rel, cap)
    real, problem = locate(root, rel)
    if problem is not None:
        return None, problem
    shown = display(root, rel)
    try:  # refuse pipes and devices before opening them: opening one can have effects
        st = os.stat(real)
    except OSError as exc:
        return None, _unreadable(shown, exc)
    problem = _refuse(st.st_mode, st.st_size, shown, cap, rel)
    if problem is not None:
        return None, problem
    return _read_checked(real, shown, cap, rel)


def decode(data: bytes, shown: str) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text (a leading BOM dropped), or where the first byte that is not UTF-8 is."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, diagnostic(
            "AIS005", f"{shown} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line "
            f"{line}, column {col} ({exc.reason})",
            "save the file as UTF-8 (a byte-order mark is allowed)", Location(shown, line, col))
    return text.removeprefix("\ufeff"), None


def read_text(root: Root, rel: str, *, cap: int = TEXT_CAP
              ) -> tuple[str | None, Diagnostic | None]:
    """The UTF-8 text of ``rel`` inside ``root`` (see the module's rules)."""
    data, problem = read_bytes(root, rel, cap=cap)
    if data is None:
        return None, problem
    return decode(data, display(root, rel))


def read_given_text(path: PathLike, *, cap: int = TEXT_CAP) -> tuple[str | None, Diagnostic | None]:
    """A text file named on the command line: it may live anywhere (the user chose it), but
    it is still a capped, regular UTF-8 file."""
    shown = os.fspath(path)
    real = os.path.realpath(shown)
    try:
        st = os.stat(real)
    except OSError as exc:
        return None, _unreadable(shown, exc)
    problem = _refuse(st.st_mode, st.st_size, shown, cap)
    if problem is not None:
        return None, problem
    data, problem = _read_checked(real, shown, cap)
    if data is None:
        return None, problem
    return decode(data, shown)


def is_folder(root: Root, rel: str) -> bool:
    """``rel`` is a folder inside the application (symlinks that lead out are not)."""
    if isinstance(root, Listing):
        return root.is_folder(rel)
    real, problem = locate(root, rel)
    return problem is None and os.path.isdir(real)


def walk(root: Root, rel: str, *, keep: Keep = lambda rel, folder: True,
         cap: int = FILE_CAP) -> tuple[list[str], list[Diagnostic]]:
    """The regular files under the folder ``rel`` (relative POSIX paths, sorted) and what
    was refused there.

    ``keep(path, is_folder)`` says whether to look at an entry at all (a folder it rejects is
    not entered). Symlinks inside the application are followed (each real folder is entered
    once, so a link loop ends); a symlink leading out, a pipe, socket or device, and a file
    over ``cap`` are reported instead. A missing folder has no files."""
    if isinstance(root, Listing):
        return root.walk(rel, keep)
    start, problem = locate(root, rel)
    if problem is not None:
        return [], [problem]
    if not os.path.isdir(start):
        return [], []
    real_root = os.path.realpath(root)
    found: list[str] = []
    problems: list[Diagnostic] = []
    seen = {start}
    pending = [(start, rel.strip("/"))]
    while pending:
        folder, prefix = pending.pop()  # ``folder`` is a real path: no link to resolve in it
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(_unreadable(display(root, prefix), exc))
            continue
        for entry in entries:
            child = f"{prefix}/{entry.name}"
            try:
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    folder_here = os.path.isdir(real)
                else:
                    real, folder_here = entry.path, entry.is_dir(follow_symlinks=False)
                if not keep(child, folder_here):
                    continue
                if not _inside(real, real_root):
                    problems.append(locate(root, child)[1]
                                    or _outside(display(root, child), child, "leads"))
                elif folder_here:
                    if real not in seen:
                        seen.add(real)
                        pending.append((real, child))
                else:
                    st = os.stat(real)
                    refused = _refuse(st.st_mode, st.st_size, display(root, child), cap, child)
                    if refused is None:
                        found.append(child)
                    else:
                        problems.append(refused)
            except OSError as exc:
                shown = display(root, child)
                problems.append(diagnostic(
                    "AIS005", f"{child} is a symlink to {os.readlink(entry.path)}, which does "
                    "not exist", "remove the link, or link to a file of the application",
                    Location(shown, 1, 1)) if entry.is_symlink() and isinstance(
                        exc, FileNotFoundError) else _unreadable(shown, exc))
    return sorted(found), problems


def folders(root: Root, rel: str) -> list[str]:
    """The names of the folders directly in the folder ``rel`` (sorted; links that lead out
    of the application are no folders)."""
    if isinstance(root, Listing):
        return root.folders(rel)
    if not is_folder(root, rel):
        return []
    base = os.path.join(os.fspath(root), rel)
    return sorted(name for name in os.listdir(base) if is_folder(root, f"{rel}/{name}"))


class Listing:
    """An application that is not a folder on disk: a fixed set of regular files (relative
    POSIX paths), read through the same functions as a folder. ``root`` is how its files are
    named in diagnostics. Subclasses say how a file's bytes are read (``_read``)."""

    def __init__(self, root: str, paths, sizes=None, refused=()):
        self.root = root
        self.paths = frozenset(paths)
        self.sizes = dict(sizes or {})
        self.refused = tuple(refused)  # what the reader refused (links out, submodules...)
        self._folders = {"/".join(p.split("/")[:i]) for p in self.paths
                         for i in range(1, p.count("/") + 1)}

    def _read(self, rel: str) -> bytes:
        raise NotImplementedError

    def prefetch(self, rels) -> None:
        """A hint: these files are about to be read (a reader may fetch them at once)."""

    def locate(self, rel: str) -> tuple[str | None, Diagnostic | None]:
        parts = PurePosixPath(rel).parts
        if "\x00" in rel or not parts or rel.startswith("/") or ".." in parts:
            return None, _outside(rel, rel, "is a path that leaves the application folder",
                                  line=0)
        return rel, None

    def exists(self, rel: str) -> bool:
        rel = rel.strip("/")
        return rel in self.paths or rel in self._folders

    def is_folder(self, rel: str) -> bool:
        return rel.strip("/") in self._folders

    def folders(self, rel: str) -> list[str]:
        prefix = rel.strip("/") + "/"
        return sorted({f[len(prefix):] for f in self._folders
                       if f.startswith(prefix) and "/" not in f[len(prefix):]})

    def check(self, rel: str, cap: int) -> Diagnostic | None:
        _, problem = self.locate(rel)
        if problem is not None:
            return problem
        shown = display(self, rel)
        if rel not in self.paths:
            return _unreadable(shown, FileNotFoundError(rel))
        if self.sizes.get(rel, 0) > cap:
            return _refuse(stat.S_IFREG, self.sizes[rel], shown, cap, rel)
        return None

    def read_bytes(self, rel: str, cap: int) -> tuple[bytes | None, Diagnostic | None]:
        problem = self.check(rel, cap)
        if problem is not None:
            return None, problem
        data = self._read(rel)
        if len(data) > cap:
            return None, _refuse(stat.S_IFREG, len(data), display(self, rel), cap, rel)
        return data, None

    def walk(self, rel: str, keep: Keep) -> tuple[list[str], list[Diagnostic]]:
        prefix = rel.strip("/") + "/"
        found = []
        for path in sorted(self.paths):
            if not path.startswith(prefix):
                continue
            parts = path.split("/")
            ancestors = ["/".join(parts[:i]) for i in range(prefix.count("/") + 1, len(parts))]
            if all(keep(folder, True) for folder in ancestors) and keep(path, False):
                found.append(path)
        return found, [d for d in self.refused if d.location is None
                       or _under(d.location.file, display(self, prefix))]


def _under(file: str, folder: str) -> bool:
    return file.startswith(folder.rstrip("/") + "/")


class Snapshot(Listing):
    """Files already read (relative path -> bytes): what a Workspace loads once, so every
    reader after it sees the same bytes."""

    def __init__(self, root: str, files, refused=()):
        super().__init__(root, files, {rel: len(data) for rel, data in files.items()}, refused)
        self.files = dict(sorted(files.items()))

    def _read(self, rel: str) -> bytes:
        return self.files[rel]


Root = PathLike | Listing


def source_lines(path: PathLike, *, cap: int = TEXT_CAP) -> list[str] | None:
    """The lines of a file a diagnostic points at, for showing the offending line; None for
    anything that is not a small regular UTF-8 file, or that is a symlink (a diagnostic about
    a link that leads out of the application must not print what it points to)."""
    shown = os.fspath(path)
    try:
        st = os.lstat(shown)
    except OSError:
        return None
    if _refuse(st.st_mode, st.st_size, shown, cap) is not None:
        return None
    data, _ = _read_checked(shown, shown, cap)
    text, _ = decode(data, shown) if data is not None else (None, None)
    return text.splitlines() if text is not None else None
