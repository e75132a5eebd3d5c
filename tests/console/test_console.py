"""The one console: diagnostics in the four formats, every view's text/JSON/markdown, which
stream each thing goes to, when colour is allowed, and the verbs' formats end to end."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from compiler.cli.main import app, run
from compiler.compile import CompileResult
from compiler.console import Console, Format, use_colour
from compiler.console.plan import PlanHeadline, PlanView
from compiler.console.results import (
    Checked,
    Committed,
    CompiledInto,
    Designed,
    Evaluated,
    Infrastructures,
    Outcome,
    Outputs,
    Placed,
    Profiled,
    Reconciled,
    Schemas,
    Written,
    columns,
    md_table,
    timings_table,
)
from compiler.design.steps import design_annotations, design_partitions
from compiler.diagnostics import Location, diagnostic
from compiler.gitops.plan import Side, make_plan
from compiler.gitops.repo import WriteResult
from compiler.placement.solve import evaluate_solution_file, solve_system_file
from compiler.profile.campaign import profile_application
from compiler.runtime.reconcile import Cycle
from compiler.runtime.triggers import Trigger
from compiler.scaffold import new_application
from tests.conftest import SHARED

INSTANCE = SHARED / "benchmarks/space4ai/instances/Light/5-components/system_description1.json"
SOLUTION = SHARED / "benchmarks/space4ai/best-known/Light/5Components/Ins1/best_sol_1.8.json"
needs_bench = pytest.mark.skipif(not INSTANCE.exists(), reason="needs ../shared/benchmarks")


class Tty(io.StringIO):
    """A stream that says it is a terminal (what decides colour and spinners)."""

    def isatty(self) -> bool:
        return True


def console(fmt: Format = Format.text, *, tty: bool = False, no_color: bool = False):
    out, err = (Tty(), Tty()) if tty else (io.StringIO(), io.StringIO())
    return Console(fmt, no_color=no_color, out=out, err=err), out, err


@pytest.fixture
def findings(tmp_path):
    """An error located in a real file (the text format quotes its line) and a warning."""
    source = tmp_path / "candidate_resources.yaml"
    source.write_text("System:\n  totalNodes: three\n", encoding="utf-8")
    error = diagnostic("AIS103", "totalNodes must be an integer | not 'three'",
                       "write a whole number, like 3", Location(str(source), 2, 15))
    warning = diagnostic("AIS524", "the model onnx/x.onnx is missing", "run prepare_models.py")
    return source, [error, warning]


# ----------------------------------------------------------------------------- diagnostics


def test_diagnostics_as_text_quote_the_line_point_at_it_and_give_the_verdict(findings):
    source, found = findings
    shown, out, err = console()
    shown.diagnostics(found, subject="app")
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{source}:2:15: error AIS103: totalNodes must be an integer | not 'three'"
    assert lines[1] == "    2 |   totalNodes: three"
    assert lines[2].index("^") == len("    2 | ") + 14  # under column 15
    assert "  hint: write a whole number, like 3" in lines
    assert "warning AIS524: the model onnx/x.onnx is missing" in lines
    assert lines[-1] == "✗ 1 error(s), 1 warning(s) in app"
    assert err.getvalue() == "" and "\x1b[" not in out.getvalue()


def test_diagnostics_as_json_are_one_document(findings):
    _, found = findings
    shown, out, _ = console(Format.json)
    shown.diagnostics(found, subject="app")
    doc = json.loads(out.getvalue())
    assert doc["valid"] is False and doc["subject"] == "app"
    assert doc["summary"]["errors"] == 1 and doc["summary"]["warnings"] == 1
    assert [d["code"] for d in doc["diagnostics"]] == ["AIS103", "AIS524"]
    assert doc["diagnostics"][0]["line"] == 2 and doc["diagnostics"][0]["col"] == 15


def test_diagnostics_for_github_are_workflow_commands(findings):
    source, found = findings
    shown, out, _ = console(Format.github)
    shown.diagnostics(found, subject="app")
    first, second, last = out.getvalue().splitlines()
    assert first.startswith(f"::error file={source},line=2,col=15,title=AIS103 ")
    assert first.endswith("::totalNodes must be an integer | not 'three'%0Ahint: write a whole "
                          "number, like 3")
    assert second.startswith("::warning title=AIS524 ")
    assert last == "app: 1 error(s), 1 warning(s)"


def test_diagnostics_as_markdown_are_a_verdict_and_a_table(findings):
    source, found = findings
    shown, out, _ = console(Format.markdown)
    shown.diagnostics(found, subject="app")
    lines = out.getvalue().splitlines()
    assert lines[0] == "### ✗ 1 error(s), 1 warning(s) in app"
    assert lines[2] == "| | code | where | what is wrong | how to fix it |"
    # the message's own | is escaped, so the row keeps its five cells
    assert lines[4] == (f"| ❌ error | AIS103 | `{source}:2:15` | totalNodes must be an integer "
                        "\\| not 'three' | write a whole number, like 3 |")
    assert lines[5].startswith("| ⚠️ warning | AIS524 |  | the model onnx/x.onnx is missing")
    shown.diagnostics([], subject="app")
    assert out.getvalue().endswith("### ✓ valid in app\n")


def test_markdown_cells_cannot_open_html(tmp_path):
    shown, out, _ = console(Format.markdown)
    shown.diagnostics([diagnostic("AIS103", "<details><summary>x</summary>\nline 2", "")])
    row = out.getvalue().splitlines()[4]
    assert "<details>" not in row and "&lt;details&gt;" in row and "<br>line 2" in row


def test_warnings_beside_a_result_go_to_stderr_or_become_annotations(findings):
    _, found = findings
    warning = found[1]
    for fmt in (Format.text, Format.json, Format.markdown):
        shown, out, err = console(fmt)
        shown.warnings([warning])
        assert out.getvalue() == ""
        assert err.getvalue() == ("warning AIS524: the model onnx/x.onnx is missing\n"
                                  "  hint: run prepare_models.py\n")
    shown, out, err = console(Format.github)
    shown.warnings([warning])
    assert err.getvalue() == "" and out.getvalue().startswith("::warning title=AIS524 ")
    assert out.getvalue().count("\n") == 1  # no verdict line beside a result


# ----------------------------------------------------------------------------- the console


def test_notes_go_to_stderr_and_results_to_stdout():
    shown, out, err = console(Format.json)
    shown.note("planning…")
    shown.show(Outcome("deleted everything", {"deleted": "infras.yaml"}))
    assert err.getvalue() == "planning…\n"
    assert json.loads(out.getvalue()) == {"deleted": "infras.yaml"}


def test_a_failure_is_said_on_stderr_and_annotated_for_github():
    shown, out, err = console()
    shown.failure("error: git push was refused")
    assert err.getvalue() == "error: git push was refused\n" and out.getvalue() == ""
    shown, out, err = console(Format.github)
    shown.failure("internal error: KeyError: 'x'\nThis is a bug (100%)")
    assert err.getvalue() == "internal error: KeyError: 'x'\nThis is a bug (100%)\n"
    assert out.getvalue() == "::error::internal error: KeyError: 'x'%0AThis is a bug (100%25)\n"


def test_colour_only_on_a_terminal_in_text_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert console(tty=True)[0].colour and console(tty=True)[0].interactive
    assert not console(tty=False)[0].colour
    assert not console(tty=True, no_color=True)[0].colour
    assert not console(Format.json, tty=True)[0].colour  # machines get no escape codes
    assert not console(Format.json, tty=True)[0].interactive  # nor spinners
    monkeypatch.setenv("NO_COLOR", "1")
    assert not console(tty=True)[0].colour and not use_colour(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("CI", "true")
    assert not console(tty=True)[0].colour


def test_status_animates_only_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    shown, out, err = console()
    with shown.status("solving…") as update:
        assert update is None
    assert out.getvalue() == err.getvalue() == ""
    shown, _, err = console(tty=True)
    with shown.status("solving…") as update:
        update("round 2")
    assert callable(update)


def test_configure_is_what_a_verb_does_with_its_options():
    shown = Console()
    assert shown.configure("json", no_color=True) is shown
    assert shown.format is Format.json and shown.no_color
    shown.configure(None)
    assert shown.format is Format.json  # an absent option keeps what was set
    with pytest.raises(ValueError):
        shown.configure("yaml")


# ----------------------------------------------------------------------------- views


def rendered(view, fmt: Format) -> tuple[str, str]:
    shown, out, err = console(fmt)
    shown.show(view)
    return out.getvalue(), err.getvalue()


def test_a_compile_written_into_a_folder():
    warning = diagnostic("AIS524", "the model is missing", "prepare it")
    result = CompileResult({"aisprint/a.yaml": b"a", "aisprint/b.yaml": b"b"},
                           "milp+heuristic, optimal", 0.0200094048, (("emit", 0.25),),
                           (warning,))
    view = CompiledInto(result, "/tmp/deploy")
    assert rendered(view, Format.text)[0] == ("✓ compiled 2 files into /tmp/deploy/aisprint "
                                              "(placement: milp+heuristic, optimal, cost "
                                              "0.0200094)\n")
    doc = json.loads(rendered(view, Format.json)[0])
    assert doc == {"destination": "/tmp/deploy", "files": 2,
                   "placement": "milp+heuristic, optimal", "cost": 0.0200094048,
                   "warnings": [warning.to_json()]}
    assert rendered(view, Format.markdown)[0] == (
        "```text\n✓ compiled 2 files into /tmp/deploy/aisprint (placement: milp+heuristic, "
        "optimal, cost 0.0200094)\n```\n")
    assert "\x1b[" not in rendered(view, Format.github)[0]
    table = timings_table((("load", 0.5), ("emit", 1.5)))
    assert table.splitlines() == ["| stage | seconds | share |", "|---|---|---|",
                                  "| load | 0.500 | 25% |", "| emit | 1.500 | 75% |",
                                  "| total | 2.000 | 100% |"]


def test_a_check_lists_what_is_wrong_or_says_all_is_well():
    rejected = diagnostic("AIS103", "tosca-parser: unknown node type",
                          location=Location("aisprint/x/im/a.yaml"))
    stale = tuple(f"aisprint/f{i:02d}.yaml" for i in range(25))
    bad = Checked("/repo", "app", 148, (rejected,), stale)
    lines = rendered(bad, Format.text)[0].splitlines()
    assert lines[0] == "✗ aisprint/x/im/a.yaml: tosca-parser: unknown node type"
    assert lines[1] == "✗ 25 file(s) out of date in /repo (run `aisprint compile app`):"
    assert lines[2:] == [f"  aisprint/f{i:02d}.yaml" for i in range(20)]  # the first 20
    doc = json.loads(rendered(bad, Format.json)[0])
    assert doc["up_to_date"] is False and doc["passes_checks"] is False
    assert len(doc["stale"]) == 25 and doc["problems"][0]["code"] == "AIS103"
    good = Checked("/repo", "app", 148, (), ())
    assert rendered(good, Format.text)[0] == ("✓ /repo is up to date and every emitted file "
                                              "passes its consumer's checks (148 files)\n")


def small_plan(changed: bool = True):
    current = {"aisprint/deployments/base/a.yaml": b"a: 1\n"}
    desired = {"aisprint/deployments/base/a.yaml": b"a: 2\n"} if changed else current
    return make_plan(current, desired, current_side=Side("repo", "deploy:main", "1" * 40, ""),
                     desired_side=Side("compile", "working tree", "2" * 40, ""))


def test_a_plan_in_every_format():
    plan = small_plan()
    text = rendered(PlanView(plan), Format.text)[0]
    assert text.startswith("aisprint plan: 1 file(s) change")
    assert "current: deploy:main @ 111111111111" in text and "-a: 1" in text and "+a: 2" in text
    assert "-a: 1" not in rendered(PlanView(plan, diffs=False), Format.text)[0]
    markdown = rendered(PlanView(plan), Format.markdown)[0]
    assert markdown.startswith("### aisprint plan: 1 file(s) change")
    assert "<details><summary><code>aisprint/deployments/base/a.yaml</code>" in markdown
    doc = json.loads(rendered(PlanView(plan), Format.json)[0])
    assert doc["has_changes"] is True and doc["summary"]["modified"] == 1
    assert doc["artifacts"][0]["path"] == "aisprint/deployments/base/a.yaml"
    assert rendered(PlanView(plan), Format.github)[0] == text  # a log is plain text
    line = PlanHeadline(small_plan(changed=False), lead="o/r#3: ", tail="; comments: none")
    assert rendered(line, Format.text)[0] == "o/r#3: no changes; comments: none\n"
    assert json.loads(rendered(line, Format.json)[0])["has_changes"] is False


def test_a_commit_to_a_deployment_repository():
    plan = small_plan()
    done = Committed(WriteResult("main", "a" * 40, "b" * 40, pushed="origin"), plan, "../deploy")
    assert rendered(done, Format.text)[0] == (
        "✓ committed bbbbbbbbbbbb on main of ../deploy: 1 file(s) change (0 restart, "
        "1 metadata) — metadata only, pushed to origin\n")
    doc = json.loads(rendered(done, Format.json)[0])
    assert (doc["commit"], doc["previous"], doc["pushed"]) == ("b" * 40, "a" * 40, "origin")
    same = Committed(WriteResult("main", "a" * 40, None), small_plan(False), "../deploy")
    assert rendered(same, Format.text)[0] == ("✓ ../deploy (main) is up to date: nothing to "
                                              "commit\n")
    assert json.loads(rendered(same, Format.json)[0])["commit"] is None


@needs_bench
def test_a_placement_and_an_evaluation():
    outcome = solve_system_file(INSTANCE, arrival_rate=1.8, mode="heuristic", seed=1)
    placed = Placed(outcome, "system.json", "heuristic")
    out = rendered(placed, Format.text)[0]
    assert out.startswith(f"✓ cost {outcome.result.cost:.6g} at Λ = 1.8 (")
    for component in outcome.system.components:
        assert f"  {component.name}" in out
    doc = json.loads(rendered(placed, Format.json)[0])
    assert list(doc)[:4] == ["schema_version", "input", "lambda", "mode"]  # in reading order
    assert doc["input"] == "system.json" and doc["feasible"] is True
    assert set(doc["placement"]) == {c.name for c in outcome.system.components}
    table = rendered(placed, Format.markdown)[0].splitlines()
    assert table[0].startswith("**✓ cost ") and table[2] == (
        "| component | deployment | partition → resource |")
    rows = [line for line in table[4:] if line.startswith("| `")]
    assert len(rows) == len(outcome.system.components)
    _, _, evaluation = evaluate_solution_file(INSTANCE, SOLUTION)
    verdict = Evaluated(str(INSTANCE), str(SOLUTION), 1.8, evaluation)
    assert rendered(verdict, Format.text)[0].startswith(
        f"✓ feasible: cost {evaluation.cost:.6g} at Λ = 1.8\n")
    doc = json.loads(rendered(verdict, Format.json)[0])
    assert doc["feasible"] is True and doc["violations"] == []
    assert set(doc["path_response_times"]) == set(evaluation.path_times)


def test_a_design_shown_as_talk_in_text_and_as_a_table_in_markdown(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    view = Designed(design_annotations(app), design_partitions(app, max_boundary_tensors=2))
    cuts = view.rows()
    assert cuts and all(len(c["boundary_tensors"]) <= 2 for c in cuts)
    out, err = rendered(view, Format.text)
    assert out == ""  # the result is the files: the report is talk, on stderr
    assert "boundary MB" in err and err.endswith(f"designs listed in "
                                                 f"{view.report.partitions_file}\n")
    lines = rendered(view, Format.markdown)[0].splitlines()
    assert lines[0] == ("| component | cut | after node | boundary tensors | boundary MB | "
                        "input MB | FLOPs half 1 / half 2 |")
    assert len([line for line in lines[2:] if line.startswith("| ")]) == len(cuts)
    doc = json.loads(rendered(view, Format.json)[0])
    assert doc["cuts"] == cuts and doc["annotations"].endswith("annotations.yaml")
    painted = view.text(colour=True)  # a terminal gets rich's table, titled
    assert "chosen cuts" in painted and "\x1b[" in painted


def test_a_profile_campaign_in_every_format(tmp_path):
    app = new_application("demo", tmp_path)
    (tmp_path / "in.txt").write_text("hello", encoding="utf-8")
    result = profile_application(app, inputs=tmp_path / "in.txt", cores=(1,), parallelism=(1,),
                                 repetitions=2)
    view = Profiled(result)
    doc = json.loads(rendered(view, Format.json)[0])
    assert [u["unit"] for u in doc["units"]] == ["preprocess", "inference"]
    assert doc["schema_version"].endswith("/profile-result/v1.json")
    assert all(u["configurations"][0]["cores"] == 1 for u in doc["units"])
    text = rendered(view, Format.text)[0].splitlines()
    assert text[0].split() == ["unit", "resource", "cores", "mean", "s/req", "demand", "s",
                               "regressor", "MAPE"]
    assert set(text[1]) == {"-", " "}
    assert text[-1].startswith("campaign profile: 2 unit(s) profiled in ")
    table = rendered(view, Format.markdown)[0].splitlines()
    assert table[0] == "| unit | resource | cores | mean s/req | demand s | regressor | MAPE |"
    assert table[1] == "|---|---|---|---|---|---|---|"
    # one row per (unit, measured configuration) and per (unit, resource it stands for)
    expected = sum(len(u["configurations"]) + len(u["resources"]) for u in doc["units"])
    assert len([line for line in table[2:] if line.startswith("| ")]) == expected
    assert any(line.startswith("| preprocess | this host | 1 | ") for line in table)


def test_a_reconcile_cycle_is_one_line_in_every_format():
    cycle = Cycle("replaced", "c" * 40, actions=("applied 2 template(s)",),
                  triggers=(Trigger("qos", "P1", 2.5, 2.0, 0.0, "P1 at 2.5 s over 2 s"),),
                  commit="d" * 40, moves=("mask-detector to layer 3",))
    view = Reconciled(cycle, "12:00:00")
    assert rendered(view, Format.text)[0] == (
        "12:00:00 cccccccccccc: applied 2 template(s) — P1 at 2.5 s over 2 s — committed "
        "dddddddddddd (mask-detector to layer 3)\n")
    out = rendered(view, Format.json)[0]
    assert out.count("\n") == 1 and json.loads(out) == cycle.to_json()  # one object a line
    assert rendered(view, Format.markdown)[0].startswith("- `12:00:00` cccccccccccc: applied")


def test_the_small_views():
    schemas = Schemas((("application_dag", "AI-SPRINT application DAG"),))
    assert rendered(schemas, Format.text)[0] == ("application_dag          AI-SPRINT "
                                                 "application DAG\n")
    assert json.loads(rendered(schemas, Format.json)[0]) == {
        "schemas": [{"name": "application_dag", "title": "AI-SPRINT application DAG"}]}
    assert "| `application_dag` | AI-SPRINT application DAG |" in rendered(schemas,
                                                                       Format.markdown)[0]
    written = Written(("app/im/a.yaml", "app/im/b.yaml"))
    assert rendered(written, Format.text)[0] == "wrote app/im/a.yaml\nwrote app/im/b.yaml\n"
    infras = Infrastructures({"layer1": {"url": "http://im/infrastructures/1",
                                         "state": "configured"}})
    assert rendered(infras, Format.text)[0] == "layer1: configured http://im/infrastructures/1\n"
    assert json.loads(rendered(infras, Format.json)[0])["layer1"]["state"] == "configured"
    outputs = Outputs({"layer1": {"endpoint": "https://oscar"}})
    assert rendered(outputs, Format.text)[0] == "layer1:\n  endpoint: https://oscar\n"
    assert columns([("a", "bb"), ("ccc", "d")], rule=True) == "a    bb\n---  --\nccc  d\n"
    assert md_table(("a", "b"), [("x|y", "line\nbreak")]) == (
        "| a | b |\n|---|---|\n| x\\|y | line break |\n")
    assert rendered(infras, Format.markdown)[0].splitlines()[2] == (
        "| `layer1` | configured | http://im/infrastructures/1 |")


# ----------------------------------------------------------------------------- verbs


def cli(capsys, *args) -> tuple[int, str, str]:
    code = run(app, [str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_invalid_input_is_rendered_in_the_verbs_format(mask_app, capsys):
    dag = mask_app / "common_config" / "application_dag.yaml"
    dag.write_text(dag.read_text().replace("mask-alert, 1]", "mask-alert, 7]"))
    code, out, _ = cli(capsys, "space4aid", mask_app, "-o", "json")
    doc = json.loads(out)  # the diagnostics, as JSON: not text in a JSON stream
    assert code == 1 and doc["valid"] is False
    assert "AIS205" in [d["code"] for d in doc["diagnostics"]]
    code, out, _ = cli(capsys, "compile", mask_app, "--out", mask_app.parent / "o", "-o",
                       "github")
    assert code == 1 and out.startswith("::error file=")
    code, out, _ = cli(capsys, "validate", mask_app, "-o", "markdown")
    assert code == 1 and out.startswith("### ✗ ") and "| AIS205 |" in out


def test_compile_json_and_text(mask_app, capsys):
    out_dir = mask_app.parent / "out"
    code, out, err = cli(capsys, "compile", mask_app, "--out", out_dir, "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["destination"] == str(out_dir)
    assert doc["files"] == len([p for p in (out_dir / "aisprint").rglob("*") if p.is_file()])
    assert "warning AIS524" in err  # the copy has no ONNX models: a warning, on stderr
    assert [w["code"] for w in doc["warnings"]] == ["AIS524"]
    code, out, _ = cli(capsys, "compile", mask_app, "--out", out_dir, "--check", "-o", "json")
    assert code == 0 and json.loads(out)["up_to_date"] is True
    (out_dir / "aisprint" / "manifest.json").unlink()
    code, out, _ = cli(capsys, "compile", mask_app, "--out", out_dir, "--check")
    assert code == 1 and "✗ 1 file(s) out of date" in out and "aisprint/manifest.json" in out


def test_schema_list_and_a_verb_outside_run(capsys):
    code, out, _ = cli(capsys, "schema", "list", "-o", "json")
    names = [s["name"] for s in json.loads(out)["schemas"]]
    assert code == 0 and "application_dag" in names and names == sorted(names)


def test_new_application_talks_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "new-application", "demo")
    assert code == 0 and out == "" and err.startswith("created demo/")
    shutil.rmtree(tmp_path / "demo")
