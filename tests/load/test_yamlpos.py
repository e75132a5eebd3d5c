from compiler.load.yamlpos import parse_yaml, pointer


def parse(text):
    doc, diags = parse_yaml(text, "f.yaml")
    return doc, diags


def test_values_and_keys_keep_line_and_column():
    doc, diags = parse("System:\n  name: app\n  components:\n    - a\n    - b\n")
    assert diags == []
    assert doc.data == {"System": {"name": "app", "components": ["a", "b"]}}
    assert (doc.loc(("System", "name")).line, doc.loc(("System", "name")).col) == (2, 9)
    assert doc.loc(("System", "name"), key=True).col == 3
    assert doc.loc(("System", "components", 1)).line == 5
    assert doc.loc(("System", "components", 1)).pointer == "/System/components/1"


def test_missing_path_falls_back_to_nearest_parent():
    doc, _ = parse("a:\n  b: 1\n")
    loc = doc.loc(("a", "nothere", "deeper"))
    assert (loc.line, loc.col) == (2, 3)
    assert loc.pointer == "/a/nothere/deeper"


def test_flow_style_positions():
    doc, _ = parse("deps: [[a, b, 1], [b, c, 0.5]]\n")
    loc = doc.loc(("deps", 1, 2))
    assert (loc.line, loc.col) == (1, 26)


def test_duplicate_keys_are_reported_with_both_places():
    doc, diags = parse("a: 1\nb: 2\na: 3\n")
    assert doc.data == {"a": 3, "b": 2}
    assert [d.code for d in diags] == ["AIS003"]
    assert diags[0].location.line == 3
    assert diags[0].related[0].line == 1


def test_syntax_error_has_a_place_and_no_document():
    doc, diags = parse("a: [1, 2\nb: 3\n")
    assert doc is None
    assert diags[0].code == "AIS002" and diags[0].location.line >= 1


def test_empty_document():
    doc, diags = parse("# only a comment\n")
    assert doc is None and diags[0].code == "AIS004"


def test_yaml_1_1_scalars_and_timestamps_stay_plain():
    doc, _ = parse("b: False\nv: 22.04\nd: 2023-01-01\ne: 5e-05\nn: ~\n")
    assert doc.data == {"b": False, "v": 22.04, "d": "2023-01-01", "e": "5e-05", "n": None}


def test_an_explicit_timestamp_must_be_one_though_it_stays_text():
    """Files are copied into the compiled tree as written: a `!!timestamp never` there would
    crash every YAML reader downstream (the plan's, IM's)."""
    doc, _ = parse("c: !!timestamp 2023-01-01T10:00:00Z\n")
    assert doc.data == {"c": "2023-01-01T10:00:00Z"}
    doc, diags = parse("c: !!timestamp never\n")
    assert doc is None and diags[0].code == "AIS002" and "timestamp" in diags[0].message


def test_aliases_and_merge_keys():
    doc, diags = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert diags == []
    assert doc.data["other"] == {"x": 1, "y": 3}


def test_alias_bomb_is_refused_not_expanded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    doc, diags = parse("\n".join(lines) + "\n")
    assert doc is None and diags[0].code == "AIS002"
    assert "too many values" in diags[0].message


def test_unknown_tags_are_refused():
    doc, diags = parse("a: !!python/object:os.system ls\n")
    assert doc is None and "unsupported YAML tag" in diags[0].message


def test_complex_keys_are_refused():
    doc, diags = parse("? [a, b]\n: 1\n")
    assert doc is None and diags[0].code == "AIS002"


def test_pointer_escapes():
    assert pointer(("a/b", "c~d", 0)) == "/a~1b/c~0d/0"
