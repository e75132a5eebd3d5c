"""Random mutations of valid applications: the validator never raises, always exits 0 or 1,
and exit 1 always comes with at least one error diagnostic."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli.main import app as cli
from compiler.cli.main import run
from tests.conftest import copy_example

FILES = (
    "common_config/application_dag.yaml",
    "common_config/candidate_resources.yaml",
    "common_config/candidate_deployments.yaml",
    "common_config/physical_nodes.yaml",
    "space4ai-d/SPACE4AI-D.yaml",
    "src/mask-detector/main.py",
)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
    # numbers past every range (#14): NaN and ±inf everywhere, integers float() cannot hold
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -(10**400), 10**400]),
    st.integers(-(10**400), 10**400),
    st.text(max_size=12), st.sampled_from(["RaspPi4", "mask-detector", "computationalLayer9",
                                           "1", "-1", "${X}", "", "X_partitionX_1"]))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3),
                   st.dictionaries(st.text(max_size=6), SCALARS, max_size=2))


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, prefix + (i,))


def mutate(data, draw):
    data = copy.deepcopy(data)
    targets = [p for p in paths(data) if p]
    for _ in range(draw(st.integers(1, 3))):
        if not targets:
            break
        path = draw(st.sampled_from(targets))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["delete", "replace", "rename", "duplicate", "insert"]))
        last = path[-1]
        try:
            if op == "delete":
                del parent[last]
            elif op == "replace":
                parent[last] = draw(VALUES)
            elif op == "rename" and isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(last)
            elif op == "duplicate" and isinstance(parent, list):
                parent.append(copy.deepcopy(parent[last]))
            elif op == "insert" and isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "name", "number", "Resources"]))] = \
                    draw(VALUES)
        except (KeyError, IndexError, TypeError):
            pass
        targets = [p for p in paths(data) if p]
    return data


def check_cli(app) -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(cli, ["validate", str(app), "--output", "json"])
    assert code in (0, 1)
    report = json.loads(out.getvalue())
    assert report["valid"] == (code == 0)
    if code == 1:
        assert report["summary"]["errors"] >= 1
        assert all(d["file"] and d["message"] and d["code"] for d in report["diagnostics"])
    return code


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("property")
    app = copy_example("mask_detection", root, models=False)
    pristine = {f: (app / f).read_bytes() for f in FILES}
    return app, pristine


SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_structural_mutations_never_crash(workspace, data):
    app, pristine = workspace
    file = data.draw(st.sampled_from(FILES[:-1]))
    try:
        original = yaml.safe_load(pristine[file])
        mutated = mutate(original, data.draw)
        (app / file).write_text(yaml.safe_dump(mutated, sort_keys=False, allow_unicode=True))
        check_cli(app)
    finally:
        (app / file).write_bytes(pristine[file])


@SETTINGS
@given(st.data())
def test_text_mutations_never_crash(workspace, data):
    app, pristine = workspace
    file = data.draw(st.sampled_from(FILES))
    text = pristine[file].decode()
    try:
        for _ in range(data.draw(st.integers(1, 3))):
            at = data.draw(st.integers(0, len(text)))
            if data.draw(st.booleans()):
                text = text[:at] + text[at + data.draw(st.integers(1, 40)):]
            else:
                junk = data.draw(st.text(alphabet=":-[]{}#&*!|>'\"%@` \n\t,?x1", max_size=6))
                text = text[:at] + junk + text[at:]
        (app / file).write_text(text)
        check_cli(app)
    finally:
        (app / file).write_bytes(pristine[file])


def test_workspace_restored_is_valid(workspace):
    app, _ = workspace
    assert check_cli(app) == 0  # every mutation was undone: the example validates again
    shutil.rmtree(app / "src" / "mask-alert" / "__pycache__", ignore_errors=True)
