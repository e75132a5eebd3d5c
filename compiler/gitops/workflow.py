"""Plans and writes of deployment repositories: compile on one side, ``compiler.gitops``
on the other.

This is part of the library API (``compiler.api`` re-exports it): the CLI, the GitHub Action
script and the reconciler call ``plan``, ``diff`` and ``commit`` here; they compile with
``compiler.compile.build`` and read and write git only through ``compiler.gitops``.

``plan`` compares a *desired* tree (the application compiled from its working tree, or from a
given revision of its repository) with a *current* one (a deployment repository's branch head
or a revision of it, a compiled folder, or the application compiled at a base revision). When
the current tree's manifest records exactly the input hashes the application has now (and the
same tool version), the application has not changed since that tree was compiled: the plan
takes it as the desired tree without compiling again (that is what makes a no-op plan fast).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from compiler import __version__
from compiler.compile import build
from compiler.diagnostics import Location, diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops.folder import compiled_files
from compiler.gitops.message import compile_message
from compiler.gitops.plan import (
    PLAN_SCHEMA,
    Plan,
    QosPath,
    Side,
    digest,
    limits_from_files,
    load_yaml,
    make_plan,
    manifest_of,
    qos_rows,
)
from compiler.gitops.summary import cost_text, plan_json, qos_text
from compiler.layout import APPLIED_DEPLOYMENT, MANIFEST, PRODUCTION, safe_prefix
from compiler.load.schema import load_schema
from compiler.manifest import inputs_of
from compiler.placement.performance import evaluate
from compiler.placement.production import placement_from_production
from compiler.workspace import Workspace
from compiler.write import failing_as, write_atomically

PLAN_FILE_VERSION = 1


@dataclass(frozen=True)
class Tree:
    files: Mapping[str, bytes]
    side: Side


def _up_to_date(files: Mapping[str, bytes], workspace: Workspace) -> bool:
    """The tree was compiled from exactly the application's current inputs by this version."""
    try:
        manifest = manifest_of(files)
    except InvalidInput:
        return False  # compiled afresh; the plan then names the file and what is wrong
    if manifest is None or manifest.tool_version != __version__:
        return False
    return inputs_of(workspace.inputs) == dict(manifest.inputs) \
        and set(manifest.files) == set(files) - {MANIFEST}


def compile_app(app_dir: str | os.PathLike[str], *, rev: str | None = None, mode: str = "fast",
                time_limit: float | None = None, reuse: Tree | None = None) -> Tree:
    """The desired tree: the application compiled (at ``rev`` of its repository if given,
    read from git's objects)."""
    app = Path(app_dir)
    if rev is not None:
        workspace = Workspace.from_revision(app, rev)
        files = build(workspace, mode=mode, time_limit=time_limit).artifacts
        return Tree(files, Side("compile", rev, workspace.revision,
                                digest(files.get(MANIFEST))))
    head, dirty = gitrepo.source_state(app)
    ref = "working tree" + (" (uncommitted changes)" if dirty else "")
    workspace = Workspace.from_folder(app)
    if reuse is not None and _up_to_date(reuse.files, workspace):
        files = reuse.files
    else:
        files = build(workspace, mode=mode, time_limit=time_limit).artifacts
    return Tree(files, Side("compile", ref, head, digest(files.get(MANIFEST))))


def repo_tree(repo_path: str | os.PathLike[str], rev: str | None = None, *,
              branch: str | None = None, prefix: str = "") -> Tree:
    """A deployment repository's compiled tree at ``rev`` (default: the branch head)."""
    reader = gitrepo.Reader(repo_path)
    if rev is None:
        name = branch or reader.current_branch() or "main"
        sha = reader.head_of(name)
        if sha is None:  # a new repository: everything will be added
            return Tree({}, Side("empty", f"{repo_path}:{name}"))
        label = f"{repo_path}:{name}"
    else:
        sha, label = reader.resolve(rev), f"{repo_path}:{rev}"
    files = reader.read_tree(sha, prefix)
    return Tree(files, Side("repo", label, sha, digest(files.get(MANIFEST))))


def folder_tree(folder: str | os.PathLike[str]) -> Tree:
    files = compiled_files(folder)
    if not files:
        return Tree({}, Side("empty", str(folder)))
    return Tree(files, Side("folder", str(folder), None, digest(files.get(MANIFEST))))


# ----------------------------------------------------------------------------- predictions


def _normalise(kind: str, units: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Unit paths (c_partition1_1, c_partition1_2) as component paths (c)."""
    comps: list[str] = []
    for unit in units:
        name = unit.split("_partition")[0]
        if not comps or comps[-1] != name:
            comps.append(name)
    if kind == "global" and len(comps) == 1:
        return "local", tuple(comps)
    return kind, tuple(comps)


def _limits(files: Mapping[str, bytes]) -> dict[tuple[str, tuple[str, ...]], float]:
    return {_normalise(*key): limit for key, limit in limits_from_files(files).items()}


def predictions(app_dir: str | os.PathLike[str], trees: tuple[Tree, ...]
                ) -> tuple[dict[tuple[str, tuple[str, ...]], float], ...]:
    """Predicted response times of each tree's applied placement, by the application's models.

    Both placements are evaluated with the application's (desired) performance models, so
    before and after differ only by where things run. A tree whose placement does not fit the
    application (a component gone) gets no predictions."""
    empty: tuple[dict, ...] = tuple({} for _ in trees)
    workspace = Workspace.from_folder(app_dir)
    if not workspace.valid or workspace.performance is None:
        return empty
    try:
        mapped = workspace.problem()
    except AisprintError:
        return empty
    system = mapped.system
    out = []
    for tree in trees:
        data = tree.files.get(f"{APPLIED_DEPLOYMENT}/{PRODUCTION}")
        try:
            placement = placement_from_production(mapped, load_yaml(data)) if data \
                else None
        except (AisprintError, KeyError, TypeError, ValueError, StopIteration):
            placement = None
        if placement is None:
            out.append({})
            continue
        evaluation = evaluate(system, placement)
        times = {("local", (c,)): t for c, t in evaluation.component_times.items()}
        times.update({("global", tuple(g.path)): evaluation.path_times[g.name]
                      for g in system.global_constraints if g.name in evaluation.path_times})
        out.append(times)
    return tuple(out)


# ----------------------------------------------------------------------------- plan and diff


def _manifest_qos(tree: Tree):
    """(limits, predicted times) recorded by compile in the manifest, or None (older trees)."""
    manifest = manifest_of(tree.files, tree.side.where(MANIFEST))
    rows = None if manifest is None else manifest.placement.qos
    if rows is None:
        return None
    limits = {row.key: float(row.limit) for row in rows}
    times = {row.key: float(row.predicted) for row in rows if row.predicted is not None}
    return limits, times


def plan_trees(current: Tree, desired: Tree, app_dir: str | os.PathLike[str] | None = None
               ) -> Plan:
    """The plan between two trees. QoS limits and predictions come from each tree's manifest;
    for trees compiled before manifests recorded them, from the application (if given)."""
    found = [_manifest_qos(tree) for tree in (current, desired)]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        evaluated = predictions(app_dir, tuple((current, desired)[i] for i in missing)) \
            if app_dir is not None else tuple({} for _ in missing)
        for i, times in zip(missing, evaluated, strict=True):
            found[i] = (_limits((current, desired)[i].files), times)
    (limits_before, times_before), (limits_after, times_after) = found
    qos: tuple[QosPath, ...] = qos_rows(limits_before, limits_after, times_before, times_after)
    return make_plan(current.files, desired.files, current_side=current.side,
                     desired_side=desired.side, qos=qos)


def current_tree(app_dir: str | os.PathLike[str], *, against: str | None = None,
                 repo: str | os.PathLike[str] | None = None, branch: str | None = None,
                 prefix: str = "", mode: str = "fast", time_limit: float | None = None) -> Tree:
    """What the plan compares against (see ``plan``)."""
    if repo is not None:
        return repo_tree(repo, against, branch=branch, prefix=prefix)
    if against is not None:
        if Path(against).is_dir():
            return folder_tree(against)
        return compile_app(app_dir, rev=against, mode=mode, time_limit=time_limit)
    return folder_tree(app_dir)


def plan(app_dir: str | os.PathLike[str] = ".", *, rev: str | None = None,
         against: str | None = None, repo: str | os.PathLike[str] | None = None,
         branch: str | None = None, prefix: str = "", mode: str = "fast",
         time_limit: float | None = None, recompile: bool = False) -> Plan:
    """What compiling ``app_dir`` (at ``rev``) would change (``recompile``: even when the
    current tree's manifest says it was compiled from these very inputs by this version).

    Current side: ``repo`` at ``against`` (default: its branch head); without ``repo``,
    ``against`` is a compiled folder or a revision of the application's repository (compiled
    too); with neither, the tree compiled into the application folder itself."""
    prefix = safe_prefix(prefix)  # before any work: a --prefix outside is a usage mistake
    gitrepo.check_branch(branch)
    current = current_tree(app_dir, against=against, repo=repo, branch=branch, prefix=prefix,
                           mode=mode, time_limit=time_limit)
    desired = compile_app(app_dir, rev=rev, mode=mode, time_limit=time_limit,
                          reuse=current if rev is None and not recompile else None)
    return plan_trees(current, desired, app_dir if rev is None else None)


def diff(rev1: str, rev2: str, *, repo: str | os.PathLike[str] = ".", prefix: str = "",
         app_dir: str | os.PathLike[str] | None = None) -> Plan:
    """The plan between two revisions of a deployment repository."""
    return plan_trees(repo_tree(repo, rev1, prefix=prefix), repo_tree(repo, rev2, prefix=prefix),
                      app_dir)


# ----------------------------------------------------------------------------- saved plans


@dataclass(frozen=True)
class SavedPlan:
    """A plan saved by ``aisprint plan --save``, as ``compile --plan`` checks it: the head of
    the deployment branch it was made against (None: an empty branch) and the manifest digest
    of the tree it showed. The file is the plan's JSON (``schemas/plan.schema.json``); its
    ``$schema`` names the format's version."""

    current_commit: str | None
    desired_manifest_sha256: str | None
    version: int = PLAN_FILE_VERSION


def save_plan(plan_value: Plan, path: str | os.PathLike[str]) -> None:
    """Write ``plan_value`` to ``path`` as ``load_plan`` reads it (the plan's JSON)."""
    if Path(path).is_dir():
        raise InvalidInput([diagnostic(
            "AIS954", f"--save {path} is a folder", "name the plan's file, like plan.json")])
    with failing_as(f"the plan {path}"):
        write_atomically(Path(path), plan_json(plan_value))


def load_plan(path: str | os.PathLike[str]) -> SavedPlan:
    """The saved plan at ``path``: AIS949 for a file that is not one, AIS961 for a plan in
    another version of the format."""
    try:
        data = json.loads(Path(path).read_bytes(), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _not_a_plan(path, str(exc).splitlines()[0][:200]) from None
    schema = data.get("$schema") if isinstance(data, dict) else None
    found = _PLAN_URL.fullmatch(schema) if isinstance(schema, str) else None
    if found is None:
        raise _not_a_plan(path, f"its $schema is not {PLAN_SCHEMA}")
    if int(found[1]) != PLAN_FILE_VERSION:
        newer = int(found[1]) > PLAN_FILE_VERSION
        raise InvalidInput([diagnostic(
            "AIS961", f"{path} is a plan of format v{found[1]}, written by "
            f"{'a newer' if newer else 'an older'} aisprint-gitops; this one reads "
            f"v{PLAN_FILE_VERSION}",
            "make the plan again with this version: `aisprint plan APP --repo REPO --save "
            "plan.json`", Location(str(path)))])
    # deferred: jsonschema costs ~0.15 s to import and only `compile --plan` needs it here
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(load_schema("plan")).iter_errors(data))
    if error is not None:
        at = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise _not_a_plan(path, f"at {at}: {error.message[:200]}")
    return SavedPlan(data["current"]["commit"], data["desired"]["manifest_sha256"],
                     int(found[1]))


_PLAN_URL = re.compile(re.escape(PLAN_SCHEMA).replace(r"v1\.json", r"v(\d{1,9})\.json"))


def _not_a_plan(path, problem: str) -> InvalidInput:
    return InvalidInput([diagnostic(
        "AIS949", f"{path} is not a plan written by `aisprint plan --save`: {problem}",
        "write one with `aisprint plan APP --repo REPO --save plan.json`",
        Location(str(path)))])


def _no_constant(name: str):
    raise ValueError(f"{name} is no JSON number")


# ----------------------------------------------------------------------------- writing


def commit_summary(plan_value: Plan) -> list[str]:
    lines = [f"Placement cost: {cost_text(plan_value)}", f"QoS: {qos_text(plan_value)}"]
    for p in plan_value.moved():
        b, a = p.before, p.after
        before = f"layer {b.layer} {b.resource}" if b else "nothing"
        after = f"layer {a.layer} {a.resource}" if a else "nothing"
        lines.append(f"{p.unit}: {p.kind}, {before} -> {after}")
    n = plan_value.counts()
    lines.append(f"Files: {n['added']} added, {n['removed']} removed, {n['modified']} modified "
                 f"({n['restart']} restart required, {n['metadata']} metadata only)")
    return lines


def commit(app_dir: str | os.PathLike[str], *, repo: str | os.PathLike[str],
           branch: str | None = None, prefix: str = "", plan_file: str | None = None,
           author: gitrepo.Identity | None = None, committer: gitrepo.Identity | None = None,
           push_to: str | None = None, mode: str = "fast", time_limit: float | None = None,
           durable: bool = True) -> tuple[gitrepo.WriteResult, Plan]:
    """Compile ``app_dir`` and commit it to the deployment repository (``repo`` is created
    when missing). With ``plan_file``, only what that plan showed is written: the branch must
    still be at the head the plan was made against (AIS944) and the compile must give the
    plan's manifest (AIS948)."""
    prefix = safe_prefix(prefix)  # before the repository is created or anything compiled
    gitrepo.check_branch(branch)
    saved = load_plan(plan_file) if plan_file else None
    if not Path(repo).exists():
        gitrepo.open_repo(repo, create=True)
    current = repo_tree(repo, branch=branch, prefix=prefix)
    if saved is not None and saved.current_commit != current.side.commit:
        raise InvalidInput([diagnostic(
            "AIS944", f"the plan {plan_file} is stale: it was made against "
            f"{(saved.current_commit or 'an empty branch')[:12]}, but {repo} is now at "
            f"{(current.side.commit or 'nothing')[:12]}",
            "run `aisprint plan` again and review the new plan before writing")])
    desired = compile_app(app_dir, mode=mode, time_limit=time_limit, reuse=current)
    if saved is not None and saved.desired_manifest_sha256 != desired.side.manifest_sha256:
        raise InvalidInput([diagnostic(
            "AIS948", f"compiling {app_dir} now gives another tree than the plan {plan_file} "
            "showed (the application or the tool changed since)",
            "run `aisprint plan` again and review the new plan before writing")])
    plan_value = plan_trees(current, desired, app_dir)
    source, dirty = desired.side.commit, "uncommitted" in desired.side.ref
    trailers = {"Aisprint-Manifest": desired.side.manifest_sha256 or "",
                "Aisprint-Tool": f"aisprint-gitops {__version__}"}
    if dirty:
        trailers["Aisprint-Source-Dirty"] = "true"
    message = compile_message(source, summary=commit_summary(plan_value), trailers=trailers)
    expected = current.side.commit
    result = gitrepo.write(gitrepo.DeploymentRepo(Path(repo), branch, prefix), desired.files,
                           message, expected_head=expected, author=author,
                           committer=committer, push_to=push_to, durable=durable)
    return result, plan_value
