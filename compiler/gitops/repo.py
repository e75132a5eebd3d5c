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

Three ways to hold a deployment (``DeploymentRepo``):

* a separate deployment repository (``path`` = its work tree or a bare repository);
* a branch of the application repository (``branch`` set and not checked out: only the branch
  moves, the work tree is not touched — the "hydrated branch" of Argo CD's source hydrator);
* a directory of the application repository (``prefix`` = the application's folder inside the
  repository; commits land on the checked-out branch).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.gitops import swap
from compiler.gitops.lock import WriteLock
from compiler.gitops.message import CommitMessage
from compiler.layout import MANIFEST, OWNED, ancestors, join, safe_prefix

if TYPE_CHECKING:
    import git

ZERO = "0" * 40
_UNSET = object()
QUIET = {"GIT_OPTIONAL_LOCKS": "0"}  # reads never take .git/index.lock to refresh stat data
INDEX_TOKEN = "index-lock-token"  # hard-linked as the user's .git/index.lock (see _reset_index)


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
class DeploymentRepo:
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
    if target.exists() and not target.is_dir():
        raise _fail("AIS954", f"{target} is a file, not a git repository's folder",
                    "point --repo at the deployment repository's folder (or a new path)")
    if create:
        _clear_killed_init(target)
    if create and (not target.exists() or not any(target.iterdir())):
        made = not target.exists()
        what = f"a new repository at {target}"
        with swap.failing_as(what):
            target.mkdir(parents=True, exist_ok=True)
        staging = target / INIT_STAGING
        try:
            # made aside and renamed into place: a writer killed half-way through `git init`
            # leaves no half .git (which every later command would call "not a repository")
            git.Repo.init(staging, initial_branch="main")
            os.rename(staging / ".git", target / ".git")
        except (OSError, git.GitCommandError) as error:
            with contextlib.suppress(OSError):
                swap.remove(target if made else staging)
            if isinstance(error, OSError):
                raise swap.write_failure(error, what, intact=None) from None
            raise git_failure(error, what) from None
        with contextlib.suppress(OSError):
            staging.rmdir()
    try:
        return git.Repo(target)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise _fail("AIS941", f"{target} is not a git repository",
                    f"create it with `git init -b main {target}`, or point --repo at the "
                    "deployment repository's folder") from None


INIT_STAGING = ".aisprint-init"  # where open_repo makes a new .git before moving it in


def _clear_killed_init(target: Path) -> None:
    """Remove what an ``open_repo`` killed during ``git init`` left: its staging folder, alone
    in the folder (killed before the rename) or empty (killed after it)."""
    staging = target / INIT_STAGING
    if not staging.is_dir() or staging.is_symlink():
        return
    try:
        alone = set(os.listdir(target)) == {INIT_STAGING}
        if alone or not any(staging.iterdir()):
            swap.remove(staging)
    except OSError:
        return


def check_branch(name: str | None) -> None:
    """A branch name git accepts (AIS958), checked before anything is compiled or written."""
    if name is None:
        return
    done = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True)
    if done.returncode != 0 or name.startswith("-"):
        raise _fail("AIS958", f"--branch {name!r} is not a valid branch name",
                    "use a name like deploy or envs/prod (no spaces, `..`, `~`, `^`, `:`, "
                    "`?`, `*`, `[`, no leading `-`, no trailing `.lock`)")


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
        if self.path.exists() and not self.path.is_dir():
            raise _fail("AIS954", f"{self.path} is a file, not a git repository's folder",
                        "point --repo at the deployment repository's folder")
        if not self.path.exists() or self._git("rev-parse", "--git-dir", check=False) is None:
            raise _fail("AIS941", f"{self.path} is not a git repository",
                        f"create it with `git init -b main {self.path}`, or point --repo at "
                        "the deployment repository's folder")

    def _git(self, *args: str, check: bool = True, data: bytes | None = None) -> str | None:
        done = subprocess.run(["git", "-C", str(self.path), *args], input=data,
                              capture_output=True, env={**os.environ, **QUIET})
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
        prefix = safe_prefix(prefix)
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


def git_failure(error: git.GitCommandError, what: str, *, intact: bool = True
                ) -> InvalidInput:
    """A failed git command of a write as AIS957, with git's own words and a fix."""
    said = " ".join((error.stderr or "").replace("stderr:", "").split())[:400].strip(" '")
    state = "nothing was published" if intact else \
        "the commit is made; the next write completes the work tree"
    if "No space left" in said or "Disk quota" in said:
        hint = "the filesystem is full: free space and run again"
    elif ".lock" in said and "exists" in said:
        hint = ("another git process holds that lock: wait for it, or remove the lock file "
                "when no git process runs in that repository")
    else:
        hint = "fix what git reports and run the command again"
    return _fail("AIS957", f"git failed while writing {what} ({state}): {said}", hint)


@contextlib.contextmanager
def _write_errors(what: str, *, intact: bool = True):
    import git

    try:
        yield
    except OSError as error:
        raise swap.write_failure(error, what, intact=intact) from None
    except git.GitCommandError as error:
        raise git_failure(error, what, intact=intact) from None


def check_target(repo: git.Repo, prefix: str, *, branch_head: str | None,
                 work_tree: Path | None) -> None:
    """Refuse (AIS952) a target whose folders are not plain folders of the repository: in the
    work tree the tree is swapped into (``lstat``, never following a link) and in the commit
    the new one builds on (a committed symlink ``aisprint -> /elsewhere`` is checked out as a
    symlink by every clone, and git would silently turn it into a folder)."""
    git_dir = Path(repo.git_dir)
    swap.check_folders(git_dir, folders=("aisprint/write",), files=("aisprint/lock",))
    if work_tree is not None:
        swap.check_folders(work_tree, prefix)
    if branch_head is None:
        return
    manifest = join(prefix, MANIFEST)
    wanted = {*ancestors(prefix), *_pathspecs(prefix)}
    listing = repo.git.ls_tree("-t", "-z", "--full-tree", branch_head, "--", *sorted(wanted))
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        if path not in wanted:
            continue
        mode = meta.split()[0]
        ok = mode in ("100644", "100755") if path == manifest else mode == "040000"
        if not ok:
            kind = {"120000": "a symlink", "160000": "a submodule", "040000": "a folder"}.get(
                mode, "a file")
            raise swap.unsafe(Path(path), f"is {kind} in {branch_head[:12]}, the head the "
                              "tree would be committed on", f"replace {path} with a plain "
                              f"{'file' if path == manifest else 'folder'} in a commit of its "
                              "own (`git rm` it and commit), then write again")


def _reset_index(repo: git.Repo, prefix: str, work: Path) -> None:
    """Make the user's index match the new head for the owned paths (``git status`` clean).

    That index is the user's, so git's protocol is followed — hold ``.git/index.lock``, write
    the new index into it, rename it over ``.git/index`` — with one twist: the lock is taken as
    a hard link of a private token file. A writer killed while holding it leaves a lock the
    next writer recognises as its own by the inode (``_release_index_lock``); a lock of any
    other git process is never touched."""
    index, lock = Path(repo.git_dir) / "index", Path(repo.git_dir) / "index.lock"
    token, copy = work / INDEX_TOKEN, work / "user-index"
    # a fresh inode: a killed writer's token may still be linked as .git/index itself
    token.unlink(missing_ok=True)
    os.close(os.open(token, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644))
    try:
        os.link(token, lock)
    except FileExistsError:
        raise _fail("AIS957", f"{lock} exists: another git process is using the index of "
                    f"{repo.working_tree_dir} (the commit is made and the work tree is new; "
                    "only the index is behind)", "when that git process is done (or, if none "
                    "runs, after removing the lock), the next write brings the index up to "
                    "date; `git reset -q -- aisprint` does it by hand") from None
    if index.exists():
        shutil.copyfile(index, copy)
    repo.git.reset("-q", "--", *_pathspecs(prefix), env={"GIT_INDEX_FILE": str(copy)})
    shutil.copyfile(copy, lock)  # into the token's inode, which is the lock
    os.rename(lock, index)
    token.unlink()
    copy.unlink(missing_ok=True)


def _release_index_lock(repo: git.Repo, work: Path) -> None:
    """Remove the user's ``.git/index.lock`` if, and only if, a killed writer took it."""
    lock, token = Path(repo.git_dir) / "index.lock", work / INDEX_TOKEN
    with contextlib.suppress(FileNotFoundError):
        if os.path.samefile(lock, token):
            lock.unlink()


def _release_ref_locks(repo: git.Repo, journal: dict) -> None:
    """Remove git's lock files a writer killed inside ``git update-ref`` left.

    The journal says this writer was about to move ``branch`` to ``commit``, and we hold the
    write lock: a ``refs/heads/<branch>.lock`` or ``HEAD.lock`` (HEAD's reflog follows the
    branch) holding that commit is that update's. One holding nothing was killed before git
    wrote into it — or belongs to a git process starting this very millisecond, so it is
    removed only once a second old (git holds its locks for milliseconds)."""
    commit = journal["commit"].encode()
    for lock in (Path(repo.common_dir) / f"refs/heads/{journal['branch']}.lock",
                 Path(repo.git_dir) / "HEAD.lock"):
        try:
            content = lock.read_bytes().strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue
        if content and content != commit:
            continue  # another git process's: never ours to remove
        if not content:
            with contextlib.suppress(FileNotFoundError):
                time.sleep(max(0.0, 1.0 - (time.time() - lock.stat().st_mtime)))
                if lock.read_bytes().strip():
                    continue
        lock.unlink(missing_ok=True)


def recover(repo: git.Repo) -> str | None:
    """Finish or undo an interrupted write and clear what it left (call with the lock held)."""
    work = _work(repo) / "write"
    if not os.path.lexists(work):
        return None
    _release_index_lock(repo, work)
    left = any(work.iterdir())
    _clear(work, keep_journal=True)  # private index, its lock, objects: before they are reused
    journal = swap.read_journal(work)
    if journal is not None and "commit" in journal:
        _release_ref_locks(repo, journal)
        forward = head_of(repo, journal["branch"]) == journal["commit"]
        if journal.get("root"):  # the branch is checked out: the work tree follows it
            root, prefix = Path(repo.working_tree_dir), safe_prefix(journal.get("prefix", ""))
            swap.check_folders(root, prefix)
            done = swap.recover(root, work, tuple(_pathspecs(prefix)), forward=forward)
            if forward:
                _reset_index(repo, prefix, work)
        else:
            done = "forward" if forward else "back"
    else:
        done = swap.recover(Path(repo.working_tree_dir or repo.git_dir), work, ())
        if done is None and left:
            done = "back"  # a private index (or its lock) of a write killed before staging
    swap.remove(work)
    return done


def recover_path(path: str | os.PathLike[str]) -> str | None:
    """Take the lock and finish or undo an interrupted write of the repository at ``path``."""
    repo = open_repo(path)
    check_target(repo, "", branch_head=None, work_tree=None)
    what = f"the deployment repository {path}"
    with WriteLock(_work(repo) / "lock", what), _write_errors(what, intact=False):
        return recover(repo)


def dirty_paths(repo: git.Repo, prefix: str = "") -> list[str]:
    """Owned paths with uncommitted changes in the work tree (hand edits)."""
    out = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--",
                          *_pathspecs(prefix), env=QUIET)
    return sorted(entry[3:] for entry in out.split("\0") if entry[3:])


def write(target: DeploymentRepo, artifacts: Mapping[str, bytes], message: CommitMessage, *,
          expected_head: object = _UNSET, author: Identity | None = None,
          committer: Identity | None = None, push_to: str | None = None,
          durable: bool = True, create: bool = False) -> WriteResult:
    """Commit ``artifacts`` as the owned paths of ``target``'s branch (see the module doc).

    ``expected_head``: the commit the branch must still point at (None: it must not exist yet);
    the write fails with AIS943 otherwise. Without it, the head read under the lock is used,
    which still makes the final ref update a compare-and-swap."""
    import git

    prefix = safe_prefix(target.prefix)
    check_branch(target.branch)
    repo = open_repo(target.path, create=create)
    what = f"the deployment repository {target.path}"
    check_target(repo, "", branch_head=None, work_tree=None)
    work = _work(repo) / "write"
    with WriteLock(_work(repo) / "lock", what):
        with _write_errors(what, intact=False):
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
        root = Path(repo.working_tree_dir) if in_work_tree else None
        check_target(repo, prefix, branch_head=previous, work_tree=root)
        if in_work_tree:
            dirty = dirty_paths(repo, prefix)
            if dirty:
                raise _fail("AIS945", f"{target.path} has uncommitted changes in the compiled "
                            f"tree: {', '.join(dirty[:5])}{' …' if len(dirty) > 5 else ''}",
                            "commit them (they will then show in the plan) or discard them "
                            "with `git checkout -- aisprint` before writing")
        owned = tuple(_pathspecs(prefix))
        published = completed = False
        try:
            swap.stage(work, {join(prefix, rel): data for rel, data in artifacts.items()},
                       durable=durable)
            present = tuple(p for p in owned if (work / "new" / p).exists())
            objects = Path(repo.common_dir) / "objects"
            (work / "objects").mkdir()
            env = {"GIT_INDEX_FILE": str(work / "index"), **QUIET,
                   **_quarantine(work / "objects", objects)}
            g = repo.git
            g.read_tree(previous or "--empty", env=env)
            g.rm("--cached", "-r", "-q", "--ignore-unmatch", "--", *owned, env=env)
            if present:  # the staging folder is the work tree of this one command
                # every blob streams into one pack (not a folder per loose object)
                g(c=["core.autocrlf=false", "core.bigFileThreshold=1"]).add(
                    "-f", "--", *present,
                    env={**env, "GIT_DIR": repo.git_dir, "GIT_WORK_TREE": str(work / "new")})
            tree = g.write_tree(env=env)
            if previous and tree == g.rev_parse(f"{previous}^{{tree}}"):
                completed = True
                return WriteResult(branch, previous, None, recovered)
            (work / "message").write_text(message.render(), encoding="utf-8")
            parents = ["-p", previous] if previous else []
            commit = g.commit_tree(tree, *parents, "-F", str(work / "message"),
                                   env={**os.environ, **env,
                                        **_identity_env(author, committer)})
            _migrate(work / "objects", objects)
            # the journal names the commit before the ref moves: recovery judges by the ref
            swap.write_journal(work, {"commit": commit, "branch": branch,
                                      "root": str(root) if root else None,
                                      "owned": list(owned), "present": list(present),
                                      "prefix": prefix})
            try:
                g.update_ref("-m", f"aisprint: {message.subject}", ref, commit,
                             previous or ZERO)
            except git.GitCommandError as error:
                now = head_of(repo, branch)
                if now == previous:
                    raise
                raise _fail("AIS943", f"{branch} of {target.path} moved to "
                            f"{(now or 'nothing')[:12]} while this write was in progress",
                            "another writer won; plan again against the new head") \
                    from error
            published = True
            if in_work_tree:
                swap.roll_forward(root, work, owned, present)
                _reset_index(repo, prefix, work)
            completed = True
        except OSError as error:
            raise swap.write_failure(error, what, intact=not published) from None
        except git.GitCommandError as error:
            raise git_failure(error, what, intact=not published) from None
        finally:
            _clear(work, keep_journal=published and not completed)
        _repack(repo, objects)
        pushed = None
        if push_to:
            push(repo, push_to, branch, commit)
            pushed = push_to
        return WriteResult(branch, previous, commit, recovered, pushed)


def _quarantine(quarantine: Path, objects: Path) -> dict[str, str]:
    """Git writes the objects of a write into ``quarantine`` (reading the repository's own
    through the alternates), as ``git receive-pack`` does: a write that fails or is killed
    leaves its objects — and git's half-written ``tmp_obj_*`` files, which a full disk would
    keep full — in the writer's private folder, which the next writer removes."""
    return {"GIT_OBJECT_DIRECTORY": str(quarantine),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(objects.resolve())}


def _migrate(quarantine: Path, objects: Path) -> None:
    """Move the quarantined objects into the repository (before the ref may name them).

    Hard links, never replacing an object git has already: a kill half-way leaves some
    unreferenced objects (``git gc`` prunes them) and never a damaged one."""
    for path in sorted(quarantine.rglob("*"), key=lambda p: (p.suffix == ".idx", str(p))):
        if path.is_dir() or path.name.startswith("tmp_"):
            continue  # a pack's .idx goes after its .pack: git trusts a pack by its index
        dest = objects / path.relative_to(quarantine)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except FileExistsError:
            pass
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            partial = dest.with_name(f"tmp_aisprint_{dest.name}")  # never a half object
            shutil.copyfile(path, partial)
            with contextlib.suppress(FileExistsError):
                os.link(partial, dest)
            partial.unlink()


def _repack(repo: git.Repo, objects: Path, most: int = 50) -> None:
    """Each write adds a pack; past ``most`` of them, one ``git repack`` joins them (the
    plumbing never runs ``git gc --auto``). Git's repack is crash-safe; a failure only
    leaves the packs as they were."""
    import git

    if len(list((objects / "pack").glob("*.pack"))) > most:
        with contextlib.suppress(git.GitCommandError):
            repo.git.repack("-a", "-d", "-q", env=QUIET)


def _clear(work: Path, *, keep_journal: bool) -> None:
    """Remove what a write leaves in ``work`` — all of it, or all but what the next write
    needs to finish a published swap (the journal, the staged and the retired trees)."""
    with contextlib.suppress(OSError):  # on a full disk: the next write's recovery clears it
        if not keep_journal:
            swap.remove(work)
            return
        for entry in work.iterdir():
            if entry.name not in (swap.JOURNAL, "new", "old"):
                swap.remove(entry)


def push(repo: git.Repo, remote: str, branch: str, commit: str) -> None:
    """Publish ``commit`` as ``branch`` on ``remote`` (never forced: a moved remote is AIS947)."""
    import git

    try:
        repo.git.push("-q", remote, f"{commit}:refs/heads/{branch}")
    except git.GitCommandError as error:
        from compiler.secrets import scrub  # a remote URL may carry a token: never shown

        detail = scrub((error.stderr or "").strip().replace("\n", " "))[:300]
        raise _fail("AIS947", f"pushing {branch} to {scrub(remote)} was refused: {detail}",
                    "fetch the remote branch, plan again against it, then write and push") \
            from None
