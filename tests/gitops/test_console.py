"""The console: markdown comments under GitHub's limit, golden markdown, terminal, JSON.

Regenerate the golden files after an intended change with
    python -m pytest tests/gitops/test_console.py --update-golden
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from compiler.console.plan import (
    GITHUB_COMMENT_LIMIT,
    MARKER,
    markdown_comments,
    render_json,
    render_terminal,
)
from compiler.gitops import workflow as deploy
from compiler.gitops.plan import Side, make_plan, qos_rows
from compiler.manifest import Manifest, PlacementRecord
from tests.gitops.test_plan import schema_errors, tighten

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "plan"
CURRENT = Side("repo", "deploy:main", "1" * 40, "a" * 64)
DESIRED = Side("compile", "working tree", "2" * 40, "b" * 64)
PROD = "aisprint/deployments/current_deployment/production_deployment.yaml"


def production(layer: int, resource: str, nodes: int) -> bytes:
    return yaml.safe_dump({"System": {
        "NetworkDomains": {"ND1": {"ComputationalLayers": {
            "computationalLayer1": {"number": 1, "name": "edge", "Resources": {
                "resource1": {"name": "Pi", "totalNodes": nodes}}},
            "computationalLayer3": {"number": 3, "name": "cloud VMs", "Resources": {
                "resource1": {"name": "VM", "totalNodes": nodes}}}}}},
        "Components": {
            "component1": {"name": "detect", "executionLayer": 1, "Containers": {
                "container1": {"image": "detect:1", "memorySize": 512, "computingUnits": 1,
                               "selectedExecutionResource": "Pi"}}},
            "component2": {"name": "alert", "executionLayer": layer, "Containers": {
                "container1": {"image": "alert:1", "memorySize": 256, "computingUnits": 1,
                               "selectedExecutionResource": resource}}}}}}).encode()


def manifest(cost: float) -> bytes:
    return Manifest("0.1.0", PlacementRecord("milp, optimal", cost), {}, {}).to_bytes()


def synthetic_trees() -> tuple[dict[str, bytes], dict[str, bytes]]:
    dag = yaml.safe_dump({"System": {"name": "s", "components": ["detect", "alert"],
                                     "dependencies": [["detect", "alert", 1.0]]}}).encode()
    common = {"aisprint/deployments/base/application_dag.yaml": dag,
              "aisprint/designs/detect/base/model.onnx": b"\0ONNX" + bytes(range(256))}
    current = {**common, PROD: production(1, "Pi", 1),
               "aisprint/deployments/current_deployment/oscar/fdl.yaml": b"memory: 256Mi\n",
               "aisprint/deployments/current_deployment/ams/old.yaml": b"a: 1\n",
               "aisprint/manifest.json": manifest(2.0)}
    desired = {**common, PROD: production(3, "VM", 2),
               "aisprint/deployments/current_deployment/oscar/fdl.yaml": b"memory: 512Mi\n",
               "aisprint/deployments/current_deployment/ams/new.yaml": b"b: 2\n",
               "aisprint/designs/detect/base/model.onnx": b"\0ONNX2" + bytes(range(256)),
               "aisprint/manifest.json": manifest(3.5)}
    return current, desired


def synthetic_plan():
    current, desired = synthetic_trees()
    key = ("global", ("detect", "alert"))
    qos = qos_rows({key: 2.0}, {key: 2.0}, {key: 2.5}, {key: 1.25})
    return make_plan(current, desired, current_side=CURRENT, desired_side=DESIRED, qos=qos)


def golden(request, name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}: run with --update-golden"
    assert text == path.read_text(encoding="utf-8"), \
        f"{name}.md differs (python -m pytest {__file__} --update-golden, then review)"


def joined(comments: list[str]) -> str:
    return "\n<!-- ===== next comment ===== -->\n".join(comments)


def test_synthetic_plan_reads_every_kind_of_change(request):
    plan = synthetic_plan()
    kinds = {a.path: (a.kind, a.label, a.binary) for a in plan.artifacts}
    assert kinds == {
        "aisprint/deployments/current_deployment/ams/new.yaml": ("added", "metadata", False),
        "aisprint/deployments/current_deployment/ams/old.yaml": ("removed", "metadata", False),
        "aisprint/deployments/current_deployment/oscar/fdl.yaml":
            ("modified", "restart", False),
        PROD: ("modified", "restart", False),
        "aisprint/designs/detect/base/model.onnx": ("modified", "restart", True),
        "aisprint/manifest.json": ("modified", "metadata", False)}
    alert = next(p for p in plan.placement if p.unit == "alert")
    assert alert.kind == "moved" and (alert.before.layer, alert.after.layer) == (1, 3)
    assert (plan.cost_before, plan.cost_after) == (2.0, 3.5)
    assert [q.status for q in plan.qos] == ["ok"]
    assert schema_errors(json.loads(render_json(plan))) == []
    golden(request, "synthetic", joined(markdown_comments(plan)))


def test_terminal_has_colour_only_when_asked():
    plan = synthetic_plan()
    plain, coloured = render_terminal(plan), render_terminal(plan, colour=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert "alert" in plain and "moved (restart)" in plain and "binary" in plain


def test_comments_stay_under_githubs_limit_and_keep_every_diff():
    current, desired = synthetic_trees()
    for i in range(120):  # 120 files with 600-line diffs: far more than one comment holds
        current[f"aisprint/deployments/base/f{i:03d}.yaml"] = "".join(
            f"k{j}: {j}\n" for j in range(600)).encode()
        desired[f"aisprint/deployments/base/f{i:03d}.yaml"] = "".join(
            f"k{j}: {j + 1}\n" for j in range(600)).encode()
    desired["aisprint/deployments/base/huge.yaml"] = ("x: " + "y" * 200 + "\n").encode() * 2000
    plan = make_plan(current, desired, current_side=CURRENT, desired_side=DESIRED,
                     max_diff_lines=10_000)
    comments = markdown_comments(plan, max_comments=100)
    assert len(comments) > 3
    assert all(len(c) <= GITHUB_COMMENT_LIMIT for c in comments)
    assert all(c.startswith(MARKER) for c in comments)
    assert f"part 1 of {len(comments)}" in comments[0] and "aisprint plan:" in comments[0]
    for body in comments:  # every collapsed block and code fence closes in its own comment
        assert body.count("<details>") == body.count("</details>")
        assert body.count("```") % 2 == 0
    text = "".join(comments)
    for i in range(120):
        assert f"<code>aisprint/deployments/base/f{i:03d}.yaml</code>" in text
    assert "diff cut at" in text  # the huge file alone is over the limit
    capped = markdown_comments(plan, max_comments=2)
    assert len(capped) == 2 and all(len(c) <= GITHUB_COMMENT_LIMIT for c in capped)
    assert "more diff(s) not shown here (at most 2 comments)" in capped[-1]
    assert capped[0].split("\n", 2)[2] == comments[0].split("\n", 2)[2]  # same first part


def test_no_changes_is_one_short_comment(request):
    current, _ = synthetic_trees()
    plan = make_plan(current, current, current_side=CURRENT, desired_side=DESIRED)
    assert not plan.has_changes and plan.counts()["unchanged"] == len(current)
    comments = markdown_comments(plan)
    assert len(comments) == 1 and len(comments[0]) < 1000
    golden(request, "no_changes", joined(comments))


def test_mask_detection_tighter_limit_golden(mask_app, request):
    before = deploy.compile_app(mask_app)
    tighten(mask_app)
    after = deploy.compile_app(mask_app)
    plan = deploy.plan_trees(deploy.Tree(before.files, CURRENT),
                             deploy.Tree(after.files, DESIRED))
    comments = markdown_comments(plan)
    again = markdown_comments(deploy.plan_trees(deploy.Tree(before.files, CURRENT),
                                                deploy.Tree(after.files, DESIRED)))
    assert comments == again
    text = joined(comments)
    assert re.search(r'n0\["blurry-faces-onnx<br/>L1 · RaspPi4"\]:::L1', text)
    golden(request, "mask_detection_tighter_limit", text)


@pytest.mark.parametrize("fmt", ["json", "markdown", "text", "github"])
def test_cli_output_formats(fmt, tmp_path, mask_app):
    from tests.cli.test_cli import aisprint

    (tmp_path / "nothing").mkdir()  # an empty folder: everything is added
    done = aisprint("plan", str(mask_app), "--against", str(tmp_path / "nothing"), "-o", fmt)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        assert schema_errors(json.loads(done.stdout)) == []
    elif fmt == "markdown":
        assert done.stdout.startswith("### aisprint plan:") and "```mermaid" in done.stdout
    else:  # text, and github (a job's log is plain text): no escape codes either way
        assert done.stdout.startswith("aisprint plan:") and "\x1b[" not in done.stdout
        assert "  QoS:     all 5 constraint(s) met" in done.stdout
