"""Re-placement at run time (what SPACE4AI-R does): a new placement for the measured load
that moves as little as it can.

1. The running placement is evaluated at the new load: if it still meets every constraint
   and costs no more than the new optimum (within ``tolerance``), nothing moves.
2. Otherwise the optimum for the new load is solved, and then each component, one at a time
   in DAG order, is put back where it runs now whenever that stays feasible and no dearer
   than the optimum (within ``tolerance``): running resources are reused where that is as
   cheap.

Every answer is the evaluator's verdict, like every other placement.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.placement.performance import DEFAULT, Conventions, Evaluation, evaluate
from compiler.placement.solve import solve
from compiler.placement.system import Placement, System


@dataclass(frozen=True)
class Move:
    """One unit placed differently: ``before``/``after`` are ``resource`` or "" (absent)."""

    component: str
    unit: str
    before: str
    after: str


@dataclass(frozen=True)
class Replan:
    placement: Placement
    evaluation: Evaluation
    kept: bool  # the running placement still serves the load at the lowest cost
    moves: tuple[Move, ...]
    replicas: tuple[tuple[str, int, int], ...]  # (resource, before, after) where they changed
    reused: tuple[str, ...]  # components put back where they run after solving
    optimum_cost: float | None  # of the unconstrained new optimum, for the record

    @property
    def changed(self) -> bool:
        return bool(self.moves or self.replicas)


def _with_component(placement: Placement, system: System, component: str,
                    source: Placement) -> Placement:
    """``placement`` with ``component`` deployed as in ``source`` (its replicas too)."""
    comp = next(c for c in system.components if c.name == component)
    deployment = comp.deployment(source.deployments[component])
    resources = {k: v for k, v in placement.resources.items() if k[0] != component}
    for part in deployment.partitions:
        resources[(component, part.name)] = source.resources[(component, part.name)]
    used = set(resources.values())
    replicas = {r: n for r, n in placement.replicas.items() if r in used}
    for part in deployment.partitions:
        resource = source.resources[(component, part.name)]
        if resource in source.replicas:
            replicas[resource] = max(replicas.get(resource, 0), source.replicas[resource])
    return Placement({**placement.deployments, component: deployment.name}, resources,
                     replicas)


def _differences(system: System, before: Placement, after: Placement
                 ) -> tuple[tuple[Move, ...], tuple[tuple[str, int, int], ...]]:
    old = {(c, part.name): r for c, _, part, r in before.assignments(system)}
    new = {(c, part.name): r for c, _, part, r in after.assignments(system)}
    order = {c.name: i for i, c in enumerate(system.components)}
    moves = tuple(Move(c, p, old.get((c, p), ""), new.get((c, p), ""))
                  for c, p in sorted(set(old) | set(new), key=lambda k: (order[k[0]], k[1]))
                  if old.get((c, p)) != new.get((c, p)))
    replicas = tuple((r, before.replicas.get(r, 0), after.replicas.get(r, 0))
                     for r in sorted(set(before.replicas) | set(after.replicas))
                     if before.replicas.get(r, 0) != after.replicas.get(r, 0))
    return moves, replicas


def replan(system: System, running: Placement, *, mode: str = "fast",
           conventions: Conventions = DEFAULT, time_limit: float | None = None,
           tolerance: float = 0.0, seed: int = 1) -> Replan | None:
    """The placement for ``system`` (already set to the measured load) starting from
    ``running``; ``None`` when no placement meets the constraints at that load."""
    current = evaluate(system, running, conventions)
    solved = solve(system, mode=mode, conventions=conventions, time_limit=time_limit,
                   seed=seed)
    if not solved.feasible:
        return None
    optimum = solved.cost
    limit = optimum * (1 + tolerance) + 1e-9
    if current.feasible and current.cost <= limit:
        return Replan(running, current, True, (), (), (), optimum)
    best, best_eval = solved.placement, evaluate(system, solved.placement, conventions)
    reused = []
    for component in system.components:
        if running.deployments.get(component.name) is None:
            continue
        candidate = _with_component(best, system, component.name, running)
        if candidate.key() == best.key():
            continue
        verdict = evaluate(system, candidate, conventions)
        if verdict.feasible and verdict.cost <= limit:
            best, best_eval = candidate, verdict
            reused.append(component.name)
    moves, replicas = _differences(system, running, best)
    return Replan(best, best_eval, False, moves, replicas, tuple(reused), optimum)
