import json

from compiler.console.diagnostics import render_github, render_json, render_text
from compiler.diagnostics import CODES, Location, Severity, codes_markdown, diagnostic
from tests.conftest import REPO


def test_codes_are_stable_identifiers_with_unique_titles():
    assert all(code.startswith("AIS") and len(code) == 6 for code in CODES)
    titles = [info.title for info in CODES.values()]
    assert len(titles) == len(set(titles))


def test_docs_table_is_generated_from_the_catalogue():
    assert (REPO / "docs" / "diagnostics.md").read_text() == codes_markdown(), \
        "run: python -c 'from compiler.diagnostics import codes_markdown; " \
        "print(codes_markdown(), end=\"\")' > docs/diagnostics.md"


def test_text_shows_place_source_line_caret_and_hint(tmp_path):
    source = tmp_path / "a.yaml"
    source.write_text("System:\n  name: x\n  components: [a, b]\n")
    d = diagnostic("AIS204", "component 'b' appears in no dependency", "connect it",
                   Location(str(source), 3, 19))
    text = render_text([d])
    lines = text.splitlines()
    assert lines[0] == f"{source}:3:19: error AIS204: component 'b' appears in no dependency"
    assert lines[1].endswith("|   components: [a, b]")
    assert lines[2].index("^") == lines[1].index("b]")
    assert lines[3] == "  hint: connect it"
    assert lines[-1] == "✗ 1 error(s), 0 warning(s)"


def test_text_colour_only_when_asked():
    d = diagnostic("AIS601", "a secret", "use ${VAR}")
    assert "\x1b[" not in render_text([d])
    assert "\x1b[" in render_text([d], colour=True)
    assert render_text([]).strip() == "✓ valid"


def test_json_has_schema_version_and_every_field():
    d = diagnostic("AIS103", "bad", "fix", Location("f.yaml", 2, 3, "/a/b"))
    doc = json.loads(render_json([d], subject="app"))
    assert doc["valid"] is False and doc["subject"] == "app"
    assert doc["summary"] == {"errors": 1, "warnings": 0, "infos": 0}
    assert doc["diagnostics"][0] == {
        "code": "AIS103", "title": "schema-type", "severity": "error", "message": "bad",
        "hint": "fix", "file": "f.yaml", "line": 2, "col": 3, "pointer": "/a/b", "related": []}


def test_github_commands_escape_newlines_commas_and_colons():
    d = diagnostic("AIS601", "50% of a key: leaked\nreally", "rotate, then ${VAR}",
                   Location("dir,x/f:1.yaml", 4, 5))
    first = render_github([d]).splitlines()[0]
    assert first.startswith("::warning file=dir%2Cx/f%3A1.yaml,line=4,col=5,"
                            "title=AIS601 secret-in-file::")
    assert "50%25 of a key: leaked%0Areally%0Ahint: rotate, then ${VAR}" in first


def test_default_severity_comes_from_the_catalogue():
    assert diagnostic("AIS601", "m").severity is Severity.WARNING
    assert diagnostic("AIS201", "m").severity is Severity.ERROR
