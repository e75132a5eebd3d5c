"""Numbers are finite and in range everywhere (#14), through the command line.

Each probe breaks one number of a copy of the mask-detection example the way the issue found
it crashing the tool (NaN, ±inf, a 400-digit integer, a cost of 1e300, a zero the FaaS model
divides by). `aisprint validate` and `aisprint compile --out` must both exit 1 with the file and
line of the number and its valid range, and compile must write nothing. Then the opposite: the
ends of every range compile (or explain why no placement exists), never crash."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler.cli.main import app as cli
from compiler.cli.main import run
from compiler.load.schema import load_schema, number_schema, numbers_in

RES = "common_config/candidate_resources.yaml"
DEP = "common_config/candidate_deployments.yaml"
S4 = "space4ai-d/SPACE4AI-D.yaml"
SIZES = "oscarp/components_data_size.yaml"
PERF = "oscarp/performance_models.json"
MASK = "src/mask-detector/main.py"
ALERT = "src/mask-alert/main.py"
HUGE = "9" * 400

# (id, file, old text, new text, code, text of the valid range in the message)
PROBES = [
    ("annotation-1e999", MASK, "local_time_thr=10", "local_time_thr=1e999", "AIS109",
     "0.001 <= x <= 1000000"),
    ("annotation-zero", ALERT, "local_time_thr=2,", "local_time_thr=0,", "AIS105",
     "0.001 <= x <= 1000000"),
    ("data-size-nan", SIZES, "mask-detector: 0.002", "mask-detector: .nan", "AIS109",
     "0 <= x <= 1000000"),
    ("access-delay-nan", RES, "AccessDelay: 0.03", "AccessDelay: .nan", "AIS109",
     "0 <= x <= 3600"),
    ("bandwidth-minus-inf", RES, "Bandwidth: 2.5", "Bandwidth: -.inf", "AIS109",
     "1e-06 <= x <= 10000000"),
    ("bandwidth-zero", RES, "Bandwidth: 2.5", "Bandwidth: 0", "AIS105",
     "1e-06 <= x <= 10000000"),
    ("nodes-400-digits", RES, "totalNodes: 3", f"totalNodes: {HUGE}", "AIS110",
     "1 <= x <= 1000"),
    ("memory-400-digits", DEP, "memorySize: 2048", f"memorySize: {HUGE}", "AIS110",
     "0 < x <= 1000000000"),
    ("cost-1e300", RES, "cost: 0.02", "cost: 1.0e+300", "AIS110", "0 <= x <= 10000"),
    ("cost-over-range", RES, "cost: 0.02", "cost: 20000", "AIS105", "0 <= x <= 10000"),
    ("demand-warm-zero", PERF, '"demandWarm": 0.14', '"demandWarm": 0', "AIS105",
     "1e-06 <= x <= 1000000"),
    ("demand-cold-json-nan", PERF, '"demandCold": 2.6', '"demandCold": NaN', "AIS109",
     "1e-06 <= x <= 1000000"),
    ("demand-json-infinity", PERF, '"demand": 0.16', '"demand": Infinity', "AIS109",
     "0 <= x <= 1000000"),
    ("demand-json-1e999", PERF, '"demand": 0.16', '"demand": 1e999', "AIS109",
     "0 <= x <= 1000000"),
    ("demand-400-digits", PERF, '"demand": 0.16', f'"demand": {HUGE}', "AIS110",
     "0 <= x <= 1000000"),
]


def cli_run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(cli, list(argv))
    return code, out.getvalue() + err.getvalue()


def edit(app: Path, file: str, old: str, new: str) -> int:
    """Replace ``old`` once; return the line it starts on."""
    path = app / file
    text = path.read_text()
    assert old in text, f"probe is stale: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))
    return text[:text.index(old)].count("\n") + 1


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("AISPRINT_DEBUG", raising=False)


@pytest.mark.parametrize(("file", "old", "new", "code", "valid"),
                         [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_probe_is_refused_with_line_and_range(mask_app, tmp_path, file, old, new, code, valid):
    line = edit(mask_app, file, old, new)
    where = f"{mask_app / file}:{line}:"
    for argv in (["validate", str(mask_app)],
                 ["compile", str(mask_app), "--out", str(tmp_path / "out")]):
        status, output = cli_run(*argv)
        assert status == 1, (argv[0], output)
        assert "internal error" not in output and "Traceback" not in output
        assert re.search(rf"{re.escape(where)}\d+: error {code}\b", output), (argv[0], output)
        assert f"valid range: {valid}" in output, output
    assert not (tmp_path / "out").exists(), "compile wrote something for a bad input"


def test_integer_past_pythons_conversion_limit_is_refused(mask_app, tmp_path):
    """4300+ digits: Python refuses to convert the text at all (ValueError); still exit 1."""
    edit(mask_app, PERF, '"demand": 0.16', '"demand": ' + "9" * 5000)
    for argv in (["validate", str(mask_app)],
                 ["compile", str(mask_app), "--out", str(tmp_path / "out")]):
        status, output = cli_run(*argv)
        assert status == 1 and "internal error" not in output, output
        assert str(mask_app / PERF) in output
    assert not (tmp_path / "out").exists()


def test_json_exponent_is_a_number_in_performance_models(mask_app):
    """json.dump writes small demands as 1e-06: JSON reads a number there, so must we."""
    edit(mask_app, PERF, '"demandWarm": 0.14', '"demandWarm": 1e-06')
    status, output = cli_run("validate", str(mask_app))
    assert status == 0, output


# ------------------------------------------------------------------ the ends of every range

# Numbers that feed the placement; "low" ones go to their minimum in the generous variant
# (short demands, no access delay), the rest to their maximum (huge costs, 1000 nodes, 1e6
# requests per second, limits of 1e6 s, 1 TB per transfer, a horizon of 1e4).
PLACEMENT_KEYS = {"AccessDelay", "Bandwidth", "totalNodes", "cost", "memorySize",
                  "computingUnits", "idleTime", "transitionCost", "storageSize",
                  "internalMemory", "demand", "demandWarm", "demandCold", "Time"}
LOW_IN_GENEROUS = {"AccessDelay", "demand", "demandWarm", "demandCold"}
FILES = {RES: "candidate_resources", DEP: "candidate_deployments", S4: "space4ai_d",
         SIZES: "components_data_size", PERF: "performance_models"}


def _end(schema: dict, path: tuple, end: str):
    node = number_schema(schema, path)
    if end == "max":
        value = node["maximum"]
    elif "exclusiveMinimum" in node:
        value = node["exclusiveMinimum"] + 1e-6
    else:
        value = node["minimum"]
    return int(value) if node.get("type") == "integer" else float(value)


def set_ends(app: Path, variant: str) -> None:
    """Every placement number of ``app`` at an end of its schema range."""
    for rel, name in FILES.items():
        path = app / rel
        text = path.read_text()
        data = json.loads(text) if rel.endswith(".json") else yaml.safe_load(text)
        schema = load_schema(name)
        for where, _ in list(numbers_in(data)):
            key = str(where[-1])
            if name != "components_data_size" and key not in PLACEMENT_KEYS:
                continue
            end = variant if variant != "generous" else (
                "min" if key in LOW_IN_GENEROUS else "max")
            node = data
            for part in where[:-1]:
                node = node[part]
            node[where[-1]] = _end(schema, where, end)
        path.write_text(json.dumps(data, indent=1) if rel.endswith(".json")
                        else yaml.safe_dump(data, sort_keys=False))
    limit, rate = ("0.001", "1e-06") if variant == "min" else ("1000000", "1000000")
    for main in app.glob("src/*/main.py"):
        text = re.sub(r"((?:local|global)_time_thr['\"]?\s*[=:]\s*)[0-9.e+-]+", rf"\g<1>{limit}",
                      main.read_text())
        main.write_text(re.sub(r"(rate['\"]?\s*[=:]\s*)[0-9.e+-]+", rf"\g<1>{rate}", text))


@pytest.mark.parametrize("variant", ["generous", "min", "max"])
def test_the_ends_of_every_range_compile_or_explain(prepared_examples, tmp_path, variant):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app, symlinks=True,
                    ignore=shutil.ignore_patterns("aisprint", "__pycache__"))
    set_ends(app, variant)
    status, output = cli_run("validate", str(app))
    assert status == 0, output  # the ends are valid, by definition
    status, output = cli_run("compile", str(app), "--out", str(tmp_path / "out"))
    assert "internal error" not in output and "Traceback" not in output, output
    if variant == "max":  # 1e6 s demands at 1e6 requests per second: nothing is stable
        assert status == 1 and "AIS804" in output, output
        assert not (tmp_path / "out").exists()
    else:
        assert status == 0, output
        assert "placement:" in output


# ------------------------------------------------------------------ anywhere inside the ranges


@pytest.fixture(scope="module")
def placement_app(tmp_path_factory):
    from tests.conftest import copy_example

    app = copy_example("mask_detection", tmp_path_factory.mktemp("ranges"))
    return app, {rel: (app / rel).read_bytes() for rel in FILES}


# Times drawn mostly where a placement exists (the example's limits are 2 to 40 s), so that
# most draws go all the way through; the ends of these ranges are tested above.
TYPICAL_HIGH = {"demand": 1.0, "demandWarm": 1.0, "demandCold": 10.0, "AccessDelay": 0.1}


def _anywhere(draw, node: dict, key: str):
    low = node.get("exclusiveMinimum", node.get("minimum"))
    high = node["maximum"]
    if node.get("type") == "integer":
        return draw(st.one_of(st.sampled_from([low, high]), st.integers(low, high)))
    floor = low if low > 0 else 1e-9
    top = TYPICAL_HIGH.get(key, high)
    inner = st.floats(math.log10(floor), math.log10(top)).map(lambda e: 10 ** e)
    ends = st.sampled_from([top] + ([low] if "minimum" in node else []))
    value = draw(st.one_of(inner, ends))
    return min(max(value, floor if "exclusiveMinimum" in node else low), high)


@settings(max_examples=12, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: each example compiles
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_numbers_anywhere_in_their_ranges_never_crash_compile(placement_app, tmp_path, data):
    """Every placement number of the example drawn from its schema range: compile places it
    (exit 0) or says no placement exists (AIS804) or which rule the draw broke, never a crash."""
    app, pristine = placement_app
    try:
        for rel, name in FILES.items():
            text = pristine[rel].decode()
            doc = json.loads(text) if rel.endswith(".json") else yaml.safe_load(text)
            schema = load_schema(name)
            for where, _ in list(numbers_in(doc)):
                key = str(where[-1])
                # memory is left alone: a container larger than every node is AIS306
                if name != "components_data_size" and (key not in PLACEMENT_KEYS
                                                       or key == "memorySize"):
                    continue
                target = doc
                for part in where[:-1]:
                    target = target[part]
                target[where[-1]] = _anywhere(data.draw, number_schema(schema, where), key)
            (app / rel).write_text(json.dumps(doc) if rel.endswith(".json")
                                   else yaml.safe_dump(doc, sort_keys=False))
        valid, output = cli_run("validate", str(app))
        # a cross-file rule may still refuse the draw (a container larger than its node)
        assert valid in (0, 1) and "internal error" not in output, output
        out = tmp_path / f"out{data.draw(st.integers(0, 10**9))}"
        status, output = cli_run("compile", str(app), "--out", str(out))
        assert "internal error" not in output, output
        if valid == 0:
            assert status == 0 or (status == 1 and "AIS804" in output), output
        else:
            assert status == 1, output
        assert (status == 0) == out.exists()
    finally:
        for rel, content in pristine.items():
            (app / rel).write_bytes(content)
