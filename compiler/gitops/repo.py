"""The one writer of deployment repositories (GitPython driving the system git).

A write never goes through the user's index or work tree to build its commit: the new tree is
staged in ``.git/aisprint/write/new``, added to a private index (``read-tree`` of the branch
head, owned paths removed, staged files added), turned into a tree and a commit with the
plumbing commands, and published with ``git update-ref <branch> <new> <expected old>``, which
git performs as an atomic compare-and-swap. So:

* concurrent writers: the first takes the lock (``.git/aisprint/lock``, AIS942 for the
  second); a writer that planned against a head that has moved since fails with AIS943 — no
  update is ever lost;
* the commit point is the ref update. When the branch is checked out, the work tree then
  follows through the journaled swap of ``swap.py``; the journal is written before the ref
  moves, so recovery (at the start of the next write) finishes the swap when the ref points at
  the journaled commit and throws it away when it does not. A killed writer leaves the old
  commit with the old tree or the new commit with the new tree.

Three ways to hold a deployment (``DeployTarget``):

* a separate deployment repository (``path`` = its work tree or a bare repository);
* a branch of the application repository (``branch`` set and not checked out: only the branch
  moves, the work tree is not touched — the "hydrated branch" of Argo CD's source hydrator);
* a directory of the application repository (``prefix`` = the application's folder inside the
  repository; commits land on the checked-out branch).
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.gitops import swap
from compiler.gitops.layout import OWNED, join
from compiler.gitops.lock import WriteLock
from compiler.gitops.message import CommitMessage

if TYPE_CHECKING:
    import git

ZERO = "0" * 40
_UNSET = object()


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        """``Name <email>``."""
        name, _, rest = text.partition("<")
        if not rest.endswith(">") or not name.strip():
            raise InvalidInput([diagnostic(
                "AIS951", f"{text!r} is not an identity of the form 'Name <email>'",
                "write it like --author 'Deploy Bot <deploy@example.org>'")])
        return cls(name.strip(), rest[:-1].strip())


@dataclass(frozen=True)
class DeployTarget:
    path: Path
    branch: str | None = None  # None: the branch checked out (or main in a bare repository)
    prefix: str = ""  # the folder of the repository that holds aisprint/


@dataclass(frozen=True)
class WriteResult:
    branch: str
    previous: str | None
    commit: str | None  # None when the tree did not change (no commit is made)
    recovered: str | None = None  # "forward" / "back" when an interrupted write was completed
    pushed: str | None = None  # the remote pushed to

    @property
    def changed(self) -> bool:
        return self.commit is not None


def _fail(code: str, message: str, hint: str) -> InvalidInput:
    return InvalidInput([diagnostic(code, message, hint)])


def open_repo(path: str | os.PathLike[str], *, create: bool = False) -> git.Repo:
    """The git repository at ``path`` (AIS941 if there is none; ``create`` makes one)."""
    import git

    target = Path(path)
    if create and (not target.exists() or (target.is_dir() and not any(target.iterdir()))):
        target.mkdir(parents=True, exist_ok=True)
        return git.Repo.init(target, initial_branch="main")
    try:
        return git.Repo(target)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise _fail("AIS941", f"{target} is not a git repository",
                    f"create it with `git init -b main {target}`, or point --repo at the "
                    "deployment repository's folder") from None


def current_branch(repo: git.Repo) -> str | None:
    import git

    try:
        ref = repo.git.symbolic_ref("-q", "HEAD")
    except git.GitCommandError:
        return None  # detached
    return ref.removeprefix("refs/heads/")


def head_of(repo: git.Repo, branch: str) -> str | None:
    import git

    try:
        return repo.git.rev_parse("--verify", "-q", f"refs/heads/{branch}^{{commit}}")
    except git.GitCommandError:
        return None


def resolve(repo: git.Repo, rev: str) -> str:
    """The commit ``rev`` names (AIS946 when it names none)."""
    import git

    try:
        return repo.git.rev_parse("--verify", "-q", f"{rev}^{{commit}}")
    except git.GitCommandError:
        raise _fail("AIS946", f"{rev!r} is not a commit of {repo.working_tree_dir or repo.git_dir}",
                    "use a branch, tag or commit that exists there (`git log --oneline`)") \
            from None


class Reader:
    """Read-only access to a repository through plain ``git`` commands.

    Plans only read, and must be quick when nothing changed: this avoids importing GitPython
    (a fifth of a second) and reads every blob through one ``git cat-file --batch``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.exists() or self._git("rev-parse", "--git-dir", check=False) is None:
            raise _fail("AIS941", f"{self.path} is not a git repository",
                        f"create it with `git init -b main {self.path}`, or point --repo at "
                        "the deployment repository's folder")

    def _git(self, *args: str, check: bool = True, data: bytes | None = None) -> str | None:
        done = subprocess.run(["git", "-C", str(self.path), *args], input=data,
                              capture_output=True)
        if done.returncode != 0:
            if check:
                raise RuntimeError(f"git {' '.join(args)}: {done.stderr.decode().strip()}")
            return None
        return done.stdout.decode()

    def current_branch(self) -> str | None:
        if (self._git("rev-parse", "--is-bare-repository", check=False) or "").strip() \
                == "true":
            return None
        ref = self._git("symbolic-ref", "-q", "HEAD", check=False)
        return ref.strip().removeprefix("refs/heads/") if ref else None

    def head_of(self, branch: str) -> str | None:
        sha = self._git("rev-parse", "--verify", "-q", f"refs/heads/{branch}^{{commit}}",
                        check=False)
        return sha.strip() if sha else None

    def resolve(self, rev: str) -> str:
        sha = self._git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        if not sha:
            raise _fail("AIS946", f"{rev!r} is not a commit of {self.path}",
                        "use a branch, tag or commit that exists there (`git log --oneline`)")
        return sha.strip()

    def message(self, rev: str) -> str:
        """The full commit message of ``rev``."""
        return self._git("log", "-1", "--format=%B", self.resolve(rev)) or ""

    def read_tree(self, rev: str, prefix: str = "") -> dict[str, bytes]:
        """The compiled files (owned paths) of commit ``rev``, relative to ``prefix``."""
        sha = self.resolve(rev)
        prefix = prefix.strip("/")
        listing = self._git("ls-tree", "-r", "-z", "--full-tree", sha, "--",
                            *(join(prefix, owned) for owned in OWNED)) or ""
        entries = []
        for line in listing.split("\0"):
            if not line:
                continue
            meta, path = line.split("\t", 1)
            mode, kind, blob = meta.split()
            if kind == "blob":
                entries.append((path, blob))
        if not entries:
            return {}
        done = subprocess.run(["git", "-C", str(self.path), "cat-file", "--batch"],
                              input="".join(f"{blob}\n" for _, blob in entries).encode(),
                              capture_output=True, check=True)
        out, pos, cut = done.stdout, 0, len(prefix) + 1 if prefix else 0
        files: dict[str, bytes] = {}
        for path, _ in entries:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            files[path[cut:]] = out[header_end + 1:header_end + 1 + size]
            pos = header_end + 1 + size + 1
        return dict(sorted(files.items()))


def read_tree(repo: git.Repo, rev: str, prefix: str = "") -> dict[str, bytes]:
    """The compiled files of commit ``rev`` of an open repository (see ``Reader.read_tree``)."""
    return Reader(repo.working_tree_dir or repo.git_dir).read_tree(rev, prefix)


def export(repo_path: str | os.PathLike[str], rev: str, subdir: str, dest: Path) -> Path:
    """Extract ``subdir`` of commit ``rev`` into ``dest`` (for compiling an older revision)."""
    reader = Reader(repo_path)
    sha = reader.resolve(rev)
    dest.mkdir(parents=True, exist_ok=True)
    args = [sha, "--", subdir] if subdir.strip("/") else [sha]
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", str(repo_path), "archive", "--format=tar", *args],
                       stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(dest, filter="data")
    return dest / subdir if subdir.strip("/") else dest


def work_tree_of(path: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """(the work tree holding ``path``, ``path`` relative to it), or None outside git."""
    done = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    top = Path(done.stdout.strip())
    rel = Path(path).resolve().relative_to(top.resolve()).as_posix()
    return top, "" if rel == "." else rel


def source_state(path: str | os.PathLike[str]) -> tuple[str | None, bool]:
    """(HEAD of the repository holding ``path``, whether ``path`` has uncommitted changes)."""
    found = work_tree_of(path)
    if found is None:
        return None, False
    top, rel = found
    reader = Reader(top)
    head = reader._git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    status = reader._git("status", "--porcelain", "--", rel or ".", check=False) or ""
    return (head.strip() if head else None), bool(status.strip())


def _identity_env(author: Identity | None, committer: Identity | None) -> dict[str, str]:
    env = {}
    for role, who in (("AUTHOR", author), ("COMMITTER", committer or author)):
        if who is not None:
            env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = who.name, who.email
    if "GIT_AUTHOR_NAME" not in env and not os.environ.get("GIT_AUTHOR_NAME"):
        env.setdefault("GIT_AUTHOR_NAME", "aisprint-gitops")
        env.setdefault("GIT_AUTHOR_EMAIL", "aisprint@localhost")
    if "GIT_COMMITTER_NAME" not in env and not os.environ.get("GIT_COMMITTER_NAME"):
        env.setdefault("GIT_COMMITTER_NAME", env.get("GIT_AUTHOR_NAME", "aisprint-gitops"))
        env.setdefault("GIT_COMMITTER_EMAIL", env.get("GIT_AUTHOR_EMAIL", "aisprint@localhost"))
    return env


def _work(repo: git.Repo) -> Path:
    return Path(repo.git_dir) / "aisprint"


def _pathspecs(prefix: str) -> list[str]:
    return [join(prefix, owned) for owned in OWNED]


def _reset_index(repo: git.Repo, prefix: str) -> None:
    repo.git.reset("-q", "--", *_pathspecs(prefix))


def recover(repo: git.Repo) -> str | None:
    """Finish or undo an interrupted write (call with the lock held)."""
    work = _work(repo) / "write"
    journal = swap.read_journal(work)
    if journal is not None and "commit" in journal:
        forward = head_of(repo, journal["branch"]) == journal["commit"]
        done = swap.recover(Path(journal["root"]), work, forward=forward)
        if forward:
            _reset_index(repo, journal.get("prefix", ""))
    else:
        done = swap.recover(Path(repo.working_tree_dir or repo.git_dir), work)
    for leftover in ("index", "message"):
        (work / leftover).unlink(missing_ok=True)
    return done


def recover_path(path: str | os.PathLike[str]) -> str | None:
    """Take the lock and finish or undo an interrupted write of the repository at ``path``."""
    repo = open_repo(path)
    with WriteLock(_work(repo) / "lock", f"the deployment repository {path}"):
        return recover(repo)


def dirty_paths(repo: git.Repo, prefix: str = "") -> list[str]:
    """Owned paths with uncommitted changes in the work tree (hand edits)."""
    out = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--",
                          *_pathspecs(prefix))
    return sorted(entry[3:] for entry in out.split("\0") if entry[3:])


def write(target: DeployTarget, artifacts: Mapping[str, bytes], message: CommitMessage, *,
          expected_head: object = _UNSET, author: Identity | None = None,
          committer: Identity | None = None, push_to: str | None = None,
          durable: bool = True, create: bool = False) -> WriteResult:
    """Commit ``artifacts`` as the owned paths of ``target``'s branch (see the module doc).

    ``expected_head``: the commit the branch must still point at (None: it must not exist yet);
    the write fails with AIS943 otherwise. Without it, the head read under the lock is used,
    which still makes the final ref update a compare-and-swap."""
    import git

    repo = open_repo(target.path, create=create)
    work = _work(repo) / "write"
    prefix = target.prefix.strip("/")
    with WriteLock(_work(repo) / "lock", f"the deployment repository {target.path}"):
        recovered = recover(repo)
        checked = None if repo.bare else current_branch(repo)
        branch = target.branch or checked or "main"
        ref = f"refs/heads/{branch}"
        previous = head_of(repo, branch)
        if expected_head is not _UNSET and expected_head != previous:
            raise _fail("AIS943", f"{branch} of {target.path} is at "
                        f"{(previous or 'nothing')[:12]}, not at "
                        f"{(expected_head or 'nothing')[:12]} as expected: another writer "
                        "committed in between", "plan again against the new head, then write")
        in_work_tree = checked == branch
        if in_work_tree:
            dirty = dirty_paths(repo, prefix)
            if dirty:
                raise _fail("AIS945", f"{target.path} has uncommitted changes in the compiled "
                            f"tree: {', '.join(dirty[:5])}{' …' if len(dirty) > 5 else ''}",
                            "commit them (they will then show in the plan) or discard them "
                            "with `git checkout -- aisprint` before writing")
        owned = tuple(_pathspecs(prefix))
        swap.finish(work)
        swap.stage(work, {join(prefix, rel): data for rel, data in artifacts.items()},
                   durable=durable)
        present = tuple(p for p in owned if (work / "new" / p).exists())
        env = {"GIT_INDEX_FILE": str(work / "index")}
        g = repo.git
        published = completed = False
        try:
            if previous:
                g.read_tree(previous, env=env)
            else:
                g.read_tree("--empty", env=env)
            g.rm("--cached", "-r", "-q", "--ignore-unmatch", "--", *owned, env=env)
            if present:  # the staging folder is the work tree of this one command
                g(c="core.autocrlf=false").add(
                    "-f", "--", *present,
                    env={**env, "GIT_DIR": repo.git_dir, "GIT_WORK_TREE": str(work / "new")})
            tree = g.write_tree(env=env)
            if previous and tree == g.rev_parse(f"{previous}^{{tree}}"):
                completed = True
                return WriteResult(branch, previous, None, recovered)
            (work / "message").write_text(message.render(), encoding="utf-8")
            parents = ["-p", previous] if previous else []
            commit = g.commit_tree(tree, *parents, "-F", str(work / "message"),
                                   env={**os.environ, **_identity_env(author, committer)})
            root = Path(repo.working_tree_dir) if in_work_tree else Path(repo.git_dir)
            if in_work_tree:
                swap.write_journal(work, {"commit": commit, "branch": branch, "root": str(root),
                                          "owned": list(owned), "present": list(present),
                                          "prefix": prefix})
            try:
                g.update_ref("-m", f"aisprint: {message.subject}", ref, commit,
                             previous or ZERO)
            except git.GitCommandError:
                now = head_of(repo, branch)
                raise _fail("AIS943", f"{branch} of {target.path} moved to "
                            f"{(now or 'nothing')[:12]} while this write was in progress",
                            "another writer won; plan again against the new head") from None
            published = True
            if in_work_tree:
                swap.roll_forward(root, work, owned, present)
                _reset_index(repo, prefix)
            completed = True
        finally:
            if completed or not published:  # else the journal lets the next write finish it
                swap.finish(work)
            for leftover in ("index", "message"):
                (work / leftover).unlink(missing_ok=True)
        pushed = None
        if push_to:
            push(repo, push_to, branch, commit)
            pushed = push_to
        return WriteResult(branch, previous, commit, recovered, pushed)


def push(repo: git.Repo, remote: str, branch: str, commit: str) -> None:
    """Publish ``commit`` as ``branch`` on ``remote`` (never forced: a moved remote is AIS947)."""
    import git

    try:
        repo.git.push("-q", remote, f"{commit}:refs/heads/{branch}")
    except git.GitCommandError as error:
        detail = (error.stderr or "").strip().replace("\n", " ")[:300]
        raise _fail("AIS947", f"pushing {branch} to {remote} was refused: {detail}",
                    "fetch the remote branch, plan again against it, then write and push") \
            from None
