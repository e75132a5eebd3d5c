"""An application as committed at a git revision, read from git's objects (never exported).

``aisprint plan --rev REV`` compiles the application as it was at ``REV``. Its files are
listed with ``git ls-tree`` and read with one ``git cat-file --batch``, so nothing is written
to disk and the input boundary's rules hold for a commit as for a folder: a symlink is
followed only to a file of the application in the same commit (AIS006 otherwise), a submodule
is no regular file (AIS007), and sizes are capped (AIS008).
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterable
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.errors import InvalidInput
from compiler.load import files

_QUIET = {"GIT_OPTIONAL_LOCKS": "0"}  # a read never takes .git/index.lock
_SYMLINK, _SUBMODULE = "120000", "160000"


def _git(cwd: str | os.PathLike[str], *args: str, data: bytes | None = None
         ) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", os.fspath(cwd), *args], input=data,
                          capture_output=True, env={**os.environ, **_QUIET})


class GitTree(files.Listing):
    """The files of ``prefix`` in commit ``sha`` of the repository at ``top``."""

    def __init__(self, top: str, sha: str, prefix: str, shown: str):
        self.top, self.sha, self.prefix = top, sha, prefix
        listed = _git(top, "ls-tree", "-r", "-l", "-z", "--full-tree", sha, "--",
                      prefix or ".")
        blobs: dict[str, tuple[str, str, int]] = {}  # rel -> (mode, object, size)
        cut = len(prefix) + 1 if prefix else 0
        for line in listed.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if line:
                meta, path = line.split("\t", 1)
                mode, _, obj, size = meta.split()
                blobs[path[cut:]] = (mode, obj, 0 if size == "-" else int(size))
        self._objects: dict[str, str] = {}
        self._data: dict[str, bytes] = {}
        self.root = shown
        refused: list[Diagnostic] = []
        sizes: dict[str, int] = {}
        links = {rel: obj for rel, (mode, obj, _) in blobs.items() if mode == _SYMLINK}
        targets = self._link_targets(links)
        for rel, (mode, obj, size) in blobs.items():
            if mode == _SUBMODULE:
                refused.append(diagnostic(
                    "AIS007", f"{rel} is a git submodule, not a regular file",
                    "commit the files themselves into the application",
                    Location(files.display(shown, rel), 1, 1)))
            elif mode == _SYMLINK:
                target = targets.get(rel)
                if target in blobs and blobs[target][0] not in (_SYMLINK, _SUBMODULE):
                    self._objects[rel], sizes[rel] = blobs[target][1], blobs[target][2]
                else:
                    refused.append(diagnostic(
                        "AIS006", f"{rel} is a symlink to {target or 'a path outside'} in "
                        f"commit {sha[:12]}, not to a file of the application; nothing "
                        "outside the application is read", "commit the file itself "
                        "instead of a link to it", Location(files.display(shown, rel), 1, 1)))
            else:
                self._objects[rel], sizes[rel] = obj, size
        super().__init__(shown, self._objects, sizes, refused)

    def _link_targets(self, links: dict[str, str]) -> dict[str, str | None]:
        """Where each symlink points, as a path of the application (None: it leaves)."""
        texts = self._cat(links.values())
        found: dict[str, str | None] = {}
        for rel, obj in links.items():
            text = texts.get(obj, b"").decode("utf-8", "replace")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), text))
            found[rel] = None if text.startswith("/") or target.startswith("..") else target
        return found

    def _cat(self, objects: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(objects))
        if not wanted:
            return {}
        done = _git(self.top, "cat-file", "--batch", data="".join(
            f"{obj}\n" for obj in wanted).encode())
        out, pos, read = done.stdout, 0, {}
        for obj in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) < 3:  # "<object> missing": a broken repository
                raise InvalidInput([diagnostic(
                    "AIS946", f"object {obj} of commit {self.sha[:12]} is missing",
                    "fetch the whole history (`git fetch --unshallow`) or repair the "
                    "repository (`git fsck`)")])
            size = int(header[2])
            read[obj] = out[end + 1:end + 1 + size]
            pos = end + 1 + size + 1
        return read

    def prefetch(self, rels: Iterable[str]) -> None:
        wanted = [rel for rel in rels if rel in self._objects and rel not in self._data]
        blobs = self._cat(self._objects[rel] for rel in wanted)
        self._data.update((rel, blobs[self._objects[rel]]) for rel in wanted)

    def _read(self, rel: str) -> bytes:
        if rel not in self._data:
            self.prefetch([rel])
        return self._data[rel]


def read_revision(app_dir: str | os.PathLike[str], rev: str) -> tuple[GitTree, str]:
    """The application folder ``app_dir`` as committed at ``rev`` (and the commit's sha)."""
    found = _git(app_dir, "rev-parse", "--show-toplevel") if Path(app_dir).is_dir() else None
    if found is None or found.returncode != 0 or not found.stdout.strip():
        raise InvalidInput([diagnostic(
            "AIS941", f"{app_dir} is not in a git repository, so it has no revision {rev}",
            "drop --rev, or run from a clone of the application repository")])
    top = found.stdout.decode().strip()
    prefix = Path(app_dir).resolve().relative_to(Path(top).resolve()).as_posix()
    prefix = "" if prefix == "." else prefix
    sha = _git(top, "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}")
    if sha.returncode != 0:
        raise InvalidInput([diagnostic(
            "AIS946", f"{rev!r} is not a commit of {top}",
            "use a branch, tag or commit that exists there (`git log --oneline`)")])
    commit = sha.stdout.decode().strip()
    return GitTree(top, commit, prefix, os.fspath(app_dir)), commit
