import json

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from compiler.load.annotations import annotations_yaml
from compiler.load.application import load_application
from compiler.load.schema import (
    INPUT_SCHEMAS,
    downlevel_draft07,
    dumps,
    load_schema,
    schema_names,
    validate_document,
)
from compiler.load.yamlpos import parse_yaml
from tests.conftest import REPO

EDITOR = REPO / "schemas" / "editor"


@pytest.mark.parametrize("name", schema_names())
def test_schema_is_valid_draft_2020_12_with_docs(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}/v1.json")
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", schema_names())
def test_editor_copy_is_in_sync_and_valid_draft_07(name):
    expected = dumps(downlevel_draft07(load_schema(name)))
    path = EDITOR / f"{name}.draft07.json"
    assert path.read_text() == expected, \
        "regenerate with: aisprint schema export schemas/editor --draft07"
    Draft7Validator.check_schema(json.loads(expected))


@pytest.mark.parametrize("name", INPUT_SCHEMAS)
def test_both_dialects_agree_on_the_examples(name, prepared_examples):
    """The draft-07 copy an editor uses accepts and rejects the same documents."""
    draft07 = Draft7Validator(downlevel_draft07(load_schema(name)))
    modern = Draft202012Validator(load_schema(name))
    rel = {"application_dag": "common_config/application_dag.yaml",
           "candidate_resources": "common_config/candidate_resources.yaml",
           "candidate_deployments": "common_config/candidate_deployments.yaml",
           "physical_nodes": "common_config/physical_nodes.yaml",
           "space4ai_d": "space4ai-d/SPACE4AI-D.yaml"}.get(name)
    for app in prepared_examples.values():
        if rel is None:  # annotations.yaml is written by `aisprint design`, not committed
            text = annotations_yaml(load_application(str(app)).annotations)
        else:
            text = (app / rel).read_text()
        doc, _ = parse_yaml(text, rel or "annotations.yaml")
        assert draft07.is_valid(doc.data) and modern.is_valid(doc.data)
        broken = {"unexpected": True, **doc.data}
        assert not draft07.is_valid(broken) and not modern.is_valid(broken)


def test_schema_examples_are_valid():
    for name in schema_names():
        schema = load_schema(name)
        for example in schema.get("examples", []):
            Draft202012Validator(schema).validate(example)


def test_every_property_of_user_files_is_documented():
    """Completion and hover docs: every object property has a title or description."""
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and not ({"title", "description", "$ref"} & set(sub)):
                    missing.append(f"{where}.{key}")
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for name in ("application_dag", "candidate_resources", "candidate_deployments"):
        walk(load_schema(name), name)
    assert missing == []


def test_messages_name_the_key_and_suggest_the_fix():
    doc, _ = parse_yaml("System:\n  name: a\n  componets: [x]\n", "dag.yaml")
    diags = validate_document(doc, "application_dag")
    by_code = {d.code: d for d in diags}
    assert by_code["AIS102"].hint == "did you mean 'components'?"
    assert by_code["AIS102"].location.line == 3
    assert "missing the required key 'components'" in by_code["AIS101"].message


# ----------------------------------------------------------------------------- numbers


def _diags(text: str, schema: str = "components_data_size"):
    doc, _ = parse_yaml(text, "f.yaml")
    return validate_document(doc, schema)


def test_nan_and_infinities_are_refused_once_each_with_the_range():
    diags = _diags("a: .nan\nb: .inf\nc: -.inf\nd: 0.5\n")
    assert [(d.code, d.location.line) for d in diags] == [("AIS109", 1), ("AIS109", 2),
                                                          ("AIS109", 3)]
    assert "is NaN, not a finite number; valid range: 0 <= x <= 1000000" in diags[0].message
    assert "is inf" in diags[1].message  # not also AIS105 for being above the maximum
    assert "MB sent" in diags[0].hint  # what the number means, from the schema


def test_huge_integers_are_compared_exactly_never_converted():
    """float(10**400) raises OverflowError; the check must not, and says how long it is."""
    diags = _diags("a: " + "9" * 400 + "\nb: -" + "9" * 400 + "\n")
    assert [d.code for d in diags] == ["AIS110", "AIS110"]
    assert "a 400-digit integer" in diags[0].message
    assert "-a 400-digit integer" in diags[1].message


def test_magnitude_bound_applies_where_the_schema_has_no_range():
    from compiler.load.schema import MAGNITUDE

    doc, _ = parse_yaml("Seed: 1.0e+13\nVerboseLevel: 1\n", "s.yaml")
    diags = validate_document(doc, "space4ai_d")
    assert [d.code for d in diags] == ["AIS110"]
    assert f"valid range: {-MAGNITUDE:g} <= x <= {MAGNITUDE:g}" in diags[0].message


def test_a_schema_that_allows_more_than_the_bound_is_obeyed():
    from compiler.load.schema import number_diagnostics
    from compiler.load.yamlpos import parse_yaml as parse

    schema = {"type": "object", "properties": {"big": {"type": "integer", "maximum": 10**15}}}
    doc, _ = parse("big: 100000000000000\nother: 100000000000000\n", "f.yaml")
    diags = number_diagnostics(doc, schema)
    assert [d.location.line for d in diags] == [2]


def test_json_non_finite_literals_read_as_text_are_named_as_such():
    """JSON's NaN/Infinity/1e999 reach the schema as text when YAML gives the lines."""
    doc, _ = parse_yaml('{"a": NaN, "b": Infinity, "c": 1e999, "d": "x"}', "f.json")
    diags = validate_document(doc, "components_data_size")
    assert sorted((d.location.pointer, d.code) for d in diags) == [
        ("/a", "AIS109"), ("/b", "AIS109"), ("/c", "AIS109"), ("/d", "AIS103")]


def test_range_errors_name_the_whole_range():
    diags = _diags("System:\n  name: a\n  NetworkDomains:\n    ND1:\n      name: n\n"
                   "      AccessDelay: 0\n      Bandwidth: 0\n      subNetworkDomains: []\n",
                   "candidate_resources")
    assert [d.code for d in diags] == ["AIS105"]
    assert diags[0].message.endswith("is 0 but must be >= 1e-06; valid range: "
                                     "1e-06 <= x <= 10000000")


@pytest.mark.parametrize("name", schema_names())
def test_every_input_number_that_feeds_the_placement_has_a_range(name):
    """A number without maximum falls back to ±1e12: fine for a seed, not for a cost."""
    unbounded = []

    def walk(node, where):
        if isinstance(node, dict):
            kind = node.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            if ("number" in kinds or "integer" in kinds) and "maximum" not in node \
                    and "exclusiveMaximum" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}/{i}")

    walk(load_schema(name), "")
    # outputs (plan, manifest, dashboards) are written by the tool; these inputs are free text
    # or identifiers the placement never computes with
    allowed = {
        "annotations": {"test_threshold"}, "application_dag": {"prefixItems/2"},
        "candidate_resources": {"operatingSystemVersion"}, "space4ai_d": {"Seed"},
        "scone_session": {"size"}}
    if name in ("plan", "manifest", "grafana_dashboard"):
        return
    rest = [w for w in unbounded if not any(w.endswith(a) for a in allowed.get(name, ()))]
    assert rest == []
