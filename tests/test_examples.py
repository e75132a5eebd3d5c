"""The examples are valid, and the mask-detection components really run on real photos."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from compiler import api
from tests.conftest import EXAMPLE_NAMES, REPO, shared_path


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_validates_without_any_finding(prepared_examples, name):
    report = api.validate(prepared_examples[name])
    assert report.valid
    assert report.diagnostics == ()


def test_committed_examples_validate_in_place():
    """As a user sees them after a clone: valid (missing models are only warnings)."""
    for name in EXAMPLE_NAMES:
        report = api.validate(REPO / "examples" / name)
        assert report.valid, [str(d.location) + " " + d.message for d in report.diagnostics]
        assert {d.code for d in report.diagnostics} <= {"AIS524"}


def test_smart_city_is_large_branched_and_partitionable(prepared_examples):
    app = api.validate(prepared_examples["smart_city"]).application
    assert len(app.dag.components) >= 10
    assert any(len(app.dag.successors(c)) > 1 for c in app.dag.components)
    assert any(len(app.dag.predecessors(c)) > 1 for c in app.dag.components)
    partitioned = {d.component for d in app.deployments if d.partition}
    assert {"person-detector", "vehicle-detector"} <= partitioned
    assert app.dag.topological_order()[0] == "camera-ingest"


def test_mask_detection_qos_constraints(prepared_examples):
    app = api.validate(prepared_examples["mask_detection"]).application
    assert {(c.component, c.threshold) for c in app.local_constraints()} == {
        ("blurry-faces-onnx", 20), ("mask-detector", 10), ("mask-alert", 2)}
    assert {(c.path, c.threshold) for c in app.global_constraints()} == {
        (("blurry-faces-onnx", "mask-detector"), 30),
        (("blurry-faces-onnx", "mask-detector", "mask-alert"), 40)}
    layers = {lay.number: lay.type.value for lay in app.infrastructure.layers}
    assert layers == {1: "PhysicalAlreadyProvisioned", 2: "PhysicalToBeProvisioned",
                      3: "Virtual", 4: "NativeCloudFunction"}
    assert len(app.infrastructure.domains) == 3


@pytest.mark.slow
def test_mask_detection_runs_end_to_end_on_real_photos(prepared_examples, tmp_path):
    images = shared_path("images")
    app = prepared_examples["mask_detection"]
    model = app / "src" / "blurry-faces-onnx" / "onnx" / "version-RFB-640.onnx"
    # the real detector, hard-linked (or copied) into the application: the input boundary
    # refuses a symlink that leads out of it
    assert not model.is_symlink()
    assert model.read_bytes() == (shared_path("models") / "version-RFB-640.onnx").read_bytes()
    out = tmp_path / "out"
    metrics = tmp_path / "metrics.jsonl"
    result = subprocess.run(
        [sys.executable, str(app / "run_pipeline.py"), str(images), str(out)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "AISPRINT_METRICS_FILE": str(metrics)})
    photos = sorted(p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    assert len(result.stdout.splitlines()) == len(photos)
    faces = {p.stem: json.loads((out / "blurry-faces-onnx" / f"{p.stem}.faces.json").read_text())
             for p in photos}
    assert all(f["faces"] >= 1 for f in faces.values()), faces  # every photo shows people
    masks = {p.stem: json.loads((out / "mask-detector" / f"{p.stem}.masks.json").read_text())
             for p in photos}
    # faces are blurred before mask detection (privacy first), which costs recall; still,
    # masks are found in the anonymised photos of masked people, and none on the others
    assert sum(masks[s]["masked_faces"] for s in masks if s.startswith("masked")) >= 3
    assert all(masks[s]["masked_faces"] == 0 for s in masks if s.startswith("faces"))
    points = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert {p["component_name"] for p in points} == {
        "blurry-faces-onnx", "mask-detector", "mask-alert"}
    assert all(p["execution_time"] >= 0 for p in points)


def test_faces_are_really_blurred(prepared_examples, tmp_path):
    """The anonymised photo differs from the original exactly where faces were found."""
    import numpy as np
    from PIL import Image

    photo = shared_path("images", "faces-13.jpg")
    sys.path.insert(0, str(prepared_examples["mask_detection"] / "src" / "blurry-faces-onnx"))
    try:
        import main as blurry  # noqa: PLC0415 - the component's own module
    finally:
        sys.path.pop(0)
        sys.modules.pop("main", None)
    image = Image.open(photo).convert("RGB")
    faces = blurry.detect_faces(image)
    assert len(faces) == 2
    blurred = np.asarray(blurry.blur(image, faces), dtype=float)
    original = np.asarray(image, dtype=float)
    (x1, y1, x2, y2), _ = faces[0]
    assert np.abs(blurred[y1:y2, x1:x2] - original[y1:y2, x1:x2]).mean() > 3
    assert np.abs(blurred[:10, :10] - original[:10, :10]).mean() == 0


def test_mask_model_tells_masked_from_unmasked_faces_on_real_photos(prepared_examples):
    from PIL import Image

    sys.path.insert(0, str(prepared_examples["mask_detection"] / "src" / "mask-detector"))
    try:
        import main as detector  # noqa: PLC0415 - the component's own module
    finally:
        sys.path.pop(0)
        sys.modules.pop("main", None)
    for name in ("masked-img1.jpeg", "masked-img2.jpeg", "faces-2.jpg"):
        found = detector.detect(Image.open(shared_path("images", name)))
        masked = sum(d["label"] == "masked_face" for d in found)
        bare = sum(d["label"] == "face" for d in found)
        assert (masked > bare) == name.startswith("masked"), (name, masked, bare)


def test_synthetic_models_stand_in_without_shared_data(tmp_path):
    """A clone without ../shared still gets runnable models of the same interface."""
    import numpy as np
    import onnxruntime as ort

    from compiler.design.synthetic import build_detector

    path = build_detector(tmp_path / "m.onnx", classes=3)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scores, boxes = session.run(None, {"input": np.zeros((1, 3, 480, 640), np.float32)})
    assert scores.shape == (1, 17640, 3) and boxes.shape == (1, 17640, 4)
    assert np.allclose(scores.sum(axis=2), 1, atol=1e-5)
