"""`aisprint space4aid` in its three forms, through the console script."""

import json
import shutil

import pytest

from tests.cli.test_cli import aisprint
from tests.conftest import SHARED

INSTANCE = SHARED / "benchmarks/space4ai/instances/Light/5-components/system_description1.json"
SOLUTION = SHARED / "benchmarks/space4ai/best-known/Light/5Components/Ins1/best_sol_1.8.json"
needs_bench = pytest.mark.skipif(not INSTANCE.exists(), reason="needs ../shared/benchmarks")


@needs_bench
@pytest.mark.parametrize("mode", ["fast", "exact", "heuristic"])
def test_system_file_json_output(mode, tmp_path):
    out = tmp_path / "sol.json"
    done = aisprint("space4aid", "--system", str(INSTANCE), "--lambda", "1.8", "--mode", mode,
                    "--time-limit", "30", "--write-solution", str(out), "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    for key in ("feasible", "total_cost", "solve_seconds", "optimality_gap"):
        assert key in doc
    assert doc["feasible"] is True and doc["lambda"] == 1.8
    assert doc["total_cost"] == pytest.approx(11.9588, abs=1e-4)
    if mode == "exact":
        assert doc["optimality_gap"] == 0.0 and doc["status"] == "optimal"
    if mode == "heuristic":
        assert doc["optimality_gap"] is None
    evaluated = aisprint("space4aid", "evaluate", "--system", str(INSTANCE), "--solution",
                         str(out), "-o", "json")
    verdict = json.loads(evaluated.stdout)
    assert evaluated.returncode == 0 and verdict["feasible"]
    assert verdict["total_cost"] == pytest.approx(doc["total_cost"])


@needs_bench
def test_evaluate_a_shipped_solution_with_the_python_convention():
    done = aisprint("space4aid", "evaluate", "--system", str(INSTANCE), "--solution",
                    str(SOLUTION), "--faas-rate", "component")
    assert done.returncode == 0
    assert done.stdout.startswith("✓ feasible: cost 11.9588")


@needs_bench
def test_max_load_is_reported():
    done = aisprint("space4aid", "--system", str(INSTANCE), "--lambda", "1.8", "--max-load",
                    "-o", "json")
    doc = json.loads(done.stdout)
    assert doc["max_lambda"] >= 1.8


def test_application_folder(prepared_examples, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    done = aisprint("space4aid", str(app))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ cost" in done.stdout and "proven optimal" in done.stdout
    assert (app / "aisprint/deployments/optimal_deployment/production_deployment.yaml").is_file()


@pytest.mark.parametrize("hostile", ["aisprint", "aisprint/deployments/optimal_deployment"])
def test_a_symlinked_output_folder_in_the_application_is_refused(prepared_examples, tmp_path,
                                                                 hostile):
    """A pull request's `aisprint -> /elsewhere` must not take space4aid's write out of it."""
    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (app / hostile).parent.mkdir(parents=True, exist_ok=True)
    (app / hostile).symlink_to(elsewhere, target_is_directory=True)
    done = aisprint("space4aid", str(app))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert ("AIS952" in out or "AIS006" in out) and str(app / hostile) in out
    assert list(elsewhere.rglob("*")) == []


@pytest.mark.parametrize("args", [
    ["space4aid"],  # neither an application nor --system
    ["space4aid", "evaluate", "--system", "x.json"],  # no --solution
    ["space4aid", "--system", "x.json", "--mode", "fastest"],
    ["space4aid", "--system", "x.json", "--faas-rate", "sometimes"],
])
def test_usage_errors(args):
    done = aisprint(*args)
    assert done.returncode == 64, done.stderr
    assert "Traceback" not in done.stderr


def test_bad_system_file_is_invalid_input(tmp_path):
    bad = tmp_path / "s.json"
    bad.write_text('{"DirectedAcyclicGraph": {}, "Components": 3}')
    done = aisprint("space4aid", "--system", str(bad))
    assert done.returncode == 1
    assert "AIS10" in done.stdout and "Traceback" not in done.stderr
    bad.write_text("{not json")
    assert aisprint("space4aid", "--system", str(bad)).returncode == 1
