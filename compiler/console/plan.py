"""A plan in the console's formats: a terminal (rich), pull-request markdown, and JSON.

``markdown_comments`` returns a list of comment bodies, each under GitHub's 65,535-character
limit: the summary first (what changes, cost, QoS verdict), a mermaid picture of the DAG
coloured by the layer each part runs on, tables, then every diff in a collapsed
``<details>`` block. Every body starts with ``MARKER`` so the sticky-comment code
(``compiler.gitops.github``) finds and updates its own comments. Nothing rendered here carries
a timestamp: planning twice gives the same text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from compiler.console import View
from compiler.gitops.github import GITHUB_COMMENT_LIMIT, MARKER
from compiler.gitops.plan import RESTART, PlacementChange, Plan
from compiler.gitops.summary import (
    cost_text,
    headline,
    num,
    plan_json,
    qos_text,
    side_text,
)

__all__ = ["GITHUB_COMMENT_LIMIT", "MARKER", "PlanView", "markdown_comments", "mermaid",
           "render_json", "render_markdown", "render_terminal"]

# mermaid fill per layer number: edge (greens) … cloud (blues) … FaaS (purples)
PALETTE = ("#d4edda", "#fff3cd", "#d1ecf1", "#cce5ff", "#e2d9f3", "#f8d7da", "#e2e3e5")
render_json = plan_json


def _arrow(before: str, after: str) -> str:
    return after if before == after else f"{before} → {after}"


def _placement_cells(p: PlacementChange) -> tuple[str, str, str]:
    b, a = p.before, p.after
    layer = _arrow(f"{b.layer}" if b else "—", f"{a.layer}" if a else "—")
    resource = _arrow(b.resource if b else "—", a.resource if a else "—")
    replicas = _arrow(num(b.replicas) if b else "—", num(a.replicas) if a else "—")
    return layer, resource, replicas


# ----------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def mermaid(plan: Plan) -> str:
    """The DAG over components, each node filled with the colour of the layer it runs on."""
    where: dict[str, list[PlacementChange]] = {}
    for p in plan.placement:
        if p.after is not None:
            where.setdefault(p.component, []).append(p)
    nodes: list[str] = []
    for a, b, _ in plan.dag:
        for name in (a, b):
            if name and name not in nodes:
                nodes.append(name)
    nodes += [c for c in where if c not in nodes]
    ids = {name: f"n{i}" for i, name in enumerate(nodes)}
    lines = ["```mermaid", "flowchart LR"]
    used_layers: set[int] = set()
    for name in nodes:
        parts = where.get(name, [])
        label = [re.sub(r'["<>]', "", name)]
        label += [f"L{p.after.layer} · {p.after.resource}" for p in parts]
        layer = parts[-1].after.layer if parts else None
        changed = any(p.kind != "unchanged" for p in parts)
        cls = f":::L{layer}" if layer is not None else ""
        if layer is not None:
            used_layers.add(layer)
        lines.append(f'  {ids[name]}["{"<br/>".join(label)}"]{cls}')
        if changed:
            lines.append(f"  class {ids[name]} changed")
    for a, b, prob in plan.dag:
        if a and b:
            edge = "-->" if prob >= 1 else f"-->|{prob:g}|"
            lines.append(f"  {ids[a]} {edge} {ids[b]}")
    names = dict(plan.layer_names)
    for layer in sorted(used_layers):
        lines.append(f"  classDef L{layer} fill:{PALETTE[(layer - 1) % len(PALETTE)]},"
                     "stroke:#555,color:#000")
    lines.append("  classDef changed stroke:#d73a49,stroke-width:3px")
    lines.append("```")
    legend = " · ".join(
        f"L{n}: {names.get(n, '')}".rstrip(": ") for n in sorted(used_layers))
    if legend:
        lines.append("")
        lines.append(f"<sub>{_md(legend)}; red border: the placement changes</sub>")
    return "\n".join(lines)


def _summary_section(plan: Plan) -> str:
    n = plan.counts()
    title = "### aisprint plan: " + headline(plan)
    rows = [
        title, "",
        f"**Current:** {_md(side_text(plan.current))} · "
        f"**Desired:** {_md(side_text(plan.desired))}", "",
        "| | |", "|---|---|",
        f"| Files | {n['added']} added · {n['removed']} removed · {n['modified']} modified "
        f"· {n['unchanged']} unchanged |",
        f"| Restart | {'**required**' if plan.restart_required else 'not required'} "
        f"({n['restart']} file(s) restart, {n['metadata']} metadata only) |",
        f"| Placement | {len(plan.moved())} of {len(plan.placement)} unit(s) change |",
        f"| Cost | {_md(cost_text(plan))} |",
        f"| QoS | {_md(qos_text(plan))} |",
    ]
    return "\n".join(rows)


def _placement_section(plan: Plan) -> str:
    rows = ["#### Placement", "", "| unit | layer | resource | replicas | change |",
            "|---|---|---|---|---|"]
    for p in plan.placement:
        layer, resource, replicas = _placement_cells(p)
        change = "—" if p.kind == "unchanged" else f"**{p.kind}** (restart)"
        rows.append(f"| `{p.unit}` | {layer} | {_md(resource)} | {replicas} | {change} |")
    return "\n".join(rows)


def _qos_section(plan: Plan) -> str:
    rows = ["#### Response times (predicted)", "",
            "| constraint | path | limit | before | after | |", "|---|---|---|---|---|---|"]
    for q in plan.qos:
        mark = {"ok": "✅", "over": "❌ over", "unknown": "—"}[q.status]
        limit = _arrow(num(q.limit_before, " s"), num(q.limit, " s"))
        before = num(q.before, " s") + (" ❌" if q.was_over else "")
        rows.append(f"| {q.name} ({q.kind}) | {_md(' → '.join(q.components))} | {limit} | "
                    f"{before} | {num(q.after, ' s')} | {mark} |")
    return "\n".join(rows)


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def _files_sections(plan: Plan, rows_per_table: int = 300) -> list[str]:
    sections = []
    head = ["| file | change | label | size |", "|---|---|---|---|"]
    chunk: list[str] = []
    for a in plan.artifacts:
        size = _arrow(_size(a.size_before), _size(a.size_after))
        label = "**restart**" if a.label == RESTART else "metadata"
        chunk.append(f"| `{a.path}` | {a.kind} | {label} | {size} |")
        if len(chunk) == rows_per_table:
            sections.append("\n".join(["#### Files", "", *head, *chunk]))
            chunk = []
    if chunk or not sections:
        sections.append("\n".join(["#### Files", "", *head, *chunk]) if chunk
                        else "#### Files\n\nNo file changes.")
    return sections


def _diff_section(a, room: int) -> str:
    summary = f"<details><summary><code>{a.path}</code> — {a.kind}, {a.label}</summary>\n\n"
    if a.binary:
        return (summary + f"Binary file: {_size(a.size_before)} → {_size(a.size_after)}, "
                f"sha256 {(a.sha_before or '—')[:12]} → {(a.sha_after or '—')[:12]}\n\n"
                "</details>")
    fence = "````" if "```" in a.diff else "```"
    tail = f"{fence}\n" + (f"\n… {a.diff_truncated} more line(s) not shown\n"
                          if a.diff_truncated else "") + "\n</details>"
    body = a.diff if a.diff.endswith("\n") or not a.diff else a.diff + "\n"
    overhead = len(summary) + len(fence) + len("diff\n") + len(tail) + 80
    if len(body) + overhead > room:
        cut = body[:max(0, room - overhead)]
        cut = cut[:cut.rfind("\n") + 1] if "\n" in cut else ""
        shown = cut.count("\n")
        tail = f"{fence}\n\n… diff cut at {shown} line(s) to fit a comment\n\n</details>"
        body = cut
    return summary + f"{fence}diff\n{body}{tail}"


def markdown_sections(plan: Plan, limit: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    if not plan.has_changes:
        return ["### aisprint plan: no changes\n\n"
                f"**Current:** {_md(side_text(plan.current))} · "
                f"**Desired:** {_md(side_text(plan.desired))}\n\n"
                f"| | |\n|---|---|\n| Cost | {_md(cost_text(plan))} |\n"
                f"| QoS | {_md(qos_text(plan))} |"]
    sections = [_summary_section(plan), "#### Where each part runs\n\n" + mermaid(plan)]
    if plan.placement:
        sections.append(_placement_section(plan))
    if plan.qos:
        sections.append(_qos_section(plan))
    sections += _files_sections(plan)
    room = limit - 200  # marker, part header, separators
    diffs = [_diff_section(a, room) for a in plan.artifacts]
    if diffs:
        sections.append("#### Diffs")
        sections += diffs
    return sections


def markdown_comments(plan: Plan, limit: int = GITHUB_COMMENT_LIMIT,
                      max_comments: int = 10) -> list[str]:
    """The plan as pull-request comments, each at most ``limit`` characters, at most
    ``max_comments`` of them: diffs that do not fit are named in a closing note (the job
    summary and ``aisprint plan`` show them all)."""
    sections = markdown_sections(plan, limit)
    budget = limit - 120
    note_room = 600
    bodies: list[list[str]] = [[]]
    size = 0
    left_out: list[str] = []
    for section in sections:
        if left_out:
            left_out.append(section)
            continue
        if len(section) > budget:  # a table that alone is too big: cut it by lines
            section = section[:budget - 40]
            section = section[:section.rfind("\n")] + "\n\n… (cut to fit a comment)"
        room = budget - (note_room if len(bodies) == max_comments else 0)
        if bodies[-1] and size + len(section) + 2 > room:
            if len(bodies) == max_comments:
                left_out.append(section)
                continue
            bodies.append([])
            size = 0
        bodies[-1].append(section)
        size += len(section) + 2
    if left_out:
        diffs = sum(s.startswith("<details>") for s in left_out)
        bodies[-1].append(f"… {diffs} more diff(s) not shown here (at most {max_comments} "
                          "comments): see the job summary, or run `aisprint plan` locally.")
    total = len(bodies)
    out = []
    for i, parts in enumerate(bodies, 1):
        header = MARKER if total == 1 else f"{MARKER}\n<sub>part {i} of {total}</sub>"
        out.append(header + "\n\n" + "\n\n".join(parts) + "\n")
    return out


def render_markdown(plan: Plan) -> str:
    """All of it as one document (job summaries have no comment limit worth splitting for)."""
    return "\n\n".join(markdown_sections(plan, limit=10**9)) + "\n"


# ----------------------------------------------------------------------------- terminal


def render_terminal(plan: Plan, *, colour: bool = False, width: int = 110,
                    diffs: bool = True) -> str:
    # deferred: rich is slow to import and only the terminal format needs it
    from rich.console import Console as RichConsole
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = RichConsole(file=buffer, force_terminal=colour, no_color=not colour, width=width,
                      highlight=False, color_system="standard" if colour else None)
    style = "bold yellow" if plan.has_changes else "bold green"
    console.print(Text("aisprint plan: " + headline(plan), style=style))
    console.print(f"  current: {side_text(plan.current)}")
    console.print(f"  desired: {side_text(plan.desired)}")
    console.print(f"  cost:    {cost_text(plan)}")
    console.print(f"  QoS:     {qos_text(plan)}")
    if plan.placement:
        table = Table(title="placement", title_justify="left", box=None, pad_edge=False)
        for column in ("unit", "layer", "resource", "replicas", "change"):
            table.add_column(column)
        for p in plan.placement:
            layer, resource, replicas = _placement_cells(p)
            change = Text("—" if p.kind == "unchanged" else f"{p.kind} (restart)",
                          style="" if p.kind == "unchanged" else "yellow")
            table.add_row(p.unit, layer, resource, replicas, change)
        console.print(table)
    if plan.qos:
        table = Table(title="response times (predicted)", title_justify="left", box=None,
                      pad_edge=False)
        for column in ("constraint", "limit", "before", "after", ""):
            table.add_column(column)
        for q in plan.qos:
            mark = Text({"ok": "ok", "over": "OVER", "unknown": "—"}[q.status],
                        style={"ok": "green", "over": "bold red"}.get(q.status, ""))
            table.add_row(f"{q.name} ({' -> '.join(q.components)})",
                          _arrow(num(q.limit_before, " s"), num(q.limit, " s")),
                          num(q.before, " s"), num(q.after, " s"), mark)
        console.print(table)
    signs = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow")}
    for a in plan.artifacts:
        sign, colour_name = signs[a.kind]
        console.print(Text(f"{sign} {a.path}  [{a.label}]", style=colour_name))
    if diffs:
        for a in plan.artifacts:
            if a.binary:
                console.print(Text(f"  binary {a.path}: {_size(a.size_before)} → "
                                   f"{_size(a.size_after)}", style="dim"))
                continue
            for line in a.diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") \
                    else "cyan" if line.startswith("@@") else ""
                console.print(Text(line, style=style))
            if a.diff_truncated:
                console.print(Text(f"… {a.diff_truncated} more line(s)", style="dim"))
    return buffer.getvalue()


@dataclass(frozen=True)
class PlanView(View):
    """A plan (``aisprint plan``, ``aisprint diff``): the terminal tables and diffs, the
    markdown of the job summary, the JSON of plan.schema.json."""

    plan: Plan
    diffs: bool = True  # the terminal shows every diff (--no-diff: only the file list)

    def text(self, colour: bool = False) -> str:
        return render_terminal(self.plan, colour=colour, diffs=self.diffs)

    def to_json(self) -> dict:
        return self.plan.to_json()

    def json_text(self) -> str:
        return plan_json(self.plan)

    def markdown(self) -> str:
        return render_markdown(self.plan)


@dataclass(frozen=True)
class PlanHeadline(View):
    """A plan in one line, between what was done with it (``pr-plan``, ``pr-comment``)."""

    plan: Plan
    lead: str = ""
    tail: str = ""

    def text(self, colour: bool = False) -> str:
        return f"{self.lead}{headline(self.plan)}{self.tail}"

    def to_json(self) -> dict:
        return {"headline": headline(self.plan), "has_changes": self.plan.has_changes,
                "restart_required": self.plan.restart_required,
                "summary": self.plan.counts()}
