"""The input boundary (compiler/load/files.py), unit by unit and end to end through the CLI:
every hostile input is exit 1 with its file and line, nothing is written, and nothing from
outside the application reaches the output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import api
from compiler.cli.main import app as cli
from compiler.cli.main import run
from compiler.load import files

MARKER = "OUTSIDE-MARKER-7f3a9c"  # written only outside the application


def aisprint(args, capsys) -> tuple[int, str]:
    code = run(cli, [str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out + out.err


def aisprint_process(*args, timeout=60) -> subprocess.CompletedProcess:
    """A separate process, for inputs that could hang a reader: a hang fails the test."""
    return subprocess.run([sys.executable, "-m", "compiler.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def tree_text(folder: Path) -> str:
    """Every byte under a folder (links not followed), for 'the marker is nowhere' checks."""
    out = []
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def outside_file(tmp_path: Path, name: str = "outside.txt") -> Path:
    path = tmp_path / "elsewhere" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"{MARKER}\nsecond line {MARKER}\n")
    return path


def at(text: str, file: Path, code: str) -> int:
    """The line a diagnostic of ``code`` reports for ``file`` (asserts there is one)."""
    match = re.search(rf"^{re.escape(str(file))}:(\d+):\d+: error {code}\b", text, re.M)
    assert match, f"no {code} at {file}:<line> in:\n{text}"
    return int(match.group(1))


# ----------------------------------------------------------------------------- unit


def test_locate_follows_links_inside_and_names_the_link_that_leads_out(tmp_path):
    root = tmp_path / "app"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "x.txt").write_text("inside")
    (root / "src").mkdir()
    (root / "src" / "shared").symlink_to("../lib")
    (root / "src" / "out").symlink_to(tmp_path)
    real, problem = files.locate(root, "src/shared/x.txt")
    assert problem is None and real == str((root / "lib" / "x.txt").resolve())
    assert files.read_text(root, "src/shared/x.txt") == ("inside", None)
    _, problem = files.locate(root, "src/out/app/lib/x.txt")
    assert problem.code == "AIS006" and problem.location.file == str(root / "src" / "out")
    for leaving in ("../x", "/etc/passwd", "src/../../x"):
        _, problem = files.locate(root, leaving)
        assert problem.code == "AIS006" and problem.location.line == 0  # no line to print


def test_text_is_utf8_with_an_optional_bom_and_a_bad_byte_has_its_line(tmp_path):
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert files.read_text(tmp_path, "bom.yaml") == ("a: 1\n", None)
    (tmp_path / "bad.yaml").write_bytes(b"a: 1\nb: caf\xe9\n")
    text, problem = files.read_text(tmp_path, "bad.yaml")
    assert text is None and problem.code == "AIS005"
    assert (problem.location.line, problem.location.col) == (2, 7)


def test_sizes_are_capped_without_reading_the_file(tmp_path):
    big = tmp_path / "model.onnx"
    with big.open("wb") as handle:  # sparse: no disk used
        handle.truncate(files.FILE_CAP + 1)
    data, problem = files.read_bytes(tmp_path, "model.onnx")
    assert data is None and problem.code == "AIS008" and "512 MiB" in problem.message
    (tmp_path / "a.yaml").write_text("#" * (files.TEXT_CAP + 1))
    assert files.read_text(tmp_path, "a.yaml")[1].code == "AIS008"


def test_walk_ends_on_link_loops_and_refuses_pipes(tmp_path):
    root = tmp_path / "app"
    (root / "src" / "c").mkdir(parents=True)
    (root / "src" / "c" / "main.py").write_text("x = 1\n")
    (root / "src" / "c" / "loop").symlink_to("..")
    os.mkfifo(root / "src" / "c" / "pipe")
    (root / "src" / "c" / "gone").symlink_to("missing.py")
    listed, problems = files.walk(root, "src")
    assert listed == ["src/c/main.py"]
    assert [(p.code, p.location.file, p.location.line) for p in problems] == [
        ("AIS005", str(root / "src" / "c" / "gone"), 1),
        ("AIS007", str(root / "src" / "c" / "pipe"), 1)]


def test_source_lines_never_open_a_link_or_a_pipe(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(outside_file(tmp_path))
    assert files.source_lines(tmp_path / "pipe") is None
    assert files.source_lines(tmp_path / "link") is None


# ----------------------------------------------------------------------------- end to end


def test_a_symlink_in_src_to_the_environment_is_refused_and_nothing_is_written(
        mask_app, tmp_path, capsys):
    link = mask_app / "src" / "mask-alert" / "env.txt"
    link.symlink_to("/proc/self/environ")
    code, text = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(text, link, "AIS006") == 1
    deploy = tmp_path / "deploy"
    code, text = aisprint(["compile", mask_app, "--repo", deploy], capsys)
    assert code == 1 and at(text, link, "AIS006") == 1
    assert not deploy.exists() or not any(p.name != ".git" for p in deploy.iterdir())
    assert not (mask_app / "aisprint").exists()


def test_a_symlink_to_a_file_outside_never_reaches_the_output(mask_app, tmp_path, capsys):
    link = mask_app / "src" / "mask-alert" / "notes.txt"
    link.symlink_to(outside_file(tmp_path))
    out = tmp_path / "out"
    for args in (["validate", mask_app], ["compile", mask_app, "--out", out],
                 ["validate", mask_app, "-o", "json"], ["validate", mask_app, "-o", "github"]):
        code, text = aisprint(args, capsys)
        assert code == 1 and "AIS006" in text and MARKER not in text
    assert not out.exists() or MARKER not in tree_text(out)
    # inside the application a link is followed: the same file hard-linked in works
    link.unlink()
    os.link(outside_file(tmp_path), link)
    code, _ = aisprint(["compile", mask_app, "--out", out], capsys)
    assert code == 0
    assert (out / "aisprint/designs/mask-alert/base/notes.txt").read_text().startswith(MARKER)


def test_a_symlinked_config_file_is_refused_and_its_first_line_not_printed(
        mask_app, tmp_path, capsys):
    target = mask_app / "common_config" / "candidate_resources.yaml"
    outside = tmp_path / "elsewhere" / "candidate_resources.yaml"
    outside.parent.mkdir()
    outside.write_text(f"# {MARKER}\n" + target.read_text())
    target.unlink()
    target.symlink_to(outside)
    code, text = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(text, target, "AIS006") == 1 and MARKER not in text
    # a folder link is named itself: common_config -> a folder outside
    inner = tmp_path / "cc"
    (mask_app / "common_config").rename(inner)
    (mask_app / "common_config").symlink_to(inner)
    code, text = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(text, mask_app / "common_config", "AIS006") == 1
    assert MARKER not in text


def test_an_onnx_file_outside_the_component_is_refused_by_validate_and_design(
        prepared_examples, tmp_path, capsys):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(prepared_examples["mask_detection"], app)
    main = app / "src" / "blurry-faces-onnx" / "main.py"
    stolen = tmp_path / "outside.onnx"
    stolen.write_bytes((app / "src/blurry-faces-onnx/onnx/version-RFB-640.onnx").read_bytes()
                       + MARKER.encode())
    for onnx_file in ("../../../../outside.onnx", "/etc/passwd"):
        text = main.read_text()
        main.write_text(re.sub(r'"onnx_file": "[^"]+"', f'"onnx_file": "{onnx_file}"', text))
        line = next(i for i, row in enumerate(main.read_text().splitlines(), 1)
                    if onnx_file in row)
        before = tree_text(app)
        for verb in ("validate", "design"):
            code, out = aisprint([verb, app], capsys)
            assert code == 1 and at(out, main, "AIS525") == line
        assert tree_text(app) == before and MARKER not in before
    # the partitioner itself refuses too (defence in depth, whatever calls it)
    from compiler.design.component_partitions import partition_application
    from compiler.errors import InvalidInput
    from compiler.load.application import load_application

    main.write_text(main.read_text().replace('"/etc/passwd"', '"../../../../outside.onnx"'))
    loaded = load_application(app)
    with pytest.raises(InvalidInput) as refused:
        partition_application(app, loaded.annotations)
    assert [d.code for d in refused.value.diagnostics] == ["AIS006"]
    assert MARKER not in tree_text(app)


def test_yaml_tags_that_cannot_convert_are_exit_1_with_their_line(mask_app, capsys):
    res = mask_app / "common_config" / "candidate_resources.yaml"
    for bad in ("!!int abc", "!!bool maybe", "!!float x", "!!set {a, b}", "!!timestamp never"):
        text = res.read_text()
        res.write_text(re.sub(r"totalNodes: \S.*", f"totalNodes: {bad}", text, count=1))
        line = next(i for i, row in enumerate(res.read_text().splitlines(), 1) if bad in row)
        code, out = aisprint(["validate", mask_app], capsys)
        assert code == 1 and at(out, res, "AIS002") == line


@pytest.mark.parametrize("rel", ["oscarp/performance_models.json",
                                 "oscarp/components_data_size.yaml",
                                 "space4ai-d/SPACE4AI-D.yaml"])
def test_oscarp_and_space4aid_files_are_validated_like_the_rest(mask_app, tmp_path, capsys, rel):
    path = mask_app / rel
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(2, b"# caf\xe9\n")
    path.write_bytes(b"".join(lines))
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(out, path, "AIS005") == 3
    code, out = aisprint(["compile", mask_app, "--out", tmp_path / "out"], capsys)
    assert code == 1 and at(out, path, "AIS005") == 3
    assert not (tmp_path / "out").exists()


def test_a_performance_model_that_breaks_its_schema_fails_validate(mask_app, capsys):
    perf = mask_app / "oscarp" / "performance_models.json"
    perf.write_text(perf.read_text().replace('"model": "QTedge"', '"model": 7', 1))
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 1 and re.search(rf"^{re.escape(str(perf))}:\d+:\d+: error AIS1", out, re.M)


@pytest.mark.parametrize("rel", ["common_config/candidate_deployments.yaml",
                                 "src/mask-alert/main.py",
                                 "oscarp/performance_models.json"])
def test_a_fifo_or_a_link_to_dev_zero_in_place_of_an_input_does_not_hang(
        mask_app, tmp_path, rel):
    path = mask_app / rel
    path.unlink()
    os.mkfifo(path)
    for verb in (["validate", mask_app], ["compile", mask_app, "--out", tmp_path / "out"]):
        done = aisprint_process(*verb)
        assert done.returncode == 1 and at(done.stdout, path, "AIS007") == 1
    path.unlink()
    path.symlink_to("/dev/zero")
    done = aisprint_process("validate", mask_app)
    assert done.returncode == 1 and at(done.stdout, path, "AIS006") == 1
    assert not (tmp_path / "out").exists()


def test_an_oversized_file_in_src_is_refused_before_it_is_read(mask_app, capsys):
    big = mask_app / "src" / "mask-alert" / "weights.bin"
    with big.open("wb") as handle:
        handle.truncate(files.FILE_CAP + 1)
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(out, big, "AIS008") == 1 and "512 MiB" in out


def test_alternatives_must_be_defined(mask_app, capsys):
    dag = mask_app / "common_config" / "application_dag.yaml"
    dag.write_text(dag.read_text() + "  alternative_components:\n"
                   "    mask-alert: [mask-alert-lite]\n")
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(out, dag, "AIS312") == len(dag.read_text().splitlines())


def test_an_application_without_sources_is_refused(mask_app, tmp_path, capsys):
    import shutil

    shutil.rmtree(mask_app / "src")
    code, out = aisprint(["validate", mask_app], capsys)
    dag = mask_app / "common_config" / "application_dag.yaml"
    assert code == 1 and at(out, dag, "AIS511")
    code, out = aisprint(["compile", mask_app, "--out", tmp_path / "out"], capsys)
    assert code == 1 and not (tmp_path / "out").exists()


def test_a_misspelt_annotation_is_an_error_a_foreign_decorator_a_warning(mask_app, capsys):
    main = mask_app / "src" / "mask-detector" / "main.py"
    original = main.read_text()
    main.write_text(original.replace("@exec_time(", "@exec_tme(", 1))
    line = next(i for i, row in enumerate(main.read_text().splitlines(), 1) if "@exec_tme" in row)
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 1 and at(out, main, "AIS514") == line and "did you mean @exec_time" in out
    main.write_text(original.replace("def main(", "@functools.cache\ndef main(", 1))
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 0 and "warning AIS502" in out


def test_a_utf8_bom_in_main_py_is_accepted(mask_app, tmp_path, capsys):
    main = mask_app / "src" / "mask-alert" / "main.py"
    main.write_bytes(b"\xef\xbb\xbf" + main.read_bytes())
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 0, out
    code, out = aisprint(["compile", mask_app, "--out", tmp_path / "out"], capsys)
    assert code == 0, out
    assert (tmp_path / "out/aisprint/designs/mask-alert/base/main.py").read_bytes() \
        == main.read_bytes()


def test_validate_rejects_everything_compile_reads(mask_app):
    """validate and compile read one list (scan_inputs): a refused input fails both."""
    from compiler.compile import build
    from compiler.errors import InvalidInput

    os.mkfifo(mask_app / "oscarp" / "extra.yaml")
    report = api.validate(mask_app)
    assert not report.valid and "AIS007" in [d.code for d in report.diagnostics]
    with pytest.raises(InvalidInput) as refused:
        build(mask_app)
    assert [d.code for d in refused.value.diagnostics] == [d.code for d in report.diagnostics]


def test_an_onnx_file_name_too_long_for_the_file_system_is_no_crash(mask_app, capsys):
    main = mask_app / "src" / "blurry-faces-onnx" / "main.py"
    # the folder exists, so the OS reports the name too long (not a missing folder, which a
    # fresh clone without prepared models would otherwise give)
    (main.parent / "onnx").mkdir(exist_ok=True)
    main.write_text(re.sub(r'"onnx_file": "[^"]+"', f'"onnx_file": "{"x" * 300}.onnx"',
                           main.read_text()))
    code, out = aisprint(["validate", mask_app], capsys)
    assert code == 0 and "warning AIS524" in out  # the model is missing: design says so
    code, out = aisprint(["design", mask_app], capsys)
    assert code == 1 and at(out, mask_app / "src/blurry-faces-onnx/onnx" / ("x" * 300 + ".onnx"),
                            "AIS005") == 1
