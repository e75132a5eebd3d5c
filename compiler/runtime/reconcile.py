"""The reconciler: make the infrastructure what the deployment repository says, and re-place
when the running application misses its QoS or its load moved.

One cycle (``reconcile_once``):

1. take the reconciler lock (a second reconciler on the same repository does nothing);
2. read the desired state, ``current_deployment`` at the branch head, and the applied state
   recorded in the state folder (applied commit, IM infrastructure per template with the hash
   of what was posted, trigger memory, the load the placement was solved for);
3. apply only what changed (``runtime.apply``): through IM, create new templates, update
   changed ones, destroy removed ones, re-create those IM no longer knows (drift); then (with
   ``oscar``) the FDL's services on their OSCAR clusters, repairing services deleted or edited
   there. The state file is written after every call, and a create is recorded as pending
   before it is posted, so a process killed at any point converges at the next cycle without
   posting anything twice;
4. read the metrics (AMS ``execution_time``) over the window, and ask ``triggers.assess``;
5. when a trigger fires: calibrate the performance models by what was measured, re-place for
   the measured load (``placement.replan``: running resources reused where as cheap), write the
   new ``current_deployment`` — the previous one kept as ``current_deployment_<time>`` — as one
   commit saying which constraint, what was measured and what moved, and apply it.

A cycle with nothing new makes no IM or OSCAR call that changes anything and no commit.

The git history is the record of re-placements: each reconcile commit carries the time it was
decided (trailer ``Aisprint-Decided``), and a cycle that finds such a commit at the head it has
not applied yet (its predecessor was killed after committing) starts the cooldown from it, so a
crash never re-places twice for the same violation.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from compiler import __version__
from compiler.compile import emit_deployment, units_from_placement
from compiler.diagnostics import diagnostic
from compiler.errors import AisprintError, InvalidInput
from compiler.gitops import repo as gitrepo
from compiler.gitops.lock import WriteLock
from compiler.gitops.message import parse, reconcile_message
from compiler.layout import CURRENT_DEPLOYMENT, MANIFEST, PRODUCTION, QOS_PREFIX
from compiler.manifest import Manifest, PlacementRecord
from compiler.manifest import read as read_manifest
from compiler.placement.calibrate import calibrated
from compiler.placement.performance import evaluate
from compiler.placement.production import placement_from_production
from compiler.placement.replan import replan
from compiler.runtime.apply import CURRENT, apply_oscar, apply_templates, templates_of
from compiler.runtime.metrics import MetricsSource, QoSSpec, qos_from_files
from compiler.runtime.triggers import Memory, Policy, Sample, Trigger, assess, changed
from compiler.workspace import Workspace
from compiler.write import write_atomically

STATE_FILE = "reconcile-state.json"


@dataclass(frozen=True)
class Settings:
    repo: Path  # the deployment repository
    app_dir: Path | None = None  # the application sources (re-placement needs them)
    branch: str | None = None
    prefix: str = ""  # folder of the repository holding aisprint/
    state_dir: Path | None = None  # default: <repo>/.git/aisprint
    policy: Policy = Policy()
    window: float = 60.0  # seconds of metrics a cycle judges
    tolerance: float = 0.0  # extra cost accepted to keep running resources
    mode: str = "fast"
    apply_timeout: float = 600.0
    poll_interval: float = 1.0
    author: object = None  # compiler.gitops.repo.Identity
    push_to: str | None = None
    # fnmatch patterns of the im/ templates (and OSCAR clusters, named alike) this reconciler
    # applies (default: all); e.g. one reconciler per site, or only the clusters that exist
    templates: tuple[str, ...] = ()
    oscar: bool = False  # also apply oscar/fdl.yaml to the OSCAR clusters
    environ: Mapping[str, str] | None = None  # OSCAR endpoints, credentials, FDL secrets

    def state_path(self) -> Path:
        return Path(self.state_dir or Path(self.repo) / ".git" / "aisprint")


@dataclass(frozen=True)
class Cycle:
    """What one cycle did, for the log line and the summary."""

    status: str  # applied | unchanged | replaced | locked | failed
    head: str | None
    actions: tuple[str, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    commit: str | None = None
    moves: tuple[str, ...] = ()
    measured: Mapping[str, float] = field(default_factory=dict)
    load: float | None = None
    seconds: float = 0.0
    commit_seconds: float | None = None  # from the cycle's start to its commit
    error: str = ""
    note: str = ""  # why a trigger that fired moved nothing

    def to_json(self) -> dict:
        return {"status": self.status, "head": self.head, "actions": list(self.actions),
                "triggers": [t.message for t in self.triggers], "commit": self.commit,
                "moves": list(self.moves), "measured": dict(sorted(self.measured.items())),
                "load": self.load, "seconds": round(self.seconds, 3), "error": self.error,
                "note": self.note}

    def summary(self) -> str:
        head = (self.head or "nothing")[:12]
        if self.status == "locked":
            return "another reconciler holds the lock: nothing done"
        if self.status == "failed":
            return f"failed at {head}: {self.error}"
        done = ", ".join(self.actions) or ("in sync" if self.status != "replaced" else "")
        parts = [f"{head}: {done}" if done else head]
        if self.triggers:
            parts.append("; ".join(t.message for t in self.triggers))
        if self.commit:
            parts.append(f"committed {self.commit[:12]} ({', '.join(self.moves) or 'replaced'})")
        if self.note:
            parts.append(self.note)
        return " — ".join(parts)


# ------------------------------------------------------------------------------ state


def _read_state(path: Path) -> dict:
    try:
        return json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _write_state(path: Path, state: Mapping) -> None:
    """Atomic: a rename over the old file, after the bytes are on disk."""
    write_atomically(path / STATE_FILE, json.dumps(state, indent=2, sort_keys=True),
                     durable=True)


# ------------------------------------------------------------------------------ re-placement


def qos_of(tree: Mapping[str, bytes], deployment: str = CURRENT) -> QoSSpec:
    prefix = f"{deployment}/{QOS_PREFIX}"
    return qos_from_files({path: data for path, data in tree.items()
                           if path.startswith(prefix) and path.endswith(".yaml")
                           and "/" not in path[len(prefix):]})


@dataclass(frozen=True)
class Replacement:
    """A re-placement decision: the new tree, or (``artifacts`` None) why nothing moves."""

    artifacts: dict[str, bytes] | None
    moves: tuple[str, ...] = ()
    cost: float = 0.0
    load: float = 0.0
    note: str = ""


def replace_current(app_dir: Path, tree: Mapping[str, bytes], *, load: float | None,
                    measured_components: Mapping[str, float], now: float, mode: str,
                    tolerance: float) -> Replacement:
    """The repository tree with a new current_deployment, or why nothing should move."""
    workspace = Workspace.from_folder(app_dir)
    # the problem compile solved (cuts and their transfer sizes included), at the measured
    # load; InvalidInput unless the application validates
    mapped = workspace.problem(arrival_rate=load)
    running = placement_from_production(mapped, yaml.safe_load(
        tree[f"{CURRENT}/{PRODUCTION}"]))
    system, _ = calibrated(mapped.system, running, measured_components)
    result = replan(system, running, mode=mode, tolerance=tolerance)
    if result is None:
        violations = evaluate(system, running).violations  # a saturated resource says most
        worst = next((v for v in violations if v.kind == "stability"), None) or max(
            violations, key=lambda v: v.excess, default=None)
        return Replacement(None, note="no placement meets every constraint at the measured "
                           "times and load" + (f" (running: {worst.message})" if worst else ""))
    if not result.changed:
        return Replacement(None, note="the running placement is still the cheapest that "
                           "meets every constraint at the measured times and load")
    units = units_from_placement(mapped, result.placement)
    layer_of = {u.name: u.layer for u in units}
    moves = tuple(f"moved {m.unit} to layer {layer_of.get(m.unit, '?')} ({m.after})"
                  if m.after else f"removed {m.unit}" for m in result.moves) + tuple(
        f"{r} replicas {a}→{b}" for r, a, b in result.replicas)
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d-%H-%M-%S-%f")
    artifacts = {}
    for path, data in tree.items():
        if path.startswith(CURRENT + "/"):
            artifacts[f"{CURRENT}_{stamp}/{path[len(CURRENT) + 1:]}"] = data
        elif path != MANIFEST:
            artifacts[path] = data
    artifacts.update(emit_deployment(workspace, CURRENT_DEPLOYMENT, units,
                                     feasible=result.evaluation.feasible))
    artifacts[MANIFEST] = _manifest_for(artifacts, tree, result.evaluation.cost, load)
    return Replacement(artifacts, moves, result.evaluation.cost, load or system.arrival_rate)


def _manifest_for(artifacts: Mapping[str, bytes], tree: Mapping[str, bytes], cost: float,
                  load: float | None) -> bytes:
    """The committed manifest, listing the new files and recording the re-placement."""
    old = _committed_manifest(tree)
    if old is None:  # a tree written by hand or by an old tool: record what is known
        old = Manifest(__version__, PlacementRecord("unknown (the tree had no manifest)", None),
                       {}, {})
    return old.replaced(artifacts, cost, load).to_bytes()


def _committed_manifest(tree: Mapping[str, bytes]) -> Manifest | None:
    data = tree.get(MANIFEST)
    return None if data is None else read_manifest(data, f"the committed {MANIFEST}")


# ------------------------------------------------------------------------------ the cycle


def reconcile_once(settings: Settings, *, im=None, metrics: MetricsSource | None = None,
                   now: float | None = None) -> Cycle:
    """One cycle; never raises for what the user or the infrastructure got wrong: the Cycle
    says ``failed`` with the error, and the next cycle starts over from the recorded state."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    state_dir = settings.state_path()
    try:
        lock = WriteLock(state_dir / "reconcile.lock", f"the reconciler of {settings.repo}")
        lock.__enter__()
    except InvalidInput:
        return Cycle("locked", None, seconds=time.perf_counter() - started)
    run = _Run(settings, im, metrics, now, started, state_dir)
    try:
        return run.cycle()
    except AisprintError as error:
        return run.failed(error)
    finally:
        lock.__exit__(None, None, None)


class _Run:
    """The working memory of one locked cycle (what it did so far, for a failure's report)."""

    def __init__(self, settings: Settings, im, metrics, now: float, started: float,
                 state_dir: Path):
        self.settings, self.im, self.metrics = settings, im, metrics
        self.now, self.started = now, started
        self.state_dir = state_dir
        self.reader = gitrepo.Reader(settings.repo)
        self.state = _read_state(state_dir)
        self.actions: list[str] = []
        self.head: str | None = None

    def save(self) -> None:
        _write_state(self.state_dir, self.state)

    def failed(self, error: AisprintError) -> Cycle:
        first = next(iter(getattr(error, "diagnostics", ())), None)
        text = str(error) if first is None else f"{first.code}: {first.message}" + (
            f" (fix: {first.hint})" if first.hint else "")
        return Cycle("failed", self.head, tuple(self.actions), seconds=self._elapsed(),
                     error=text)

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started

    def apply(self, rev: str, tree: Mapping[str, bytes]) -> None:
        """Make the infrastructure hold ``tree`` (the commit ``rev``), then record it."""
        settings = self.settings
        if self.im is not None:
            apply_templates(self.im, templates_of(tree, settings.templates), self.state,
                            self.save, self.actions, timeout=settings.apply_timeout,
                            interval=settings.poll_interval)
        if settings.oscar:
            apply_oscar(tree, self.state, self.save, self.actions, patterns=settings.templates,
                        environ=os.environ if settings.environ is None else settings.environ,
                        im=self.im)
        if self.state.get("applied") != rev:
            self.state["applied"] = rev
            self.save()

    def cycle(self) -> Cycle:
        settings, reader, state = self.settings, self.reader, self.state
        branch = settings.branch or reader.current_branch() or "main"
        head = self.head = reader.head_of(branch)
        if head is None:
            return Cycle("unchanged", None, seconds=self._elapsed())
        tree = reader.read_tree(head, settings.prefix)
        memory = Memory.from_json(state.get("memory"))
        if state.get("applied") != head:
            decided = decided_at(reader, head)
            if decided is not None and (memory.last_change or 0) < decided:
                memory = changed(memory, decided)  # committed by a cycle that died after it
                state["memory"] = memory.to_json()
                self.save()
        self.apply(head, tree)
        if self.metrics is None or f"{CURRENT}/{PRODUCTION}" not in tree:
            return self._done(head)
        qos = qos_of(tree)
        times = self.metrics.response_times(settings.window, self.now, paths=qos.paths)
        measured = {p.path.id: p.stats.mean for p in times.paths if p.stats}
        load = None
        if qos.throughput_component:
            load = self.metrics.throughput(qos.throughput_component, settings.window,
                                           self.now) or None
        planned = planned_load(tree)
        fired, memory = assess(settings.policy, qos.paths, planned,
                               Sample(self.now, measured, load), memory)
        state["memory"] = memory.to_json()
        self.save()
        if not fired:
            return self._done(head, measured=measured, load=load)
        if settings.app_dir is None:
            raise InvalidInput([_no_app(settings)])
        replacement = replace_current(
            settings.app_dir, tree, load=load or planned,
            measured_components={n: s.mean for n, s in times.components},
            now=self.now, mode=settings.mode, tolerance=settings.tolerance)
        if replacement.artifacts is None:  # nothing better: a cooldown before asking again
            state["memory"] = changed(memory, self.now).to_json()
            self.save()
            return self._done(head, fired, measured=measured, load=load,
                              note=f"{replacement.note}; judged again in "
                                   f"{settings.policy.cooldown:g} s")
        details = [t.message for t in fired] + [
            f"measured load {load:.3g} req/s" if load else "load not measured",
            f"new cost {replacement.cost:.6g}"]
        message = reconcile_message(
            [_reason(t) for t in fired], replacement.moves[:3], details=details,
            trailers={"Aisprint-Applied": head, "Aisprint-Load": f"{replacement.load:.6g}",
                      DECIDED: _stamp(self.now)})
        written = gitrepo.write(
            gitrepo.DeploymentRepo(Path(settings.repo), branch, settings.prefix),
            replacement.artifacts, message, expected_head=head, author=settings.author,
            committer=settings.author, push_to=settings.push_to)
        commit = self.head = written.commit
        commit_seconds = self._elapsed()
        state["memory"] = changed(memory, self.now).to_json()
        self.save()
        if commit:
            self.apply(commit, reader.read_tree(commit, settings.prefix))
        return Cycle("replaced" if commit else "unchanged", commit or head, tuple(self.actions),
                     fired, commit, replacement.moves, measured, load, self._elapsed(),
                     commit_seconds)

    def _done(self, head: str, fired: tuple[Trigger, ...] = (), *,
              measured: Mapping[str, float] | None = None, load: float | None = None,
              note: str = "") -> Cycle:
        return Cycle("applied" if self.actions else "unchanged", head, tuple(self.actions),
                     fired, measured=dict(measured or {}), load=load, seconds=self._elapsed(),
                     note=note)


DECIDED = "Aisprint-Decided"


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def decided_at(reader, commit: str) -> float | None:
    """When the reconciler decided the re-placement ``commit`` is (None for other commits)."""
    value = parse(reader.message(commit)).trailer(DECIDED)
    try:
        return datetime.fromisoformat(value).timestamp() if value else None
    except ValueError:
        return None


def planned_load(tree: Mapping[str, bytes]) -> float | None:
    """The load the committed current_deployment was solved for, from the manifest: the last
    re-placement's, else the compile's (the application's expected throughput)."""
    manifest = _committed_manifest(tree)
    return None if manifest is None else manifest.load


def _reason(trigger: Trigger) -> str:
    if trigger.kind == "load":
        return "load out of band"
    return f"{trigger.subject} over its limit"


def _no_app(settings: Settings):
    return diagnostic("AIS965", f"a trigger fired but the reconciler of {settings.repo} does "
                      "not know the application's sources, so it cannot re-place",
                      "pass --app APP_DIR (the folder with common_config/ and src/), or keep "
                      "the application in the deployment repository")
