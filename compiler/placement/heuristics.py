"""An anytime heuristic: randomised greedy construction, then local search.

For inputs too large for the MILP within the time at hand, and as its warm start. Seeded and
deterministic for a seed (budgets are counted in iterations; ``time_limit`` is only a safety
stop). Every answer is checked by the evaluator: an infeasible placement is never returned as
feasible.

Construction (as SPACE4AI-D's Random Greedy): pick one resource type per edge/VM layer, a
deployment per component and a compatible resource per partition at random, respecting the
no-move-back rule, start from the most replicas and remove replicas while the evaluator agrees.
Local search then takes improving moves among: move a partition to another resource, switch a
layer to another resource type, evacuate a resource entirely, change a component's deployment,
drop a replica; iterated local search kicks the best answer with random moves and descends again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from compiler.placement.construct import construct, unmet
from compiler.placement.performance import DEFAULT, Conventions, Evaluation, evaluate
from compiler.placement.result import SolveResult
from compiler.placement.system import Placement, System, Tier


class _Search:
    def __init__(self, system: System, conventions: Conventions, rng: random.Random,
                 deadline: float):
        self.system = system
        self.conventions = conventions
        self.rng = rng
        self.deadline = deadline
        self.cache: dict[tuple, Evaluation] = {}
        self.queue_layers = [lay for lay in system.layers if lay.tier is not Tier.FAAS]

    def expired(self) -> bool:
        return time.perf_counter() > self.deadline

    def evaluate(self, placement: Placement) -> Evaluation:
        key = placement.key()
        if key not in self.cache:
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[key] = evaluate(self.system, placement, self.conventions)
        return self.cache[key]

    # -- construction

    def _allowed(self, resource: str, active: dict[str, str | None], cloud_only: bool) -> bool:
        res = self.system.resource(resource)
        if cloud_only and not res.tier.is_cloud:
            return False
        return res.is_faas or active.get(res.layer) == resource

    def _place_component(self, name: str, deployment, active, cloud_only: bool,
                         chooser: Callable[[list], object]) -> dict | None:
        chosen = {}
        for part in deployment.partitions:
            opts = [o for o in self.system.options_for(name, part.name)
                    if self._allowed(o.resource, active, cloud_only)
                    and o.memory <= self.system.resource(o.resource).memory]
            if not opts:
                return None
            option = chooser(opts)
            chosen[(name, part.name)] = option.resource
            cloud_only = cloud_only or self.system.resource(option.resource).tier.is_cloud
        return chosen

    def random_placement(self) -> Placement | None:
        s = self.system
        active: dict[str, str | None] = {}
        for layer in self.queue_layers:
            active[layer.name] = self.rng.choice(layer.resources + (None,))
        deployments, resources = {}, {}
        cloud_after: dict[str, bool] = {}
        for name in s.order:
            component = s.component(name)
            cloud_only = any(cloud_after.get(p, False) for p, _ in s.predecessors(name))
            candidates = list(component.deployments)
            self.rng.shuffle(candidates)
            for dep in candidates:
                placed = self._place_component(name, dep, active, cloud_only, self.rng.choice)
                if placed is not None:
                    break
            else:
                return None
            deployments[name] = dep.name
            resources.update(placed)
            cloud_after[name] = s.resource(placed[(name, dep.last.name)]).tier.is_cloud
        used = {r for r in resources.values() if not s.resource(r).is_faas}
        return Placement(deployments, resources, {r: s.resource(r).number for r in used})

    def shrink(self, placement: Placement) -> tuple[Placement, Evaluation]:
        """Remove replicas, one resource at a time, while the placement stays feasible."""
        ev = self.evaluate(placement)
        if not ev.feasible:
            return placement, ev
        order = sorted(placement.replicas, key=lambda r: -self.system.resource(r).cost)
        for resource in order:
            while placement.replicas[resource] > 1:
                trial = _with_replicas(placement, resource, placement.replicas[resource] - 1)
                trial_ev = self.evaluate(trial)
                if not trial_ev.feasible:
                    break
                placement, ev = trial, trial_ev
        return placement, ev

    def normalise(self, placement: Placement) -> tuple[Placement, Evaluation]:
        """Replicas for exactly the used edge/VM resources (new ones at most), then shrink."""
        s = self.system
        used = {r for r in placement.resources.values() if not s.resource(r).is_faas}
        replicas = {r: placement.replicas.get(r, s.resource(r).number) for r in used}
        placement = Placement(placement.deployments, placement.resources, replicas)
        ev = self.evaluate(placement)
        if not ev.feasible:
            grown = Placement(placement.deployments, placement.resources,
                              {r: s.resource(r).number for r in used})
            placement, ev = grown, self.evaluate(grown)
        return self.shrink(placement) if ev.feasible else (placement, ev)

    # -- local search

    def neighbours(self, placement: Placement) -> list[Placement]:
        s = self.system
        out: list[Placement] = []
        active = {s.resource(r).layer: r for r in placement.resources.values()
                  if not s.resource(r).is_faas}
        # 1. drop one replica
        for resource, n in placement.replicas.items():
            if n > 1:
                out.append(_with_replicas(placement, resource, n - 1))
        # 2. move one partition to another compatible resource of an allowed kind
        for (component, partition), current in placement.resources.items():
            for option in s.options_for(component, partition):
                target = s.resource(option.resource)
                if option.resource == current or option.memory > target.memory:
                    continue
                if not target.is_faas and active.get(target.layer, option.resource) != \
                        option.resource:
                    continue
                resources = dict(placement.resources)
                resources[(component, partition)] = option.resource
                out.append(Placement(placement.deployments, resources, placement.replicas))
        # 3. switch a layer's resource type, moving everything on it
        for layer in self.queue_layers:
            current = active.get(layer.name)
            if current is None:
                continue
            for other in layer.resources:
                if other == current:
                    continue
                resources = dict(placement.resources)
                ok = True
                for key, res in placement.resources.items():
                    if res == current:
                        if not any(o.resource == other for o in s.options_for(*key)):
                            ok = False
                            break
                        resources[key] = other
                if ok:
                    replicas = dict(placement.replicas)
                    replicas[other] = replicas.pop(current)
                    out.append(Placement(placement.deployments, resources, replicas))
        # 4. evacuate an edge/VM resource: its partitions move to other active types or FaaS,
        #    so that its whole cost goes (the move a one-partition step cannot make)
        for resource in sorted(placement.replicas):
            resources = dict(placement.resources)
            ok = True
            for key, current in placement.resources.items():
                if current != resource:
                    continue
                others = [o for o in s.options_for(*key)
                          if o.resource != resource and o.memory <= s.resource(o.resource).memory
                          and (s.resource(o.resource).is_faas
                               or active.get(s.resource(o.resource).layer) == o.resource)]
                if not others:
                    ok = False
                    break
                resources[key] = self._cheapest(others).resource
            if ok:
                replicas = {r: n for r, n in placement.replicas.items() if r != resource}
                out.append(Placement(placement.deployments, resources, replicas))
        # 5. another deployment for one component, placed greedily on what is active
        for component in s.components:
            if len(component.deployments) < 2:
                continue
            cloud_only = any(
                s.resource(placement.resources[(p, s.component(p).deployment(
                    placement.deployments[p]).last.name)]).tier.is_cloud
                for p, _ in s.predecessors(component.name))
            for dep in component.deployments:
                if dep.name == placement.deployments[component.name]:
                    continue
                placed = self._place_component(component.name, dep, active, cloud_only,
                                               self._cheapest)
                if placed is None:
                    continue
                resources = {k: v for k, v in placement.resources.items()
                             if k[0] != component.name}
                resources.update(placed)
                deployments = dict(placement.deployments)
                deployments[component.name] = dep.name
                out.append(Placement(deployments, resources, placement.replicas))
        self.rng.shuffle(out)
        return out

    def _cheapest(self, options: list) -> object:
        """Prefer resources already paid for (edge/VM, fastest first), then the cheapest FaaS."""
        def price(option):
            res = self.system.resource(option.resource)
            return (1, res.cost * option.demand_warm) if res.is_faas else (0, option.demand)
        return min(options, key=price)

    def perturb(self, placement: Placement, moves: int) -> tuple[Placement, Evaluation]:
        """A few random moves, kept only while feasible (the kick of iterated local search)."""
        current, ev = placement, self.evaluate(placement)
        for _ in range(moves):
            for candidate in self.neighbours(current)[:25]:
                candidate, cand_ev = self.normalise(candidate)
                if cand_ev.feasible:
                    current, ev = candidate, cand_ev
                    break
        return current, ev

    def improve(self, placement: Placement, evaluation: Evaluation,
                max_steps: int) -> tuple[Placement, Evaluation]:
        """First-improvement descent: take the first neighbour that is cheaper and feasible."""
        for _ in range(max_steps):
            improved = False
            for candidate in self.neighbours(placement):
                if self.expired():
                    return placement, evaluation
                candidate, ev = self.normalise(candidate)
                if ev.feasible and ev.cost < evaluation.cost - 1e-12:
                    placement, evaluation, improved = candidate, ev, True
                    break
            if not improved:
                break
        return placement, evaluation


def shrink_replicas(system: System, placement: Placement,
                    conventions: Conventions = DEFAULT) -> tuple[Placement, Evaluation]:
    """Remove replicas while the evaluator agrees (the placement itself stays as it is)."""
    search = _Search(system, conventions, random.Random(0), math.inf)
    return search.shrink(placement)


def _with_replicas(placement: Placement, resource: str, n: int) -> Placement:
    replicas = dict(placement.replicas)
    replicas[resource] = n
    return Placement(placement.deployments, placement.resources, replicas)


def solve_heuristic(
    system: System,
    conventions: Conventions = DEFAULT,
    *,
    seed: int = 1,
    iterations: int | None = None,
    elite: int = 3,
    local_steps: int = 50,
    kicks: int = 5,
    time_limit: float = 60.0,
    progress: Callable[[str], None] | None = None,
) -> SolveResult:
    """Random greedy (``iterations`` constructions) and the feasibility-first construction
    (a start where random greedy finds fewer than ``elite`` feasible ones), local search from
    the ``elite`` best starts, then ``kicks`` rounds of iterated local search from the best
    answer. The answer is never dearer than the cheapest start.

    Unless the search finds a feasible placement, the result carries the construction's
    least-violating placement's violations as its explanation."""
    start = time.perf_counter()
    rng = random.Random(seed)
    search = _Search(system, conventions, rng, start + time_limit)
    iterations = iterations if iterations is not None else 60 + 10 * len(system.components)
    pool: dict[tuple, tuple[Placement, Evaluation]] = {}
    # feasibility first: the start random draws rarely reach on large, tightly limited inputs
    built = construct(system, conventions, time_limit=time_limit / 2)
    constructed = None
    if built is not None and built.feasible:
        constructed = search.shrink(built.placement)
        if progress:
            progress(f"construction: feasible, cost {constructed[1].cost:.6g}")
    for i in range(iterations):
        if search.expired():
            break
        candidate = search.random_placement()
        if candidate is None:
            continue
        candidate, ev = search.shrink(candidate)
        if ev.feasible:
            pool[candidate.key()] = (candidate, ev)
        if progress and i % 50 == 0:
            progress(f"random greedy {i}/{iterations}, {len(pool)} feasible")
    ranked = sorted(pool.values(), key=lambda pe: (pe[1].cost, pe[0].key()))[:elite]
    # the construction is one more start where random greedy came up short of ``elite``
    # feasible ones; it never takes a random start's place: where random greedy does well, the
    # answer (and the MILP's incumbent, whose path it steers) stays what it was
    if constructed is not None and constructed[0].key() not in pool and len(ranked) < elite:
        ranked.append(constructed)
    best: tuple[Placement, Evaluation] | None = None
    for placement, ev in ranked:
        placement, ev = search.improve(placement, ev, local_steps)
        if best is None or ev.cost < best[1].cost:
            best = (placement, ev)
        if progress:
            progress(f"local search: best cost {best[1].cost:.6g}")
    # iterated local search: kick the best answer out of its basin and descend again
    for _ in range(kicks if best else 0):
        if search.expired():
            break
        kicked, kicked_ev = search.perturb(best[0], moves=2)
        kicked, kicked_ev = search.improve(kicked, kicked_ev, local_steps)
        if kicked_ev.feasible and kicked_ev.cost < best[1].cost - 1e-12:
            best = (kicked, kicked_ev)
    seconds = time.perf_counter() - start
    if best is None:
        return SolveResult(None, None, "unknown", seconds, method="heuristic",
                           explanation=unmet(built, seconds))
    return SolveResult(best[0], best[1], "feasible", seconds, method="heuristic")
