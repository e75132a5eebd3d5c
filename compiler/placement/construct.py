"""Feasibility first: a placement built to meet every limit before it is made cheap.

Random greedy draws placements at random and keeps the feasible ones; on large inputs with
tight limits almost none is. This construction aims at feasibility instead:

1. **Fastest start.** Components in DAG order, each on the deployment and resources that
   answer soonest under the evaluator's models — FaaS configurations at their own rate, an
   edge/VM type at the utilisation it would have with every replica and the load already on
   it, plus the transfers from its predecessors — within the rules a placement must keep: one
   type per edge/VM layer (the first partition placed in a layer claims it), memory, network,
   and no move back from cloud to edge (a component whose successor can only start on the edge
   stays on the edge). Every edge/VM type in use gets all its replicas.
2. **Repair.** While the evaluator reports violations, the most violated one is attacked where
   it arises: the partitions of the offending component or path, slowest first, move to a
   faster option; a component takes another deployment (partitioned or not); an edge/VM layer
   switches type; a saturated or full resource sheds its heaviest partition. A move is taken
   when it lowers the total violation (each limit's excess relative to the limit; broken rules
   weigh more), so the repair never goes round in circles.
3. The cost is the local search's business (``heuristics.solve_heuristic`` starts from here):
   what comes out of this module is the least-violating placement found, feasible when the
   repair succeeded, with its evaluation.

Deterministic: no random draw, ties go to declaration order; the budgets count evaluations.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from compiler.placement.faas import faas_response_time
from compiler.placement.performance import (
    DEFAULT,
    Conventions,
    Evaluation,
    Violation,
    evaluate,
    faas_rate,
)
from compiler.placement.system import Deployment, Option, Placement, System

# A broken rule (two types in one layer, an edge partition after a cloud one, no network)
# outweighs any amount of missed time: the repair never trades one for the other.
RULE_WEIGHT = 1000.0
RESOURCE_WEIGHT = 10.0  # saturated or full resources: every time on them is meaningless
EXCESS_CAP = 10.0  # a relative excess counts at most this much (infinite times included)
# A component no limit applies to is placed where it slows the constrained ones least; its own
# speed only breaks ties.
UNCONSTRAINED = 1e-3
ESCAPES = 8  # non-improving repair moves in a row before the repair gives up
RULES = frozenset({"structure", "layer", "replicas", "move-back", "network"})


@dataclass(frozen=True)
class Construction:
    """The least-violating placement the construction reached, with its evaluation."""

    placement: Placement
    evaluation: Evaluation
    repairs: int  # repair moves taken
    evaluations: int

    @property
    def feasible(self) -> bool:
        return self.evaluation.feasible


def violation_score(system: System, evaluation: Evaluation) -> float:
    """How far a placement is from feasible: 0 exactly when the evaluator accepts it."""
    thresholds = {g.name: g.threshold for g in system.global_constraints}
    total = 0.0
    for v in evaluation.violations:
        total += _weight(system, v, thresholds)
    return total


def _weight(system: System, v: Violation, thresholds: dict[str, float]) -> float:
    if v.kind in RULES:
        return RULE_WEIGHT
    if v.kind == "stability":
        return RESOURCE_WEIGHT + min(v.excess, EXCESS_CAP)
    if v.kind == "memory":
        return RESOURCE_WEIGHT + min(v.excess / system.resource(v.subject).memory, EXCESS_CAP)
    limit = system.local_constraints.get(v.subject) if v.kind == "local" \
        else thresholds.get(v.subject)
    if not limit or not math.isfinite(v.excess):
        return EXCESS_CAP
    return min(v.excess / limit, EXCESS_CAP)


class _Draft:
    """A placement being built: deployments, resources, and what the rules derive from them."""

    def __init__(self, system: System, deployments: dict[str, str],
                 resources: dict[tuple[str, str], str]):
        self.system = system
        self.deployments = deployments
        self.resources = resources

        self.usage: dict | None = None  # the constructor's per-resource aggregate

    def copy(self) -> _Draft:
        return _Draft(self.system, dict(self.deployments), dict(self.resources))

    def move(self, unit: tuple[str, str], resource: str) -> None:
        self.resources[unit] = resource
        self.usage = None

    def placement(self) -> Placement:
        s = self.system
        used = sorted({r for r in self.resources.values() if not s.resource(r).is_faas})
        return Placement(dict(self.deployments), dict(self.resources),
                         {r: s.resource(r).number for r in used})

    def active(self, skip: str | None = None) -> dict[str, str]:
        """The edge/VM type each layer in use runs (the first one met, should there be two),
        by the partitions of every component but ``skip``."""
        out: dict[str, str] = {}
        for (component, _), resource in self.resources.items():
            if component == skip:
                continue
            res = self.system.resource(resource)
            if not res.is_faas:
                out.setdefault(res.layer, resource)
        return out

    def chain(self, component: str) -> Deployment:
        return self.system.component(component).deployment(self.deployments[component])

    def first_tier_cloud(self, component: str) -> bool:
        part = self.chain(component).first
        return self.system.resource(self.resources[(component, part.name)]).tier.is_cloud

    def last_tier_cloud(self, component: str) -> bool:
        part = self.chain(component).last
        return self.system.resource(self.resources[(component, part.name)]).tier.is_cloud

    def set_component(self, component: str, deployment: str,
                      placed: dict[tuple[str, str], str]) -> None:
        for key in [k for k in self.resources if k[0] == component]:
            del self.resources[key]
        self.deployments[component] = deployment
        self.resources.update(placed)
        self.usage = None


class _Constructor:
    def __init__(self, system: System, conventions: Conventions, max_evaluations: int,
                 deadline: float):
        self.system = system
        self.conventions = conventions
        self.max_evaluations = max_evaluations
        self.deadline = deadline
        self.evaluations = 0
        self.cache: dict[tuple, tuple[Evaluation, float]] = {}
        self.thresholds = {g.name: g.threshold for g in system.global_constraints}
        self._rates = {}
        for component in system.components:
            for dep in component.deployments:
                self._rates[(component.name, dep.name)] = system.partition_rates(
                    component.name, dep)
        self._options = {(c, p, o.resource): o for (c, p), opts in system.options.items()
                         for o in opts}
        self.must_edge = self._edge_bound()

    # -- rules known before anything is placed

    def _cloud_options(self, component: str, part: str) -> bool:
        return any(self.system.resource(o.resource).tier.is_cloud
                   for o in self.system.options_for(component, part))

    def _edge_bound(self) -> set[str]:
        """Components that must run wholly on the edge: some successor can only start there
        (no move back from the cloud), transitively."""
        s = self.system
        bound: set[str] = set()
        for name in reversed(s.order):
            if any(t in bound or not self._can_start_in_cloud(t) for t, _ in s.successors(name)):
                bound.add(name)
        return bound

    def _can_start_in_cloud(self, component: str) -> bool:
        comp = self.system.component(component)
        return any(all(self._cloud_options(component, p.name) for p in d.partitions)
                   for d in comp.deployments)

    # -- evaluation

    def expired(self) -> bool:
        return self.evaluations >= self.max_evaluations or time.perf_counter() > self.deadline

    def judge(self, state: _Draft) -> tuple[Evaluation, float]:
        placement = state.placement()
        key = placement.key()
        if key not in self.cache:
            self.evaluations += 1
            ev = evaluate(self.system, placement, self.conventions)
            self.cache[key] = (ev, violation_score(self.system, ev))
        return self.cache[key]

    # -- estimates used to order choices (the evaluator decides)

    def estimate(self, component: str, option: Option, rate: float,
                 load: dict[str, float]) -> float:
        """Response time of a partition on ``option`` with ``load`` already on its resource
        (every replica serving), or on its FaaS configuration at its own rate."""
        res = self.system.resource(option.resource)
        if res.is_faas:
            return faas_response_time(faas_rate(self.system, component, rate, self.conventions),
                                      option.demand_warm, option.demand_cold, res.idle_time)
        u = (load.get(option.resource, 0.0) + rate * option.demand) / res.number
        return option.demand / (1 - u) if u < 1 else math.inf

    def transfer(self, resource_a: str, resource_b: str, size: float) -> float | None:
        if resource_a == resource_b:
            return 0.0
        s = self.system
        return s.network_delay(s.resource(resource_a).layer, s.resource(resource_b).layer, size,
                               bits=self.conventions.transfer_bits)

    def usage(self, state: _Draft) -> dict[str, list[tuple[str, float, float, float, float]]]:
        """Per edge/VM type: (component, load, memory, weight, demand) of each partition on it
        (weight 0 for a component no limit applies to). Kept until the state changes."""
        if state.usage is None:
            s = self.system
            out: dict[str, list] = defaultdict(list)
            constrained = s.constrained_components
            for component, dep_name in state.deployments.items():
                dep = s.component(component).deployment(dep_name)
                for part, rate, weight in zip(dep.partitions, self._rates[(component, dep_name)],
                                              dep.weights(), strict=True):
                    resource = state.resources.get((component, part.name))
                    if resource is None or s.resource(resource).is_faas:
                        continue
                    option = self.option(component, part.name, resource)
                    out[resource].append((component, rate * option.demand, option.memory,
                                          weight if component in constrained else 0.0,
                                          option.demand))
            state.usage = out
        return state.usage

    def loads(self, state: _Draft, skip: str | None = None) -> dict[str, float]:
        """Load on every edge/VM type, leaving out ``skip``'s partitions."""
        return {r: sum(e[1] for e in entries if e[0] != skip)
                for r, entries in self.usage(state).items()}

    def memory(self, state: _Draft, skip: str | None = None) -> dict[str, float]:
        return {r: sum(e[2] for e in entries if e[0] != skip)
                for r, entries in self.usage(state).items()}

    def hosted(self, state: _Draft, skip: str | None = None
               ) -> dict[str, list[tuple[float, float]]]:
        """(weight, demand) of the constrained partitions on each edge/VM type."""
        return {r: [(e[3], e[4]) for e in entries if e[0] != skip and e[3] > 0]
                for r, entries in self.usage(state).items()}

    def option(self, component: str, part: str, resource: str) -> Option | None:
        return self._options.get((component, part, resource))

    def slowdown(self, option: Option, rate: float, load: dict[str, float],
                 hosted) -> float:
        """How much longer the constrained partitions already on ``option``'s resource take
        once this partition's load joins them."""
        res = self.system.resource(option.resource)
        if res.is_faas or not hosted:
            return 0.0
        before = load.get(option.resource, 0.0) / res.number
        after = before + rate * option.demand / res.number
        if after >= 1:
            return math.inf
        return sum(w * (d / (1 - after) - d / (1 - before)) for w, d in hosted)

    # -- placing one component

    def place(self, state: _Draft, component: str, deployment: Deployment,
              active: dict[str, str], avoid: str | None = None
              ) -> tuple[dict[tuple[str, str], str], float] | None:
        """The fastest placement of ``component`` with ``deployment`` given the rest of
        ``state`` (predecessors' and successors' tiers, the layers' types, loads, memory), and
        its estimated time including the transfers from its predecessors. Claims nothing."""
        s = self.system
        preds = [p for p, _ in s.predecessors(component) if p in state.deployments]
        succs = [t for t, _ in s.successors(component) if t in state.deployments]
        cloud_only = any(state.last_tier_cloud(p) for p in preds)
        edge_only = component in self.must_edge or any(
            not state.first_tier_cloud(t) for t in succs)
        load = self.loads(state, skip=component)
        memory = self.memory(state, skip=component)
        hosted = self.hosted(state, skip=component)
        own_weight = 1.0 if component in s.constrained_components else UNCONSTRAINED
        claimed = dict(active)
        rates = self._rates[(component, deployment.name)]
        weights = deployment.weights()
        placed: dict[tuple[str, str], str] = {}
        total = 0.0
        previous: tuple[str, float] | None = None  # (resource, data size to this partition)
        parts = deployment.partitions
        for k, (part, rate, weight) in enumerate(zip(parts, rates, weights, strict=True)):
            later_cloud_ok = all(self._cloud_options(component, p.name) for p in parts[k + 1:])
            best: tuple[float, int, str] | None = None
            for index, option in enumerate(s.options_for(component, part.name)):
                res = s.resource(option.resource)
                if option.resource == avoid:
                    continue
                if res.tier.is_cloud:
                    if edge_only or not later_cloud_ok:
                        continue
                elif cloud_only:
                    continue
                if not res.is_faas and claimed.get(res.layer, option.resource) != option.resource:
                    continue
                if not res.is_faas and memory.get(option.resource, 0.0) + option.memory > \
                        res.memory:
                    continue
                if res.is_faas and option.memory > res.memory:
                    continue
                t = self.estimate(component, option, rate, load)
                if not math.isfinite(t):
                    continue
                if previous is not None:
                    delay = self.transfer(previous[0], option.resource, previous[1])
                    if delay is None:
                        continue
                    t += delay
                elif preds:
                    delays = [self.transfer(state.resources[(p, state.chain(p).last.name)],
                                            option.resource, state.chain(p).last.data_to(
                                                component)) for p in preds]
                    if any(d is None for d in delays):
                        continue
                    t += max(delays)
                if k == len(parts) - 1 and succs:
                    delays = [self.transfer(option.resource,
                                            state.resources[(n, state.chain(n).first.name)],
                                            part.data_to(n)) for n in succs]
                    if any(d is None for d in delays):
                        continue
                    t += max(delays)
                score = own_weight * weight * t + self.slowdown(
                    option, rate, load, hosted.get(option.resource, ()))
                if best is None or (score, index) < (best[0], best[1]):
                    best = (score, index, option.resource, weight * t)
            if best is None:
                return None
            resource = best[2]
            placed[(component, part.name)] = resource
            total += best[0]
            res = s.resource(resource)
            if res.tier.is_cloud:
                cloud_only = True
            if not res.is_faas:
                claimed.setdefault(res.layer, resource)
                option = self.option(component, part.name, resource)
                load[resource] = load.get(resource, 0.0) + rate * option.demand
                memory[resource] = memory.get(resource, 0.0) + option.memory
            previous = (resource, part.data_to(parts[k + 1].name) if k + 1 < len(parts) else 0)
        return placed, total

    def fastest(self, state: _Draft, component: str, *, avoid: str | None = None
                ) -> Iterator[tuple[str, dict[tuple[str, str], str]]]:
        """Each deployment of ``component`` placed fastest, the fastest first."""
        active = state.active(skip=component)  # its own partitions hold no layer for it
        found = []
        for index, dep in enumerate(self.system.component(component).deployments):
            result = self.place(state, component, dep, active, avoid)
            if result is not None:
                found.append((result[1], index, dep.name, result[0]))
        for _, _, name, placed in sorted(found, key=lambda f: (f[0], f[1])):
            yield name, placed

    def start(self) -> _Draft | None:
        s = self.system
        state = _Draft(s, {}, {})
        for component in s.order:
            choice = next(self.fastest(state, component), None)
            if choice is None:
                return None
            state.set_component(component, *choice)
        return state

    # -- repair

    def repair(self, state: _Draft) -> tuple[_Draft, Evaluation, int]:
        """First-improvement descent on the violation score. Where no move lowers it, the
        least-bad move to a placement not seen before is taken (at most ``ESCAPES`` times in a
        row without a new best): a layer switch that costs a little elsewhere often opens the
        way. The best placement met is returned."""
        ev, score = self.judge(state)
        best = (state, ev, score)
        visited = {state.placement().key()}
        moves = escapes = 0
        while score > 0 and not self.expired():
            taken = None
            fallback: tuple[float, int, _Draft] | None = None
            seen = 0
            for violation in sorted(ev.violations, key=lambda v: (
                    -_weight(self.system, v, self.thresholds), v.kind, v.subject)):
                for candidate in self.moves(state, ev, violation):
                    if self.expired():
                        break
                    cand_ev, cand_score = self.judge(candidate)
                    if cand_score < score - 1e-12:
                        taken = (candidate, cand_ev, cand_score)
                        break
                    seen += 1
                    if (fallback is None or cand_score < fallback[0]) and \
                            candidate.placement().key() not in visited:
                        fallback = (cand_score, seen, candidate)
                if taken or self.expired():
                    break
            if taken is None:
                if fallback is None or escapes >= ESCAPES:
                    break
                escapes += 1
                taken = (fallback[2], *self.judge(fallback[2]))
            state, ev, score = taken
            visited.add(state.placement().key())
            moves += 1
            if score < best[2] - 1e-12:
                best, escapes = (state, ev, score), 0
        return best[0], best[1], moves

    def moves(self, state: _Draft, ev: Evaluation, violation: Violation) -> Iterator[_Draft]:
        s = self.system
        if violation.kind in ("local", "global"):
            components = (violation.subject,) if violation.kind == "local" else next(
                g.path for g in s.global_constraints if g.name == violation.subject)
            units = self._units(state, ev, components)
            yield from self._faster(state, ev, units)
            yield from self._unload(state, units, set(components))
            for component in dict.fromkeys(components):
                yield from self._redeploy(state, component)
            yield from self._switch_layers(state, units)
            yield from self._faster(state, ev, units, any_speed=True)
        elif violation.kind in ("stability", "memory"):
            resource = violation.subject
            units = [(c, p) for (c, p), r in sorted(state.resources.items()) if r == resource]
            units.sort(key=lambda u: -self._weight_on(state, u, violation.kind))
            yield from self._switch_layers(state, units)
            yield from self._faster(state, ev, units, any_speed=True)
            for component in dict.fromkeys(c for c, _ in units):
                yield from self._redeploy(state, component)
        else:  # a broken rule (cannot come from the moves here; from a given start it may)
            for component in s.order:
                yield from self._redeploy(state, component, keep=False)

    def _units(self, state: _Draft, ev: Evaluation, components) -> list[tuple[str, str]]:
        """The partitions of ``components``, the ones adding most time first."""
        units = []
        for component in dict.fromkeys(components):
            dep = state.chain(component)
            for part, weight in zip(dep.partitions, dep.weights(), strict=True):
                t = ev.partition_times.get((component, part.name), math.inf)
                units.append((-(weight * t), component, part.name))
        units.sort()
        return [(c, p) for _, c, p in units]

    def _unload(self, state: _Draft, units, keep: set[str]) -> Iterator[_Draft]:
        """Components sharing an edge/VM type with ``units`` (and outside ``keep``) go
        elsewhere, the heaviest first: the type's queue shortens for the units."""
        seen: set[str] = set()
        for unit in units:
            resource = state.resources[unit]
            if self.system.resource(resource).is_faas or resource in seen:
                continue
            seen.add(resource)
            others = [(-self._weight_on(state, key, "stability"), key)
                      for key, r in sorted(state.resources.items())
                      if r == resource and key[0] not in keep]
            for component in dict.fromkeys(key[0] for _, key in sorted(others)):
                choice = next(self.fastest(state, component, avoid=resource), None)
                if choice is not None:
                    moved = state.copy()
                    moved.set_component(component, *choice)
                    yield moved

    def _weight_on(self, state: _Draft, unit: tuple[str, str], kind: str) -> float:
        component, part = unit
        option = self.option(component, part, state.resources[unit])
        if kind == "memory":
            return option.memory
        dep = state.chain(component)
        rate = self._rates[(component, dep.name)][[p.name for p in dep.partitions].index(part)]
        return rate * option.demand

    def _faster(self, state: _Draft, ev: Evaluation, units, *, any_speed: bool = False
                ) -> Iterator[_Draft]:
        """Each unit moved to another option it may take (fastest first); only the options
        estimated faster than its time now unless ``any_speed`` (transfers may matter more)."""
        s = self.system
        active = state.active()
        for unit in units:
            component, part = unit
            current = state.resources[unit]
            dep = state.chain(component)
            index = [p.name for p in dep.partitions].index(part)
            rate = self._rates[(component, dep.name)][index]
            load = self.loads(state, skip=component)
            now = ev.partition_times.get(unit, math.inf)
            ranked = []
            for order, option in enumerate(s.options_for(component, part)):
                if option.resource == current or not self._may_move(state, unit, index,
                                                                    option, active):
                    continue
                t = self.estimate(component, option, rate, load)
                if math.isfinite(t) and (any_speed or t < now):
                    ranked.append((t, order, option.resource))
            for _, _, resource in sorted(ranked):
                moved = state.copy()
                moved.move(unit, resource)
                yield moved

    def _may_move(self, state: _Draft, unit, index: int, option: Option,
                  active: dict[str, str]) -> bool:
        """Whether the unit may sit on ``option`` with everything else where it is."""
        s = self.system
        component, part = unit
        res = s.resource(option.resource)
        if option.memory > res.memory:
            return False
        if not res.is_faas:
            holder = active.get(res.layer)
            if holder is not None and holder != option.resource:
                others = [k for k, r in state.resources.items()
                          if r == holder and k != unit]
                if others:
                    return False
        dep = state.chain(component)
        parts = dep.partitions
        tiers = [s.resource(state.resources[(component, p.name)]).tier.is_cloud for p in parts]
        tiers[index] = res.tier.is_cloud
        if any(a and not b for a, b in zip(tiers, tiers[1:], strict=False)):
            return False
        if index == 0 and not res.tier.is_cloud and any(
                state.last_tier_cloud(p) for p, _ in s.predecessors(component)):
            return False
        return not (index == len(parts) - 1 and res.tier.is_cloud and any(
            not state.first_tier_cloud(t) for t, _ in s.successors(component)))

    def _redeploy(self, state: _Draft, component: str, *, keep: bool = True
                  ) -> Iterator[_Draft]:
        """The component re-placed fastest with each deployment (its own first when ``keep``:
        all its partitions at once)."""
        current = state.deployments[component]
        for name, placed in self.fastest(state, component):
            if keep or name != current:
                moved = state.copy()
                moved.set_component(component, name, placed)
                if moved.resources != state.resources or moved.deployments != state.deployments:
                    yield moved

    def _switch_layers(self, state: _Draft, units) -> Iterator[_Draft]:
        """Edge/VM layers change type: the layers holding ``units`` take each of their other
        types, and a unit takes a faster type of a layer others hold, the layer with it.
        Partitions that cannot follow to the new type go to their fastest option elsewhere."""
        s = self.system
        seen: set[tuple[str, str]] = set()
        for unit in units:
            current = s.resource(state.resources[unit])
            if current.is_faas:
                continue
            for other in s.layer_index[current.layer].resources:
                if other != current.name and (current.layer, other) not in seen:
                    seen.add((current.layer, other))
                    moved = self._switched(state, current.name, other)
                    if moved is not None:
                        yield moved
        active = state.active()
        for unit in units:
            component, part = unit
            dep = state.chain(component)
            rate = self._rates[(component, dep.name)][[p.name for p in dep.partitions].index(
                part)]
            ranked = []
            for order, option in enumerate(s.options_for(component, part)):
                res = s.resource(option.resource)
                holder = active.get(res.layer)
                if res.is_faas or holder is None or holder == option.resource:
                    continue
                ranked.append((self.estimate(component, option, rate, {}), order, res, holder))
            for _, _, res, holder in sorted(ranked, key=lambda r: r[:2]):
                moved = self._switched(state, holder, res.name)
                if moved is not None and unit in moved.resources:
                    moved.move(unit, res.name)
                    yield moved

    def _switched(self, state: _Draft, current: str, other: str) -> _Draft | None:
        """Everything on ``current`` moved to ``other`` (of the same layer), or re-placed."""
        moved = state.copy()
        stranded = []
        for key, resource in sorted(state.resources.items()):
            if resource != current:
                continue
            if self.option(key[0], key[1], other) is not None:
                moved.move(key, other)
            else:
                stranded.append(key[0])
        for component in dict.fromkeys(stranded):
            choice = next(self.fastest(moved, component, avoid=current), None)
            if choice is None:
                return None
            moved.set_component(component, *choice)
        return moved


def construct(system: System, conventions: Conventions = DEFAULT, *,
              max_evaluations: int | None = None, time_limit: float = math.inf,
              start: Placement | None = None) -> Construction | None:
    """The fastest placement, repaired towards feasibility (see the module's docstring).

    ``start`` repairs a given placement instead of the fastest one. None when not even a
    placement keeping the rules could be built (a component with no compatible resource)."""
    budget = max_evaluations if max_evaluations is not None else 200 + 40 * len(
        system.components)
    builder = _Constructor(system, conventions, budget, time.perf_counter() + time_limit)
    if start is not None:
        state = _Draft(system, dict(start.deployments), dict(start.resources))
    else:
        state = builder.start()
        if state is None:
            return None
    state, ev, moves = builder.repair(state)
    return Construction(state.placement(), ev, moves, builder.evaluations)


def unmet(built: Construction | None, seconds: float) -> tuple[str, ...]:
    """What the closest placement found misses, for a result with no feasible placement."""
    if built is None:
        return ("no placement keeps the rules: some component has no compatible resource, or "
                "the no-move-back and network rules cannot all hold",)
    closest = "; ".join(v.message for v in built.evaluation.violations)
    return (f"no feasible placement found in {seconds:.3g} s; the closest one found misses: "
            f"{closest}",)
