"""Learnt performance models (``CoreBasedPredictor``): the one contract between the profiler,
which fits them, and the placement, which evaluates them.

A learnt model predicts the wall time (seconds) one request takes on one instance of a unit
from two features, in this order:

* ``1 / cores`` — cores one instance runs on (aMLLibrary's ``inverse=["cores"]``: service
  times shrink like ``a + b / cores`` when a model parallelises, Amdahl's law);
* ``parallelism`` — instances running side by side on the same host (contention).

The placement's ``demand`` (service time on one node of a resource) is the prediction at the
resource's declared cores with parallelism 1.

``regressor_file`` names the fitted scikit-learn estimator (joblib), as OSCAR-P names its
``best.pickle``; an ONNX export of the same estimator sits beside it (same name, ``.onnx``).
The placement evaluates **only the ONNX file**, with ONNX Runtime: unpickling a file from a
repository runs arbitrary code, and the placement runs in CI on pull requests. When there is
no ONNX file, the entry's plain ``demand`` (written by the profiler at the resource's cores)
is used.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path

from compiler.load import files

LEARNT_MODELS = ("CoreBasedPredictor",)
FEATURES = ("inverse_cores", "parallelism")


def features(cores: float, parallelism: float = 1.0) -> list[float]:
    """The feature vector of one prediction (see the module docstring)."""
    if cores <= 0:
        raise ValueError(f"cores must be positive, got {cores}")
    return [1.0 / float(cores), float(parallelism)]


def onnx_path(regressor_file: str, root: str | os.PathLike[str] = "") -> Path:
    """The ONNX twin of a regressor file; relative paths are read from the application folder."""
    path = Path(regressor_file)
    if not path.is_absolute():
        path = Path(root) / path
    return path if path.suffix == ".onnx" else path.with_suffix(".onnx")


@functools.lru_cache(maxsize=64)
def _session(model: bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def predict_model(model: bytes, rows: list[list[float]]) -> list[float]:
    """Evaluate an exported regressor (the bytes of its ONNX file) on feature rows (raises on
    a broken model)."""
    import numpy as np

    session = _session(model)
    name = session.get_inputs()[0].name
    out = session.run(None, {name: np.asarray(rows, dtype=np.float32)})[0]
    return [float(v) for v in np.asarray(out, dtype=np.float64).reshape(-1)]


def predict_onnx(path: str | os.PathLike[str], rows: list[list[float]]) -> list[float]:
    """Evaluate the exported regressor the profiler just wrote at ``path``."""
    return predict_model(Path(path).read_bytes(), rows)


def learnt_demand(entry: Mapping, cores: float, root: files.Root = ""
                  ) -> tuple[float | None, str]:
    """``(demand, how)`` of a learnt model at ``cores`` (parallelism 1), or ``(None, why)``.

    The ONNX file is read through the input boundary: only a regular file inside the
    application folder ``root`` (validation reports the others, AIS006-AIS008)."""
    regressor = entry.get("regressor_file")
    if isinstance(regressor, str) and regressor:
        rel = onnx_path(regressor).as_posix()
        _, outside = files.locate(root, rel)
        if outside is not None:
            return None, outside.message
        if files.exists(root, rel):
            model, problem = files.read_bytes(root, rel)
            if model is None:
                return None, problem.message
            try:
                value = predict_model(model, [features(cores)])[0]
            except Exception as exc:  # noqa: BLE001 - any broken file is reported the same way
                return None, f"cannot evaluate {files.display(root, rel)}: {exc}"
            if value != value or value < 0:  # NaN or negative: not a service time
                return None, f"{rel} predicts {value} s at {cores:g} cores"
            return value, f"{Path(rel).name} at {cores:g} cores"
    if "demand" in entry:
        return float(entry["demand"]), "its demand"
    return None, "no ONNX regressor beside regressor_file and no demand"
