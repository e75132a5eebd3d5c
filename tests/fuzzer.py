"""A seeded fuzzer of whole applications: hostile copies of the examples through the real CLI.

Each case copies a prepared example, applies one to three mutations drawn from ``MUTATIONS``
(values, YAML tags and aliases, encodings, symlinks out of the application, FIFOs and devices,
annotation arguments, model paths, literal credentials …) and runs, in a forked child with a
memory limit and a deadline, what a pull request triggers: ``aisprint validate -o json``, then
``aisprint compile --out`` (and, for some cases, ``compile --repo`` and ``plan -o markdown``).

The oracle (``judge``) holds for every case:
* every exit code is 0 or 1 — never 3 (a crash), never a hang, never the memory limit;
* exit 1 comes with at least one error that names a file (validate: a diagnostic with its
  file; compile: a ``file:`` location in what it prints);
* ``validate`` accepts nothing that ``compile`` then rejects (except an infeasible placement,
  which only solving can find);
* a failed compile leaves no output folder and no commit behind;
* no canary — a variable of the compiling process's environment, a file outside the
  application, a literal credential planted in the inputs — appears in any output: files,
  git objects, stdout and stderr.

``tests/test_fuzz.py`` runs a few hundred cases in CI; ``benchmarks/fuzz.py`` runs thousands
and prints the counts by outcome.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 3 << 30  # bytes of address space a case may use (the suite needs ~1.5 GiB)
DEADLINE = 45.0  # seconds a case may take before it counts as a hang (a compile takes ~1 s)

ENV_CANARY = "FUZZENVCANARY7d41"
OUTSIDE_CANARY = "FUZZOUTSIDECANARY3b9e"
LITERAL_CANARY = "FUZZLITERALCANARY55c2"
CANARIES = (ENV_CANARY, OUTSIDE_CANARY, LITERAL_CANARY)

# Codes only solving the placement can find: validate may pass what they reject.
PLACEMENT_ONLY = {"AIS802", "AIS804"}


# ------------------------------------------------------------------------------ values

def hostile_scalars() -> list:
    return [
        float("nan"), float("inf"), float("-inf"), 1e999, -1e999, 0, -1, 0.0, -0.0, 1e300,
        10 ** 400, -(10 ** 400), 2 ** 63, 1e-320, "", " ", "x" * 5000, "../../../etc/passwd",
        "/etc/passwd", "/proc/self/environ", "${" + "X" * 300 + "}", "${}", "$(id)", "`id`",
        "a\nb", "\u202e\u0000", "ünïcødé", "RaspPi4", "mask-detector", "computationalLayer9",
        True, False, None, [], {}, [None], {"": None}, "1e999", ".nan", "0x10", "-1",
        "X_partitionX_1", "<!-- -->", "</details>", "```", "@here", "<script>x</script>",
    ]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


def _load(file: Path):
    """A YAML file's data, refusing what would expand without bound (an earlier alias bomb)."""
    text = file.read_text(encoding="utf-8")
    if len(re.findall(r"\*\w", text)) > 50:
        raise ValueError("too many aliases to expand safely")
    return yaml.safe_load(text)


def _replace(path: Path, data: bytes | str) -> None:
    """Write a new inode: the case folder's files may be hard links shared with the base."""
    if path.is_symlink() or path.exists():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


# ------------------------------------------------------------------------------ mutations

@dataclass
class Workspace:
    """One case's folder: the application copy and, beside it, what lies outside it."""

    app: Path
    outside: Path
    rng: random.Random

    def _regular(self, paths, limit: int = 1 << 20) -> list[Path]:
        # an earlier mutation may have made a file a FIFO or a link: never read those here
        # nor a file an earlier mutation made huge: the driver's own regexes would crawl
        return [p for p in sorted(paths) if p.is_file() and not p.is_symlink()
                and p.stat().st_size < limit
                and not any(q.is_symlink() for q in p.relative_to(self.app).parents
                            if q != Path("."))]

    def yaml_files(self) -> list[Path]:
        return [p for p in self._regular(self.app.rglob("*")) if p.suffix in (".yaml", ".yml")
                and "aisprint" not in p.relative_to(self.app).parts[:1]]

    def input_files(self) -> list[Path]:
        files = self.yaml_files() + self._regular(self.app.glob("oscarp/*.json"))
        return files + self.sources()

    def sources(self) -> list[Path]:
        return self._regular(self.app.glob("src/*/main.py"))

    def pick_source(self, files: list[Path] | None = None) -> tuple[Path, str] | str:
        """A component's main.py and its text, or why there is none (the mutation's note)."""
        file = self.pick(self.sources() if files is None else files)
        return "no src" if file is None else (file, file.read_text(encoding="utf-8"))

    def pick_yaml_value(self) -> tuple[Path, Any, tuple] | str:
        """A YAML file, its data and the path of one of its values, or why there is none."""
        file = self.pick(self.yaml_files())
        if file is None:
            return "no yaml"
        data = _load(file)
        targets = [p for p in _paths(data) if p]
        if not targets:
            return f"{file.name}: nothing to change"
        return file, data, self.rng.choice(targets)

    def pick(self, files: list[Path]) -> Path | None:
        return self.rng.choice(files) if files else None


def m_yaml_value(ws: Workspace) -> str:
    picked = ws.pick_yaml_value()
    if isinstance(picked, str):
        return picked
    file, data, path = picked
    value = ws.rng.choice(hostile_scalars())
    with contextlib.suppress(KeyError, IndexError, TypeError):
        _parent(data, path)[path[-1]] = value
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10 ** 6)
    _replace(file, text)
    return f"{file.name}: {'/'.join(map(str, path))} = {value!r:.40}"


def m_yaml_structure(ws: Workspace) -> str:
    picked = ws.pick_yaml_value()
    if isinstance(picked, str):
        return picked
    file, data, path = picked
    parent, last = _parent(data, path), path[-1]
    op = ws.rng.choice(["delete", "rename", "duplicate", "insert", "to-list", "to-map"])
    with contextlib.suppress(KeyError, IndexError, TypeError):
        if op == "delete":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            parent[ws.rng.choice(["nmae", "Name", "", "1", "extra", "componentX"])] = \
                parent.pop(last)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(parent[last])
        elif op == "insert" and isinstance(parent, dict):
            key = ws.rng.choice(["extra", "name", "number", "Resources", "alternative_components"])
            parent[key] = ws.rng.choice(hostile_scalars())
        elif op == "to-list":
            parent[last] = [parent[last]]
        elif op == "to-map":
            parent[last] = {"value": parent[last]}
    _replace(file, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10 ** 6))
    return f"{file.name}: {op} {'/'.join(map(str, path))}"


def m_yaml_tag(ws: Workspace) -> str:
    file = ws.pick(ws.yaml_files())
    if file is None:
        return "no yaml"
    lines = file.read_text(encoding="utf-8").splitlines()
    spots = [i for i, line in enumerate(lines) if re.search(r":\s+\S", line)
             and not line.lstrip().startswith("#")]
    if not spots:
        return f"{file.name}: no scalar"
    i = ws.rng.choice(spots)
    tag = ws.rng.choice(["!!int abc", "!!bool maybe", "!!float x",
                         "!!python/object/apply:os.system ['id']", "!custom 3", "!!binary ###",
                         "!!timestamp never", "!!null 5",
                         "!!map [1]", "!!seq {a: 1}", "!<tag:example.com,2000:x> 1"])
    key, _, _ = lines[i].partition(":")
    lines[i] = f"{key}: {tag}"
    _replace(file, "\n".join(lines) + "\n")
    return f"{file.name}:{i + 1}: tag {tag}"


def m_alias_bomb(ws: Workspace) -> str:
    file = ws.pick(ws.yaml_files())
    if file is None:
        return "no yaml"
    bomb = "bomb0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"bomb{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
        f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 10))
    _replace(file, file.read_text(encoding="utf-8") + bomb)
    return f"{file.name}: alias bomb"


def m_text_junk(ws: Workspace) -> str:
    file = ws.pick(ws.input_files())
    if file is None:
        return "no input"
    text = file.read_text(encoding="utf-8")
    for _ in range(ws.rng.randint(1, 3)):
        at = ws.rng.randint(0, len(text))
        if ws.rng.random() < 0.5:
            text = text[:at] + text[at + ws.rng.randint(1, 40):]
        else:
            junk = "".join(ws.rng.choice(":-[]{}#&*!|>'\"%@` \n\t,?x1()=\\") for _ in
                           range(ws.rng.randint(1, 6)))
            text = text[:at] + junk + text[at:]
    _replace(file, text)
    return f"{file.relative_to(ws.app)}: text junk"


def m_encoding(ws: Workspace) -> str:
    file = ws.pick(ws.input_files())
    if file is None:
        return "no input"
    raw = file.read_bytes()
    kind = ws.rng.choice(["bom", "latin1", "utf16", "nul", "crlf", "invalid-tail", "lone-cr"])
    data = {
        "bom": b"\xef\xbb\xbf" + raw,
        "latin1": raw.replace(b"e", b"\xe9", 3),
        "utf16": raw.decode("utf-8", "replace").encode("utf-16"),
        "nul": raw[: len(raw) // 2] + b"\x00" + raw[len(raw) // 2:],
        "crlf": raw.replace(b"\n", b"\r\n"),
        "invalid-tail": raw + b"\xff\xfe\xfd",
        "lone-cr": raw.replace(b"\n", b"\r"),
    }[kind]
    _replace(file, data)
    return f"{file.relative_to(ws.app)}: encoding {kind}"


def m_big_file(ws: Workspace) -> str:
    file = ws.pick(ws.input_files())
    if file is None:
        return "no input"
    pad = b"#" + b"x" * (64 << 20) + b"\n"  # a 64 MiB comment: beyond any sensible input
    if file.suffix == ".json":
        pad = b" " * (64 << 20)
    _replace(file, file.read_bytes() + pad)
    return f"{file.relative_to(ws.app)}: +64 MiB"


def m_symlink_out(ws: Workspace) -> str:
    file = ws.pick(ws.input_files())
    if file is None:
        return "no input"
    target = ws.rng.choice([ws.outside / "secret.txt", ws.outside / "copy" / file.name,
                            Path("/proc/self/environ"), Path("/dev/zero"), Path("/dev/urandom"),
                            Path("/etc/passwd"), ws.outside / "missing"])
    if target.parent == ws.outside / "copy":
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(file, target)
    file.unlink()
    file.symlink_to(target)
    return f"{file.relative_to(ws.app)} -> {target}"


def m_special_file(ws: Workspace) -> str:
    file = ws.pick(ws.input_files())
    if file is None:
        return "no input"
    kind = ws.rng.choice(["fifo", "dir", "empty", "delete", "comments-only"])
    file.unlink()
    if kind == "fifo":
        os.mkfifo(file)
    elif kind == "dir":
        file.mkdir()
    elif kind == "empty":
        file.write_bytes(b"")
    elif kind == "comments-only":
        file.write_text("# nothing here\n")
    return f"{file.relative_to(ws.app)}: {kind}"


def m_src_leak(ws: Workspace) -> str:
    """Something under src/<component>/ that leads out of the application."""
    folders = [p.parent for p in ws.sources()]
    if not folders:
        return "no src"
    folder = ws.rng.choice(folders)
    kind = ws.rng.choice(["file-outside", "environ", "dir-outside", "fifo", "devzero",
                          "dangling", "dir-loop"])
    leak = folder / ws.rng.choice(["leak.txt", "config/leak.yaml", "onnx/leak.onnx"])
    leak.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file-outside":
        leak.symlink_to(ws.outside / "secret.txt")
    elif kind == "environ":
        leak.symlink_to("/proc/self/environ")
    elif kind == "dir-outside":
        leak.symlink_to(ws.outside, target_is_directory=True)
    elif kind == "fifo":
        os.mkfifo(leak)
    elif kind == "devzero":
        leak.symlink_to("/dev/zero")
    elif kind == "dangling":
        leak.symlink_to(ws.outside / "nowhere")
    else:
        leak.symlink_to(folder, target_is_directory=True)
    return f"{leak.relative_to(ws.app)}: {kind}"


def m_config_dir_link(ws: Workspace) -> str:
    """common_config/ (or oscarp/, space4ai-d/) replaced by a symlink to a copy outside."""
    name = ws.rng.choice(["common_config", "oscarp", "space4ai-d", "src"])
    folder = ws.app / name
    if not folder.is_dir():
        return f"no {name}"
    copy = ws.outside / f"{name}-copy"
    shutil.copytree(folder, copy, symlinks=True)
    shutil.rmtree(folder)
    folder.symlink_to(copy, target_is_directory=True)
    return f"{name}/ -> outside copy"




def m_annotation_number(ws: Workspace) -> str:
    picked = ws.pick_source()
    if isinstance(picked, str):
        return picked
    file, text = picked
    spots = [m for m in re.finditer(r"(\w+)\s*[=:]\s*(-?\d+(?:\.\d+)?)", text)
             if text.rfind("@", 0, m.start()) > text.rfind("\ndef ", 0, m.start())]
    if not spots:
        return f"{file.parent.name}: no number"
    m = ws.rng.choice(spots)
    value = ws.rng.choice(["float('nan')", "1e999", "-1e999", "0", "-1", "10**400",
                           "1" + "0" * 400, "1e300", "-0.0", "'3'", "None", "True", "[1]",
                           "1e-320", "2**2**2**2**2"])
    start, end = m.span(2)
    _replace(file, text[:start] + value + text[end:])
    return f"{file.parent.name}: {m.group(1)}={value}"


def m_annotation_path(ws: Workspace) -> str:
    picked = ws.pick_source([f for f in ws.sources()
                             if "onnx_file" in f.read_text(encoding="utf-8")] or None)
    if isinstance(picked, str):
        return picked
    file, text = picked
    target = ws.rng.choice(["../../../outside/model.onnx", str(ws.outside / "model.onnx"),
                            "/etc/passwd", "../main.py", "/proc/self/environ", "",
                            "onnx/../../../../outside/model.onnx", "x" * 300 + ".onnx",
                            "/dev/zero", "model.onnx\x00.txt"])
    new = re.sub(r"(onnx_file[\"']?\s*[=:]\s*)([\"'])[^\"']*\2",
                 lambda m: f"{m.group(1)}{target!r}", text)
    if new == text:
        new = text.replace("def main", "@partitionable_model(onnx_file="
                           f"{target!r}, num_partitions=1)\ndef main", 1)
    _replace(file, new)
    return f"{file.parent.name}: onnx_file={target!r:.60}"


def m_annotation_syntax(ws: Workspace) -> str:
    picked = ws.pick_source()
    if isinstance(picked, str):
        return picked
    file, text = picked
    kind = ws.rng.choice(["misspelt", "positional", "no-call", "duplicate", "no-main",
                          "two-mains", "non-constant", "bom", "deep-nesting"])
    if kind == "misspelt":
        text = text.replace("@exec_time", "@exec_tme").replace("\"exec_time\"", "\"exec_tme\"")
        text = text.replace("@component_name", "@componentname", 1)
    elif kind == "positional":
        text = text.replace("def main", "@exec_time(1, 2)\ndef main", 1)
    elif kind == "no-call":
        text = text.replace("def main", "@exec_time\ndef main", 1)
    elif kind == "duplicate":
        text = text.replace("def main", "@component_name(name='mask-alert')\ndef main", 1)
    elif kind == "no-main":
        text = text.replace("def main", "def not_main")
    elif kind == "two-mains":
        text += "\n\ndef main():\n    pass\n"
    elif kind == "non-constant":
        text = text.replace("def main", "@exec_time(local_time_thr=open('/etc/passwd').read())"
                            "\ndef main", 1)
    elif kind == "bom":
        text = "\ufeff" + text
    else:
        text = text.replace("def main", "@exec_time(local_time_thr=" + "[" * 500 + "1" +
                            "]" * 500 + ")\ndef main", 1)
    _replace(file, text)
    return f"{file.parent.name}: {kind}"


def m_json_value(ws: Workspace) -> str:
    file = ws.app / "oscarp" / "performance_models.json"
    if not file.is_file() or file.is_symlink():
        return "no performance_models.json"
    text = file.read_text(encoding="utf-8")
    numbers = list(re.finditer(r"(?<=: )-?\d+(\.\d+)?(e-?\d+)?", text))
    deep = "{\"a\": " * 200 + "1" + "}" * 200
    kind = ws.rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "0", "-1", "1e300",
                          "\"fast\"", "null", "[]", "1" + "0" * 400, deep])
    if numbers:
        m = ws.rng.choice(numbers)
        text = text[:m.start()] + kind + text[m.end():]
    _replace(file, text)
    return f"performance_models.json: {kind:.30}"


def m_literal_secret(ws: Workspace) -> str:
    """A literal credential where the inputs allow one (physical_nodes.yaml)."""
    file = ws.app / "common_config" / "physical_nodes.yaml"
    if not file.is_file() or file.is_symlink():
        return "no physical_nodes.yaml"
    text = file.read_text(encoding="utf-8")
    secret = ws.rng.choice([
        "-----BEGIN OPENSSH PRIVATE KEY-----\\n" + LITERAL_CANARY + "AAAA\\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "AKIA" + LITERAL_CANARY.upper()[:16],
        "ghp_" + LITERAL_CANARY + "abcdefghijklmnop",
        LITERAL_CANARY + "-password",
    ])
    refs = list(re.finditer(r"\$\{[A-Z0-9_]+\}", text))
    if not refs:
        return "no reference to replace"
    m = ws.rng.choice(refs)
    _replace(file, text[:m.start()] + secret + text[m.end():])
    line = text.count("\n", 0, m.start()) + 1
    return f"physical_nodes.yaml:{line}: literal secret"


def m_onnx_bytes(ws: Workspace) -> str:
    models = ws._regular(ws.app.glob("src/*/onnx/*.onnx"), limit=64 << 20)
    if not models:
        return "no model"
    file = ws.rng.choice(models)
    raw = file.read_bytes()
    kind = ws.rng.choice(["truncate", "garbage", "empty", "text"])
    data = {"truncate": raw[: len(raw) // 3], "garbage": bytes(ws.rng.randrange(256)
            for _ in range(4096)), "empty": b"", "text": b"not a model\n"}[kind]
    _replace(file, data)
    return f"{file.relative_to(ws.app)}: {kind}"


MUTATIONS: dict[str, Callable[[Workspace], str]] = {
    "yaml-value": m_yaml_value,
    "yaml-structure": m_yaml_structure,
    "yaml-tag": m_yaml_tag,
    "alias-bomb": m_alias_bomb,
    "text-junk": m_text_junk,
    "encoding": m_encoding,
    "big-file": m_big_file,
    "symlink-out": m_symlink_out,
    "special-file": m_special_file,
    "src-leak": m_src_leak,
    "config-dir-link": m_config_dir_link,
    "annotation-number": m_annotation_number,
    "annotation-path": m_annotation_path,
    "annotation-syntax": m_annotation_syntax,
    "json-value": m_json_value,
    "literal-secret": m_literal_secret,
    "onnx-bytes": m_onnx_bytes,
}
# How often each is drawn: the cheap, varied ones most; a 64 MiB file now and then.
WEIGHTS = {"yaml-value": 6, "yaml-structure": 5, "text-junk": 4, "annotation-number": 3,
           "big-file": 0.3, "alias-bomb": 0.5}


# ------------------------------------------------------------------------------ running

@dataclass(frozen=True)
class Case:
    seed: int
    example: str
    mutations: tuple[str, ...]
    repo: bool  # also compile into a git repository and plan against it


@dataclass
class Result:
    case: Case
    applied: list[str] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)  # verb -> exit code
    outcome: str = "ok"  # ok | rejected | crash | hang | memory | leak | ...
    detail: str = ""
    seconds: float = 0.0


def draw_case(seed: int, examples: tuple[str, ...]) -> Case:
    rng = random.Random(seed)
    names = list(MUTATIONS)
    weights = [WEIGHTS.get(n, 1.0) for n in names]
    count = rng.choice([1, 1, 1, 2, 3])
    return Case(seed, rng.choice(examples), tuple(rng.choices(names, weights, k=count)),
                repo=rng.random() < 0.2)


def prepare_base(root: Path, examples: tuple[str, ...]) -> dict[str, Path]:
    """Each example copied once with its models, and compiled once (warms nothing shared)."""
    from tests.conftest import copy_example

    return {name: copy_example(name, root / "base") for name in examples}


def _outside(folder: Path) -> Path:
    """What lies beside the application: files whose content must never reach an output."""
    import onnx
    from onnx import TensorProto, helper

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.txt").write_text(f"token={OUTSIDE_CANARY}\n")
    node = helper.make_node("Relu", ["x"], ["y"], name=OUTSIDE_CANARY)
    graph = helper.make_graph([node], OUTSIDE_CANARY,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, doc_string=OUTSIDE_CANARY)
    onnx.save(model, folder / "model.onnx")
    return folder


def _child(repo: bool, work: Path, app: Path, report: Path) -> None:
    """Runs in the forked child: the verbs, in process, outputs captured; never returns."""
    code = 0
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        os.environ["AISPRINT_FUZZ_TOKEN"] = ENV_CANARY
        os.environ.pop("AISPRINT_DEBUG", None)
        from compiler.cli.main import app as cli
        from compiler.cli.main import run

        steps: dict[str, dict] = {}

        def verb(name: str, argv: list[str]) -> int:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    status = run(cli, argv)
                except MemoryError:
                    status = -2
                except BaseException as exc:  # noqa: BLE001 - anything escaping run is a crash
                    status = -1
                    err.write(f"escaped run(): {type(exc).__name__}: {exc}")
            steps[name] = {"code": status, "stdout": out.getvalue()[-200_000:],
                           "stderr": err.getvalue()[-200_000:]}
            return status

        verb("validate", ["validate", str(app), "-o", "json"])
        verb("compile", ["compile", str(app), "--out", str(work / "out")])
        if repo:
            verb("compile-repo", ["compile", str(app), "--repo", str(work / "deploy")])
            verb("plan", ["plan", str(app), "--repo", str(work / "deploy"), "-o", "markdown"])
        report.write_text(json.dumps(steps))
    except BaseException as exc:  # noqa: BLE001
        with contextlib.suppress(Exception):
            report.write_text(json.dumps({"child": {"code": -1, "stdout": "",
                                                    "stderr": f"{type(exc).__name__}: {exc}"}}))
        code = 70
    finally:
        os._exit(code)


class Runner:
    """A fork server: one fresh interpreter imports the tool once, then forks a child per case.

    Forking the test process itself would copy whatever threads and locks it holds; this
    server is single-purpose and idle between cases, so every child starts clean and fast.
    Requests and answers are JSON lines on its stdin and stdout.
    """

    def __init__(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen([sys.executable, "-m", "tests.fuzzer", "--serve"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        cwd=REPO, env=env, text=True)
        ready = self.process.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"the fuzz server did not start: {ready!r}")

    def run(self, case: Case, work: Path, app: Path) -> int | None:
        request = {"repo": case.repo, "work": str(work), "app": str(app)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["status"]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve() -> None:
    """The server's loop (``python -m tests.fuzzer --serve``)."""
    import compiler.cli.main  # noqa: F401 - imported once, inherited by every child
    import compiler.compile  # noqa: F401
    import compiler.gitops.workflow  # noqa: F401

    # answers go on a private copy of stdout; fd 1 itself becomes stderr, so nothing a case
    # prints (a subprocess, a C library) can corrupt the protocol
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    print("ready", file=answers, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        work, app = Path(request["work"]), Path(request["app"])
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.setsid()
            _child(request["repo"], work, app, work / "report.json")
        print(json.dumps({"status": _wait(pid, DEADLINE)}), file=answers, flush=True)


def run_case(case: Case, base: dict[str, Path], scratch: Path, runner: Runner) -> Result:
    result = Result(case)
    work = scratch / f"case-{case.seed}"
    if work.exists():
        _rmtree(work)
    work.mkdir(parents=True)
    app = work / case.example
    shutil.copytree(base[case.example], app, symlinks=True)
    ws = Workspace(app, _outside(work / "outside"), random.Random(case.seed * 7919 + 1))
    for name in case.mutations:
        try:
            result.applied.append(f"{name}: {MUTATIONS[name](ws)}")
        except Exception as exc:  # noqa: BLE001 - a mutation that cannot apply is skipped
            result.applied.append(f"{name}: not applied ({type(exc).__name__})")
    started = time.monotonic()
    status = runner.run(case, work, app)
    result.seconds = time.monotonic() - started
    if status is None:
        result.outcome, result.detail = "hang", f"no answer after {DEADLINE:.0f} s"
        return result
    try:
        steps = json.loads((work / "report.json").read_text())
    except (OSError, ValueError):
        result.outcome = "crash"
        result.detail = f"the child died (wait status {status}) before reporting"
        return result
    judge(result, steps, work, app)
    return result


def _wait(pid: int, deadline: float) -> int | None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


# a located diagnostic, as text (``file:line:col: error AIS203``) or as a row of the markdown
# table `plan -o markdown` prints (``| ❌ error | AIS203 | `file:line:col` |``)
_LOCATED = re.compile(r"(?m)^(\S+?):(\d+:\d+:)? (error|warning) AIS\d{3}"
                      r"|^\| \S+ (error|warning) \| AIS\d{3} \| `[^`]+` \|")


def judge(result: Result, steps: dict, work: Path, app: Path) -> None:
    """Apply the oracle; the first finding decides the outcome."""
    result.steps = {name: step["code"] for name, step in steps.items()}
    problems: list[tuple[str, str]] = []
    for name, step in steps.items():
        code, text = step["code"], step["stdout"] + step["stderr"]
        if code == -2 or "MemoryError" in text:
            problems.append(("memory", f"{name}: out of memory"))
        elif code not in (0, 1):
            problems.append(("crash", f"{name}: exit {code}: {text.strip()[-300:]}"))
        elif code == 1 and name == "validate":
            try:
                report = json.loads(step["stdout"])
                errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
            except (ValueError, KeyError, TypeError):
                errors = []
            if not any(d.get("file") for d in errors):
                problems.append(("no-location", f"validate: exit 1 without a located error: "
                                                f"{text.strip()[-300:]}"))
        elif code == 1 and not _LOCATED.search(text):
            problems.append(("no-location", f"{name}: exit 1 without file:line: "
                                            f"{text.strip()[-300:]}"))
    valid, compiled = steps.get("validate", {}).get("code"), steps.get("compile", {}).get("code")
    if valid == 0 and compiled == 1:
        codes = set(re.findall(r"AIS\d{3}", steps["compile"]["stdout"]))
        if not codes & PLACEMENT_ONLY:
            problems.append(("disagree", "validate accepted what compile rejected: "
                                         f"{steps['compile']['stdout'].strip()[-300:]}"))
    if compiled not in (0, None) and (work / "out").exists() and any((work / "out").iterdir()):
        problems.append(("partial", "a failed compile left files in --out"))
    if steps.get("compile-repo", {}).get("code") not in (0, None):
        deploy = work / "deploy"
        if deploy.exists() and _git(deploy, "rev-parse", "--verify", "-q", "HEAD").strip():
            problems.append(("partial", "a failed compile --repo left a commit"))
    leaks = scan_for_canaries(work, app, steps)
    if leaks:
        problems.append(("leak", "; ".join(leaks[:5])))
    rank = ["leak", "crash", "memory", "hang", "partial", "disagree", "no-location"]
    if problems:
        problems.sort(key=lambda p: rank.index(p[0]))
        result.outcome, result.detail = problems[0][0], " | ".join(p[1] for p in problems)
    else:
        result.outcome = "accepted" if compiled == 0 else "rejected"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True)
    return done.stdout.decode("utf-8", "replace")


def _files(root: Path):
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            yield path


def scan_for_canaries(work: Path, app: Path, steps: dict) -> list[str]:
    """Every canary, searched in every output: files written, git objects, what was printed."""
    needles = [c.encode() for c in CANARIES]
    found: list[str] = []
    for name, step in steps.items():
        for canary in CANARIES:
            if canary in step["stdout"] or canary in step["stderr"]:
                found.append(f"{canary} printed by {name}")
    outputs = [work / "out", work / "deploy", app / "aisprint"]
    for root in outputs:
        if not root.is_dir() or root.is_symlink():
            continue
        for path in _files(root):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for needle in needles:
                if needle in data:
                    found.append(f"{needle.decode()} in {path.relative_to(work)}")
    deploy = work / "deploy"
    if (deploy / ".git").is_dir():
        objects = subprocess.run(["git", "-C", str(deploy), "cat-file", "--batch-all-objects",
                                  "--batch"], capture_output=True).stdout
        for needle in needles:
            if needle in objects:
                found.append(f"{needle.decode()} in a git object of the deployment repository")
    return found


def _rmtree(path: Path) -> None:
    def unblock(func, target, _exc):
        with contextlib.suppress(OSError):
            os.chmod(target, 0o700)
            func(target)
    shutil.rmtree(path, onexc=unblock) if sys.version_info >= (3, 12) else \
        shutil.rmtree(path, onerror=unblock)


def cleanup(result: Result, scratch: Path) -> None:
    _rmtree(scratch / f"case-{result.case.seed}")


def fuzz(seeds, scratch: Path, examples: tuple[str, ...] = ("mask_detection", "smart_city"),
         on_result: Callable[[Result], None] | None = None, keep_failures: bool = False
         ) -> list[Result]:
    """Run every seed's case; a failing case's folder is kept when ``keep_failures``."""
    base = prepare_base(scratch, examples)
    runner = Runner()
    results = []
    try:
        for seed in seeds:
            result = run_case(draw_case(seed, examples), base, scratch, runner)
            if not (keep_failures and result.outcome not in ("accepted", "rejected")):
                cleanup(result, scratch)
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        runner.close()
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        sys.exit("this module is driven by tests/test_fuzz.py and benchmarks/fuzz.py")
