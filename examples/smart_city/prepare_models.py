"""Build the ONNX models of the smart_city example (src/<component>/onnx/).

    python examples/smart_city/prepare_models.py

The detectors of this example are synthetic: small real ONNX networks (SSD-style interface,
deterministic weights) that run in ONNX Runtime and can be partitioned; their outputs mean
nothing. They are generated, never committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from compiler.design.synthetic import build_detector  # noqa: E402

MODELS = {
    "person-detector": ("person-ssd.onnx", dict(height=300, width=300, anchors=3000, classes=2)),
    "vehicle-detector": ("vehicle-ssd.onnx", dict(height=300, width=300, anchors=3000,
                                                  classes=4)),
}


def prepare() -> list[Path]:
    return [build_detector(HERE / "src" / component / "onnx" / name, seed=seed, **shape)
            for seed, (component, (name, shape)) in enumerate(sorted(MODELS.items()))]


if __name__ == "__main__":
    for path in prepare():
        print(f"built {path.relative_to(HERE)}")
