import os
import textwrap

from compiler import api
from compiler.load.annotations import annotations_yaml, from_annotations_yaml, read_source
from compiler.load.application import load_application
from compiler.load.yamlpos import parse_yaml

SEED_EXPECTED = """\
mask_detection_v1/src/blurry-faces-onnx/main.py:
  component_name:
    name: blurry-faces-onnx
  exec_time:
    local_time_thr: 20
  partitionable_model:
    onnx_file: version-RFB-640.onnx
mask_detection_v1/src/mask-detector/main.py:
  component_name:
    name: mask-detector
  exec_time:
    local_time_thr: 10
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def read(tmp_path, body, folder="comp"):
    write(tmp_path / "src" / folder / "main.py", body)
    return read_source(tmp_path, f"src/{folder}/main.py", key=f"app/src/{folder}/main.py",
                       folder=folder)


def test_annotations_yaml_is_written_exactly_as_the_seed_shows(tmp_path, monkeypatch):
    app = tmp_path / "mask_detection_v1"
    write(app / "src" / "blurry-faces-onnx" / "main.py", """\
        from aisprint.annotations import annotation

        @annotation({'component_name': {'name': 'blurry-faces-onnx'},
                     'exec_time': {'local_time_thr': 20},
                     'partitionable_model': {'onnx_file': 'version-RFB-640.onnx'}})
        def main(args):
            pass
        """)
    write(app / "src" / "mask-detector" / "main.py", """\
        from aisprint.annotations import component_name, exec_time

        @component_name(name='mask-detector')
        @exec_time(local_time_thr=10)
        def main(args):
            pass
        """)
    monkeypatch.chdir(tmp_path)
    loaded = load_application("mask_detection_v1")
    assert annotations_yaml(loaded.annotations) == SEED_EXPECTED


def test_round_trip_sources_to_yaml_to_model_is_exact(prepared_examples):
    for app in prepared_examples.values():
        from_sources = load_application(str(app)).annotations
        text = annotations_yaml(from_sources)
        doc, diags = parse_yaml(text, "annotations.yaml")
        assert diags == []
        from_yaml = from_annotations_yaml(doc)
        assert from_yaml == from_sources
        assert annotations_yaml(from_yaml) == text


def test_design_writes_annotations_and_a_second_run_changes_nothing(prepared_examples, tmp_path):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(prepared_examples["smart_city"], app, symlinks=True)
    first = api.design_annotations(str(app))
    assert first.changed and len(first.components) == 12
    written = (app / "common_config" / "annotations.yaml").read_text()
    assert f"{app}{os.sep}src{os.sep}plate-reader{os.sep}main.py:" in written
    second = api.design_annotations(str(app))
    assert not second.changed
    assert api.validate(str(app)).diagnostics == ()


def test_both_forms_and_positions(tmp_path):
    found, doc, diags = read(tmp_path, """\
        import aisprint.annotations

        @aisprint.annotations.component_name(name='c')
        @aisprint.annotations.exec_time(local_time_thr=2.5, global_time_thr=7,
                                        prev_components=['a', 'b'])
        @security(trustedExecution=True, networkShield=False, filesystemShield=True)
        def main(args):
            pass
        """)
    assert diags == []
    assert found.component == "c"
    assert found.exec_time.prev_components == ("a", "b")
    assert found.security["trustedExecution"] is True
    loc = found.loc("exec_time.prev_components.1")
    assert (loc.line, loc.col) == (5, 55)  # the quote of 'b'
    assert found.loc("exec_time.local_time_thr").line == 4


def test_values_that_need_running_code_are_reported_not_dropped(tmp_path):
    _, _, diags = read(tmp_path, """\
        LIMIT = 3

        @component_name(name='c')
        @exec_time(local_time_thr=LIMIT, global_time_thr=-1.0, prev_components=['a'])
        def main(args):
            pass
        """)
    assert [(d.code, d.location.line) for d in diags] == [("AIS505", 4)]


def test_no_main_or_two_mains(tmp_path):
    assert read(tmp_path, "def run():\n    pass\n")[2][0].code == "AIS508"
    two = read(tmp_path, "def main():\n    pass\n\ndef main():\n    pass\n")[2]
    assert two[0].code == "AIS508" and two[0].location.line == 4


def test_bare_unknown_positional_duplicate(tmp_path):
    _, _, diags = read(tmp_path, """\
        import functools

        @component_name('c')
        @exec_time
        @functools.cache
        @component_name(name='c')
        def main(args):
            pass
        """)
    assert sorted(d.code for d in diags) == ["AIS502", "AIS503", "AIS504", "AIS506"]


def test_mixing_dictionary_form_with_decorators_is_an_error(tmp_path):
    _, _, diags = read(tmp_path, """\
        @annotation({'component_name': {'name': 'c'}})
        @exec_time(local_time_thr=1)
        def main(args):
            pass
        """)
    assert [d.code for d in diags] == ["AIS504"]


def test_syntax_error_points_at_the_line(tmp_path):
    _, _, diags = read(tmp_path, "def main(:\n    pass\n")
    assert diags[0].code == "AIS509" and diags[0].location.line == 1
