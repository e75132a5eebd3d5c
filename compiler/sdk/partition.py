"""Run one half of a partitioned ONNX model inside a component written for the whole model.

``aisprint design`` cuts a component's model in two (``onnx/partition<i>_1.onnx`` and
``onnx/partition<i>_2.onnx``) and writes, for each half, a ``main.py`` that calls ``run_half``.
The component's own code is not rewritten: its ``main.py`` is kept as ``base_main.py`` and
imported as a module, with ONNX Runtime's ``InferenceSession`` swapped, for the original model
file only, for a stand-in:

* half 1: ``session.run`` runs half 1 on the component's inputs, then stops ``main`` (an
  exception that is not an ``Exception``, so ``except Exception`` blocks let it through) and
  writes a *bundle* ``<output>/<stem>.boundary.npz``: the boundary tensors and the input file
  itself (the post-processing of half 2 may need it, e.g. to blur the original photo);
* half 2: given a bundle, the input file is restored under its own name, ``main`` runs on it as
  usual, and ``session.run`` returns what half 2 computes from the boundary tensors — the same
  outputs as the whole model.

Which model is swapped, the interface of the original model and the boundary's names are in
each half's ONNX metadata (key ``aisprint.partition``). The component must call ``session.run``
once per input and load the model from a file path (the usual ``InferenceSession(path)``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_KEY = "aisprint.partition"
BUNDLE_SUFFIX = ".boundary.npz"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same bundle twice is the same bytes


class BoundaryReached(BaseException):  # noqa: N818 - a signal, not an error
    """Half 1 has computed the boundary: stop the component's main()."""

    def __init__(self, tensors: dict):
        super().__init__("boundary reached")
        self.tensors = tensors


@dataclass(frozen=True)
class NodeArg:
    """What ``session.get_inputs()`` / ``get_outputs()`` give for the original model."""

    name: str
    shape: list | None
    type: str


@dataclass(frozen=True)
class Bundle:
    tensors: dict
    input_name: str | None
    input_bytes: bytes | None
    meta: dict


# ----------------------------------------------------------------------------- bundles


def write_bundle(path: Path, tensors: dict, meta: dict, source: Path | None) -> Path:
    """Boundary tensors (+ the input file) in one .npz, deterministic bytes."""
    import numpy as np

    names = list(tensors)
    index = {**meta, "tensors": names,
             "input": source.name if source is not None else None}
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        def put(name: str, data: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), data)

        put("index.json", json.dumps(index, sort_keys=True).encode())
        for k, name in enumerate(names):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(tensors[name]),
                                      allow_pickle=False)
            put(f"t{k}.npy", buffer.getvalue())
        if source is not None:
            put("input.bin", source.read_bytes())
    return path


def read_bundle(path: str | os.PathLike[str]) -> Bundle:
    import numpy as np

    try:
        with zipfile.ZipFile(path) as archive:
            index = json.loads(archive.read("index.json"))
            tensors = {name: np.lib.format.read_array(io.BytesIO(archive.read(f"t{k}.npy")),
                                                      allow_pickle=False)
                       for k, name in enumerate(index["tensors"])}
            data = archive.read("input.bin") if index.get("input") else None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a boundary bundle written by half 1 ({exc})") from exc
    meta = {k: v for k, v in index.items() if k not in ("tensors", "input")}
    return Bundle(tensors, index.get("input"), data, meta)


# ----------------------------------------------------------------------------- the swap


class _State(threading.local):
    boundary: dict | None = None  # half 2: the tensors of the bundle being processed
    active: tuple[str, Path, int] | None = None  # (original file name, half model, part)


_STATE = _State()
_INSTALLED: list = []  # the real InferenceSession class, once swapped
_METADATA: dict[Path, dict] = {}


def _metadata(session) -> dict:
    return json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])


class _HalfSession:
    """Stands in for an InferenceSession of the original model."""

    def __init__(self, real_session, part: int):
        self._session = real_session
        self._part = part
        self._meta = _metadata(real_session)

    def get_inputs(self) -> list[NodeArg]:
        return [NodeArg(i["name"], i["shape"], i["type"]) for i in self._meta["inputs"]]

    def get_outputs(self) -> list[NodeArg]:
        return [NodeArg(o["name"], o["shape"], o["type"]) for o in self._meta["outputs"]]

    def run(self, output_names, input_feed, run_options=None):
        if self._part == 1:
            needed = [i.name for i in self._session.get_inputs()]
            values = self._session.run(None, {n: input_feed[n] for n in needed}, run_options)
            tensors = dict(zip(self._meta["first_outputs"], values, strict=True))
            for name in self._meta["boundary"]:
                if name not in tensors:  # a model input half 2 reads: passed on as is
                    tensors[name] = input_feed[name]
            raise BoundaryReached({n: tensors[n] for n in self._meta["boundary"]})
        boundary = _STATE.boundary
        if boundary is None:
            raise RuntimeError("half 2 of a partitioned model runs only from a boundary bundle")
        return self._session.run(output_names, boundary, run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def install() -> None:
    """Swap ``onnxruntime.InferenceSession`` (once per process) for one that knows the halves."""
    if _INSTALLED:
        return
    import onnxruntime

    real = onnxruntime.InferenceSession

    class InferenceSession(real):
        def __new__(cls, path_or_bytes=None, *args, **kwargs):
            if isinstance(path_or_bytes, (str, os.PathLike)):
                active = _STATE.active
                if active is not None and Path(path_or_bytes).name == active[0]:
                    return _HalfSession(real(str(active[1]), *args, **kwargs), active[2])
            return super().__new__(cls)

    onnxruntime.InferenceSession = InferenceSession
    _INSTALLED.append(real)


def _component(folder: Path, base: str):
    name = "aisprint_base_" + hashlib.sha1(str(folder / base).encode()).hexdigest()[:12]
    module = sys.modules.get(name)
    if module is None:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))  # the component's own helper modules
        spec = importlib.util.spec_from_file_location(name, folder / base)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _half_metadata(half: Path) -> dict:
    if half not in _METADATA:
        real = _INSTALLED[0]
        _METADATA[half] = _metadata(real(str(half), providers=["CPUExecutionProvider"]))
    return _METADATA[half]


def run_half(folder: str | os.PathLike[str], args: dict, *, part: int, model: str,
             base: str = "base_main.py") -> Any:
    """Run the component in ``folder`` as half ``part`` of its model (``onnx/<model>``);
    returns what half 1 wrote (the bundle's path) or what the component's main returns."""
    folder = Path(folder).resolve()
    half = folder / "onnx" / model
    install()
    meta = _half_metadata(half)
    previous = _STATE.active
    _STATE.active = (meta["source_model"], half, part)  # sessions made meanwhile: the half
    try:
        component = _component(folder, base)
        if part == 1:
            return _first(component, args, meta, base)
        return _second(component, args)
    finally:
        _STATE.active = previous


def _first(component, args: dict, meta: dict, base: str) -> str:
    source = Path(args["input"])
    try:
        component.main(args)
    except BoundaryReached as reached:
        target = Path(args["output"]) / (source.stem + BUNDLE_SUFFIX)
        return str(write_bundle(
            target, reached.tensors, {"cut": meta["cut"], "source_model": meta["source_model"]},
            source if source.is_file() else None))
    raise RuntimeError(f"{base} finished without running the model: nothing to send on")


def _second(component, args: dict):
    bundle = read_bundle(args["input"])
    with tempfile.TemporaryDirectory(prefix="aisprint-half2-") as tmp:
        restored = dict(args)
        if bundle.input_name is not None:
            original = Path(tmp) / bundle.input_name
            original.write_bytes(bundle.input_bytes or b"")
            restored["input"] = str(original)
        _STATE.boundary = bundle.tensors
        try:
            return component.main(restored)
        finally:
            _STATE.boundary = None
