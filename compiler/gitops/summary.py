"""A plan in a few words, and as its JSON text.

The headline, cost and QoS lines are shared by the commit messages the gitops workflow writes
and by every console renderer (``compiler.console.plan``), so a pull request's comment, the
terminal and ``git log`` say the same thing. ``plan_json`` is the one serialisation of a plan
(saved plans, the pull request's ``plan.json`` artifact, ``aisprint plan -o json``).
"""

from __future__ import annotations

import json

from compiler.gitops.plan import Plan


def num(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:.4g}{unit}"


def short(commit: str | None) -> str:
    return commit[:12] if commit else ""


def side_text(side) -> str:
    at = f" @ {short(side.commit)}" if side.commit else ""
    return {"compile": f"compile of {side.ref}{at}", "repo": f"{side.ref}{at}",
            "folder": f"folder {side.ref}", "empty": "nothing (first write)"}.get(
        side.kind, side.ref)


def cost_text(plan: Plan) -> str:
    before, after = plan.cost_before, plan.cost_after
    if before is None and after is None:
        return "not placed by cost (no performance models)"
    if before is None or after is None:
        return f"{num(before)} → {num(after)}"
    delta = after - before
    if abs(delta) <= 1e-12 * max(abs(before), 1.0):
        return f"{after:.6g} (unchanged)"
    share = f", {delta / before:+.1%}" if before else ""
    return f"{before:.6g} → {after:.6g} ({delta:+.6g}{share})"


def qos_text(plan: Plan) -> str:
    known = [q for q in plan.qos if q.status != "unknown"]
    over = [q for q in plan.qos if q.status == "over"]
    if not plan.qos:
        return "no QoS constraints"
    if not known:
        return f"{len(plan.qos)} constraint(s), no predictions (no performance models)"
    if over:
        return f"{len(over)} of {len(plan.qos)} constraint(s) over the limit: " + \
            ", ".join(q.name for q in over)
    return f"all {len(plan.qos)} constraint(s) met"


def headline(plan: Plan) -> str:
    if not plan.has_changes:
        return "no changes"
    n = plan.counts()
    moved = len(plan.moved())
    parts = [f"{len(plan.artifacts)} file(s) change"]
    if moved:
        parts.insert(0, f"{moved} unit(s) change placement")
    tail = "restart required" if plan.restart_required else "metadata only"
    return f"{', '.join(parts)} ({n['restart']} restart, {n['metadata']} metadata) — {tail}"


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n"
