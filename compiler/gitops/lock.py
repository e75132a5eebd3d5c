"""One writer at a time: an advisory lock (``flock``) the kernel releases when its holder dies.

A killed writer never leaves a lock that blocks the next one (the kernel drops ``flock`` locks
with the process), and a second writer does not wait: it fails at once with AIS942, naming the
holder's process id.

The lock file is opened with ``O_NOFOLLOW``: a symlink planted where the lock goes (a plain
output folder is anybody's) fails instead of truncating whatever it points at.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.write import write_failure


class WriteLock:
    """``with WriteLock(path, what):`` — exclusive, non-blocking; the file is removed on exit."""

    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        try:
            return self._take()
        except OSError as error:
            raise write_failure(error, f"the lock of {self.what}", intact=None) from None

    def _take(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(50):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise InvalidInput([diagnostic(
                    "AIS942", f"{self.what} is being written by another aisprint process"
                    f"{holder} (lock {self.path})",
                    "wait for the other writer to finish and run the command again; the lock "
                    "is released by the kernel when its holder exits")]) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file its previous holder removed after we opened it
                self._fd = fd
                with contextlib.suppress(OSError):  # who holds it is a courtesy (a full disk)
                    os.ftruncate(fd, 0)
                    os.write(fd, json.dumps({"pid": os.getpid(),
                                             "host": socket.gethostname()}).encode())
                return self
            os.close(fd)
        raise RuntimeError(f"could not take the lock {self.path}")

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f" (pid {data['pid']} on {data['host']})"
    except (ValueError, KeyError, OSError, TypeError):
        return ""
