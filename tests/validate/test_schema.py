import json

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from compiler.load.annotations import annotations_yaml
from compiler.load.application import load_application
from compiler.load.yamlpos import parse_yaml
from compiler.validate.schema import (
    INPUT_SCHEMAS,
    downlevel_draft07,
    dumps,
    load_schema,
    schema_names,
    validate_document,
)
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
